"""The reminder machinery: rows are the truth, sent once across restarts, replicas and Slack outages."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select

from storage.models import Reminder
from tests.harness import Slack, another_process, fire_due, restarted

MINUTE = 60


async def declare(
    slack: Slack, severity: str = "SEV1", title: str = "Tax portal credentials phished", **values
) -> None:
    await slack.alice.command(f"declare {title}")
    await slack.settle()
    fields = {"Severity": severity, **values}
    delivery = await slack.alice.submit(fields)
    assert not delivery.errors, delivery.errors
    await slack.settle()


def status_reminders(slack: Slack, channel: str) -> list:
    return [m for m in slack.channel(channel).bot_messages if "time for a status update" in m.all_text]


async def the_next_status_reminder_comes_after(slack: Slack, channel: str, minutes: int, sent: int) -> None:
    """With `sent` status reminders in `channel`, none more comes in the next `minutes` less one,
    and the next one just after them."""
    slack.sb.clock.advance((minutes - 1) * MINUTE)
    await fire_due(slack)
    assert len(status_reminders(slack, channel)) == sent
    slack.sb.clock.advance(1 * MINUTE + 1)
    await fire_due(slack)
    assert len(status_reminders(slack, channel)) == sent + 1


async def rows(slack: Slack, **where) -> list[Reminder]:
    async with slack.db.session() as s:
        stmt = select(Reminder)
        for name, value in where.items():
            stmt = stmt.where(getattr(Reminder, name) == value)
        return list((await s.execute(stmt.order_by(Reminder.id))).scalars())


async def test_status_update_reminder_follows_the_severity_cadence(slack: Slack) -> None:
    await declare(slack, "SEV1")
    incident = await slack.incident()
    slack.sb.clock.advance(29 * MINUTE)
    await fire_due(slack)
    assert status_reminders(slack, incident.channel_id) == []
    slack.sb.clock.advance(1 * MINUTE + 1)
    await fire_due(slack)
    sent = status_reminders(slack, incident.channel_id)
    assert len(sent) == 1
    assert "SEV1" in sent[0].all_text and "Post update" in sent[0].buttons and "Done" in sent[0].buttons
    # Nothing posted: the next one comes one cadence later, not before.
    await the_next_status_reminder_comes_after(slack, incident.channel_id, 30, sent=1)
    events = [e for e in await slack.timeline(incident) if e.kind == "reminder_sent"]
    assert [e.data["kind"] for e in events].count("status_update") == 2
    assert not slack.violations()


async def test_posting_an_update_resets_the_cadence(slack: Slack) -> None:
    await declare(slack, "SEV2")  # every hour
    incident = await slack.incident()
    slack.sb.clock.advance(61 * MINUTE)
    await fire_due(slack)
    reminder = status_reminders(slack, incident.channel_id)[-1]
    slack.sb.clock.advance(10 * MINUTE)
    await slack.heidi.click(reminder, "Post update")
    await slack.settle()
    delivery = await slack.heidi.submit({"Update": "Portal access revoked; forensics imaging the server."})
    assert not delivery.errors
    await slack.settle()
    channel = slack.channel(incident.channel_id)
    posted = channel.message_with_text("forensics imaging the server")
    assert "Status update" in posted.all_text and "<@UHEIDI001>" in posted.all_text
    assert "status_update" in await slack.kinds(incident)
    # The answered reminder loses its buttons.
    assert "Post update" not in channel.refreshed(reminder).buttons
    # Next reminder: an hour after the update (71 min after declaring), not an hour after the last one.
    await the_next_status_reminder_comes_after(slack, incident.channel_id, 60, sent=1)


async def test_cadence_can_be_set_in_the_environment(db_url: str) -> None:
    import os

    from tests.harness import running_bot

    os.environ["BREACHROOM_CADENCE_SEV3"] = "10m"
    try:
        async with running_bot(db_url) as slack:
            await declare(slack, "SEV3")
            incident = await slack.incident()
            slack.sb.clock.advance(10 * MINUTE + 1)
            await fire_due(slack)
            assert len(status_reminders(slack, incident.channel_id)) == 1
    finally:
        del os.environ["BREACHROOM_CADENCE_SEV3"]


async def test_restart_fires_each_pending_reminder_once_and_overdue_ones_right_away(slack: Slack) -> None:
    await declare(slack, "SEV1")
    incident = await slack.incident()
    await fire_due(slack)  # the rows exist now
    pending = await rows(slack, status="pending")
    assert pending
    await slack.runner.cleanup()
    # Down for an hour: the status reminder (30 min) and the first overdue item (15 min) fell due.
    async with restarted(slack):
        pass
    slack.sb.clock.advance(61 * MINUTE)
    async with restarted(slack) as again:
        await again.settle()  # no explicit firing: the new process catches up by itself at start-up
        assert len(status_reminders(again, incident.channel_id)) == 1
        sent_once = await rows(again, status="sent")
        assert sent_once
        await fire_due(again)
        after = await rows(again, status="sent")
        assert {r.id for r in after} == {r.id for r in sent_once}
    events = [e for e in await slack.timeline(incident) if e.kind == "reminder_sent"]
    counts = Counter(e.data["reminder_id"] for e in events)
    assert counts and set(counts.values()) == {1}


@pytest.mark.pg_only
async def test_two_processes_send_each_reminder_exactly_once(slack: Slack) -> None:
    await declare(slack, "SEV1")
    await declare(slack, "SEV1", title="Second office NAS exposed")
    await fire_due(slack)
    slack.sb.clock.advance(3 * 3600)
    async with another_process(slack) as other:
        await asyncio.gather(
            slack.rt.engine.run_due(),
            other.engine.run_due(),
            slack.rt.engine.run_due(),
            other.engine.run_due(),
        )
        await other.tracker.wait_idle(timeout=15)
    await slack.settle()
    sent = await rows(slack, status="sent")
    assert len(sent) >= 4
    # Each reminder row reached Slack in exactly one successful call, whichever process sent it.
    posted = Counter(
        block.get("block_id")
        for call in slack.sb.calls("chat.postMessage")
        if call.ok
        for block in _blocks(call.params.get("blocks"))
        if str(block.get("block_id", "")).startswith("reminder_")
    )
    assert posted == Counter({f"reminder_{r.id}": 1 for r in sent})
    events = [
        e for i in await slack.incidents() for e in await slack.timeline(i) if e.kind == "reminder_sent"
    ]
    assert sorted(e.data["reminder_id"] for e in events) == sorted(r.id for r in sent)


def _blocks(raw: object) -> list[dict]:
    import json

    if isinstance(raw, str):
        return json.loads(raw)
    return list(raw or [])


async def test_slack_down_when_a_reminder_fires_retries_without_dropping_or_doubling(slack: Slack) -> None:
    await declare(slack, "SEV1")
    incident = await slack.incident()
    sent_before = (await slack.kinds(incident)).count("reminder_sent")  # a clock's first reminder
    slack.sb.clock.advance(31 * MINUTE)
    slack.sb.faults.add(method="chat.postMessage", kind="server_error", times=30)
    await fire_due(slack)
    assert status_reminders(slack, incident.channel_id) == []
    failed = [r for r in await rows(slack, kind="status_update") if r.attempts > 0]
    assert failed and all(r.status == "pending" for r in failed)
    assert (await slack.kinds(incident)).count("reminder_sent") == sent_before
    slack.sb.faults.clear()
    slack.sb.clock.advance(15 * MINUTE)
    await fire_due(slack)
    await fire_due(slack)
    assert len(status_reminders(slack, incident.channel_id)) == 1
    assert (await slack.kinds(incident)).count("reminder_sent") > sent_before
    statuses = [r for r in await rows(slack, kind="status_update") if r.status == "sent"]
    assert len(statuses) == 1


async def test_rate_limited_reminder_is_sent_later_once(slack: Slack) -> None:
    await declare(slack, "SEV1")
    incident = await slack.incident()
    slack.sb.clock.advance(31 * MINUTE)
    slack.sb.faults.add(method="chat.postMessage", kind="ratelimited", times=8, retry_after=1)
    await fire_due(slack)
    slack.sb.clock.advance(5 * MINUTE)
    await fire_due(slack)
    slack.sb.clock.advance(5 * MINUTE)
    await fire_due(slack)
    assert len(status_reminders(slack, incident.channel_id)) == 1
