"""Putting channel messages on the timeline: the "Add to breach timeline" message shortcut and a
:pushpin: reaction; taking the pin away appends a retraction (the timeline is append-only)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.context import require_member
from handlers.deps import Deps
from handlers.effects import Line, announcer
from handlers.errors import reply_error, tell
from handlers.gate import Find
from handlers.i18n import t
from handlers.ids import CallbackId
from handlers.listener import listener
from handlers.records import warn_redacted
from handlers.render.common import user
from incident import lookup, records
from storage.models import Incident, TimelineEvent

log = logging.getLogger(__name__)

PIN = "pushpin"


async def incident_of_channel(deps: Deps, channel: str) -> Incident | None:
    async with deps.db.session() as db:
        return await lookup.by_channel(db, channel)


async def permalink(client: AsyncWebClient, channel: str, ts: str) -> str | None:
    try:
        return (await client.chat_getPermalink(channel=channel, message_ts=ts)).get("permalink")
    except SlackApiError as exc:
        log.warning("no permalink for %s/%s: %s", channel, ts, exc.response.get("error"))
        return None


async def fetch_message(client: AsyncWebClient, channel: str, ts: str) -> dict[str, Any] | None:
    """The message a reaction points at: in the channel's history, or a reply in a thread."""
    history = await client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
    for msg in history.get("messages") or []:
        if msg.get("ts") == ts:
            return dict(msg)
    try:
        replies = await client.conversations_replies(channel=channel, ts=ts, limit=1)
    except SlackApiError:
        return None
    for msg in replies.get("messages") or []:
        if msg.get("ts") == ts:
            return dict(msg)
    return None


def as_captured(channel: str, msg: dict[str, Any], link: str | None, via: str) -> records.CapturedMessage:
    return records.CapturedMessage(
        channel=channel,
        ts=str(msg["ts"]),
        author=msg.get("user") or msg.get("bot_id"),
        text=str(msg.get("text") or ""),
        permalink=link,
        via=via,
        files=[str(f.get("name") or f.get("id")) for f in msg.get("files") or [] if isinstance(f, dict)],
        thread_ts=str(msg["thread_ts"]) if msg.get("thread_ts") else None,
    )


async def capture(
    client: AsyncWebClient,
    deps: Deps,
    incident: Incident,
    msg: dict[str, Any],
    *,
    actor: str,
    via: str,
    event_id: str | None = None,
) -> records.Recorded | None:
    assert incident.id is not None and incident.channel_id
    link = await permalink(client, incident.channel_id, str(msg["ts"]))
    captured = as_captured(incident.channel_id, msg, link, via)
    recorded = await records.capture_message(
        deps.db,
        incident.id,
        captured,
        actor=actor,
        now=deps.clock.now(),
        redact_on=deps.redact_sensitive,
        event_id=event_id,
    )
    if recorded is None:
        return None
    # The same transaction wrote the confirmation in the message's thread (`announce_captured`).
    await warn_redacted(client, incident, captured.author, recorded.findings, "message")
    return recorded


async def on_shortcut(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await ack()
    actor = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id", "")
    try:
        incident = await incident_of_channel(deps, channel)
        if incident is None or not incident.channel_id:
            await tell(
                client,
                {"user_id": actor, "channel_id": channel},
                t("records.capture.not_incident", deps.locale),
            )
            return
        # Only people in the incident's channel may add to its timeline, whatever the payload says.
        await require_member(client, deps, incident, actor)
        msg = dict(body.get("message") or {})
        msg.setdefault("ts", body.get("message_ts"))
        recorded = await capture(client, deps, incident, msg, actor=actor, via="shortcut")
        if recorded is None:
            await tell(
                client,
                {"user_id": actor, "channel_id": channel},
                t("records.capture.already", incident.locale),
            )
    except Exception as exc:
        await reply_error(client, {"user_id": actor, "channel_id": channel}, exc, deps.locale)


async def on_pin_reaction(
    body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """A pin added to a message in an incident's channel records the message on the timeline; the
    pin taken off retracts it. Any other reaction, item or channel: nothing is recorded or said."""
    item = event.get("item") or {}
    if event.get("reaction") != PIN or item.get("type") != "message":
        return
    incident = await incident_of_channel(deps, item.get("channel", ""))
    if incident is None or incident.id is None or not incident.channel_id:
        return
    ts, actor, event_id = str(item.get("ts")), event["user"], body.get("event_id")
    if event.get("type") == "reaction_removed":
        # The same transaction writes the note in the message's thread (`announce_retracted`).
        await records.retract_message(
            deps.db,
            incident.id,
            incident.channel_id,
            ts,
            actor=actor,
            now=deps.clock.now(),
            event_id=event_id,
        )
        return
    msg = await fetch_message(client, incident.channel_id, ts)
    if msg is not None:
        await capture(client, deps, incident, msg, actor=actor, via="reaction", event_id=event_id)


def thread_of(event: TimelineEvent) -> str | None:
    """Answer in the captured message's thread, so the channel's main flow is not interrupted."""
    return event.data.get("thread_ts") or event.data.get("ts")


@announcer("message_added", in_thread=thread_of)
async def announce_captured(deps: Deps, incident: Incident, event: TimelineEvent) -> Line:
    author = user(event.data.get("author"))
    text = t("records.capture.posted", incident.locale, user=user(event.actor), author=author, seq=event.seq)
    return text, None


@announcer("message_retracted", in_thread=thread_of)
async def announce_retracted(deps: Deps, incident: Incident, event: TimelineEvent) -> Line:
    return t("records.capture.retracted", incident.locale, user=user(event.actor), seq=event.seq), None


def register(app: Any, deps: Deps) -> None:
    gate.shortcut(app, deps, CallbackId.ADD_TO_TIMELINE, Find.CHANNEL)(listener(deps, on_shortcut))
    for reaction_event in ("reaction_added", "reaction_removed"):
        gate.event(app, deps, reaction_event, Find.CHANNEL)(listener(deps, on_pin_reaction))
