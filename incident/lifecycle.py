"""An incident's life after declaration: severity, containment and resolution, closing.

Each change is one transaction that locks the incident, checks against the role holders as
they are at that moment that the actor may manage it, makes the change and appends its
timeline event with the values before and after. A refusal raises before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from incident.declare import SEVERITIES
from incident.errors import Conflict, Invalid, refuse_first
from incident.limits import Field
from incident.redact import scrub_required, with_counts
from incident.roles_config import RolesConfig
from incident.roster import locked_for_manager
from storage import outbox, timeline
from storage.db import Database
from storage.models import ChecklistItem, Incident, RoleAssignment, TimelineEvent

CLOSED = "closed"
Stage = Literal["contained", "resolved"]
STAGES: tuple[Stage, ...] = ("contained", "resolved")


class AlreadyClosed(Conflict):
    key = "lifecycle.error.already_closed"


@dataclass(frozen=True)
class Changed:
    incident: Incident
    changed: bool


def _stamp(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


async def locked_open_for_manager(
    db: AsyncSession, incident_id: int, actor: str, roles: RolesConfig, *, is_admin: bool = False
) -> Incident:
    """``roster.locked_for_manager``, refusing a closed incident (``AlreadyClosed``) too."""
    incident = await locked_for_manager(db, incident_id, actor, roles, is_admin=is_admin)
    if incident.status == CLOSED:
        raise AlreadyClosed(incident=incident.key)
    return incident


# Severity ---------------------------------------------------------------------------------------


def parse_severity(text: str) -> str | None:
    """`SEV2`, `sev2`, `2` → `SEV2`; anything else → None."""
    cleaned = (text or "").strip().upper()
    if cleaned.isdigit():
        cleaned = f"SEV{cleaned}"
    return cleaned if cleaned in SEVERITIES else None


async def change_severity(
    database: Database,
    incident_id: int,
    severity: str,
    *,
    actor: str,
    now: datetime,
    roles: RolesConfig,
    is_admin: bool = False,
) -> Changed:
    """Set the severity. Choosing the severity it already has changes nothing and logs nothing."""
    if severity not in SEVERITIES:
        raise Invalid("lifecycle.error.severity", given=severity, known=", ".join(SEVERITIES))
    async with database.transaction() as db:
        incident = await locked_open_for_manager(db, incident_id, actor, roles, is_admin=is_admin)
        before = incident.severity
        if before == severity:
            return Changed(incident, changed=False)
        incident.severity = severity
        await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="severity_changed",
            summary=f"{before} → {severity}",
            data={"before": before, "after": severity},
            at=now,
        )
    return Changed(incident, changed=True)


# Contained and resolved ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    """What the resolve form asks for: the stage reached and when (None means now)."""

    stage: Stage
    contained_at: datetime | None = None
    resolved_at: datetime | None = None


def settled_times(incident: Incident, res: Resolution, now: datetime) -> tuple[datetime, datetime | None]:
    """(contained_at, resolved_at) as they will be recorded: blanks are now; resolved implies contained."""
    if res.stage == "contained":
        return res.contained_at or now, None
    resolved = res.resolved_at or now
    return res.contained_at or incident.contained_at or resolved, resolved


def check_resolution(incident: Incident, res: Resolution, now: datetime) -> dict[str, str]:
    """Field (contained_at / resolved_at / stage) → message key, for errors shown on the form."""
    errors: dict[str, str] = {}
    if res.stage not in STAGES:
        return {"stage": "lifecycle.error.stage"}
    if incident.status == "resolved" or (incident.status == "contained" and res.stage == "contained"):
        errors["stage"] = f"lifecycle.error.already_{incident.status}"
    contained, resolved = settled_times(incident, res, now)
    if contained > now:
        errors["contained_at"] = "lifecycle.error.future"
    if resolved is not None and resolved > now:
        errors["resolved_at"] = "lifecycle.error.future"
    if resolved is not None and contained > resolved and "contained_at" not in errors:
        errors["contained_at"] = "lifecycle.error.contained_after_resolved"
    return errors


async def _reach(
    db: AsyncSession, incident: Incident, stage: Stage, at: datetime, *, actor: str, now: datetime
) -> None:
    """Move to `stage` as of `at`; the event (kind = stage) holds the status and time before and after."""
    assert incident.id is not None
    field = f"{stage}_at"
    before = {"status": incident.status, field: _stamp(getattr(incident, field))}
    setattr(incident, field, at)
    incident.status = stage
    await timeline.append(
        db,
        incident.id,
        actor=actor,
        kind=stage,
        summary=f"{stage} at {at.isoformat()}",
        data={"before": before, "after": {"status": stage, field: _stamp(at)}},
        at=now,
    )


async def resolve(
    database: Database,
    incident_id: int,
    res: Resolution,
    *,
    actor: str,
    now: datetime,
    roles: RolesConfig,
    is_admin: bool = False,
) -> Incident:
    """Record containment and/or resolution, each with its own timeline event."""
    async with database.transaction() as db:
        incident = await locked_open_for_manager(db, incident_id, actor, roles, is_admin=is_admin)
        refuse_first(check_resolution(incident, res, now), incident=incident.key)
        contained, resolved = settled_times(incident, res, now)
        # The form's pickers hold whole seconds: the recorded time shown back is not a change.
        moved = incident.contained_at is None or abs((incident.contained_at - contained).total_seconds()) >= 1
        if incident.status == "open" or moved:
            await _reach(db, incident, "contained", contained, actor=actor, now=now)
        if resolved is not None:
            await _reach(db, incident, "resolved", resolved, actor=actor, now=now)
    return incident


# Closing ----------------------------------------------------------------------------------------


async def open_required_items(db: AsyncSession, incident_id: int) -> int:
    """Required checklist items still open: closing is allowed, but people should know."""
    count = await db.execute(
        select(func.count())
        .select_from(ChecklistItem)
        .where(
            ChecklistItem.incident_id == incident_id,
            col(ChecklistItem.required).is_(True),
            ChecklistItem.state == "open",
        )
    )
    return int(count.scalar_one())


async def require_manager(
    database: Database, incident_id: int, actor: str, roles: RolesConfig, *, is_admin: bool = False
) -> Incident:
    """Refuse early (before a form opens) what the change itself would refuse; changes nothing."""
    async with database.transaction() as db:
        return await locked_for_manager(db, incident_id, actor, roles, is_admin=is_admin)


async def close_preview(
    database: Database, incident_id: int, actor: str, roles: RolesConfig, *, is_admin: bool = False
) -> tuple[Incident, int]:
    """What the close form needs: the incident (refused if closed or not allowed) and its open items."""
    async with database.transaction() as db:
        incident = await locked_open_for_manager(db, incident_id, actor, roles, is_admin=is_admin)
        return incident, await open_required_items(db, incident_id)


async def close(
    database: Database,
    incident_id: int,
    *,
    lessons: str,
    archive: bool,
    actor: str,
    now: datetime,
    roles: RolesConfig,
    is_admin: bool = False,
    redact_on: bool = True,
) -> Incident:
    """Close the incident with its lessons learned. Closing a closed incident raises AlreadyClosed."""
    clean = scrub_required(Field.LESSONS, lessons, "lifecycle.error.lessons_required", enabled=redact_on)
    lessons = clean.text
    async with database.transaction() as db:
        incident = await locked_open_for_manager(db, incident_id, actor, roles, is_admin=is_admin)
        before = {"status": incident.status, "closed_at": None}
        still_open = await open_required_items(db, incident_id)
        incident.status = CLOSED
        incident.closed_at = now
        incident.lessons = lessons
        data: dict[str, Any] = {
            "before": before,
            "after": {"status": CLOSED, "closed_at": _stamp(now)},
            "lessons": lessons,
            "archive": archive,
            "open_required_items": still_open,
        }
        data = with_counts(data, clean)
        await timeline.append(
            db, incident_id, actor=actor, kind="closed", summary="closed", data=data, at=now
        )
        # The post-mortem, the closed card and the archive: promised with the close, kept by the
        # delivery engine even if this process dies right after the commit.
        await outbox.enqueue(
            db,
            outbox.CLOSE,
            incident_id=incident_id,
            now=now,
            payload={"archive": archive, "actor": actor},
            coalesce_key=f"close:{incident_id}",
        )
    return incident


async def record_archived(database: Database, incident_id: int, *, actor: str, now: datetime) -> None:
    """The channel was archived on the closer's request: the timeline says so."""
    async with database.transaction() as db:
        incident = await timeline.lock_incident(db, incident_id)
        await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="channel_archived",
            summary=f"channel {incident.channel_name or incident.channel_id} archived",
            data={"channel": incident.channel_id},
            at=now,
        )


async def happened_since_close(
    database: Database, incident_id: int, kind: str, *, actor: str | None = None
) -> bool:
    """Whether the timeline has an event of ``kind`` (by ``actor``) after the incident's close: what
    the close's after-work (post-mortem, archive) checks so a retry never records it twice."""
    async with database.session() as db:
        closed_at = (
            select(func.max(TimelineEvent.seq))
            .where(TimelineEvent.incident_id == incident_id, TimelineEvent.kind == CLOSED)
            .scalar_subquery()
        )
        stmt = select(TimelineEvent.id).where(
            TimelineEvent.incident_id == incident_id,
            TimelineEvent.kind == kind,
            TimelineEvent.seq > closed_at,
        )
        if actor is not None:
            stmt = stmt.where(TimelineEvent.actor == actor)
        return (await db.execute(stmt.limit(1))).first() is not None


# Where a person stands --------------------------------------------------------------------------


async def incidents_open_first(database: Database, *, closed_limit: int = 20) -> list[Incident]:
    """Every incident not closed (newest first), then the most recently closed ones."""
    async with database.session() as db:
        live = await db.execute(
            select(Incident).where(Incident.status != CLOSED).order_by(col(Incident.declared_at).desc())
        )
        done = await db.execute(
            select(Incident)
            .where(Incident.status == CLOSED)
            .order_by(col(Incident.closed_at).desc())
            .limit(closed_limit)
        )
        return [*live.scalars(), *done.scalars()]


@dataclass(frozen=True)
class Standing:
    """A person's part in one incident: the roles they hold and the open items that are theirs."""

    incident: Incident
    roles: tuple[str, ...]
    items: tuple[ChecklistItem, ...]


async def standings(database: Database, incidents: list[Incident], user: str) -> list[Standing]:
    """Their open items: assigned to them, or owned by a role they hold (they answer for those)."""
    ids = [i.id for i in incidents if i.id is not None]
    if not ids:
        return []
    async with database.session() as db:
        held = await db.execute(
            select(RoleAssignment.incident_id, RoleAssignment.role).where(
                col(RoleAssignment.incident_id).in_(ids),
                RoleAssignment.user_id == user,
                col(RoleAssignment.relieved_at).is_(None),
            )
        )
        roles: dict[int, list[str]] = {}
        for incident_id, role in held.all():
            roles.setdefault(incident_id, []).append(role)
        open_items = (
            await db.execute(
                select(ChecklistItem)
                .where(col(ChecklistItem.incident_id).in_(ids), ChecklistItem.state == "open")
                .order_by(col(ChecklistItem.incident_id), col(ChecklistItem.id))
            )
        ).scalars()
        items: dict[int, list[ChecklistItem]] = {}
        for item in open_items:
            if item.assignee == user or item.owner_role in roles.get(item.incident_id, []):
                items.setdefault(item.incident_id, []).append(item)
    return [Standing(i, tuple(roles.get(i.id or 0, [])), tuple(items.get(i.id or 0, []))) for i in incidents]
