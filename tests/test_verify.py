"""Verifying the keyed hash chain from Slack and from the command line: an edited or deleted event is
named by its sequence number, and a chain rebuilt or cut short in the database is caught by the
heads the bot posted in the channel at milestones."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from bot.cli import main
from handlers.render.chain import EVENT_TYPE
from storage import timeline
from storage.models import Incident, TimelineEvent
from tests.harness import BOT_TOKEN, SIGNING_SECRET, Slack
from tests.test_records import declare


async def cli(monkeypatch: pytest.MonkeyPatch, db_url: str, *argv: str) -> int:
    monkeypatch.setenv("DATABASE_URL", db_url)
    # The bot's signing secret: with no dedicated timeline key, the chain's key derives from it.
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    # The CLI runs its own event loop, so it gets a thread of its own.
    return await asyncio.to_thread(main, list(argv))


async def noted(slack: Slack, count: int = 3):  # type: ignore[no-untyped-def]
    incident = await declare(slack)
    for i in range(count):
        await slack.judy.command(f"note step {i}", channel=incident.channel_id)
        await slack.settle()
    return incident


async def test_verify_in_the_channel_reports_count_and_head(slack: Slack) -> None:
    incident = await noted(slack)
    events = await slack.timeline(incident)
    await slack.judy.command("verify", channel=incident.channel_id)
    await slack.settle()
    report = slack.channel(incident.channel_id).bot_messages[-1].all_text
    assert f"{len(events)} events" in report and events[-1].hash in report and "verified" in report
    # Verifying records nothing: reading the chain must not change it.
    assert len(await slack.timeline(incident)) == len(events)


async def test_an_edited_event_is_named_in_slack_and_by_the_cli(
    slack: Slack, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    incident = await noted(slack)
    events = await slack.timeline(incident)
    target = next(e for e in events if e.kind == "note")
    async with slack.db.transaction() as s:
        await s.execute(
            update(TimelineEvent)
            .where(TimelineEvent.id == target.id)
            .values(summary="step 0 (nothing happened)")
        )
    await slack.judy.command("verify", channel=incident.channel_id)
    await slack.settle()
    report = slack.channel(incident.channel_id).bot_messages[-1].all_text
    assert f"FAILED at event #{target.seq}" in report and "verified" not in report

    assert await cli(monkeypatch, db_url, "verify", incident.key) == 1
    assert f"BROKEN at event #{target.seq}" in capsys.readouterr().out


async def test_a_deleted_event_is_named_by_the_cli_and_in_slack(
    slack: Slack, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    incident = await noted(slack)
    assert await cli(monkeypatch, db_url, "verify", incident.key) == 0
    assert "timeline intact" in capsys.readouterr().out
    async with slack.db.transaction() as s:
        await s.execute(
            delete(TimelineEvent).where(TimelineEvent.incident_id == incident.id, TimelineEvent.seq == 2)
        )
    assert await cli(monkeypatch, db_url, "verify", incident.key) == 1
    assert "BROKEN at event #2" in capsys.readouterr().out
    await slack.heidi.command("verify", channel=incident.channel_id)
    await slack.settle()
    assert "FAILED at event #2" in slack.channel(incident.channel_id).bot_messages[-1].all_text


async def test_verify_from_outside_answers_only_members(slack: Slack) -> None:
    incident = await noted(slack, 1)
    await slack.mallory.command(f"verify {incident.key}", channel="C0GENERAL1")
    await slack.settle()
    assert f"There is no incident {incident.key}" in slack.mallory.ephemerals[-1].all_text
    assert all(incident.key not in m.all_text for m in slack.channel("C0GENERAL1").bot_messages)


def anchors(slack: Slack, incident: Incident) -> list[Any]:
    """The bot's head posts in the channel, oldest first (what a member scrolling back sees)."""
    assert incident.channel_id
    return [
        m
        for m in slack.channel(incident.channel_id).bot_messages
        if (m.data.get("metadata") or {}).get("event_type") == EVENT_TYPE
    ]


def payload(message: Any) -> dict[str, Any]:
    return message.data["metadata"]["event_payload"]


async def override_to_next_phase(slack: Slack, incident: Incident) -> None:
    assert incident.channel_id
    await slack.heidi.click(slack.channel(incident.channel_id).pins[0], "Next phase")
    await slack.settle()
    await slack.heidi.click(slack.heidi.ephemerals[-1], "Override and move on")
    await slack.settle()
    await slack.heidi.submit({"Reason": "Forensics must start now"})
    await slack.settle()


async def test_the_head_is_posted_after_set_up_at_each_phase_change_resolve_and_close(slack: Slack) -> None:
    incident = await declare(slack)
    [first] = anchors(slack, incident)
    # The head as of the last set-up step; a may-apply clock's reminder can follow it at once.
    events = await slack.timeline(incident)
    set_up = [e for e in events if e.kind != "reminder_sent"][-1]
    assert set_up.kind == "members_invited"
    assert all(e.kind == "reminder_sent" for e in events[set_up.seq :])
    assert payload(first) == {"incident": incident.key, "seq": set_up.seq, "head": set_up.hash}
    assert f"Timeline head #{set_up.seq}: `{set_up.hash[:12]}…`" in first.all_text
    # A note is no milestone: no new head post for it.
    await slack.judy.command("note Firewall rule added", channel=incident.channel_id)
    await slack.settle()
    assert len(anchors(slack, incident)) == 1

    await override_to_next_phase(slack, incident)
    moved = await slack.incident()
    assert moved.phase == "investigate"
    assert payload(anchors(slack, incident)[-1])["seq"] == moved.timeline_seq
    assert payload(anchors(slack, incident)[-1])["head"] == moved.timeline_head

    slack.sb.clock.advance(3600)
    await slack.heidi.command("resolve", channel=incident.channel_id)
    await slack.settle()
    earlier = int((slack.rt.clock.now() - timedelta(minutes=30)).timestamp())
    await slack.heidi.submit({"Stage reached": "resolved", "Contained at": earlier})
    await slack.settle()
    resolved = await slack.incident()
    assert resolved.status == "resolved"
    # One more head, as of the resolve (reminders that fell due in the skipped hour may precede it).
    resolved_seq = (await slack.kinds(incident)).index("resolved") + 1
    assert len(anchors(slack, incident)) == 3
    assert payload(anchors(slack, incident)[-1])["seq"] >= resolved_seq

    await slack.heidi.click(slack.channel(incident.channel_id).pins[0], "Close")
    await slack.settle()
    await slack.heidi.submit(
        {"Lessons learned": "Exports need MFA.", "Channel": ["Archive the incident channel after closing"]}
    )
    await slack.settle()
    kinds = await slack.kinds(incident)
    closed_seq = kinds.index("closed") + 1
    # Posted before the channel was archived, as the head right after (or at) the close.
    assert payload(anchors(slack, incident)[-1])["seq"] >= closed_seq
    assert slack.channel(incident.channel_id).is_archived
    assert [payload(a)["seq"] for a in anchors(slack, incident)] == sorted(
        {payload(a)["seq"] for a in anchors(slack, incident)}
    ), "each milestone is anchored once"
    assert not slack.violations()


async def test_an_intact_verify_checks_the_posted_heads_and_is_itself_an_anchor(slack: Slack) -> None:
    incident = await noted(slack, 2)
    await slack.judy.command("verify", channel=incident.channel_id)
    await slack.settle()
    report = slack.channel(incident.channel_id).bot_messages[-1]
    assert (
        "verified" in report.all_text
        and "Checked against the 1 head(s) posted in this channel" in report.all_text
    )
    head = await slack.incident()
    assert payload(report) == {"incident": incident.key, "seq": head.timeline_seq, "head": head.timeline_head}


async def forge_with_plain_sha256(slack: Slack, incident: Incident) -> int:
    """Someone with write access to the database: edit a note, recompute every hash after it as
    the unkeyed chain did, and move the incident's head to match. Returns the edited seq."""
    async with slack.db.transaction() as s:
        rows = list(
            (
                await s.execute(
                    select(TimelineEvent)
                    .where(TimelineEvent.incident_id == incident.id)
                    .order_by(TimelineEvent.seq)
                )
            ).scalars()
        )
        edited = next(r for r in rows if r.kind == "note")
        edited.summary = "step 0 (nothing happened)"
        prev = timeline.GENESIS
        for row in rows:
            row.prev_hash = prev
            row.hash = prev = hashlib.sha256((prev + timeline.canonical(row)).encode("utf-8")).hexdigest()
        db_incident = await s.get(Incident, incident.id)
        assert db_incident is not None
        db_incident.timeline_head = prev
        return edited.seq


async def test_a_chain_rebuilt_in_the_database_fails_verify_in_slack_and_the_cli(
    slack: Slack, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    incident = await noted(slack)
    await forge_with_plain_sha256(slack, incident)
    await slack.heidi.command("verify", channel=incident.channel_id)
    await slack.settle()
    report = slack.channel(incident.channel_id).bot_messages[-1]
    assert "FAILED at event #1 (hash)" in report.all_text and "verified" not in report.all_text
    assert "metadata" not in report.data, "a broken chain is never posted as a head"
    assert await cli(monkeypatch, db_url, "verify", incident.key) == 1
    assert "BROKEN at event #1 (hash)" in capsys.readouterr().out


async def truncate(slack: Slack, incident: Incident, from_seq: int) -> None:
    """Delete the newest events and move the incident's head back: the rest verifies in itself."""
    async with slack.db.transaction() as s:
        await s.execute(
            delete(TimelineEvent).where(
                TimelineEvent.incident_id == incident.id, TimelineEvent.seq >= from_seq
            )
        )
        last = (
            await s.execute(
                select(TimelineEvent).where(
                    TimelineEvent.incident_id == incident.id, TimelineEvent.seq == from_seq - 1
                )
            )
        ).scalar_one()
        await s.execute(
            update(Incident)
            .where(Incident.id == incident.id)
            .values(timeline_seq=last.seq, timeline_head=last.hash)
        )


async def test_cutting_the_newest_events_is_caught_by_the_heads_posted_in_slack(
    slack: Slack, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    incident = await declare(slack)
    await override_to_next_phase(slack, incident)
    phase_head = anchors(slack, incident)[-1]
    anchored = payload(phase_head)["seq"]
    await truncate(slack, incident, anchored - 1)
    async with slack.db.session() as s:
        assert (await timeline.verify(s, incident.id)).ok, "the database alone cannot tell"

    await slack.heidi.command("verify", channel=incident.channel_id)
    await slack.settle()
    report = slack.channel(incident.channel_id).bot_messages[-1].all_text
    posted_at = int(float(phase_head.data["ts"]))
    assert f"head #{anchored}, posted <!date^{posted_at}^" in report
    assert "is gone from the database: the newest events were removed" in report
    assert "verified" not in report

    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", slack.sb.api_url)
    assert await cli(monkeypatch, db_url, "verify", incident.key) == 1
    out = capsys.readouterr().out
    assert f"posted head #{anchored}" in out and "DISAGREES" in out and "missing from the database" in out


async def test_the_cli_says_when_it_compared_with_slack_and_when_it_could_not(
    slack: Slack, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    incident = await noted(slack, 1)
    assert await cli(monkeypatch, db_url, "verify", incident.key) == 0
    assert "posted heads not checked: set SLACK_BOT_TOKEN" in capsys.readouterr().out
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", slack.sb.api_url)
    assert await cli(monkeypatch, db_url, "verify", incident.key) == 0
    assert "agrees with the 1 head(s) posted in the incident's channel" in capsys.readouterr().out
