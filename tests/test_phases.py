"""Phases: the gate holds until the required work is done, the commander can overrule it on record,
and an incident can be driven from declaration through every phase by clicking what people see."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from incident.overview import playbook_of
from storage.models import Decision, Incident
from tests.harness import Slack
from tests.test_checklist import checklist, events
from tests.test_declare import declare


def card(slack: Slack, incident: Incident):
    assert incident.channel_id
    return slack.channel(incident.channel_id).pins[0]


async def decisions(slack: Slack) -> list[Decision]:
    async with slack.db.session() as db:
        return list((await db.execute(select(Decision))).scalars())


async def test_the_gate_refuses_and_lists_the_open_required_items(slack: Slack) -> None:
    incident = await declare(slack)
    respond = checklist(slack, incident, "Respond")
    await slack.bob.click(respond, "Done", near="Isolate affected systems")
    await slack.settle()

    await slack.bob.click(card(slack, incident), "Next phase")
    await slack.settle()

    told = slack.bob.ephemerals[-1].all_text
    assert "Can't move from *Respond* to *Investigate* yet: 4 required item(s) still open" in told
    for title in (
        "Form the response team",
        "Initial assessment",
        "Set the severity",
        "Activate the response",
    ):
        assert f"• {title}" in told
    assert "• Isolate affected systems" not in told
    assert "ask the incident commander (<@UHEIDI001>) to override" in told
    assert "Override and move on" not in slack.bob.ephemerals[-1].buttons  # bob may not override
    assert (await slack.incident()).phase == "respond"
    assert "phase_advanced" not in await slack.kinds(incident)
    with_investigate = [
        m for m in slack.channel(incident.channel_id).bot_messages if "Investigate —" in m.all_text
    ]
    assert with_investigate == []  # its checklist is not out yet
    assert not slack.violations()


async def test_the_commander_overrides_with_a_reason_on_record(slack: Slack) -> None:
    incident = await declare(slack)

    await slack.heidi.click(card(slack, incident), "Next phase")
    await slack.settle()
    refusal = slack.heidi.ephemerals[-1]
    assert "5 required item(s) still open" in refusal.all_text
    await slack.heidi.click(refusal, "Override and move on")
    await slack.settle()
    modal = slack.heidi.modal()
    assert modal.data["callback_id"] == "phase_override"
    assert "Form the response team" in str(modal.data["blocks"])
    empty = await slack.heidi.submit({"Reason": " "})
    assert empty.errors and "needs a reason" in empty.errors["reason"]
    await slack.heidi.submit({"Reason": "Forensics must start now; the team forms in parallel"})
    await slack.settle()

    now = await slack.incident()
    assert now.phase == "investigate"
    [decision] = await decisions(slack)
    assert decision.kind == "phase_override" and decision.decided_by == "UHEIDI001"
    assert decision.rationale == "Forensics must start now; the team forms in parallel"
    assert "form_team" in decision.text
    [override] = await events(slack, incident, "phase_override")
    assert override.data["from"] == "respond" and override.data["to"] == "investigate"
    assert override.data["decision_id"] == decision.id and len(override.data["open_items"]) == 5
    [advanced] = await events(slack, incident, "phase_advanced")
    assert (advanced.data["from"], advanced.data["to"], advanced.data["override"]) == (
        "respond",
        "investigate",
        True,
    )
    channel = slack.channel(incident.channel_id)
    assert "moved the incident from *Respond* to *Investigate* with 5 required item(s) still open" in (
        channel.message_with_text("Reason: Forensics must start now").all_text
    )
    investigate = checklist(slack, incident, "Investigate")
    assert "▶️ Current phase" in investigate.all_text
    assert "▶️ Current phase" not in checklist(slack, incident, "Respond").all_text
    assert "*Phase*\nInvestigate" in card(slack, incident).all_text
    assert not slack.violations()


async def test_only_managers_may_override(slack: Slack) -> None:
    incident = await declare(slack)

    await slack.bob.command("phase override", channel=incident.channel_id)
    await slack.settle()
    assert "Only the incident commander, the deputy or an admin" in slack.bob.ephemerals[-1].all_text
    assert (await slack.incident()).phase == "respond"

    await slack.ivan.command("phase override", channel=incident.channel_id)  # the deputy may
    await slack.settle()
    await slack.ivan.submit({"Reason": "Drill timing"})
    await slack.settle()
    assert (await slack.incident()).phase == "investigate"
    assert [d.decided_by for d in await decisions(slack)] == ["UIVAN0001"]


async def test_phase_alone_shows_where_the_incident_is(slack: Slack) -> None:
    incident = await declare(slack)

    await slack.alice.command("phase", channel=incident.channel_id)
    await slack.settle()

    shown = slack.alice.ephemerals[-1].all_text
    assert f"Phases of *{incident.key}*" in shown
    assert "▶️ 1. *Respond* 0 / 5 (5 required open) ← current phase" in shown
    assert "2. *Investigate* 0 / 6 (5 required open) (not open yet)" in shown
    assert "*Notify & communicate* 0 / 18 (" in shown  # open from declaration: no "not open yet"
    assert "*Notify & communicate* 0 / 18 (16 required open) (not open yet)" not in shown
    # Someone outside the incident learns nothing by naming it.
    await slack.mallory.command(f"phase {incident.key}")
    await slack.settle()
    assert "There is no incident" in slack.mallory.ephemerals[-1].all_text


async def test_drive_an_incident_through_every_phase(slack: Slack) -> None:
    # Every checklist of every phase clicked in seconds: far faster than Slack lets chat.update
    # through (Tier 3), which this test is not about.
    slack.sb.rate_limits_enabled = False
    incident = await declare(slack)
    playbook = playbook_of(incident)
    channel = slack.channel(incident.channel_id)
    # At declaration the first phase and the notify track are out; the rest wait their turn.
    assert {m.blocks[0]["text"]["text"] for m in channel.bot_messages if m.blocks[0]["type"] == "header"} >= {
        "Respond — 0 / 5 done",
        "Notify & communicate — 0 / 18 done",
    }

    for number, phase in enumerate(playbook.phases):
        title = phase.title.en
        msg = checklist(slack, incident, title)
        for step in phase.items:
            if checklist(slack, incident, title).text_of(step.title.en).startswith("✅"):
                continue  # already done (the notify track is worked on from declaration)
            await slack.heidi.click(msg, "Done", near=step.title.en)
            await slack.settle()
            assert checklist(slack, incident, title).text_of(step.title.en).startswith("✅")
        total = len(phase.items)
        assert f"{title} {total} / {total}" in card(slack, incident).all_text
        if number == 0:
            assert f"{title} — {total} / {total} done" == msg.refreshed().blocks[0]["text"]["text"]
        if number % 2:
            await slack.heidi.command("phase next", channel=incident.channel_id)
        else:
            await slack.heidi.click(card(slack, incident), "Next phase")
        await slack.settle()
        if number + 1 < len(playbook.phases):
            following = playbook.phases[number + 1]
            assert (await slack.incident()).phase == following.key
            assert "▶️ Current phase" in checklist(slack, incident, following.title.en).all_text
            assert f"*Phase*\n{following.title.en}" in card(slack, incident).all_text

    told = slack.heidi.ephemerals[-1].all_text
    assert "*Review & improve* is the last phase: the playbook is complete" in told
    moves = [(e.data["from"], e.data["to"]) for e in await events(slack, incident, "phase_advanced")]
    keys = [p.key for p in playbook.phases]
    assert moves == list(itertools.pairwise(keys))
    assert await decisions(slack) == []
    assert len(await events(slack, incident, "item_done")) == len(playbook.items)
    assert not slack.violations()
