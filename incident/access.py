"""Asking to join a confidential incident, and the commander's answer.

The request and each decision are timeline events that carry only the requester's id: the
announcement people click from stays bare, and nothing about the incident leaves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from incident import lookup
from incident.errors import Invalid, NotFound
from incident.roles_config import COMMANDER, RolesConfig
from incident.roster import current, locked_for_manager
from storage import outbox, timeline
from storage.db import Database
from storage.models import AccessRequest, Incident

PENDING = "pending"
APPROVED = "approved"
DENIED = "denied"
# The direct messages (an outbox DM's ``say``; handlers/access.py sends them): the request, to the
# person who decides, and the answer, to the person who asked.
ASK = "access_request"
ANSWER = "access_answer"


@dataclass(frozen=True)
class Requested:
    incident: Incident
    request: AccessRequest
    created: bool
    # Who is asked to decide (None: nobody holds a managing role, so nobody was asked).
    decider: str | None = None


def decider_of(holders: dict[str, str], roles: RolesConfig) -> str | None:
    """The commander, or while nobody holds that role, the first managing holder."""
    if COMMANDER in holders:
        return holders[COMMANDER]
    return next((holders[k] for k in roles.managing_keys() if k in holders), None)


@dataclass(frozen=True)
class Decided:
    incident: Incident
    request: AccessRequest
    changed: bool


async def request_access(
    database: Database, incident_id: int, user: str, *, now: datetime, roles: RolesConfig
) -> Requested:
    """Record that `user` asks to join, and ask the decider (after the commit). A second ask while
    one is pending returns the pending one."""
    async with database.transaction() as db:
        incident = await timeline.lock_incident(db, incident_id)
        if incident.status == "closed":
            raise Invalid("access.error.closed", incident=incident.key)
        pending = (
            await db.execute(
                select(AccessRequest).where(
                    AccessRequest.incident_id == incident_id,
                    AccessRequest.user_id == user,
                    AccessRequest.status == PENDING,
                )
            )
        ).scalar_one_or_none()
        if pending is not None:
            return Requested(incident, pending, created=False)
        request = AccessRequest(incident_id=incident_id, user_id=user, status=PENDING, requested_at=now)
        db.add(request)
        await db.flush()
        await timeline.append(
            db,
            incident_id,
            actor=user,
            kind="access_requested",
            summary=f"access requested by {user}",
            data={"user": user, "request": request.id},
            at=now,
        )
        decider = decider_of(await current(db, incident_id), roles)
        if decider is not None:
            payload = {"user": decider, "say": ASK, "request": request.id}
            await outbox.enqueue(db, outbox.DM, incident_id=incident_id, now=now, payload=payload)
    return Requested(incident, request, created=True, decider=decider)


async def decide(
    database: Database,
    request_id: int,
    *,
    approve: bool,
    actor: str,
    now: datetime,
    roles: RolesConfig,
    is_admin: bool = False,
) -> Decided:
    """Approve or deny a pending request (commander, deputy or admin). Deciding twice changes nothing."""
    async with database.transaction() as db:
        incident_id = (
            await db.execute(select(AccessRequest.incident_id).where(AccessRequest.id == request_id))
        ).scalar_one_or_none()
        if incident_id is None:
            raise NotFound("error.not_found")
        incident = await locked_for_manager(db, incident_id, actor, roles, is_admin=is_admin)
        # Read the request again under the incident's lock: another decider may have just answered.
        request = (
            await db.execute(
                select(AccessRequest)
                .where(AccessRequest.id == request_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
        if request.status != PENDING:
            return Decided(incident, request, changed=False)
        request.status = APPROVED if approve else DENIED
        request.decided_by = actor
        request.decided_at = now
        await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="access_approved" if approve else "access_denied",
            summary=f"access {request.status} for {request.user_id}",
            data={
                "user": request.user_id,
                "request": request.id,
                "before": PENDING,
                "after": request.status,
            },
            at=now,
        )
        # Let them in (if approved) and tell them, after the commit; a failed invite is told to `actor`.
        payload = {"user": request.user_id, "say": ANSWER, "request": request.id, "actor": actor}
        await outbox.enqueue(db, outbox.DM, incident_id=incident_id, now=now, payload=payload)
        # Redraw the decision message where it was shown, as decided (no buttons left).
        redraw = {"user": actor, "say": ASK, "request": request.id}
        await outbox.enqueue(db, outbox.DM, incident_id=incident_id, now=now, payload=redraw)
    return Decided(incident, request, changed=True)


async def get(database: Database, request_id: int) -> AccessRequest:
    return await lookup.fetch(database, AccessRequest, request_id)
