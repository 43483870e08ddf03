"""Business email compromise / W-2 phishing: the playbook a tax firm needs most, and its drill, played
by hand through Slack and by `breachroom drill --offline`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from incident.config import load_config
from incident.playbook import BUILTIN_DIR
from incident.scenarios import load_scenarios
from tests.harness import Slack
from tests.test_checklist import checklist
from tests.test_drill import element, play_offline

SCENARIO = "w2-phishing"
TITLE = "Partner's mailbox taken over; a client's W-2s and a wire go to a fraudster"
REVOKE = "Revoke sessions, reset the password and re-enrol MFA"
WIRE = "Ask the bank to recall the wire"
IRS_CLOCK = "Report client tax-data theft to the IRS"


def test_breachroom_playbook_check_accepts_the_playbook(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["playbook", "check", str(BUILTIN_DIR / "email_compromise.yaml")]) == 0
    assert "OK — email_compromise v1: 5 phases," in capsys.readouterr().out


def test_the_playbook_takes_the_mailbox_back_recalls_the_wire_and_tells_the_irs() -> None:
    config = load_config()
    playbook = config.playbooks["email_compromise"]
    by_phase = {phase.key: [i.key for i in phase.items] for phase in playbook.phases}
    assert {"confirm_compromise", "revoke_sessions", "audit_mailbox_rules", "wire_recall"} <= set(
        by_phase["respond"]
    )
    assert "sent_and_read" in by_phase["investigate"]
    assert {
        "irs_dataloss",
        "irs_stakeholder_liaison",
        "state_tax_agencies",
        "notify_clients",
        "notify_individuals",
        "breach_register",
    } <= set(by_phase["notify"])
    items = {i.key: i for i in playbook.items}
    for locale in ("en", "zh-CN"):
        assert "dataloss@irs.gov" in items["irs_dataloss"].help.get(locale)
        assert "StateAlert@taxadmin.org" in items["state_tax_agencies"].help.get(locale)
        assert "ic3.gov" in items["wire_recall"].help.get(locale)
    # Reporting is compliance's and legal's: nobody else can tick the IRS report or the client notice.
    assert (items["irs_dataloss"].owner, items["irs_dataloss"].restricted) == ("compliance", True)
    assert (items["notify_clients"].owner, items["notify_clients"].regime) == (
        "legal",
        "processor-notify-controller",
    )
    assert all(i.regime in config.regimes for i in playbook.items if i.regime)
    scenario = load_scenarios(config=config)[SCENARIO]
    assert scenario.declare.playbook == "email_compromise"


async def test_the_w2_drill_opens_the_mailbox_checklists_and_the_irs_clock(slack: Slack) -> None:
    await slack.alice.command(f"drill {SCENARIO}", channel="C0GENERAL1")
    await slack.settle()
    modal = slack.alice.modal()
    assert element(modal, "title")["initial_value"] == TITLE
    assert element(modal, "playbook")["initial_option"]["value"] == "email_compromise"
    assert element(modal, "processor_role")["initial_option"]["value"] == "processor"
    assert {o["value"] for o in element(modal, "jurisdictions")["initial_options"]} == {"US"}
    delivery = await slack.alice.submit({})  # as prefilled
    assert not delivery.errors, delivery.errors
    await slack.settle()

    incident = await slack.incident()
    assert incident.is_drill and incident.playbook_id == "email_compromise" and incident.people_affected == 64
    respond = checklist(slack, incident, "Respond")
    assert WIRE in respond.all_text and "Incident commander" in respond.text_of(WIRE)
    notify = checklist(slack, incident, "Notify & communicate")
    assert "Report the W-2 data loss to the IRS (dataloss@irs.gov)" in notify.all_text
    assert "Record the breach in the register" in notify.all_text

    await slack.bob.click(respond, "Done", near=REVOKE)
    await slack.settle()
    assert "✅" in respond.refreshed().text_of(REVOKE) and "⬜" in respond.refreshed().text_of(WIRE)

    card = slack.channel(incident.channel_id).pins[0].refreshed().all_text
    assert IRS_CLOCK in card and "Processor tells the controller" in card
    assert "GDPR" not in card and "PIPL" not in card  # a US-only incident owes no EU or China notice
    assert "DRILL" in card
    # The IRS report is compliance's: the tech lead cannot tick it for them.
    await slack.bob.click(notify, "Done", near="Report the W-2 data loss")
    await slack.settle()
    assert "⬜" in notify.refreshed().text_of("Report the W-2 data loss")
    assert "Compliance officer" in slack.bob.ephemerals[-1].all_text
    assert not slack.violations()


async def test_breachroom_drill_plays_the_w2_scenario_to_its_post_mortem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    printed, md = await play_offline(SCENARIO, tmp_path, capsys)
    # Three IRS obligations (the W-2 mailbox, the states, the Stakeholder Liaison) and the client.
    assert "alice  declare" in printed and "clocks met 4, missed 0" in printed
    assert f"✅ {WIRE}" in printed and "not applicable: Notify the FTC (Safeguards Rule)" in printed
    text = md.read_text(encoding="utf-8")
    assert "This was a drill, not a real incident" in text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    irs = {name: row for name, row in rows.items() if name.startswith(IRS_CLOCK)}
    assert len(irs) == 3 and all("| met |" in row for row in irs.values())
    references = {"DRILL-IRS-W2", "DRILL-STATE-W2", "DRILL-IRS-SL"}
    assert {r for r in references for row in irs.values() if r in row} == references
    [client] = [row for name, row in rows.items() if name.startswith("Processor tells the controller")]
    assert "| met |" in client
    assert "Fewer than 500 consumers affected" in text
