"""Which incident a command or click is about, for someone the gate lets see it.

Inside an incident channel a command acts on that incident; elsewhere a key may be given
(`/breach status BR-2026-0007`). Who may see an incident is decided in one place,
`handlers.gate.may_see` (a member of its channel, or of the admin user group); the gate has
checked the request before any listener runs, and these lookups apply the same rule again to
whatever incident a listener goes on to load.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from handlers.deps import Deps
from handlers.gate import KEY, NoIncidentHere, id_in, key_in, require_access
from handlers.membership import channel_members, forget_members
from incident import lookup
from incident.errors import NotAllowed, NotFound
from storage.models import Incident


async def require_member(client: AsyncWebClient, deps: Deps, incident: Incident, user: str) -> None:
    """Only people the gate lets see an incident may read or change it; being its declarer is not
    enough. Anyone else is told what an unknown key gets, so a guessed key reveals nothing."""
    await require_access(client, deps, incident, user)


async def incident_for(
    client: AsyncWebClient, deps: Deps, *, user: str, channel: str, text: str = ""
) -> Incident:
    """The incident of this channel, or the one whose key is in `text` (for those who may see it)."""
    async with deps.db.session() as db:
        incident = await lookup.by_channel(db, channel)
        if incident is None:
            key = key_in(text)
            if key is None:
                raise NoIncidentHere(command=deps.command)
            incident = await lookup.by_key(db, key)
    await require_access(client, deps, incident, user)
    return incident


async def incident_from_action(client: AsyncWebClient, deps: Deps, body: dict) -> Incident:
    """The incident a clicked button or select refers to, for someone who may see it."""
    action = (body.get("actions") or [{}])[0]
    value = action.get("value") or (action.get("selected_option") or {}).get("value")
    return await incident_by_id(client, deps, id_in(value), body["user"]["id"])


async def incident_by_id(client: AsyncWebClient, deps: Deps, incident_id: int, user: str) -> Incident:
    """For buttons and forms: the incident behind an id in a payload, if the clicker may see it."""
    async with deps.db.session() as db:
        incident = await db.get(Incident, incident_id)
    if incident is None:
        raise NotFound("error.not_found")
    await require_access(client, deps, incident, user)
    return incident


__all__ = [
    "KEY",
    "NoIncidentHere",
    "NotAllowed",
    "channel_members",
    "forget_members",
    "id_in",
    "incident_by_id",
    "incident_for",
    "incident_from_action",
    "key_in",
    "require_member",
]
