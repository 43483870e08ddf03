"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.db import Database
from storage.migrate import current_revision, head_revision


async def test_migrated_schema_matches_the_models(db: Database) -> None:
    def diff(conn):  # type: ignore[no-untyped-def]
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, SQLModel.metadata)

    async with db.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == [], f"models and migrations disagree: {changes}"


async def test_database_is_at_head(db: Database) -> None:
    assert await current_revision(db.engine) == head_revision()
