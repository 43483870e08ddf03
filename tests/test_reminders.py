"""Each kind of reminder reaches the right people at the right time, with Snooze and Done."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from bot.embedded import SANDBOX_ROLES
from sandbox.observe import ChannelView, MessageView
from storage.models import ActionItem, Incident, Reminder
from tests.harness import Slack, fire_due, running_bot

MINUTE, HOUR = 60, 3600


async def declare(slack: Slack, severity: str = "SEV3", drill: bool = False, **values) -> Incident:
    await slack.alice.command("drill Phishing drill" if drill else "declare Bookkeeping laptop stolen")
    await slack.settle()
    fields = {"Severity": severity, **values}
    delivery = await slack.alice.submit(fields)
    assert not delivery.errors, delivery.errors
    await slack.settle()
    return await slack.incident()


def reminder_dms(person) -> list:
    return [m for m in person.dms if "Snooze" in str(m.blocks) or "reminder_done" in str(m.blocks)]


async def test_overdue_checklist_item_reminds_its_owner_and_says_so_in_the_channel(slack: Slack) -> None:
    incident = await declare(slack)
    # "Form the response team" belongs to the commander and is due 15 minutes after declaring.
    slack.sb.clock.advance(14 * MINUTE)
    await fire_due(slack)
    assert not [m for m in slack.heidi.dms if "overdue" in m.all_text]
    slack.sb.clock.advance(1 * MINUTE + 1)
    await fire_due(slack)
    dms = [m for m in slack.heidi.dms if "checklist item overdue" in m.all_text]
    assert len(dms) == 1 and "Done" in dms[0].buttons
    lines = [m for m in slack.channel(incident.channel_id).bot_messages if "⏰ Overdue:" in m.all_text]
    assert len(lines) == 1 and "<@UHEIDI001>" in lines[0].all_text
    # The checklist itself now marks the item, without anyone clicking.
    [checklist] = [
        m
        for m in slack.channel(incident.channel_id).bot_messages
        if "item_done" in str(m.blocks) and "Form the response team" in m.all_text
    ]
    assert "⚠️ overdue" in checklist.text_of("Form the response team")
    # Bob's 1-hour item reaches Bob, not Heidi.
    slack.sb.clock.advance(45 * MINUTE)
    await fire_due(slack)
    assert any("checklist item overdue" in m.all_text for m in slack.bob.dms)
    assert not any("Initial assessment" in m.all_text for m in slack.heidi.dms if "overdue" in m.all_text)
    assert not slack.violations()


async def test_regulatory_clock_reminds_commander_legal_and_compliance_and_the_channel(slack: Slack) -> None:
    incident = await declare(
        slack,
        "SEV2",
        **{
            "Data categories": ["payroll"],
            "Jurisdictions": ["China"],
            "Our role for this data": "Controller (we decide why the data is processed)",
        },
    )
    # PIPL Art. 57: 24 h from discovery, for the authority and for the individuals, each its own
    # clock and its own reminder. T-24h is now; T-4h at 20 h; T-1h at 23 h.
    await fire_due(slack)
    pipl = "PIPL Art. 57"
    for person in (slack.heidi, slack.dave, slack.erin):
        assert sum(pipl in m.all_text for m in person.dms) == 2, person
    assert not any(pipl in m.all_text for m in slack.bob.dms)
    reminders = [
        m for m in slack.channel(incident.channel_id).bot_messages if "reminder_done" in str(m.blocks)
    ]
    assert sum(pipl in m.all_text for m in reminders) == 2
    slack.sb.clock.advance(20 * HOUR + 1)
    await fire_due(slack)
    latest = [m.all_text for m in slack.dave.dms if pipl in m.all_text][-2:]
    assert all("4h left" in text.replace("3h 59m", "4h") or "3h" in text for text in latest)
    # Who to tell: one reminder names the authority, the other the individuals.
    assert sorted("personal-information protection" in text for text in latest) == [False, True]
    assert sorted("affected individuals" in text for text in latest) == [False, True]
    assert len([m for m in slack.dave.dms if pipl in m.all_text]) == 4


async def test_regulatory_snooze_is_clamped_to_the_deadline(slack: Slack) -> None:
    await declare(
        slack,
        "SEV2",
        **{
            "Data categories": ["payroll"],
            "Jurisdictions": ["China"],
            "Our role for this data": "Controller (we decide why the data is processed)",
        },
    )
    slack.sb.clock.advance(23 * HOUR + 1)  # T-1h
    await fire_due(slack)
    reminder = [m for m in slack.dave.dms if "PIPL Art. 57" in m.all_text][-1]
    await slack.dave.select(reminder, "reminder_snooze", "Snooze 4 h")
    await slack.settle()
    assert "can't be snoozed past its deadline" in slack.dave.dms[-1].all_text or any(
        "can't be snoozed past its deadline" in e.all_text for e in slack.dave.ephemerals
    )
    assert "Snoozed until" in reminder.refreshed().all_text
    async with slack.db.session() as s:
        row = (
            await s.execute(select(Reminder).where(Reminder.target == "UDAVE0001", Reminder.kind == "clock"))
        ).scalars()
        snoozed = [r for r in row if r.payload.get("snoozed")]
    deadline = snoozed[0].payload["deadline_at"]
    assert snoozed[0].due_at.isoformat() == deadline


async def sev1_at_its_first_status_reminder(slack: Slack) -> tuple[Incident, ChannelView, MessageView]:
    """A SEV1 incident declared 31 minutes ago: it, its channel, and the status reminder posted in it."""
    incident = await declare(slack, "SEV1")
    slack.sb.clock.advance(31 * MINUTE)
    await fire_due(slack)
    channel = slack.channel(incident.channel_id)
    return incident, channel, channel.message_with_text("time for a status update")


async def test_snooze_sends_it_again_later_and_done_stops_it(slack: Slack) -> None:
    incident, channel, first = await sev1_at_its_first_status_reminder(slack)
    await slack.bob.select(first, "reminder_snooze", "Snooze 30 min")
    await slack.settle()
    assert (
        "Snoozed until" in channel.refreshed(first).all_text
        and "<@UBOB00001>" in channel.refreshed(first).all_text
    )
    assert "reminder_snoozed" in await slack.kinds(incident)
    slack.sb.clock.advance(29 * MINUTE)
    await fire_due(slack)
    again = [m for m in channel.bot_messages if "time for a status update" in m.all_text]
    assert len(again) == 1
    slack.sb.clock.advance(2 * MINUTE)
    await fire_due(slack)
    again = [m for m in channel.bot_messages if "time for a status update" in m.all_text]
    assert len(again) == 2
    await slack.heidi.click(again[-1], "Done")
    await slack.settle()
    assert "Done · <@UHEIDI001>" in channel.refreshed(again[-1]).all_text
    assert "Done" not in channel.refreshed(again[-1]).buttons
    assert "reminder_done" in await slack.kinds(incident)


async def test_outsider_cannot_finish_a_reminder(slack: Slack) -> None:
    incident, channel, msg = await sev1_at_its_first_status_reminder(slack)
    await slack.mallory.click(msg, "Done")
    await slack.settle()
    assert "Done" in channel.refreshed(msg).buttons
    assert "reminder_done" not in await slack.kinds(incident)


async def test_drill_reminders_say_drill_and_never_imply_a_filing(slack: Slack) -> None:
    incident = await declare(
        slack,
        "SEV2",
        drill=True,
        **{
            "Data categories": ["payroll"],
            "Jurisdictions": ["China"],
            "Our role for this data": "Controller (we decide why the data is processed)",
        },
    )
    await fire_due(slack)
    slack.sb.clock.advance(61 * MINUTE)
    await fire_due(slack)
    sent = [m for m in slack.channel(incident.channel_id).bot_messages if "reminder_done" in str(m.blocks)]
    sent += [m for m in slack.dave.dms if "reminder_done" in str(m.blocks)]
    assert sent
    for message in sent:
        assert "DRILL" in message.all_text and "no regulator is notified" in message.all_text
        assert "Who to tell" not in message.all_text


async def test_unfilled_role_reminds_the_commander(db_url: str, tmp_path: Path) -> None:
    roles = SANDBOX_ROLES.read_text(encoding="utf-8")
    # The scribe role has no default holder in this firm.
    roles = re.sub(r"(- key: scribe\n(?:.*\n)*?)    defaults: \[[^\]]*\]\n", r"\1", roles)
    path = tmp_path / "roles.yaml"
    path.write_text(roles, encoding="utf-8")
    async with running_bot(db_url, roles_file=path) as slack:
        await declare(slack)
        slack.sb.clock.advance(14 * MINUTE)
        await fire_due(slack)
        assert not [m for m in slack.heidi.dms if "nobody holds the role" in m.all_text]
        slack.sb.clock.advance(2 * MINUTE)
        await fire_due(slack)
        told = [m for m in slack.heidi.dms if "nobody holds the role" in m.all_text]
        assert len(told) == 1 and "Scribe" in told[0].all_text
        assert not any("nobody holds the role" in m.all_text for m in slack.bob.dms)


async def test_follow_up_actions_remind_their_owners_after_close(slack: Slack) -> None:
    incident = await declare(slack)
    now = slack.rt.clock.now()
    async with slack.db.transaction() as s:
        s.add(
            ActionItem(
                incident_id=incident.id,
                text="Enforce MFA on the client portal",
                owner="UBOB00001",
                due_at=now + timedelta(days=7),
                created_by="UHEIDI001",
                created_at=now,
            )
        )
    await fire_due(slack)
    slack.sb.clock.advance(7 * 24 * HOUR + 1)
    await fire_due(slack)
    assert not any("Enforce MFA" in m.all_text for m in slack.bob.dms)  # still open: not yet a follow-up
    async with slack.db.transaction() as s:
        await s.execute(
            update(Incident).where(Incident.id == incident.id).values(status="closed", closed_at=now)
        )
    await slack.rt.deps.reminders_changed()
    await fire_due(slack)
    reminded = [m for m in slack.bob.dms if "Enforce MFA" in m.all_text]
    assert len(reminded) == 1 and "follow-up due" in reminded[0].all_text
    # Nothing of the response itself is nagged about after close.
    before = len(slack.channel(incident.channel_id).bot_messages)
    slack.sb.clock.advance(24 * HOUR)
    await fire_due(slack)
    assert len(slack.channel(incident.channel_id).bot_messages) == before
