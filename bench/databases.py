"""Throw-away databases for a benchmark run: a SQLite file, and a PostgreSQL database of its own."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import normalize_url

PG_ADMIN_URL = normalize_url(
    os.environ.get("BENCH_DATABASE_URL")
    or os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
)


async def run_admin_sql(server_url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE cannot run inside one)."""
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def postgres_available() -> bool:
    try:
        await run_admin_sql(PG_ADMIN_URL, "SELECT 1")
        return True
    except Exception:
        return False


@asynccontextmanager
async def scratch(kind: str) -> AsyncIterator[str]:
    """A fresh, empty database URL of the given kind ("sqlite" or "postgresql"), removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"
        return
    name = f"breachroom_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await run_admin_sql(PG_ADMIN_URL, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await run_admin_sql(PG_ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
