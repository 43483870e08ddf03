"""Who holds which role: one holder per role at a time, handoffs keep the history."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from incident.errors import Invalid, NotAllowed, Person
from incident.roles_config import COMMANDER, RolesConfig
from storage import outbox, timeline
from storage.db import Database
from storage.models import Incident, RoleAssignment


async def current(db: AsyncSession, incident_id: int) -> dict[str, str]:
    """role → user id of the current holders."""
    rows = await db.execute(
        select(RoleAssignment.role, RoleAssignment.user_id).where(
            RoleAssignment.incident_id == incident_id, col(RoleAssignment.relieved_at).is_(None)
        )
    )
    return {role: user for role, user in rows.all()}


async def history(db: AsyncSession, incident_id: int) -> list[RoleAssignment]:
    rows = await db.execute(
        select(RoleAssignment)
        .where(RoleAssignment.incident_id == incident_id)
        .order_by(col(RoleAssignment.assumed_at), col(RoleAssignment.id))
    )
    return list(rows.scalars())


def roles_of(holders: Mapping[str, str], user: str) -> set[str]:
    return {role for role, holder in holders.items() if holder == user}


def may_manage(holders: Mapping[str, str], user: str, roles: RolesConfig, *, is_admin: bool = False) -> bool:
    """Severity, roles, resolve and close: the commander, the deputy (roles with may_manage), admins."""
    if is_admin:
        return True
    return bool(roles_of(holders, user) & set(roles.managing_keys()))


def require_manage(holders: dict[str, str], user: str, roles: RolesConfig, *, is_admin: bool = False) -> None:
    if not may_manage(holders, user, roles, is_admin=is_admin):
        raise NotAllowed("error.manage_only", commander=Person(holders.get(COMMANDER)))


async def locked_for_manager(
    db: AsyncSession, incident_id: int, actor: str, roles: RolesConfig, *, is_admin: bool = False
) -> Incident:
    """Lock the incident and check, against the holders as they are now, that `actor` may manage it.

    Call first thing inside the transaction of a managing change: a refusal then changes nothing.
    """
    incident = await timeline.lock_incident(db, incident_id)
    require_manage(await current(db, incident_id), actor, roles, is_admin=is_admin)
    return incident


# The direct message a new role holder gets (an outbox DM's ``say``; handlers/roles.py sends it).
ROLE_DUTIES = "role_duties"


@dataclass(frozen=True)
class Handoff:
    role: str
    user: str
    previous: str | None
    changed: bool


async def assign(
    db: AsyncSession,
    incident: Incident,
    role: str,
    user: str,
    *,
    actor: str,
    now: datetime,
    roles: RolesConfig,
) -> Handoff:
    """Give `role` to `user`, relieving the current holder. Call inside a transaction; logs the event."""
    if role not in roles:
        raise Invalid("error.unknown_role", role=role, known=", ".join(roles.keys()))
    assert incident.id is not None
    held = (
        await db.execute(
            select(RoleAssignment)
            .where(
                RoleAssignment.incident_id == incident.id,
                RoleAssignment.role == role,
                col(RoleAssignment.relieved_at).is_(None),
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if held is not None and held.user_id == user:
        return Handoff(role, user, user, changed=False)
    previous = held.user_id if held else None
    if held is not None:
        held.relieved_at = now
        held.relieved_by = actor
        await db.flush()
    db.add(
        RoleAssignment(incident_id=incident.id, role=role, user_id=user, assigned_by=actor, assumed_at=now)
    )
    await timeline.append(
        db,
        incident.id,
        actor=actor,
        kind="role_assigned",
        summary=f"{role}: {previous or '—'} → {user}",
        data={"role": role, "before": previous, "after": user},
        at=now,
    )
    return Handoff(role, user, previous, changed=True)


async def hand_over(
    database: Database,
    incident_id: int,
    role: str,
    user: str,
    *,
    actor: str,
    now: datetime,
    roles: RolesConfig,
    is_admin: bool = False,
) -> Handoff:
    """A manager gives `role` to `user`: one transaction with the permission check and the handoff."""
    async with database.transaction() as db:
        incident = await locked_for_manager(db, incident_id, actor, roles, is_admin=is_admin)
        handoff = await assign(db, incident, role, user, actor=actor, now=now, roles=roles)
        if handoff.changed:
            # The new holder is told their duties after the commit, in the incident's language.
            payload = {"user": user, "say": ROLE_DUTIES, "role": role}
            await outbox.enqueue(db, outbox.DM, incident_id=incident_id, now=now, payload=payload)
        return handoff


def unfilled(holders: dict[str, str], roles: RolesConfig, wanted: Collection[str] | None = None) -> list[str]:
    keys = wanted if wanted is not None else roles.keys()
    return [key for key in keys if key not in holders]
