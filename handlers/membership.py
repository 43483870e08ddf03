"""Who is in a channel, as Slack says, remembered for a short while.

Every request passes the gate, and the gate asks who is in the incident's channel;
conversations.members is rate-limited (Tier 4), so the answer is kept `MEMBERS_TTL` seconds per
workspace. Bolt hands each request a fresh Web API client, so entries are keyed by the workspace
the client talks to (its API URL and a digest of its token), never by the client object.

An entry is dropped at once when the bot invites someone, and when Slack says someone left or
was removed (`member_left_channel`, `channel_left`, `member_joined_channel`; handlers/events.py).

The gate asks before the ack, which Slack wants within 3 seconds: there a 429 must never be
waited on (`channel_members_now`). An expired entry is still the last thing Slack said, and no
event has said anyone left since (that would have dropped it), so on a 429 the gate goes by it.
"""

from __future__ import annotations

import copy
import hashlib
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

MEMBERS_TTL = 30.0

_members: dict[tuple[str, str, str], tuple[float, frozenset[str]]] = {}


def _workspace(client: AsyncWebClient) -> tuple[str, str]:
    token = (client.token or "").encode()
    return client.base_url, hashlib.sha256(token).hexdigest()


def without_rate_limit_wait(client: AsyncWebClient) -> AsyncWebClient:
    """The same client (workspace, token, session, other retries), except that a 429 comes back
    at once as a `ratelimited` SlackApiError instead of being slept on and retried."""
    quick = copy.copy(client)
    quick.retry_handlers = [
        h for h in client.retry_handlers if not isinstance(h, AsyncRateLimitErrorRetryHandler)
    ]
    return quick


def rate_limited(exc: SlackApiError) -> bool:
    return exc.response.status_code == 429 or exc.response.get("error") == "ratelimited"


async def channel_members(client: AsyncWebClient, channel: str) -> set[str]:
    """Who is in `channel`; waits out a 429 as the client does (for work done after the ack)."""
    key = (*_workspace(client), channel)
    hit = _members.get(key)
    if hit and time.monotonic() - hit[0] < MEMBERS_TTL:
        return set(hit[1])
    return await _ask(client, key)


async def channel_members_now(client: AsyncWebClient, channel: str) -> set[str]:
    """Who is in `channel`, without ever waiting on a 429 (for the gate, before the ack): when
    Slack says to wait, the last answer it gave, if there is one; else the 429 is raised."""
    key = (*_workspace(client), channel)
    hit = _members.get(key)
    if hit and time.monotonic() - hit[0] < MEMBERS_TTL:
        return set(hit[1])
    try:
        return await _ask(without_rate_limit_wait(client), key)
    except SlackApiError as exc:
        # Read again: an event saying someone left may have dropped the entry while we asked.
        last = _members.get(key)
        if last is None or not rate_limited(exc):
            raise
        return set(last[1])


async def _ask(client: AsyncWebClient, key: tuple[str, str, str]) -> set[str]:
    channel = key[2]
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
