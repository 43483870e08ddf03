"""Slack's 3-second deadline for events: a slow answer brings a retry, and the bot acts once."""

from __future__ import annotations

from tests.harness import Slack, restarted
from tests.test_records import declare


async def test_an_event_answered_late_is_retried_and_captured_once(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.carol.say(incident.channel_id, "Disk image of FS01 taken, hash in the register")
    msg = slack.channel(incident.channel_id).messages[-1]
    async with restarted(slack):
        # A fresh process asks Slack who it is before answering its first request; Slack is
        # slow to tell it, so that request is answered after the 3 s Slack waits.
        slack.sb.faults.add(method="auth.test", kind="timeout", delay=slack.sb.ack_deadline + 1.5)
        delivery = await slack.judy.react(incident.channel_id, msg.ts, "pushpin")
        assert delivery is not None and delivery.ok
        assert delivery.retry_num >= 1  # the first delivery went unanswered in time
        await slack.settle()
        captured = [e for e in await slack.timeline(incident) if e.kind == "message_added"]
        assert len(captured) == 1 and captured[0].data["ts"] == msg.ts
        confirmations = [m for m in slack.channel(incident.channel_id).bot_messages if m.thread_ts == msg.ts]
        assert len(confirmations) == 1
