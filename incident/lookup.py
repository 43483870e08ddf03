"""Finding an incident: by its key, by its channel."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from incident.errors import NotFound
from storage.models import Incident


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
