"""Async engine and sessions for SQLite (default) and PostgreSQL (production)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.outbox import EFFECTS_WRITTEN
from storage.timeline import SESSION_KEYS, TimelineKeys

SQLITE_BUSY_TIMEOUT_MS = 15_000
# PostgreSQL's DETAIL repeats the offending values ("Failing row contains (…)", "Key (…)=(…)").
PG_DETAIL = re.compile(r"\nDETAIL:[^\n]*")


def withhold_values(context: ExceptionContext) -> None:
    """Strip the values a database error repeats from every exception in its chain, so that a
    logged traceback names the statement and the constraint but never the row (a note's text)."""
    seen: set[int] = set()
    # SQLAlchemy's own exception is chained to the driver's only once raised, after this hook.
    for start in (context.sqlalchemy_exception, context.original_exception):
        exc: BaseException | None = start
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            if isinstance(getattr(exc, "detail", None), str):
                exc.detail = None  # type: ignore[attr-defined]  # asyncpg's, printed by its __str__
            if exc.args and isinstance(exc.args[0], str) and "DETAIL:" in exc.args[0]:
                exc.args = (PG_DETAIL.sub("", exc.args[0]), *exc.args[1:])
            exc = exc.__cause__ or exc.__context__


def normalize_url(url: str) -> str:
    """Accept the plain spellings people paste and pick the async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///") or url == "sqlite://":
        url = "sqlite+aiosqlite" + url[len("sqlite") :]
    return url


WRITES = "breachroom_writes"  # execution option: this connection's transaction may write


def _prepare_sqlite(engine: AsyncEngine, path: str | None) -> None:
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so that BEGIN IMMEDIATE below is ours:
        # writers queue on the lock up front instead of failing to upgrade a read lock later.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A unit of work that may write (Database.transaction) takes the write lock up front; a
        # read (Database.session) does not, so reads never queue behind writers (WAL).
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITES) else "BEGIN")


@dataclass
class CommitWatch:
    """Whether a transaction committed while this was watched (``watch_commits``)."""

    committed: bool = False


_COMMITS: ContextVar[CommitWatch | None] = ContextVar("breachroom_commits", default=None)


@contextmanager
def watch_commits() -> Iterator[CommitWatch]:
    """Watch this task, and the tasks it starts, for committed transactions: a request that fails
    after one must not be answered "nothing was changed" (handlers/gate.py, handlers/errors.py)."""
    watch = CommitWatch()
    token = _COMMITS.set(watch)
    try:
        yield watch
    finally:
        _COMMITS.reset(token)


def committed_while_watched() -> bool:
    """True when the watched unit of work around this call has committed something already."""
    watch = _COMMITS.get()
    return watch is not None and watch.committed


class Database:
    """One engine per process; a session per unit of work.

    `timeline_keys` sign and verify the timeline's hash chain; every session carries them (in
    `Session.info`), so `storage.timeline` needs no key passed through the domain.
    """

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 10,
        timeline_keys: TimelineKeys | None = None,
    ) -> None:
        self.url = normalize_url(url)
        self.timeline_keys = timeline_keys
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        # Parameters are what people typed (notes, status updates, identity numbers): a failed
        # statement's message and SQL echo must never carry them into a log.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        event.listen(self.engine.sync_engine, "handle_error", withhold_values)
        if self.dialect == "sqlite":
            _prepare_sqlite(self.engine, parsed.database)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._writers = async_sessionmaker(
            self.engine.execution_options(**{WRITES: True}), class_=AsyncSession, expire_on_commit=False
        )
        # Called after a transaction that wrote effects commits (storage/outbox.py): the
        # process's delivery engine starts a pass at once instead of at its next poll.
        self.on_effects: Callable[[], None] | None = None

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def session(self, *, writes: bool = False) -> AsyncSession:
        """A session for reading; `transaction()` for a unit of work that writes."""
        maker = self._writers if writes else self._sessions
        if self.timeline_keys is None:
            return maker()
        return maker(info={SESSION_KEYS: self.timeline_keys})

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        async with self.session(writes=True) as session:
            async with session.begin():
                yield session
            watch = _COMMITS.get()
            if watch is not None:
                watch.committed = True
            if session.info.pop(EFFECTS_WRITTEN, False) and self.on_effects is not None:
                self.on_effects()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
