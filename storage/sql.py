"""Typed helpers for SQL the ORM's typing does not cover: rows changed by DML, the dialect, a table."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable, Table
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel


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


def table_of(model: type[SQLModel]) -> Table:
    """A table model's Core ``Table`` (for bulk statements), typed: ``Model.__table__`` is not."""
    return cast(Table, sa_inspect(model).local_table)
