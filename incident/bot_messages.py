"""What the bot has shown, as the database remembers it: the messages it owns and re-renders (card,
checklist parts, announcements, timeline anchors), each with the hash of its last rendering, and the
hash of the channel topic. A re-render compares hashes and makes no call when nothing changed.

Ids, timestamps and hashes only: handlers/views.py renders and posts.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from storage.db import Database
from storage.models import BotMessage, Incident


async def _row(db: AsyncSession, incident_id: int, kind: str, ref: str) -> BotMessage | None:
    stmt = select(BotMessage).where(
        BotMessage.incident_id == incident_id, BotMessage.kind == kind, BotMessage.ref == ref
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def find(database: Database, incident_id: int, kind: str, ref: str = "") -> BotMessage | None:
    """The message of this kind and ref the bot posted for the incident, if it did."""
    async with database.session() as db:
        return await _row(db, incident_id, kind, ref)


async def of_kind(db: AsyncSession, incident_id: int, kind: str) -> dict[str, BotMessage]:
    """Every message of this kind the bot recorded for the incident, by ref: read with the rest of
    what a re-render draws from, so a render of several messages asks once, not once a message."""
    stmt = select(BotMessage).where(BotMessage.incident_id == incident_id, BotMessage.kind == kind)
    return {row.ref: row for row in (await db.execute(stmt)).scalars()}


async def remember(
    database: Database, incident_id: int, kind: str, ref: str, *, channel: str, ts: str, rendered_hash: str
) -> BotMessage:
    """Record where the message is and what it shows now (the first post, or an update)."""
    async with database.transaction() as db:
        row = await _row(db, incident_id, kind, ref)
        if row is None:
            row = BotMessage(incident_id=incident_id, kind=kind, ref=ref, channel_id=channel)
            db.add(row)
        row.ts, row.channel_id, row.rendered_hash = ts, channel, rendered_hash
    return row


async def remember_once(
    database: Database, incident_id: int, kind: str, ref: str, *, channel: str, ts: str, rendered_hash: str
) -> bool:
    """Record a message that is posted once per ref (a timeline anchor). False when another replica
    recorded the same ref first: both posts then show the same thing."""
    try:
        async with database.transaction() as db:
            db.add(
                BotMessage(
                    incident_id=incident_id,
                    kind=kind,
                    ref=ref,
                    channel_id=channel,
                    ts=ts,
                    rendered_hash=rendered_hash,
                )
            )
    except IntegrityError:
        return False
    return True


async def refs(database: Database, incident_id: int, kind: str) -> list[str]:
    """The refs of every message of this kind the bot recorded for the incident."""
    async with database.session() as db:
        stmt = select(BotMessage.ref).where(BotMessage.incident_id == incident_id, BotMessage.kind == kind)
        return list((await db.execute(stmt)).scalars())


async def remember_topic(database: Database, incident_id: int, rendered_hash: str) -> None:
    """The hash of the topic the channel now shows."""
    async with database.transaction() as db:
        await db.execute(
            update(Incident).where(col(Incident.id) == incident_id).values(topic_hash=rendered_hash)
        )
