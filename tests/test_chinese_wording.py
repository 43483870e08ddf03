"""The Chinese a firm reads in playbooks, roles, scenarios and the UI: full-width punctuation, one
term for each thing, and no word that means something else to a Chinese reader."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from incident.config import load_config
from incident.severity import default_matrix

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "incident" / "data"
# regimes.yaml cites statutes ("GDPR 第 33(5) 条") and is the law engineers' file; the rest is ours.
FILES = sorted(
    [p for p in DATA.glob("*.yaml") if p.name != "regimes.yaml"]
    + list((DATA / "playbooks").glob("*.yaml"))
    + list((DATA / "scenarios").glob("*.yaml"))
    + list((ROOT / "handlers" / "messages").glob("*.yaml"))
    + [ROOT / "sandbox" / "data" / "roles.yaml"]
)
CJK = "[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef“”]"
# A half-width , ; : ( ) ! ? next to a Chinese character. A citation's sub-numbers stay as the
# statute writes them: "第 33(3)(b) 条".
HALF_WIDTH = re.compile(rf"(?<={CJK})\s*[,;:()!?]|[,;:()!?]\s*(?={CJK})")
CITATION = re.compile(r"\d+(\([0-9a-z]+\))+")
CAC_GRADES = ("特别重大", "重大", "较大", "一般")


def chinese_texts(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "zh-CN" and isinstance(value, str):
                yield where, value
            else:
                yield from chinese_texts(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from chinese_texts(value, f"{where}[{index}]")


def texts_of(path: Path) -> list[tuple[str, str]]:
    return list(chinese_texts(yaml.safe_load(path.read_text(encoding="utf-8"))))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_chinese_text_uses_full_width_punctuation(path: Path) -> None:
    bad = [
        f"{where}: {line}"
        for where, text in texts_of(path)
        for line in text.splitlines()
        if HALF_WIDTH.search(CITATION.sub("", line))
    ]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_declaring_is_never_rendered_as_a_public_announcement(path: Path) -> None:
    # 宣布 reads as announcing to the public; a declaration starts the (confidential) response.
    assert not [where for where, text in texts_of(path) if "宣布" in text]


def test_one_term_for_the_register_and_for_the_irs_stakeholder_liaison() -> None:
    every = [text for path in FILES for _, text in texts_of(path)]
    assert not [t for t in every if "登记数据泄露登记册" in t]
    assert not [t for t in every if "联络员" in t]
    config = load_config()
    registers = [i for p in config.playbooks.values() for i in p.items if i.key == "breach_register"]
    assert len(registers) == len(config.playbooks)  # every playbook keeps the register
    assert {i.title.get("zh-CN") for i in registers} == {"记入数据泄露登记册"}
    liaisons = [i for p in config.playbooks.values() for i in p.items if i.key == "irs_stakeholder_liaison"]
    assert liaisons and {i.title.get("zh-CN") for i in liaisons} == {"联系美国国税局利益相关方联络人"}


def test_the_forensics_role_is_named_for_its_holder_not_for_the_phase() -> None:
    config = load_config()
    assert config.roles["forensics"].name.get("zh-CN") == "取证负责人"
    phases = {ph.title.get("zh-CN") for p in config.playbooks.values() for ph in p.phases}
    assert "调查取证" in phases
    assert not {r.name.get("zh-CN") for r in config.roles} & phases


def test_severity_names_are_not_the_cac_grades() -> None:
    names = [level.name.get("zh-CN") for level in default_matrix().levels]
    assert len(names) == 4 and len(set(names)) == 4
    assert not [n for n in names if any(grade in n or n in grade for grade in CAC_GRADES)]
