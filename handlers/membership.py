"""Who is in a channel, as Slack says, remembered for a short while.

Every request passes the gate, and the gate asks who is in the incident's channel;
conversations.members is rate-limited (Tier 4), so the answer is kept `MEMBERS_TTL` seconds per
workspace. Bolt hands each request a fresh Web API client, so entries are keyed by the workspace
the client talks to (its API URL and a digest of its token), never by the client object.

An entry is dropped at once when the bot invites someone, and when Slack says someone left or
was removed (`member_left_channel`, `channel_left`, `member_joined_channel`; handlers/events.py).
"""

from __future__ import annotations

import hashlib
import time

from slack_sdk.web.async_client import AsyncWebClient

MEMBERS_TTL = 30.0

_members: dict[tuple[str, str, str], tuple[float, frozenset[str]]] = {}


def _workspace(client: AsyncWebClient) -> tuple[str, str]:
    token = (client.token or "").encode()
    return client.base_url, hashlib.sha256(token).hexdigest()


async def channel_members(client: AsyncWebClient, channel: str) -> set[str]:
    key = (*_workspace(client), channel)
    hit = _members.get(key)
    if hit and time.monotonic() - hit[0] < MEMBERS_TTL:
        return set(hit[1])
    members: set[str] = set()
    cursor = None
    while True:
        page = await client.conversations_members(channel=channel, cursor=cursor, limit=200)
        members.update(page.get("members") or [])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    _members[key] = (time.monotonic(), frozenset(members))
    return members


def forget_all() -> None:
    """A bot starting up asks Slack afresh (a process may host several bots one after another)."""
    _members.clear()


def forget_members(client: AsyncWebClient, channel: str | None) -> None:
    """Call after inviting or removing people, so the next check asks Slack again."""
    if channel:
        _members.pop((*_workspace(client), channel), None)
