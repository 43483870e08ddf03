"""Who is in a channel, as Slack says, remembered for a short while.

Every request passes the gate, and the gate asks who is in the incident's channel;
conversations.members is rate-limited (Tier 4), so the answer is kept `MEMBERS_TTL` seconds per
workspace. Bolt hands each request a fresh Web API client, so entries are keyed by the workspace
the client talks to (its API URL and a digest of its token), never by the client object.

An entry is dropped at once when the bot invites someone, and when Slack says someone left or
was removed (`member_left_channel`, `channel_left`, `member_joined_channel`; handlers/events.py).

The gate asks before the ack, which Slack wants within 3 seconds: there a 429 is never slept on
for long (`answer_in_time`). An expired entry is still the last thing Slack said, and no event has
said anyone left since (that would have dropped it), so on a 429 the gate goes by it.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

MEMBERS_TTL = 30.0
# Of the 3 seconds Slack gives an ack, what one lookup may spend waiting out Retry-After, in all.
# Real Slack asks for whole seconds, so there a 429 is never waited on before the ack.
ACK_PATH_WAIT = 0.5

T = TypeVar("T")

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


def retry_after(exc: SlackApiError) -> float | None:
    """The seconds a 429 asks to wait (a decimal number too), if it says."""
    headers = exc.response.headers or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        seconds = float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


async def answer_in_time(
    client: AsyncWebClient,
    ask: Callable[[AsyncWebClient], Awaitable[T]],
    last_known: Callable[[], T | None],
) -> T:
    """`ask` Slack before an ack, never sleeping past what the ack can afford.

    On a 429: the last answer Slack gave (`last_known`), if there is one; else wait and ask again
    if Retry-After fits in `ACK_PATH_WAIT`; else the `ratelimited` SlackApiError is raised."""
    quick = without_rate_limit_wait(client)
    budget = ACK_PATH_WAIT
    while True:
        try:
            return await ask(quick)
        except SlackApiError as exc:
            if not rate_limited(exc):
                raise
            known = last_known()
            if known is not None:
                return known
            wait = retry_after(exc)
            if wait is None or wait > budget:
                raise
            budget -= wait
        await asyncio.sleep(wait)


async def channel_members(client: AsyncWebClient, channel: str) -> set[str]:
    """Who is in `channel`; waits out a 429 as the client does (for work done after the ack)."""
    key = (*_workspace(client), channel)
    hit = _members.get(key)
    if hit and time.monotonic() - hit[0] < MEMBERS_TTL:
        return set(hit[1])
    return await _ask(client, key)


async def channel_members_now(client: AsyncWebClient, channel: str) -> set[str]:
    """Who is in `channel`, for the gate before the ack (see `answer_in_time`)."""
    key = (*_workspace(client), channel)
    hit = _members.get(key)
    if hit and time.monotonic() - hit[0] < MEMBERS_TTL:
        return set(hit[1])

    def last_known() -> set[str] | None:
        # Read at the 429, not before asking: a member_left_channel event may have dropped it since.
        last = _members.get(key)
        return set(last[1]) if last else None

    return await answer_in_time(client, lambda quick: _ask(quick, key), last_known)


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
