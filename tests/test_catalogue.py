"""The one text catalogue (handlers/messages/*.yaml, loaded by incident.i18n): every message in
both languages with the same placeholders, no key twice, and every key the code names exists."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from handlers.i18n import t as handlers_t
from incident.i18n import MESSAGES_DIR, CatalogError, catalog, load, t
from incident.text import LOCALES

ROOT = Path(__file__).resolve().parent.parent
# A key spelt out where the code asks for a message: t("a.b", ...), both("a.b", ...), Key("a.b") (a key
# a table keeps, read later), label("a.b", ...), L("a.b").
ASKED = {
    re.compile(r"""\b(?:t|both|Key)\(\s*["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']"""): "",
    re.compile(r"""\b(?:label|L)\(\s*["']([a-z0-9_]+(?:\.[a-z0-9_]+)*)["']"""): None,
}
PREFIX_OF_LABELS = {"incident/postmortem": "postmortem.doc.", "incident/report": "report.doc."}


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_is_in_both_languages_with_the_same_placeholders() -> None:
    messages = load(MESSAGES_DIR)
    assert len(messages) > 500
    for key, entry in messages.items():
        assert set(entry) == set(LOCALES), key
        assert all(entry[loc].strip() or key == "duration.separator" for loc in LOCALES), key
        assert fields(entry["zh-CN"]) == fields(entry["en"]), key


def test_every_key_the_code_names_is_in_the_catalogue() -> None:
    known = catalog()
    missing, named = [], 0
    for folder in ("bot", "handlers", "incident", "schedules"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "i18n.py":  # where t() is defined and explained, not called
                continue
            source = path.read_text(encoding="utf-8")
            relative = path.relative_to(ROOT).as_posix()
            for pattern, prefix in ASKED.items():
                if prefix is None:
                    prefix = next((p for d, p in PREFIX_OF_LABELS.items() if relative.startswith(d)), None)
                    if prefix is None:
                        continue
                for key in pattern.findall(source):
                    named += 1
                    if prefix + key not in known:
                        missing.append(f"{relative}: {prefix + key}")
    assert missing == [], missing
    assert named > 400  # the scan reads the code, not nothing


def test_importing_the_regimes_and_the_drafts_reads_no_message_file() -> None:
    # Their tables (FACT_SPECS, the labels, the draft phrases) keep keys, read when a verdict is given.
    code = (
        "import incident.regimes, incident.notice_draft.drafts; from incident.i18n import catalog; "
        "print(catalog.cache_info().currsize)"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert ran.stdout.strip() == "0"


def test_the_handlers_and_the_domain_read_the_same_catalogue() -> None:
    assert handlers_t is t
    assert t("postmortem.doc.title", "zh_CN") == "事件复盘报告"
    assert t("postmortem.doc.title", "en") == "Post-mortem"


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_a_message_missing_a_language_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", 'x.one:\n  zh-CN: "一"\n  en: "one"\nx.two:\n  en: "two"\n')
    with pytest.raises(CatalogError, match=r"a\.yaml: message 'x\.two' needs a string for each"):
        load(tmp_path)


def test_a_message_whose_placeholders_differ_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", 'x.due:\n  zh-CN: "截止 {due}"\n  en: "due {when}"\n')
    with pytest.raises(CatalogError, match="different placeholders"):
        load(tmp_path)


def test_a_key_defined_in_two_files_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", 'x.one:\n  zh-CN: "一"\n  en: "one"\n')
    write(tmp_path, "b.yaml", 'x.one:\n  zh-CN: "壹"\n  en: "one"\n')
    with pytest.raises(CatalogError, match=r"b\.yaml: message 'x\.one' is also defined in a\.yaml"):
        load(tmp_path)
    (tmp_path / "b.yaml").unlink()
    assert load(tmp_path) == {"x.one": {"zh-CN": "一", "en": "one"}}
