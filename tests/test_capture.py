"""Capturing channel messages: the message shortcut and the :pushpin: reaction put a message on
the timeline with its author, time and permalink; removing the pin appends a retraction."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.harness import Slack
from tests.test_records import declare

SSN = "123-45-6789"


async def test_the_shortcut_adds_a_message_with_author_time_and_permalink(slack: Slack) -> None:
    incident = await declare(slack)
    channel = slack.channel(incident.channel_id)
    await slack.bob.say(incident.channel_id, "Attacker IP 203.0.113.7 seen in portal logs at 02:14")
    msg = channel.messages[-1]
    await slack.heidi.shortcut(msg, "add_to_timeline")
    await slack.settle()
    event = (await slack.timeline(incident))[-1]
    assert event.kind == "message_added" and event.actor == "UHEIDI001"
    assert event.data["author"] == "UBOB00001" and event.data["ts"] == msg.ts
    assert event.data["text"].startswith("Attacker IP 203.0.113.7")
    assert event.data["permalink"].endswith(f"/archives/{incident.channel_id}/p{msg.ts.replace('.', '')}")
    posted = datetime.fromisoformat(event.data["posted_at"])
    assert posted == datetime.fromtimestamp(float(msg.ts), tz=UTC)
    confirmation = channel.bot_messages[-1]
    assert confirmation.thread_ts == msg.ts and f"#{event.seq}" in confirmation.all_text
    await slack.bob.command("timeline message_added", channel=incident.channel_id)
    await slack.settle()
    shown = slack.bob.ephemerals[-1].all_text
    assert event.data["permalink"] in shown and "message by <@UBOB00001>" in shown
    # Doing it again does not add it twice.
    await slack.heidi.shortcut(msg, "add_to_timeline")
    await slack.settle()
    assert (await slack.kinds(incident)).count("message_added") == 1
    assert "already on the timeline" in slack.heidi.ephemerals[-1].all_text
    assert not slack.violations()


async def test_the_shortcut_outside_an_incident_channel_records_nothing(slack: Slack) -> None:
    incident = await declare(slack)
    before = await slack.kinds(incident)
    await slack.alice.say("C0GENERAL1", "lunch at noon?")
    msg = slack.channel("C0GENERAL1").messages[-1]
    await slack.alice.shortcut(msg, "add_to_timeline")
    await slack.settle()
    assert await slack.kinds(incident) == before
    assert "Only messages in an incident channel" in slack.alice.ephemerals[-1].all_text
    assert all("timeline" not in m.all_text for m in slack.channel("C0GENERAL1").bot_messages)


async def test_a_pushpin_adds_the_message_once_even_when_slack_retries(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.carol.say(incident.channel_id, "Disk image of FS01 taken, hash in the register")
    msg = slack.channel(incident.channel_id).messages[-1]
    delivery = await slack.judy.react(incident.channel_id, msg.ts, "pushpin")
    assert delivery is not None
    await slack.settle()
    await slack.judy.redeliver(delivery, retry_num=1)
    await slack.judy.redeliver(delivery, retry_num=2, reason="http_error")
    await slack.settle()
    events = [e for e in await slack.timeline(incident) if e.kind == "message_added"]
    assert len(events) == 1
    assert events[0].actor == "UJUDY0001" and events[0].data["author"] == "UCAROL001"
    assert events[0].data["via"] == "reaction"


async def test_other_reactions_and_other_channels_are_ignored(slack: Slack) -> None:
    incident = await declare(slack)
    before = await slack.kinds(incident)
    await slack.bob.say(incident.channel_id, "ok")
    await slack.judy.react(
        incident.channel_id, slack.channel(incident.channel_id).messages[-1].ts, "thumbsup"
    )
    await slack.alice.say("C0GENERAL1", "public chatter")
    await slack.alice.react("C0GENERAL1", slack.channel("C0GENERAL1").messages[-1].ts, "pushpin")
    await slack.settle()
    assert await slack.kinds(incident) == before


async def test_removing_the_pin_appends_a_retraction_and_keeps_the_original(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.bob.say(incident.channel_id, "Wrong server, ignore the last finding")
    msg = slack.channel(incident.channel_id).messages[-1]
    await slack.judy.react(incident.channel_id, msg.ts, "pushpin")
    await slack.settle()
    added = (await slack.timeline(incident))[-1]
    delivery = await slack.judy.unreact(incident.channel_id, msg.ts, "pushpin")
    assert delivery is not None
    await slack.settle()
    await slack.judy.redeliver(delivery)
    await slack.settle()
    events = await slack.timeline(incident)
    assert [e.kind for e in events].count("message_retracted") == 1
    retraction = events[-1]
    assert retraction.kind == "message_retracted" and retraction.data["retracts_seq"] == added.seq
    # Append-only: the added event is still there, unchanged, and the chain still verifies.
    assert any(e.seq == added.seq and e.hash == added.hash for e in events)
    await slack.judy.command("verify", channel=incident.channel_id)
    await slack.settle()
    assert "verified" in slack.channel(incident.channel_id).bot_messages[-1].all_text


async def test_a_captured_message_with_an_ssn_is_stored_redacted_and_its_author_told(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.grace.say(incident.channel_id, f"Caller confirmed her SSN {SSN} was in the export")
    msg = slack.channel(incident.channel_id).messages[-1]
    await slack.heidi.shortcut(msg, "add_to_timeline")
    await slack.settle()
    event = (await slack.timeline(incident))[-1]
    assert SSN not in event.data["text"] and SSN not in event.summary
    assert "[redacted: SSN ****6789]" in event.data["text"]
    told = slack.grace.ephemerals[-1].all_text
    assert "Social Security number" in told


async def test_the_guard_can_be_switched_off(db_url: str) -> None:
    from tests.harness import running_bot

    async with running_bot(db_url, redact_sensitive=False) as slack:
        incident = await declare(slack)
        await slack.grace.say(incident.channel_id, f"SSN {SSN}")
        await slack.heidi.shortcut(slack.channel(incident.channel_id).messages[-1], "add_to_timeline")
        await slack.settle()
        assert (await slack.timeline(incident))[-1].data["text"] == f"SSN {SSN}"
