"""Read-only subcommands answer in the ack's HTTP body: the person sees the answer with no second
round trip to Slack (no response URL post, no chat.postEphemeral). Any other answer goes through
the command's response URL, or, when that URL fails, as an ephemeral message."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import text as sql

from handlers.errors import message_for
from storage.db import Database, watch_commits
from tests.harness import Slack
from tests.test_declare import declare


async def test_status_and_obligations_come_back_in_the_ack_itself(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    for text, expected in (
        ("status", incident.key),
        ("obligations", "regulatory obligations"),
        ("help", "/breach"),
    ):
        mark = len(slack.sb.calls())
        delivery = await slack.heidi.command(text, channel=incident.channel_id)
        await slack.settle()
        assert delivery.status == 200 and delivery.json is not None, text
        assert delivery.json.get("response_type") == "ephemeral", text
        assert expected in str(delivery.json), (text, delivery.json)
        assert expected in slack.heidi.ephemerals[-1].all_text
        later = [c.method for c in slack.sb.calls()[mark:]]
        assert "response_url" not in later and "chat.postEphemeral" not in later, (text, later)


async def test_an_outsider_gets_no_incident_in_the_ack(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    delivery = await slack.mallory.command(f"status {incident.key}")
    await slack.settle()
    assert incident.title not in delivery.body and incident.key not in delivery.body


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_an_answer_reaches_the_person_when_the_response_url_fails(slack: Slack) -> None:
    incident = await declare(slack)
    form = slack.bob.command_form("role scribe <@UFRANK001|frank>", channel=incident.channel_id)
    form["response_url"] = f"http://127.0.0.1:{closed_port()}/response/gone"
    mark = len(slack.sb.calls())
    delivery = await slack.sb.deliver("command", form)
    await slack.settle()
    # Acked in time (the harness fails the test on a late ack), and Bob, who may not hand out
    # roles, is still told why, as an ephemeral message in the channel where he typed.
    assert delivery.status == 200
    assert "commander: <@UHEIDI001>" in slack.bob.ephemerals[-1].all_text
    assert [c.method for c in slack.sb.calls()[mark:]].count("chat.postEphemeral") == 1


async def test_a_clicks_answer_reaches_the_person_when_the_response_url_fails(slack: Slack) -> None:
    incident = await declare(slack)
    await slack.judy.command("note first containment step", channel=incident.channel_id)
    await slack.settle()
    card = slack.channel(incident.channel_id).pins[0]
    button = next(
        element
        for block in card.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("text", {}).get("text") == "Timeline"
    )
    payload = slack.frank.block_actions(card, button)
    payload["response_url"] = f"http://127.0.0.1:{closed_port()}/response/gone"
    delivery = await slack.sb.deliver("interactive", payload)
    await slack.settle()
    assert delivery.status == 200
    assert "first containment step" in slack.frank.ephemerals[-1].all_text


async def test_the_generic_answer_says_nothing_was_changed_only_before_a_commit(db: Database) -> None:
    """What a person is told when their request fails unexpectedly follows what the request did:
    a read or a rolled-back transaction changed nothing; a commit may have."""
    failure = RuntimeError("boom")
    with watch_commits() as watch:
        async with db.session() as session:
            await session.execute(sql("SELECT 1"))  # a read commits nothing
        with pytest.raises(ValueError):
            async with db.transaction():
                raise ValueError("rolled back")
        assert not watch.committed and "nothing was changed" in message_for(failure, "en")
        async with db.transaction():
            pass
        assert watch.committed and "may already be recorded" in message_for(failure, "en")
        assert "可能已经记录" in message_for(failure, "zh-CN")
    assert "nothing was changed" in message_for(failure, "en")  # the next request starts afresh
