"""Drill scenarios are files a firm edits: every mistake is named with its line, all at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from incident.config import load_config
from incident.scenarios import BUILTIN_DIR, load_scenario, load_scenarios, looks_like_scenario_id
from incident.yamlsource import ConfigError

CONFIG = load_config()

GOOD = """\
id: tiny-drill
title: {zh-CN: 小演练, en: Tiny drill}
declare:
  summary: {zh-CN: 发生了什么, en: What happened}
  severity: SEV3
  data_categories: [payroll]
  people_affected: 12
  jurisdictions: [CN]
  encrypted: no
  role: controller
  discovered_before: 1h
steps:
  - {at: +0m, who: alice, do: declare}
  - {at: +10m, who: bob, do: click, item: isolate_systems}
  - at: +1h
    who: heidi
    do: close
    lessons: {zh-CN: 教训, en: Lessons}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_scenario(text, config=CONFIG)
    return str(caught.value).splitlines()


def test_the_built_in_scenarios_load_against_the_default_configuration() -> None:
    scenarios = load_scenarios(config=CONFIG)
    assert {"portal-credential-stuffing", "lost-laptop"} <= set(scenarios)
    portal = scenarios["portal-credential-stuffing"]
    assert portal.declare.people_affected == 1200 and set(portal.declare.jurisdictions) == {"EU", "CN"}
    assert portal.steps[0].do == "declare" and portal.steps[-1].do == "close"
    assert [s.get("regime") for s in portal.steps if s.do == "miss"] == ["cn-pipl-57"]
    kinds = {s.do for s in portal.steps}
    assert {"take_role", "click", "note", "decision", "evidence", "facts", "notify", "advance_phase"} <= kinds
    for scenario in scenarios.values():
        for step in scenario.steps:
            for value in step.fields.values():
                if hasattr(value, "zh_CN"):
                    assert value.zh_CN and value.en  # every text is bilingual


def test_a_good_scenario_reads_offsets_people_and_texts() -> None:
    scenario = load_scenario(GOOD, config=CONFIG)
    assert [s.at for s in scenario.steps] == [timedelta(0), timedelta(minutes=10), timedelta(hours=1)]
    assert scenario.declarer == "alice" and scenario.length == timedelta(hours=1)
    assert scenario.steps[2].text("lessons", "zh-CN") == "教训"
    assert scenario.steps[0].line == 13 and scenario.steps[2].line == 15


def test_the_form_values_fill_the_declare_form_in_the_readers_language() -> None:
    now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    values = load_scenario(GOOD).form_values("zh-CN", now)
    assert values["title"] == "小演练" and values["summary"] == "发生了什么"
    assert values["encrypted"] == "no" and values["processor_role"] == "controller"
    assert values["discovered_at"] == int((now - timedelta(hours=1)).timestamp())
    assert "affected_clients" not in values  # nothing given, nothing prefilled


def test_a_bad_step_names_its_line() -> None:
    text = GOOD.replace("do: click, item: isolate_systems", "do: klick, item: isolate_systems")
    assert problems(text) == [
        "<text>:14: do must be one of declare, take_role, click, note, decision, evidence, "
        "facts, notify, miss, advance_phase, resolve, close, not 'klick'"
    ]


def test_every_mistake_is_reported_at_once_with_its_line() -> None:
    text = GOOD.replace(
        "who: bob, do: click, item: isolate_systems", "who: mallory, do: click, item: hack_it"
    )
    text = text.replace("lessons: {zh-CN: 教训, en: Lessons}", "lessons: Lessons only in English")
    text += "  - {at: +2h, who: erin, do: notify, regime: eu-gdpr-99, recipient: DPA}\n"
    found = problems(text)
    assert any(p.startswith("<text>:14: unknown person 'mallory'") for p in found)
    assert any(p.startswith("<text>:14: unknown checklist item 'hack_it' (known: form_team, ") for p in found)
    assert any(p.startswith("<text>:18: lessons needs both translations") for p in found)
    assert any(p.startswith("<text>:19: unknown regime or obligation 'eu-gdpr-99'") for p in found)
    assert len(found) == 4


def test_a_step_may_name_one_obligation_of_a_regime() -> None:
    obligation = "eu-gdpr-33/every_supervisory_authority"
    step = f"  - {{at: +2h, who: erin, do: notify, regime: {obligation}, recipient: DPA}}\n"
    text = GOOD.replace("  - at: +1h\n", step + "  - at: +3h\n")
    notify = [s.get("regime") for s in load_scenario(text, config=CONFIG).steps if s.do == "notify"]
    assert notify == [obligation]
    (found,) = problems(text.replace("/every_supervisory_authority", "/nobody"))
    assert found.startswith("<text>:15: unknown regime or obligation 'eu-gdpr-33/nobody'")


def test_the_order_of_the_script_is_checked_once_its_steps_are_valid() -> None:
    text = GOOD.replace("at: +1h", "at: +5m") + "  - {at: +2h, who: erin, do: miss, regime: eu-gdpr-33}\n"
    assert problems(text) == [
        "<text>:15: steps must not go back in time (0:05:00 is before 0:10:00)",
        "<text>:17: close must be the last step",
    ]


def test_the_shape_of_a_script_is_checked() -> None:
    first = GOOD.replace(
        "{at: +0m, who: alice, do: declare}", "{at: +0m, who: alice, do: note, text: {zh-CN: a, en: a}}"
    )
    assert "<text>:13: the first step must declare the drill, not 'note'" in problems(first)
    na = GOOD.replace("item: isolate_systems}", "item: isolate_systems, outcome: na}")
    assert "<text>:14: a not-applicable click needs a reason" in problems(na)
    offset = GOOD.replace("at: +10m", "at: 10 minutes")
    assert any(p.startswith("<text>:14: at must be an offset from the start") for p in problems(offset))
    typo = GOOD.replace("severity: SEV3", "severity: SEV9\n  severty: SEV3")
    found = problems(typo)
    assert "<text>:5: severity must be one of SEV1, SEV2, SEV3, SEV4, not 'SEV9'" in found
    assert any(p.startswith("<text>:6: unknown field 'severty'") for p in found)


def test_each_action_takes_only_its_own_fields() -> None:
    text = GOOD.replace("item: isolate_systems}", "item: isolate_systems, text: {zh-CN: 甲, en: A}}")
    assert problems(text) == [
        "<text>:14: unknown field 'text' (allowed: at, who, do, item, outcome, reason)",
    ]
    assert problems(GOOD.replace("    do: close\n", "    do: close\n    archive: maybe\n")) == [
        "<text>:18: archive must be true or false, not 'maybe'",
    ]


def test_a_folder_reports_each_files_problems_and_duplicate_ids(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "c.yaml").write_text(
        GOOD.replace("tiny-drill", "broken-drill").replace("SEV3", "SEV0"), encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_scenarios(tmp_path, config=CONFIG)
    text = str(caught.value)
    assert f"{tmp_path / 'b.yaml'}: duplicate scenario id 'tiny-drill' (also in a.yaml)" in text
    assert f"{tmp_path / 'c.yaml'}:5: severity must be one of" in text


def test_scenario_names_are_told_apart_from_titles() -> None:
    assert looks_like_scenario_id("portal-credential-stuffing")
    assert looks_like_scenario_id("lost-laptop")
    assert not looks_like_scenario_id("Phishing drill")
    assert not looks_like_scenario_id("Tabletop: client portal credential stuffing")
    assert not looks_like_scenario_id("phishing")
    assert all(looks_like_scenario_id(p.stem) for p in BUILTIN_DIR.glob("*.yaml"))
