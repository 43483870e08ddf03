"""Claim-and-lease over a queue table: the one mechanism that delivers reminders and effects.

A row is ``pending`` with a ``due_at``; a worker claims due rows for a lease (``claimed`` with
``claimed_until``), does the work, then marks each row done or puts it back with a backoff. A
claim left behind by a crashed worker expires and the row is taken again. PostgreSQL skips rows
another worker is claiming right now (``FOR UPDATE SKIP LOCKED``); SQLite serialises writers
(``BEGIN IMMEDIATE``), so the conditional update is atomic there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import and_, func, or_, select, update

from storage.sql import rows_changed

if TYPE_CHECKING:  # storage.db imports the timeline, which writes effects
    from sqlalchemy.ext.asyncio import AsyncSession

    from storage.db import Database


PENDING, CLAIMED = "pending", "claimed"
MAX_BACKOFF = timedelta(minutes=10)

Row = TypeVar("Row")


def claimable(model: Any, now: datetime) -> Any:
    """Due and pending, or claimed by a worker whose lease has run out."""
    return and_(
        model.due_at <= now,
        or_(model.status == PENDING, and_(model.status == CLAIMED, model.claimed_until < now)),
    )


def held(model: Any, row_id: int, worker: str) -> Any:
    """The row is still ``worker``'s claim: the condition of every update that finishes a delivery."""
    return and_(model.id == row_id, model.status == CLAIMED, model.claimed_by == worker)


async def held_row(db: AsyncSession, model: type[Row], row_id: int, worker: str) -> Row | None:
    """The row while ``worker`` still holds its claim; None once the lease ran out and another took it."""
    row: Any = await db.get(model, row_id)
    if row is None or row.status != CLAIMED or row.claimed_by != worker:
        return None
    return row


async def settle(db: AsyncSession, model: Any, row_id: int, worker: str, status: str, **values: Any) -> bool:
    """End ``worker``'s claim: the row gets ``status`` and ``values`` and its lease is cleared, only
    while the claim is still its own. False when it was lost (it expired and another worker took it)."""
    changed = await rows_changed(
        db,
        update(model).where(held(model, row_id, worker)).values(status=status, claimed_until=None, **values),
    )
    return changed == 1


async def claim(
    database: Database,
    model: type[Row],
    worker: str,
    now: datetime,
    *,
    lease: timedelta,
    limit: int = 50,
    where: Sequence[Any] = (),
) -> list[Row]:
    """Take up to ``limit`` due rows of ``model`` for ``worker``, oldest due first."""
    table: Any = model
    async with database.transaction() as db:
        candidates = (
            select(table.id)
            .where(claimable(table, now), *where)
            .order_by(table.due_at, table.id)
            .limit(limit)
        )
        if database.is_postgres:
            candidates = candidates.with_for_update(skip_locked=True)
        ids = list((await db.execute(candidates)).scalars())
        if not ids:
            return []
        claimed = list(
            (
                await db.execute(
                    update(table)
                    .where(table.id.in_(ids), claimable(table, now))
                    .values(status=CLAIMED, claimed_until=now + lease, claimed_by=worker)
                    .returning(table.id)
                )
            ).scalars()
        )
        if not claimed:
            return []
        rows = (await db.execute(select(table).where(table.id.in_(claimed)))).scalars()
        return sorted(rows, key=lambda r: (r.due_at, r.id or 0))


async def next_due(database: Database, model: Any) -> datetime | None:
    """The earliest moment a row needs attention (pending, or a claim that will expire)."""
    async with database.session() as db:
        pending = (
            await db.execute(select(func.min(model.due_at)).where(model.status == PENDING))
        ).scalar_one_or_none()
        expiring = (
            await db.execute(select(func.min(model.claimed_until)).where(model.status == CLAIMED))
        ).scalar_one_or_none()
    times = [t for t in (pending, expiring) if t is not None]
    return min(times) if times else None


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """When to try again: after ``retry_after`` when the failure said (Slack's Retry-After, or a
    set-up still running), else 5 s, 10 s, 20 s ... capped at 10 min."""
    if retry_after is not None and retry_after > 0:
        return min(timedelta(seconds=retry_after), MAX_BACKOFF)
    return min(timedelta(seconds=5 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)
