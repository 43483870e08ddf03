"""Severity, status, list, resolve and close: managers change things, the timeline says who and what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from incident import lifecycle
from incident.config import load_config
from incident.declare import DeclareInput
from incident.declare import declare as declare_incident
from incident.severity import cadence
from storage import timeline
from storage.db import Database
from storage.models import ChecklistItem, Incident, Reminder
from tests.harness import Slack
from tests.test_declare import SECRET_TITLE, declare
from tests.test_postmortem import uploaded

# Calls that would change what anyone sees in Slack.
CHANGING = {
    "chat.update",
    "chat.postMessage",
    "conversations.setTopic",
    "conversations.archive",
    "conversations.invite",
    "views.open",
}


def card_of(slack: Slack, incident: Incident):
    return slack.channel(incident.channel_id).pins[0].refreshed()


async def last(slack: Slack, incident: Incident, kind: str):
    """The newest event of a kind (reminders of their own may land on the timeline as time moves)."""
    return next(e for e in reversed(await slack.timeline(incident)) if e.kind == kind)


def changes_since(slack: Slack, mark: int) -> list[str]:
    return [c.method for c in slack.sb.calls()[mark:] if c.method in CHANGING and c.ok]


async def test_the_commander_changes_severity_card_topic_and_timeline_follow(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.heidi.command("severity sev1", channel=incident.channel_id)
    await slack.settle()

    assert (await slack.incident()).severity == "SEV1"
    assert f"{incident.key} · SEV1" in card_of(slack, incident).all_text
    assert "SEV1" in slack.channel(incident.channel_id).topic
    assert "changed from SEV2 to SEV1" in slack.heidi.ephemerals[-1].all_text
    event = (await slack.timeline(incident))[-1]
    assert (event.kind, event.actor, event.data) == (
        "severity_changed",
        "UHEIDI001",
        {"before": "SEV2", "after": "SEV1"},
    )
    # The status-update reminder follows the new severity's cadence at once, not at the next sweep.
    async with slack.db.session() as s:
        due = (
            await s.execute(
                select(Reminder.due_at).where(
                    Reminder.incident_id == incident.id,
                    Reminder.kind == "status_update",
                    Reminder.status == "pending",
                )
            )
        ).scalar_one()
    assert due == incident.declared_at + cadence("SEV1")
    assert not slack.violations()


async def test_the_deputy_changes_severity_from_the_card(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.ivan.select(card_of(slack, incident), "Severity", "SEV3")
    await slack.settle()
    assert (await slack.incident()).severity == "SEV3"
    assert "SEV3" in slack.channel(incident.channel_id).topic
    event = (await slack.timeline(incident))[-1]
    assert (event.kind, event.actor, event.data["after"]) == ("severity_changed", "UIVAN0001", "SEV3")


async def test_choosing_the_same_severity_changes_and_logs_nothing(slack: Slack) -> None:
    incident = await declare(slack)
    kinds = await slack.kinds(incident)
    mark = len(slack.sb.calls())
    await slack.heidi.command("severity 2", channel=incident.channel_id)
    await slack.settle()
    assert "already SEV2" in slack.heidi.ephemerals[-1].all_text
    assert await slack.kinds(incident) == kinds
    assert changes_since(slack, mark) == []


async def test_a_bad_severity_is_answered_with_the_choices(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.heidi.command("severity critical", channel=incident.channel_id)
    await slack.settle()
    told = slack.heidi.ephemerals[-1].all_text
    assert "`critical`" in told and "SEV1, SEV2, SEV3, SEV4" in told
    assert (await slack.incident()).severity == "SEV2"


async def test_a_member_without_a_managing_role_changes_nothing(slack: Slack) -> None:
    incident = await declare(slack)
    card = card_of(slack, incident)
    kinds = await slack.kinds(incident)
    topic = slack.channel(incident.channel_id).topic
    mark = len(slack.sb.calls())

    await slack.alice.command("severity SEV1", channel=incident.channel_id)
    await slack.settle()
    await slack.alice.select(card, "Severity", "SEV4")
    await slack.settle()
    await slack.alice.command("resolve", channel=incident.channel_id)
    await slack.settle()
    await slack.alice.click(card, "Resolve")
    await slack.settle()
    await slack.alice.command("close", channel=incident.channel_id)
    await slack.settle()
    await slack.alice.click(card, "Close")
    await slack.settle()

    refusals = [e.all_text for e in slack.alice.ephemerals[-6:]]
    assert all("Only the incident commander, the deputy or an admin" in r for r in refusals), refusals
    assert all("<@UHEIDI001>" in r and "Nothing was changed" in r for r in refusals)
    after = await slack.incident()
    assert (after.severity, after.status, after.contained_at, after.closed_at) == ("SEV2", "open", None, None)
    assert await slack.kinds(incident) == kinds
    assert changes_since(slack, mark) == []
    assert slack.sb.workspace.top_modal("UALICE001") is None
    assert card_of(slack, incident).all_text == card.all_text
    assert slack.channel(incident.channel_id).topic == topic


async def test_an_outsider_learns_nothing_and_changes_nothing(slack: Slack) -> None:
    incident = await declare(slack)
    kinds = await slack.kinds(incident)
    await slack.mallory.command(f"severity SEV4 {incident.key}", channel="C0GENERAL1")
    await slack.settle()
    await slack.mallory.command(f"close {incident.key}", channel="C0GENERAL1")
    await slack.settle()
    for told in slack.mallory.ephemerals[-2:]:
        assert f"There is no incident {incident.key}" in told.all_text
        assert SECRET_TITLE not in told.all_text
    assert await slack.kinds(incident) == kinds


async def test_commands_outside_an_incident_channel_say_how_to_pick_one(slack: Slack) -> None:
    await declare(slack)
    for sub in ("status", "severity SEV1", "resolve", "close"):
        await slack.heidi.command(sub, channel="C0GENERAL1")
        await slack.settle()
        assert "isn't an incident channel" in slack.heidi.ephemerals[-1].all_text


async def test_status_shows_the_card_only_to_the_caller(slack: Slack) -> None:
    incident = await declare(slack)
    posted = len(slack.channel(incident.channel_id).messages)
    await slack.alice.command("status", channel=incident.channel_id)
    await slack.settle()
    card = slack.alice.ephemerals[-1]
    assert (
        card.blocks and SECRET_TITLE in card.all_text and "Incident commander: <@UHEIDI001>" in card.all_text
    )
    assert len(slack.channel(incident.channel_id).messages) == posted
    await slack.bob.command(f"status {incident.key}", channel="C0GENERAL1")
    await slack.settle()
    assert SECRET_TITLE in slack.bob.ephemerals[-1].all_text
    assert all(SECRET_TITLE not in m.all_text for m in slack.channel("general").messages)


async def test_list_shows_only_the_callers_incidents_open_first(slack: Slack) -> None:
    await declare(slack, title="First leak")
    first = await slack.incident()
    await declare(slack, person="judy", title="Second leak")
    second = await slack.incident()
    await slack.heidi.command("close", channel=second.channel_id)
    await slack.settle()
    await slack.heidi.submit({"Lessons learned": "Lock down exports."})
    await slack.settle()

    await slack.heidi.command("list", channel="C0GENERAL1")
    await slack.settle()
    listed = slack.heidi.ephemerals[-1].all_text
    assert listed.index(first.key) < listed.index(second.key)
    assert f"*{first.key}* · SEV2 · Open · <#{first.channel_id}>" in listed
    assert f"*{second.key}* · SEV2 · Closed · <#{second.channel_id}>" in listed
    assert "First leak" not in listed and "Second leak" not in listed

    # Alice declared the first one only; judy's team does not include her.
    await slack.alice.command("list", channel="C0GENERAL1")
    await slack.settle()
    listed = slack.alice.ephemerals[-1].all_text
    assert first.key in listed and second.key not in listed

    await slack.mallory.command("list", channel="C0GENERAL1")
    await slack.settle()
    seen = slack.mallory.ephemerals[-1].all_text
    assert "not in any incident" in seen
    assert first.key not in seen and second.key not in seen


async def test_resolving_records_containment_then_resolution(slack: Slack) -> None:
    incident = await declare(slack)
    slack.sb.clock.advance(3600)
    before = slack.rt.clock.now().replace(microsecond=0)
    await slack.heidi.click(card_of(slack, incident), "Resolve")
    await slack.settle()
    opened = slack.rt.clock.now()
    form = slack.heidi.modal()
    assert form.data["callback_id"] == "resolve"
    delivery = await slack.heidi.submit({"Stage reached": "contained"})
    assert not delivery.errors
    await slack.settle()
    contained = await slack.incident()
    # The form's time pickers start at the moment it opened, to the second (however slow the run).
    assert contained.status == "contained" and before <= contained.contained_at <= opened
    event = await last(slack, incident, "contained")
    assert event.actor == "UHEIDI001"
    assert event.data["before"] == {"status": "open", "contained_at": None}
    assert event.data["after"]["status"] == "contained"
    assert "Contained" in card_of(slack, incident).all_text
    assert "Contained" in slack.channel(incident.channel_id).topic

    slack.sb.clock.advance(7200)
    before = slack.rt.clock.now().replace(microsecond=0)
    await slack.ivan.command("resolve", channel=incident.channel_id)
    await slack.settle()
    opened = slack.rt.clock.now()
    await slack.ivan.submit({"Stage reached": "resolved"})
    await slack.settle()
    resolved = await slack.incident()
    assert resolved.status == "resolved" and before <= resolved.resolved_at <= opened
    assert resolved.contained_at == contained.contained_at
    event = await last(slack, incident, "resolved")
    assert event.actor == "UIVAN0001"
    assert event.data["before"] == {"status": "contained", "resolved_at": None}
    assert "Resolved" in slack.channel(incident.channel_id).topic

    await slack.heidi.command("resolve", channel=incident.channel_id)
    await slack.settle()
    assert "already recorded as resolved" in slack.heidi.ephemerals[-1].all_text
    assert slack.sb.workspace.top_modal("UHEIDI001") is None
    assert not slack.violations()


async def test_resolving_an_open_incident_also_records_it_contained(slack: Slack) -> None:
    incident = await declare(slack)
    slack.sb.clock.advance(3600)
    before = slack.rt.clock.now().replace(microsecond=0)
    await slack.heidi.command("resolve", channel=incident.channel_id)
    await slack.settle()
    opened = slack.rt.clock.now()
    half_an_hour_ago = int((slack.rt.clock.now() - timedelta(minutes=30)).timestamp())
    await slack.heidi.submit({"Stage reached": "resolved", "Contained at": half_an_hour_ago})
    await slack.settle()
    resolved = await slack.incident()
    assert resolved.status == "resolved"
    assert resolved.contained_at.timestamp() == half_an_hour_ago
    assert before <= resolved.resolved_at <= opened  # the form's default: when it opened
    kinds = [k for k in await slack.kinds(incident) if k in ("contained", "resolved")]
    assert kinds == ["contained", "resolved"]


async def test_resolve_times_must_be_past_and_in_order(slack: Slack) -> None:
    incident = await declare(slack)
    slack.sb.clock.advance(3600)
    await slack.heidi.command("resolve", channel=incident.channel_id)
    await slack.settle()
    now = slack.rt.clock.now()
    tomorrow = int((now + timedelta(days=1)).timestamp())
    delivery = await slack.heidi.submit({"Stage reached": "contained", "Contained at": tomorrow})
    assert "future" in delivery.errors["contained_at"]
    delivery = await slack.heidi.submit(
        {
            "Stage reached": "resolved",
            "Contained at": int((now - timedelta(minutes=5)).timestamp()),
            "Resolved at": int((now - timedelta(minutes=20)).timestamp()),
        }
    )
    assert "resolved implies contained" in delivery.errors["contained_at"]
    await slack.settle()
    assert (await slack.incident()).status == "open"
    assert {"contained", "resolved"}.isdisjoint(await slack.kinds(incident))


async def test_closing_records_lessons_publishes_the_post_mortem_then_archives(slack: Slack) -> None:
    incident = await declare(slack)
    slack.sb.clock.advance(86400)
    before = slack.rt.clock.now().replace(microsecond=0)
    await slack.heidi.click(card_of(slack, incident), "Close")
    await slack.settle()
    form = slack.heidi.modal()
    assert form.data["callback_id"] == "close"
    assert "required checklist item(s) are still open" in "\n".join(
        b.get("text", {}).get("text", "") for b in form.data["blocks"]
    )
    delivery = await slack.heidi.submit({"Lessons learned": "   "})
    assert delivery.errors and "lessons" in delivery.errors
    delivery = await slack.heidi.submit(
        {"Lessons learned": "Exports need MFA.", "Channel": ["Archive the incident channel after closing"]}
    )
    assert not delivery.errors
    await slack.settle()

    closed = await slack.incident()
    assert closed.status == "closed" and before <= closed.closed_at <= slack.rt.clock.now()
    assert closed.lessons == "Exports need MFA."
    events = await slack.timeline(incident)
    close_event = next(e for e in events if e.kind == "closed")
    assert close_event.actor == "UHEIDI001"
    assert close_event.data["before"]["status"] == "open" and close_event.data["after"]["status"] == "closed"
    assert close_event.data["lessons"] == "Exports need MFA." and close_event.data["archive"] is True
    assert close_event.data["open_required_items"] > 0
    kinds = [e.kind for e in events]
    # The post-mortem goes in while the channel still takes messages, before it is archived.
    assert kinds.index("closed") < kinds.index("postmortem_generated") < kinds.index("channel_archived")
    assert kinds.count("channel_archived") == 1
    assert [md for _, md in uploaded(slack, incident.channel_id) if "Exports need MFA." in md]
    card = card_of(slack, incident)
    assert "Closed" in card.all_text and "Close" not in card.buttons and "Resolve" not in card.buttons
    assert "Closed" in slack.channel(incident.channel_id).topic
    assert slack.channel(incident.channel_id).is_archived
    assert not slack.violations()


async def test_closing_without_archiving_keeps_the_channel_and_a_second_close_is_refused(
    slack: Slack,
) -> None:
    incident = await declare(slack)
    async with slack.db.transaction() as s:
        await s.execute(
            update(ChecklistItem).where(ChecklistItem.incident_id == incident.id).values(state="done")
        )
    await slack.ivan.command("close", channel=incident.channel_id)
    await slack.settle()
    form = slack.ivan.modal()
    assert "still open" not in str(form.data["blocks"])
    await slack.ivan.submit({"Lessons learned": "Practise the drill twice a year."})
    await slack.settle()
    assert (await slack.incident()).status == "closed"
    assert not slack.channel(incident.channel_id).is_archived
    kinds = await slack.kinds(incident)
    assert kinds.count("closed") == 1 and "channel_archived" not in kinds

    await slack.heidi.command("close", channel=incident.channel_id)
    await slack.settle()
    assert "already closed" in slack.heidi.ephemerals[-1].all_text
    assert slack.sb.workspace.top_modal("UHEIDI001") is None
    await slack.heidi.command("severity SEV1", channel=incident.channel_id)
    await slack.settle()
    assert "already closed" in slack.heidi.ephemerals[-1].all_text
    assert await slack.kinds(incident) == kinds


async def test_a_close_form_submitted_after_losing_command_is_refused(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.heidi.command("role incident_commander <@UBOB00001|bob>", channel=incident.channel_id)
    await slack.settle()
    await slack.bob.command("close", channel=incident.channel_id)
    await slack.settle()
    form = slack.bob.modal()
    await slack.bob.command("role incident_commander <@UCAROL001|carol>", channel=incident.channel_id)
    await slack.settle()
    kinds = await slack.kinds(incident)
    await slack.bob.submit({"Lessons learned": "Too late."}, view=form)
    await slack.settle()
    assert "Only the incident commander" in slack.bob.ephemerals[-1].all_text
    assert (await slack.incident()).status == "open"
    assert await slack.kinds(incident) == kinds


async def test_the_containment_time_shown_back_to_the_second_is_not_a_new_containment(db: Database) -> None:
    config = load_config()
    start = datetime(2026, 3, 2, 9, 0, 0, 250_000, tzinfo=UTC)
    declared = await declare_incident(
        db,
        config,
        DeclareInput(title="Lost laptop", severity="SEV3"),
        actor="UALICE001",
        now=start,
        locale="en",
        holders={"incident_commander": "UHEIDI001"},
    )
    incident_id = declared.incident.id
    manage = {"actor": "UHEIDI001", "roles": config.roles}
    contained = await lifecycle.resolve(
        db, incident_id, lifecycle.Resolution("contained"), now=start + timedelta(hours=1), **manage
    )
    shown = contained.contained_at.replace(microsecond=0)  # what the form's picker offers again
    resolved = await lifecycle.resolve(
        db,
        incident_id,
        lifecycle.Resolution("resolved", contained_at=shown),
        now=start + timedelta(hours=2),
        **manage,
    )
    assert resolved.contained_at == contained.contained_at
    async with db.session() as s:
        kinds = [e.kind for e in await timeline.events(s, incident_id)]
    assert kinds.count("contained") == 1 and kinds[-1] == "resolved"


async def test_a_failed_archive_never_loses_the_close(slack: Slack) -> None:
    incident = await declare(slack)
    slack.sb.faults.add(method="conversations.archive", kind="error:restricted_action", times=5)
    await slack.heidi.command("close", channel=incident.channel_id)
    await slack.settle()
    await slack.heidi.submit(
        {
            "Lessons learned": "Ask before archiving.",
            "Channel": ["Archive the incident channel after closing"],
        }
    )
    await slack.settle()
    assert (await slack.incident()).status == "closed"
    assert not slack.channel(incident.channel_id).is_archived
    assert "not archived (restricted_action)" in slack.heidi.ephemerals[-1].all_text
    kinds = await slack.kinds(incident)
    assert "closed" in kinds and "channel_archived" not in kinds
