"""The timeline's head, posted in the incident channel at milestones: an anchor outside the database.

Someone who can write the database can cut the chain short or rebuild it, but cannot change what
the bot already posted in Slack. `/breach verify` and `breachroom verify` read those posts back
(the bot's own messages only, their metadata naming the head) and compare them with the database.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.deps import Deps
from handlers.render.chain import EVENT_TYPE, anchor_blocks, anchor_metadata
from handlers.views import load, rendered_hash
from incident import bot_messages
from incident.overview import pending_setup
from storage import timeline
from storage.db import Database
from storage.models import Incident
from storage.timeline import HeadMismatch, PostedHead

log = logging.getLogger(__name__)

ANCHOR = "timeline_head"  # BotMessage.kind; ref = the seq anchored
# Events after which the head is posted (besides the end of the declaration's set-up).
MILESTONES = frozenset({"phase_advanced", "contained", "resolved", "closed"})
HEX64 = re.compile(r"^[0-9a-f]{64}$")
HISTORY_PAGE = 200


async def bot_user_id(client: AsyncWebClient) -> str:
    """Who the bot is, asked of Slack (the token decides; nothing a request says)."""
    return str((await client.auth_test())["user_id"])


async def _anchored_seqs(deps: Deps, incident_id: int) -> list[int]:
    return [int(r) for r in await bot_messages.refs(deps.db, incident_id, ANCHOR) if r.isdigit()]


async def _due(deps: Deps, incident: Incident) -> bool:
    assert incident.id is not None
    anchored = await _anchored_seqs(deps, incident.id)
    last = max(anchored, default=0)
    if incident.timeline_seq <= last:
        return False
    if not anchored and not pending_setup(incident):
        return True  # the declaration's set-up is done
    async with deps.db.session() as db:
        newest = await timeline.events(db, incident.id, kinds=set(MILESTONES), limit=1, newest_first=True)
    return bool(newest) and newest[0].seq > last


async def post_head(client: AsyncWebClient, deps: Deps, incident: Incident) -> None:
    """Post the current head and record it, so the same milestone is anchored once."""
    assert incident.id is not None and incident.channel_id and incident.timeline_head
    seq, head = incident.timeline_seq, incident.timeline_head
    blocks, text = anchor_blocks(seq, head, incident.locale)
    posted = await client.chat_postMessage(
        channel=incident.channel_id, blocks=blocks, text=text, metadata=anchor_metadata(incident, seq, head)
    )
    # Recorded with what Slack shows, as every owned message is, so a check of views finds it current.
    # Another replica may have anchored the same head first: both posts then carry the same head.
    await bot_messages.remember_once(
        deps.db,
        incident.id,
        ANCHOR,
        str(seq),
        channel=incident.channel_id,
        ts=posted["ts"],
        rendered_hash=rendered_hash(blocks, text),
    )


async def anchor_if_due(client: AsyncWebClient, deps: Deps, incident_id: int) -> None:
    """After the card is re-rendered: post the head when a milestone passed since the last one."""
    incident = await load(deps, incident_id)
    if not incident.channel_id or not incident.timeline_head:
        return
    if await _due(deps, incident):
        try:
            await post_head(client, deps, incident)
        except SlackApiError as exc:
            # The next re-render tries again: what is due is computed from the database.
            log.warning("posting the timeline head of %s failed: %s", incident.key, exc.response.get("error"))


def _posted(message: dict[str, Any], key: str, bot: str) -> PostedHead | None:
    if message.get("user") != bot:
        return None  # a person's message can say anything; only the bot's own posts count
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    if meta.get("event_type") != EVENT_TYPE or payload.get("incident") != key:
        return None
    seq, head = payload.get("seq"), str(payload.get("head", ""))
    if not isinstance(seq, int) or not HEX64.match(head):
        return None
    return PostedHead(seq=seq, head=head, posted_at=datetime.fromtimestamp(float(message["ts"]), UTC))


async def posted_heads(client: AsyncWebClient, channel: str, key: str, bot: str) -> list[PostedHead]:
    """Every head the bot posted in the channel, read back from Slack's history with metadata."""
    heads: list[PostedHead] = []
    pages = await client.conversations_history(channel=channel, include_all_metadata=True, limit=HISTORY_PAGE)
    async for page in pages:
        for message in page.get("messages") or []:
            found = _posted(message, key, bot)
            if found is not None:
                heads.append(found)
    return heads


@dataclass(frozen=True)
class HeadsCheck:
    """The posted heads compared with the database; `unread` is Slack's error when none could be read."""

    checked: int
    mismatches: list[HeadMismatch]
    unread: str | None = None


async def check_posted(client: AsyncWebClient, database: Database, incident: Incident) -> HeadsCheck:
    assert incident.id is not None
    if not incident.channel_id:
        return HeadsCheck(0, [])
    try:
        bot = await bot_user_id(client)
        heads = await posted_heads(client, incident.channel_id, incident.key, bot)
    except SlackApiError as exc:
        return HeadsCheck(0, [], str(exc.response.get("error") or "slack_error"))
    async with database.session() as db:
        hashes = await timeline.hashes_at(db, incident.id, (h.seq for h in heads))
    return HeadsCheck(len(heads), timeline.check_heads(hashes, heads))
