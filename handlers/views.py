"""Messages that follow the database: the card, the checklists and the topic, each rendered from
the database and recorded in `bot_message` (with the hash of what Slack shows), so a re-render
after any change, a retry, or a restart converges on the same picture and makes no call when
nothing changed. The `views` effect (handlers/effects.py) runs `refresh_views`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.deps import Deps
from handlers.i18n import t
from handlers.render.card import card, card_text
from handlers.render.checklist import phase_messages
from incident import bot_messages, checklist
from incident.overview import open_phase_keys, overview, playbook_of
from incident.phases import current_index
from storage.models import BotMessage, Incident


def rendered_hash(blocks: list[dict[str, Any]], text: str) -> str:
    return hashlib.sha256(json.dumps([blocks, text], sort_keys=True).encode()).hexdigest()


def slack_error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "slack_error")
    return type(exc).__name__


async def load(deps: Deps, incident_id: int) -> Incident:
    async with deps.db.session() as db:
        incident = await db.get(Incident, incident_id)
        assert incident is not None
        return incident


async def owned_message(deps: Deps, incident_id: int, kind: str, ref: str = "") -> BotMessage | None:
    return await bot_messages.find(deps.db, incident_id, kind, ref)


async def put_message(
    client: AsyncWebClient,
    deps: Deps,
    incident_id: int,
    kind: str,
    ref: str,
    channel: str,
    blocks: list[dict[str, Any]],
    text: str,
    *,
    known: Mapping[str, BotMessage] | None = None,
) -> BotMessage:
    """Post the message the first time, update it afterwards; skip the call when nothing changed.

    ``known``: the incident's messages of this kind by ref, when the caller read them with the
    state it renders (``bot_messages.of_kind``); otherwise this message is looked up."""
    digest = rendered_hash(blocks, text)
    existing = known.get(ref) if known is not None else await owned_message(deps, incident_id, kind, ref)
    if existing and existing.ts and existing.rendered_hash == digest:
        return existing
    if existing and existing.ts:
        try:
            await client.chat_update(channel=existing.channel_id, ts=existing.ts, blocks=blocks, text=text)
            ts = existing.ts
        except SlackApiError as exc:
            if exc.response.get("error") != "message_not_found":
                raise
            ts = (await client.chat_postMessage(channel=channel, blocks=blocks, text=text))["ts"]
    else:
        ts = (await client.chat_postMessage(channel=channel, blocks=blocks, text=text))["ts"]
    return await bot_messages.remember(
        deps.db, incident_id, kind, ref, channel=channel, ts=ts, rendered_hash=digest
    )


async def refresh_card(client: AsyncWebClient, deps: Deps, incident_id: int) -> None:
    """Re-render the incident card from the database (concurrent requests fold into one more run)."""
    await deps.card_renders.run(incident_id, lambda: _render_card(client, deps, incident_id))


async def _render_card(client: AsyncWebClient, deps: Deps, incident_id: int) -> None:
    now = deps.clock.now()
    async with deps.db.session() as db:  # one read: the incident, what the card shows, the card
        incident = await db.get(Incident, incident_id)
        assert incident is not None
        if not incident.channel_id:
            return
        ov = await overview(db, incident, deps.config, now)
        known = await bot_messages.of_kind(db, incident_id, "card")
    locale = incident.locale
    await put_message(
        client,
        deps,
        incident_id,
        "card",
        "",
        incident.channel_id,
        card(ov, deps.config.roles, locale, now, deps.command),
        card_text(ov, locale),
        known=known,
    )


async def refresh_views(client: AsyncWebClient, deps: Deps, incident_id: int) -> None:
    """Re-render every message that follows the database (checklists, then the card): what Refresh
    and a restart do, so a view left behind by a failed Slack call catches up."""
    await refresh_checklists(client, deps, incident_id)
    await refresh_card(client, deps, incident_id)


async def refresh_topic(client: AsyncWebClient, deps: Deps, incident: Incident) -> None:
    locale = incident.locale
    topic = t(
        "topic.text",
        locale,
        key=incident.key,
        severity=incident.severity,
        status=t(f"status.{incident.status}", locale),
        drill=" · DRILL" if incident.is_drill else "",
    )
    assert incident.id is not None and incident.channel_id
    digest = rendered_hash([], topic)
    if incident.topic_hash == digest:
        return
    await client.conversations_setTopic(channel=incident.channel_id, topic=topic)
    await bot_messages.remember_topic(deps.db, incident.id, digest)


async def refresh_checklists(
    client: AsyncWebClient, deps: Deps, incident_id: int, phases: Collection[str] | None = None
) -> None:
    """Post or update the checklist messages of every open phase (or only of ``phases``).

    Renders of one incident run one at a time in this process (a slower render of an older state
    never lands after a newer one), and requests arriving meanwhile fold into one more run.
    """
    await deps.checklist_renders.run(
        incident_id,
        lambda: _render_checklists(client, deps, incident_id, phases),
        # Requests folded in may have asked for other phases: the follow-up renders them all.
        again=lambda: _render_checklists(client, deps, incident_id, None),
    )


async def _render_checklists(
    client: AsyncWebClient, deps: Deps, incident_id: int, phases: Collection[str] | None
) -> None:
    async with deps.db.session() as db:  # one read: the incident, its items, their messages
        incident = await db.get(Incident, incident_id)
        assert incident is not None
        if not incident.channel_id:
            return
        items = await checklist.items_of(db, incident_id)
        known = await bot_messages.of_kind(db, incident_id, "checklist")
    playbook = playbook_of(incident)
    open_keys = open_phase_keys(incident, playbook)
    current = current_index(incident, playbook)
    now = deps.clock.now()
    for index, phase in enumerate(playbook.phases):
        if phase.key not in open_keys or (phases is not None and phase.key not in phases):
            continue
        mine = [i for i in items if i.phase == phase.key]
        parts = phase_messages(
            incident,
            phase,
            mine,
            deps.config.roles,
            incident.locale,
            now,
            current=index == current,
            passed=index < current,
        )
        for part in parts:
            await put_message(
                client,
                deps,
                incident_id,
                "checklist",
                part.ref,
                incident.channel_id,
                part.blocks,
                part.text,
                known=known,
            )
