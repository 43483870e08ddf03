"""Verifying the hash chain from Slack and from the command line: an edited or deleted event is
named by its sequence number, wherever someone checks."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, update

from bot.cli import main
from storage.models import TimelineEvent
from tests.harness import SIGNING_SECRET, Slack
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
