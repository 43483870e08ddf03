"""Two typed helpers for SQL the ORM's typing does not cover: rows changed by DML, the dialect."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.ext.asyncio import AsyncSession


async def rows_changed(db: AsyncSession, statement: Executable) -> int:
    """Run an UPDATE or DELETE in ``db`` and say how many rows it changed.

    ``AsyncSession.execute`` is typed to return a plain ``Result``; for DML it is a ``CursorResult``,
    the one that carries ``rowcount``.
    """
    result = cast("CursorResult[Any]", await db.execute(statement))
    return int(result.rowcount or 0)


def dialect_of(db: AsyncSession) -> str:
    """``postgresql`` or ``sqlite``: the backend a session talks to (for dialect-specific inserts)."""
    return db.get_bind().dialect.name
