"""The outbox: what Slack should be told after a change, written in the change's own transaction.

The database is the truth and Slack a view of it; an effect is the promise to bring the view in
line, made atomically with the change and kept by the delivery engine (``schedules/``), in this
process or another, after a crash or a Slack outage. The domain names *what* (re-render incident
I's views, announce timeline event E, build the channel, publish the post-mortem and archive the
channel after a close); the handlers
say *how* in Slack (``handlers/effects.py``).

- ``VIEWS`` (card, checklists, topic, and that incident's reminder rows) is written by every
  timeline append (``storage.timeline.append``): every recorded change re-renders, with no call
  site to forget. Coalesced per incident: a burst of clicks
  leaves one pending re-render, which renders the state as it is when it runs.
- ``ANNOUNCE`` posts the channel's line about one timeline event, rendered from the event.
- ``SETUP`` builds (or finishes) an incident's channel, then tells the declarer where it is.
- ``CLOSE`` publishes the post-mortem, renders the closed card, then archives the channel if asked:
  one effect, so the order holds, each step remembered in ``result`` so a retry skips it.
- ``DM`` sends one person a message given in the payload.

Delivery is at least once; where Slack hands back an idempotency handle (a message's ts, an
archived channel) the effect records it and a retry never repeats the call (README, "Effects").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from storage import leases
from storage.models import Effect
from storage.sql import dialect_of, rows_changed

if TYPE_CHECKING:  # storage.db imports the timeline, which writes effects
    from storage.db import Database

VIEWS, ANNOUNCE, DM, SETUP, CLOSE = "views", "announce", "dm", "setup", "close"
KINDS = (VIEWS, ANNOUNCE, DM, SETUP, CLOSE)

PENDING, CLAIMED, DONE, DEAD = leases.PENDING, leases.CLAIMED, "done", "dead"
# Set in a session's info when it wrote an effect: storage.db wakes the engine after the commit.
EFFECTS_WRITTEN = "effects_written"
# A claim is short and renewed while its worker delivers (``renew``): a killed worker's effects
# are taken over within seconds, a slow delivery (Slack's rate limits) keeps its claim.
LEASE = timedelta(seconds=15)
# Delivered effects are deleted after this long (the record of what happened is the timeline).
KEEP_DONE = timedelta(days=7)
# After this many failed attempts an effect is dead: shown in doctor, /metrics and on the card.
MAX_ATTEMPTS = 8


async def enqueue(
    db: AsyncSession,
    kind: str,
    *,
    incident_id: int | None,
    now: datetime,
    payload: dict[str, Any] | None = None,
    coalesce_key: str | None = None,
    due_at: datetime | None = None,
    urgent: bool = False,
) -> None:
    """Write one effect in the caller's transaction. With ``coalesce_key``, a pending effect with
    the same key already stands for this one (it will render the latest state): nothing is added,
    unless ``urgent`` (a person asked), which makes one waiting out a backoff due now."""
    if kind not in KINDS:
        raise ValueError(f"unknown effect kind {kind!r}")
    values: dict[str, Any] = {
        "incident_id": incident_id,
        "kind": kind,
        "coalesce_key": coalesce_key,
        "payload": payload or {},
        "due_at": due_at or now,
        "status": PENDING,
        "attempts": 0,
        "created_at": now,
        "result": {},
    }
    db.info[EFFECTS_WRITTEN] = True
    if coalesce_key is None:
        db.add(Effect(**values))
        return
    insert = pg_insert if dialect_of(db) == "postgresql" else sqlite_insert
    stmt = insert(Effect).values(**values)
    pending_only = text("status = 'pending'")  # the partial unique index's own predicate, verbatim
    if urgent:
        stmt = stmt.on_conflict_do_update(
            index_elements=["coalesce_key"], index_where=pending_only, set_={"due_at": values["due_at"]}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=["coalesce_key"], index_where=pending_only)
    await db.execute(stmt)


async def views_changed(db: AsyncSession, incident_id: int, now: datetime, *, urgent: bool = False) -> None:
    """The incident changed: re-render its views and re-derive its reminders (coalesced)."""
    key = f"views:{incident_id}"
    await enqueue(db, VIEWS, incident_id=incident_id, now=now, coalesce_key=key, urgent=urgent)


async def announce(db: AsyncSession, incident_id: int, event_id: int, now: datetime) -> None:
    """Post the channel's line about timeline event ``event_id`` (rendered from the event)."""
    await enqueue(db, ANNOUNCE, incident_id=incident_id, now=now, payload={"event_id": event_id})


async def claim_due(
    database: Database, worker: str, now: datetime, *, limit: int = 50, lease: timedelta = LEASE
) -> list[Effect]:
    return await leases.claim(database, Effect, worker, now, lease=lease, limit=limit)


async def next_due(database: Database) -> datetime | None:
    return await leases.next_due(database, Effect)


async def renew(database: Database, effect_ids: list[int], worker: str, until: datetime) -> None:
    """Extend this worker's claims on effects it is still delivering."""
    async with database.transaction() as db:
        await db.execute(
            update(Effect)
            .where(
                col(Effect.id).in_(effect_ids),
                col(Effect.status) == CLAIMED,
                col(Effect.claimed_by) == worker,
            )
            .values(claimed_until=until)
        )


async def remember(database: Database, effect_id: int, worker: str, **result: Any) -> None:
    """Record what a half-done delivery learnt (a posted message's ts) so a retry skips that call."""
    async with database.transaction() as db:
        row = await db.get(Effect, effect_id)
        if row is not None and row.claimed_by == worker:
            row.result = {**row.result, **result}


async def mark_done(database: Database, effect_id: int, worker: str, now: datetime) -> bool:
    """False when the claim was lost meanwhile (it expired and another worker took the row)."""
    async with database.transaction() as db:
        return await leases.settle(db, Effect, effect_id, worker, DONE, done_at=now)


async def mark_failed(
    database: Database,
    effect_id: int,
    worker: str,
    *,
    now: datetime,
    error: str,
    retry_after: float | None = None,
    permanent: bool = False,
    waiting: bool = False,
) -> str | None:
    """Put the effect back with a backoff (Slack's Retry-After wins), or make it dead after
    ``MAX_ATTEMPTS`` or a permanent error. Returns the new status (None: the claim was lost)."""
    async with database.transaction() as db:
        row = await leases.held_row(db, Effect, effect_id, worker)
        if row is None:
            return None
        attempts = row.attempts if waiting else row.attempts + 1
        dead = permanent or attempts >= MAX_ATTEMPTS
        status = DEAD if dead else PENDING
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_error": error[:200],
            "claimed_until": None,
            "claimed_by": None,
            "status": status,
        }
        if not dead:
            values["due_at"] = now + leases.backoff(attempts, retry_after)
        if not dead and row.coalesce_key is not None:
            # A newer pending effect with the same key already covers this one.
            newer = await db.execute(
                select(Effect.id).where(Effect.coalesce_key == row.coalesce_key, Effect.status == PENDING)
            )
            if newer.first() is not None:
                values["status"], status = DONE, DONE
                values["done_at"] = now
        try:
            async with db.begin_nested():  # a savepoint: a racing insert must not undo the rest
                await db.execute(update(Effect).where(col(Effect.id) == effect_id).values(**values))
        except IntegrityError:
            # Another transaction wrote a pending effect with the same key meanwhile: it covers this one.
            values.update(status=DONE, done_at=now, due_at=row.due_at)
            status = DONE
            await db.execute(update(Effect).where(col(Effect.id) == effect_id).values(**values))
        if status == DEAD and row.kind != VIEWS and row.incident_id is not None:
            # The card says so (a dead re-render cannot, and re-queuing it would go round forever).
            await views_changed(db, row.incident_id, now)
        return status


@dataclass(frozen=True)
class Backlog:
    """What the outbox holds: shown by `breachroom doctor`, /metrics and the card."""

    pending: int
    dead: int
    oldest_pending: datetime | None


async def backlog(database: Database, incident_id: int | None = None) -> Backlog:
    async with database.session() as db:
        scope = [] if incident_id is None else [Effect.incident_id == incident_id]
        rows = (
            await db.execute(
                select(Effect.status, func.count(), func.min(Effect.created_at))
                .where(col(Effect.status).in_([PENDING, CLAIMED, DEAD]), *scope)
                .group_by(Effect.status)
            )
        ).all()
    counts = {status: (count, oldest) for status, count, oldest in rows}
    pending = sum(counts.get(s, (0, None))[0] for s in (PENDING, CLAIMED))
    oldest = min((counts[s][1] for s in (PENDING, CLAIMED) if s in counts), default=None)
    return Backlog(pending=pending, dead=counts.get(DEAD, (0, None))[0], oldest_pending=oldest)


async def dead_count(db: AsyncSession, incident_id: int | None) -> int:
    """Effects of one incident that were given up on (shown on its card until retried)."""
    if incident_id is None:
        return 0
    stmt = (
        select(func.count())
        .select_from(Effect)
        .where(Effect.incident_id == incident_id, Effect.status == DEAD)
    )
    return int((await db.execute(stmt)).scalar_one())


async def due_now(database: Database, now: datetime) -> int:
    """Effects that should be delivered by now (pending and due, or claimed): what `settle` waits on."""
    async with database.session() as db:
        return int(
            (
                await db.execute(
                    select(func.count())
                    .select_from(Effect)
                    .where(
                        (col(Effect.status) == CLAIMED)
                        | ((col(Effect.status) == PENDING) & (col(Effect.due_at) <= now))
                    )
                )
            ).scalar_one()
        )


async def prune(database: Database, before: datetime) -> int:
    """Delete delivered effects older than ``before`` (the record of what happened is the timeline)."""
    async with database.transaction() as db:
        return await rows_changed(
            db, delete(Effect).where(col(Effect.status) == DONE, col(Effect.done_at) < before)
        )


async def refresh(database: Database, incident_id: int, now: datetime, *, revive: bool = False) -> None:
    """Re-render an incident's views though nothing changed (Refresh, a stale click): in a
    transaction of its own, as every change's own transaction would. With ``revive`` (a person
    pressed Refresh), the incident's dead effects get another round of attempts."""
    async with database.transaction() as db:
        await views_changed(db, incident_id, now, urgent=True)
        if not revive:
            return
        dead = (
            await db.execute(select(Effect).where(Effect.incident_id == incident_id, Effect.status == DEAD))
        ).scalars()
        for effect in dead:
            covered = False
            if effect.coalesce_key is not None:
                # A pending effect with the same key (the re-render just written) already covers it.
                same = select(Effect.id).where(
                    Effect.coalesce_key == effect.coalesce_key, Effect.status == PENDING
                )
                covered = (await db.execute(same)).first() is not None
            if covered:
                effect.status, effect.done_at = DONE, now
            else:
                effect.status, effect.due_at, effect.attempts = PENDING, now, 0
