"""The Slack-side set-up of an incident, tracked in the database so it can always be finished.

The incident is recorded before any Slack call; each set-up step (channel, invites, card, ...)
is marked here when it succeeds. A failure leaves the step pending for the Retry button or the
next reconcile. A lease keeps two workers (a retry click and a reconcile, or two replicas) from
running the steps of one incident at the same time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select

from incident.overview import pending_setup
from storage import outbox, timeline
from storage.db import Database
from storage.models import Incident
from storage.sql import rows_changed

# Short, and renewed while the set-up runs (`renew`): a killed worker's set-up resumes within seconds.
LEASE = timedelta(seconds=15)


async def claim(database: Database, incident_id: int, worker: str, now: datetime) -> bool:
    """Take the set-up lease if nobody holds a live one."""
    async with database.transaction() as db:
        lease_until = col(Incident.setup_lease_until)
        changed = await rows_changed(
            db,
            update(Incident)
            .where(col(Incident.id) == incident_id, or_(lease_until.is_(None), lease_until < now))
            .values(setup_lease_until=now + LEASE, setup_lease_by=worker),
        )
        return changed == 1


async def renew(database: Database, incident_id: int, worker: str, now: datetime) -> None:
    """Extend this worker's set-up lease while it is still working."""
    async with database.transaction() as db:
        await db.execute(
            update(Incident)
            .where(col(Incident.id) == incident_id, col(Incident.setup_lease_by) == worker)
            .values(setup_lease_until=now + LEASE)
        )


async def release(database: Database, incident_id: int, worker: str) -> None:
    async with database.transaction() as db:
        await db.execute(
            update(Incident)
            .where(col(Incident.id) == incident_id, col(Incident.setup_lease_by) == worker)
            .values(setup_lease_until=None, setup_lease_by=None)
        )


async def mark(database: Database, incident_id: int, step: str, *, error: str | None = None) -> Incident:
    """Record a step as done (error None) or as failed with Slack's error code."""
    async with database.transaction() as db:
        incident = await timeline.lock_incident(db, incident_id)
        setup = dict(incident.setup or {})
        failures = dict(setup.get("failed") or {})
        if error is None:
            setup[step] = True
            failures.pop(step, None)
        else:
            failures[step] = error
        setup["failed"] = failures
        incident.setup = setup
        return incident


async def record_channel(
    database: Database, incident_id: int, channel_id: str, name: str, *, now: datetime
) -> Incident:
    async with database.transaction() as db:
        incident = await timeline.lock_incident(db, incident_id)
        incident.channel_id = channel_id
        incident.channel_name = name
        incident.setup = {**(incident.setup or {}), "channel": True}
        await timeline.append(
            db,
            incident_id,
            actor="breachroom",
            kind="channel_created",
            summary=f"#{name} (private)",
            data={"channel_id": channel_id, "name": name, "private": True},
            at=now,
        )
        return incident


async def record_invites(database: Database, incident_id: int, users: list[str], *, now: datetime) -> None:
    async with database.transaction() as db:
        incident = await timeline.lock_incident(db, incident_id)
        incident.setup = {**(incident.setup or {}), "invites": True}
        if users:
            await timeline.append(
                db,
                incident_id,
                actor="breachroom",
                kind="members_invited",
                summary=", ".join(users),
                data={"users": users},
                at=now,
            )


async def unfinished(database: Database) -> list[int]:
    """Incidents (not closed) whose set-up still has steps to do, for the reconcile pass."""
    async with database.session() as db:
        rows = await db.execute(
            select(Incident).where(Incident.kind == "incident", Incident.status != "closed")
        )
        return [i.id for i in rows.scalars() if i.id is not None and pending_setup(i)]


async def resume(database: Database, incident_ids: list[int], *, now: datetime) -> None:
    """Give each unfinished set-up a set-up effect (coalesced: one that is already pending stays)."""
    async with database.transaction() as db:
        for incident_id in incident_ids:
            await outbox.enqueue(
                db, outbox.SETUP, incident_id=incident_id, now=now, coalesce_key=f"setup:{incident_id}"
            )
