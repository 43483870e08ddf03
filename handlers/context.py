"""Which incident a command or click is about, and whether the person may see it.

Inside an incident channel a command acts on that incident; elsewhere a key may be given
(`/breach status BR-2026-0007`), and only members of the incident's channel get anything back.
"""

from __future__ import annotations

import re
import time
import weakref

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.deps import Deps
from incident import lookup
from incident.errors import DomainError, NotAllowed, NotFound
from storage.models import Incident

KEY = re.compile(r"\bBR-\d{4}-\d{4,}\b", re.IGNORECASE)


class NoIncidentHere(DomainError):
    key = "error.no_incident_here"


def key_in(text: str) -> str | None:
    match = KEY.search(text or "")
    return match.group(0).upper() if match else None


# Who is in a channel, per Slack client, for a short while: every click and command checks
# membership, and conversations.members is rate-limited (Tier 4). Invites made by the bot forget
# the entry at once; a person who leaves through Slack keeps access for at most this long.
MEMBERS_TTL = 30.0
_members: weakref.WeakKeyDictionary[AsyncWebClient, dict[str, tuple[float, frozenset[str]]]] = (
    weakref.WeakKeyDictionary()
)


async def channel_members(client: AsyncWebClient, channel: str) -> set[str]:
    cache = _members.setdefault(client, {})
    hit = cache.get(channel)
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
    cache[channel] = (time.monotonic(), frozenset(members))
    return members


def forget_members(client: AsyncWebClient, channel: str | None) -> None:
    """Call after inviting or removing people, so the next check asks Slack again."""
    if channel:
        _members.get(client, {}).pop(channel, None)


async def require_member(client: AsyncWebClient, incident: Incident, user: str) -> None:
    """Only people in the incident's private channel may read or change it.

    A person who is not is told the same thing as for an incident that does not exist, so a
    guessed key reveals nothing.
    """
    if user == incident.declared_by:
        return  # the declarer may always see (and finish setting up) what they declared
    if not incident.channel_id:
        raise NotFound("error.incident_not_found", key=incident.key)
    try:
        members = await channel_members(client, incident.channel_id)
    except SlackApiError as exc:
        raise NotFound("error.incident_not_found", key=incident.key) from exc
    if user not in members:
        raise NotFound("error.incident_not_found", key=incident.key)


async def incident_for(
    client: AsyncWebClient, deps: Deps, *, user: str, channel: str, text: str = ""
) -> Incident:
    """The incident of this channel, or the one whose key is in `text` (members only)."""
    async with deps.db.session() as db:
        here = await lookup.by_channel(db, channel)
        if here is not None:
            return here
        key = key_in(text)
        if key is None:
            raise NoIncidentHere(command=deps.command)
        incident = await lookup.by_key(db, key)
    await require_member(client, incident, user)
    return incident


def id_in(value: object) -> int:
    """The leading number of a button value (`"12"`, `"12:SEV2"`, `"12:3"`); NotFound if there is none."""
    head = str(value or "").split(":", 1)[0].strip()
    if not head.isdigit() or len(head) > 18:
        raise NotFound("error.not_found")
    return int(head)


async def incident_from_action(client: AsyncWebClient, deps: Deps, body: dict) -> Incident:  # type: ignore[type-arg]
    """The incident a clicked button or select refers to, checked against the clicker's membership."""
    action = (body.get("actions") or [{}])[0]
    value = action.get("value") or (action.get("selected_option") or {}).get("value")
    return await incident_by_id(client, deps, id_in(value), body["user"]["id"])


async def incident_by_id(client: AsyncWebClient, deps: Deps, incident_id: int, user: str) -> Incident:
    """For buttons: the incident behind an id in a payload, if the clicker may act on it."""
    async with deps.db.session() as db:
        incident = await db.get(Incident, incident_id)
    if incident is None:
        raise NotFound("error.not_found")
    await require_member(client, incident, user)
    return incident


__all__ = [
    "NoIncidentHere",
    "NotAllowed",
    "id_in",
    "incident_by_id",
    "incident_for",
    "incident_from_action",
    "key_in",
    "require_member",
]
