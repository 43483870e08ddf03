"""Breach drills: a scenario prefills the form, the drill says DRILL everywhere and never implies a
real regulator, and `breachroom drill --offline` plays a whole scenario through the sandbox people."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from incident.report.model import Period, build
from tests.harness import Slack, fire_due

HOUR = 3600
SCENARIO = "portal-credential-stuffing"
TITLE = "Client portal credential stuffing exposes payroll records"


def element(modal, block_id: str) -> dict:
    return next(b for b in modal.data["blocks"] if b.get("block_id") == block_id)["element"]


async def test_a_scenario_name_prefills_the_declare_form(slack: Slack) -> None:
    before = int(slack.rt.clock.now().timestamp())
    await slack.alice.command(f"drill {SCENARIO}", channel="C0GENERAL1")
    await slack.settle()
    after = int(slack.rt.clock.now().timestamp())
    modal = slack.alice.modal()
    assert modal.data["callback_id"] == "declare" and modal.data["title"]["text"] == "Declare a drill"
    assert element(modal, "title")["initial_value"] == TITLE
    assert "40,000 attempts from 37 IPs" in element(modal, "summary")["initial_value"]
    assert element(modal, "severity")["initial_option"]["value"] == "SEV2"
    assert element(modal, "people_affected")["initial_value"] == "1200"
    assert {o["value"] for o in element(modal, "data_categories")["initial_options"]} == {
        "payroll",
        "national_id",
        "bank_account",
    }
    assert {o["value"] for o in element(modal, "jurisdictions")["initial_options"]} == {"EU", "CN"}
    assert element(modal, "encrypted")["initial_option"]["value"] == "no"
    assert element(modal, "processor_role")["initial_option"]["value"] == "controller"
    assert "Acme Trading GmbH" in element(modal, "affected_clients")["initial_value"]
    discovered = element(modal, "discovered_at")["initial_date_time"]
    assert before - 30 * 60 <= discovered <= after - 30 * 60  # found 30 minutes before it was declared
    assert element(modal, "drill")["initial_options"][0]["value"] == "drill"
    assert not slack.violations()


async def test_the_scenario_drill_is_a_drill_everywhere_and_never_a_real_filing(slack: Slack) -> None:
    await slack.alice.command(f"drill {SCENARIO}", channel="C0GENERAL1")
    await slack.settle()
    delivery = await slack.alice.submit({})  # as prefilled
    assert not delivery.errors, delivery.errors
    await slack.settle()
    incident = await slack.incident()
    assert incident.is_drill and incident.title == TITLE and incident.people_affected == 1200
    channel = slack.channel(incident.channel_id)
    assert channel.name.startswith(f"{incident.key.lower()}-drill-")
    card = channel.pins[0].all_text
    assert "DRILL" in card and "Nothing is filed with any real regulator" in card
    announced = slack.channel("security-announce").bot_messages[-1].all_text
    assert incident.key in announced and TITLE not in announced

    # PIPL's 24 h from discovery (30 min before declaring): the T-4h reminder comes at 19 h 30 min.
    slack.sb.clock.advance(19 * HOUR + 31 * 60)
    await fire_due(slack)
    reminders = [m for m in channel.bot_messages if "reminder_done" in str(m.blocks)]
    reminders += [m for m in slack.dave.dms + slack.erin.dms if "reminder_done" in str(m.blocks)]
    assert any("PIPL" in m.all_text for m in reminders)
    for message in reminders:
        assert "DRILL" in message.all_text and "no regulator is notified" in message.all_text
        assert "Who to tell" not in message.all_text

    await slack.erin.command("notify cn-pipl-57", channel=incident.channel_id)
    await slack.settle()
    form = str(slack.erin.modal().data)
    assert "DRILL: practice only" in form and "No regulator is notified" in form
    assert "(drill)" in slack.erin.modal().data["title"]["text"]

    # The period's report counts real incidents only; the drill is listed apart.
    now = slack.rt.clock.now()
    async with slack.db.session() as s:
        report = await build(s, slack.rt.deps.config, Period.containing(now, "quarterly"), now)
    assert report.current.incidents == 0
    assert [d.key for d in report.drills] == [incident.key]
    assert not slack.violations()


async def test_an_unknown_scenario_lists_them_and_opens_nothing(slack: Slack) -> None:
    await slack.alice.command("drill portal-credential-stufing", channel="C0GENERAL1")
    await slack.settle()
    told = slack.alice.ephemerals[-1].all_text
    assert "There is no drill scenario `portal-credential-stufing`" in told
    assert f"`{SCENARIO}`: {TITLE}" in told and "`lost-laptop`" in told
    with pytest.raises(LookupError):
        slack.alice.modal()
    assert await slack.incidents() == []


async def test_other_text_stays_the_drill_title(slack: Slack) -> None:
    await slack.alice.command("drill Phishing tabletop", channel="C0GENERAL1")
    await slack.settle()
    modal = slack.alice.modal()
    assert element(modal, "title")["initial_value"] == "Phishing tabletop"
    assert "initial_value" not in element(modal, "summary")
    assert element(modal, "severity")["initial_option"]["value"] == "SEV3"  # the form's own default


async def play_offline(scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, Path]:
    """`breachroom drill --offline` of `scenario` at full speed, which succeeds: what it printed,
    and the Markdown post-mortem it wrote."""
    out = tmp_path / "drills"
    argv = ["drill", "--offline", "--scenario", scenario, "--speed", "0", "--out", str(out)]
    assert await asyncio.to_thread(main, argv) == 0
    return capsys.readouterr().out, next(out.glob(f"br-*-{scenario}-postmortem.md"))


async def test_breachroom_drill_plays_the_scenario_and_writes_the_post_mortem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    printed, md = await play_offline(SCENARIO, tmp_path, capsys)
    assert "alice  declare" in printed and "-drill-" in printed
    assert "missed on purpose: Personal-information breach notice (PIPL Art. 57)" in printed
    assert "reminders" in printed and "clocks open" in printed
    # Per obligation: GDPR 33 and 34 met; the PIPL authority notified late, the individuals never.
    assert "clocks met 2, missed 2" in printed
    html = md.with_suffix(".html")
    assert f"post-mortem: {md}" in printed and f"post-mortem: {html}" in printed
    text = md.read_text(encoding="utf-8")
    assert "This was a drill, not a real incident" in text
    assert "2 met, 2 missed" in text
    rows = {line.split("|")[1].strip().split(" → ")[0]: line for line in text.splitlines() if " → " in line}
    pipl = [
        line for line in text.splitlines() if line.startswith("| Personal-information breach notice (PIPL")
    ]
    assert "missed (notified late)" in next(line for line in pipl if "The authority" in line)
    assert "missed (not notified)" in next(line for line in pipl if "The affected individuals" in line)
    assert "| met |" in rows["Breach notification to the supervisory authority (GDPR Art. 33)"]
    assert "| met |" in rows["Communication to the data subjects (GDPR Art. 34)"]
    assert "Ivan Petrov" in text  # the tech-lead handoff, with people's names
    assert "<html" in html.read_text(encoding="utf-8").lower()


async def test_a_step_the_bot_refuses_stops_the_drill_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "refused.yaml"
    scenario.write_text(
        """\
id: refused-override
title: {zh-CN: 越权, en: Override by the wrong person}
declare:
  summary: {zh-CN: 测试, en: Test}
  severity: SEV3
steps:
  - {at: +0m, who: alice, do: declare}
  - at: +10m
    who: bob
    do: advance_phase
    override: true
    reason: {zh-CN: 想跳过, en: Want to skip}
  - {at: +20m, who: heidi, do: resolve}
""",
        encoding="utf-8",
    )
    argv = ["drill", "--offline", "--scenario-file", str(scenario), "--speed", "0", "--out", str(tmp_path)]
    assert await asyncio.to_thread(main, argv) == 1
    captured = capsys.readouterr()
    assert "Drill stopped at step 2 (+0h10m, bob advance_phase, scenario line 8)" in captured.err
    assert "Override and move on" in captured.err  # what bob could not find
    assert "resolve" not in captured.out.split("advance_phase")[-1]  # nothing after the failure ran
    assert not await asyncio.to_thread(
        lambda: list(tmp_path.glob("*.md"))
    )  # no post-mortem of a failed drill
