"""Finding a row: an incident by its key or its channel, any row by its id (under lock to change it)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, select

from incident.errors import NotFound
from storage.db import Database
from storage.models import Incident

Row = TypeVar("Row", bound=SQLModel)


async def by_key(db: AsyncSession, key: str) -> Incident:
    incident = (
        await db.execute(select(Incident).where(Incident.key == key.strip().upper()))
    ).scalar_one_or_none()
    if incident is None:
        raise NotFound("error.incident_not_found", key=key)
    return incident


async def by_channel(db: AsyncSession, channel_id: str) -> Incident | None:
    if not channel_id:
        return None
    return (await db.execute(select(Incident).where(Incident.channel_id == channel_id))).scalar_one_or_none()


async def row(db: AsyncSession, model: type[Row], row_id: int) -> Row:
    """The row with this id; ``NotFound`` when there is none (a stale or forged id)."""
    found = await db.get(model, row_id)
    if found is None:
        raise NotFound("error.not_found")
    return found


async def fetch(database: Database, model: type[Row], row_id: int) -> Row:
    """``row``, read in a session of its own."""
    async with database.session() as db:
        return await row(db, model, row_id)


async def locked(db: AsyncSession, model: type[Row], row_id: int) -> Row:
    """The row under its row lock, read afresh (never the session's copy from before the lock);
    ``NotFound`` when there is none."""
    table: Any = model
    found = (
        await db.execute(
            select(table)
            .where(table.id == row_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("error.not_found")
    return found
