"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from TEST_DATABASE_URL (default: the local server on 127.0.0.1:5432, database
`test`). When it does not answer, its tests are skipped locally and fail under CI, where it is required.
"""

from __future__ import annotations

import asyncio
import gc
import graphlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp.web_app
import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.databases import run_admin_sql
from storage.db import Database, normalize_url
from storage.migrate import upgrade
from storage.timeline import TimelineKeys

PG_URL = normalize_url(
    os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
)
BACKENDS = ["sqlite", "postgresql"]
# Tests that use the database without a bot sign the timeline with this key.
TEST_TIMELINE_KEYS = TimelineKeys("test-key", {"test-key": b"breachroom-test-timeline-key-0123456789"})


def _pg_available() -> str | None:
    async def probe() -> str | None:
        db = Database(PG_URL)
        try:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return None
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            await db.dispose()

    return asyncio.run(probe())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once, copy the file for each test: every test starts from a clean, migrated schema."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> Iterator[tuple[str, str]]:
    """A database of this test session's own on the PostgreSQL server, migrated, dropped at the
    end; with it, the script that empties it between tests.

    Its own database (not the shared `test` one) lets several test runs share one server. Its
    commits do not wait for the disk (`synchronous_commit = off`): a committed row is seen by
    every other connection at once and survives any client being killed, only not the server
    crashing, which no test does.
    """
    problem = _pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required under CI and did not answer at {PG_URL}: {problem}")
        pytest.skip(f"PostgreSQL not available: {problem}")
    name = f"breachroom_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    asyncio.run(run_admin_sql(PG_URL, f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(run_admin_sql(PG_URL, f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        upgrade(url)
        yield url, _emptying_sql(url)
    finally:
        asyncio.run(run_admin_sql(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _emptying_sql(url: str) -> str:
    """One script that empties every table of the migrated schema and restarts its sequences.

    DELETE, children before parents, rather than TRUNCATE: a test leaves a handful of rows, and
    TRUNCATE gives every table and index new files, fsynced at commit (0.7-1 s a test here,
    against a few hundredths). The order follows the schema's foreign keys, read from the
    catalog, so a new table needs nothing here.
    """

    async def read() -> str:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                tables = set(
                    (
                        await conn.execute(
                            text(
                                "SELECT tablename FROM pg_tables "
                                "WHERE schemaname='public' AND tablename <> 'alembic_version'"
                            )
                        )
                    ).scalars()
                )
                edges = (
                    await conn.execute(
                        text(
                            "SELECT c.relname, p.relname FROM pg_constraint k "
                            "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid "
                            "JOIN pg_namespace n ON n.oid = c.relnamespace "
                            "WHERE k.contype = 'f' AND n.nspname = 'public'"
                        )
                    )
                ).all()
                sequences = list(
                    (
                        await conn.execute(
                            text("SELECT sequencename FROM pg_sequences WHERE schemaname='public'")
                        )
                    ).scalars()
                )
        finally:
            await engine.dispose()
        # graphlib orders each parent before the tables that point at it; delete in reverse.
        graph: dict[str, set[str]] = {t: set() for t in tables}
        for child, parent in edges:
            if child != parent:
                graph[child].add(parent)
        order = list(reversed(list(graphlib.TopologicalSorter(graph).static_order())))
        return "".join(
            [f'DELETE FROM "{t}";' for t in order] + [f'ALTER SEQUENCE "{q}" RESTART;' for q in sequences]
        )

    return asyncio.run(read())


def _empty_pg(url: str, script: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
        try:
            async with conn.transaction():
                await conn.execute(script)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        if request.node.get_closest_marker("pg_only"):
            pytest.skip("concurrency test: PostgreSQL only")
        path = tmp_path / "breachroom.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        url, script = request.getfixturevalue("pg_migrated")
        _empty_pg(url, script)
        yield url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url, timeline_keys=TEST_TIMELINE_KEYS)
    yield database
    await database.dispose()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pg_only: needs PostgreSQL's real concurrency; skipped on SQLite")
    config.addinivalue_line(
        "markers", "processes: starts real bot processes; `make test` runs these after the parallel part"
    )


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """Let go of the test's web apps. aiohttp memoizes each app's middleware chain in a
    module-level LRU cache of 1,024 entries keyed by the app, harmless for a server's one app but
    here it kept every test's bot and sandbox alive, with all they hold: a worker's heap grew by
    some 17,000 objects a test, and the garbage collector's full passes over it grew with it, to
    stalls of seconds in the middle of a request that the sandbox saw as acks later than Slack's
    3 seconds."""
    cache = getattr(aiohttp.web_app, "_cached_build_middleware", None)
    if cache is not None:
        cache.cache_clear()
    # What outlives a test is what the libraries keep for the process (SQLAlchemy's statement
    # caches hold each test's dialect, up to their bounds). Collect the test's own garbage now,
    # while it is young and cheap to scan, and freeze the rest out of later collections, so that
    # no full collection ever walks the hundreds of tests before it.
    gc.collect()
    gc.freeze()


@pytest.fixture
async def slack(db_url: str) -> AsyncIterator[Any]:
    """The real bot on a free port, talking to the sandbox workspace, on this test's database."""
    from tests.harness import running_bot

    async with running_bot(db_url) as s:
        yield s
