"""The periodic report is a reminder row like any other: due at 09:00 UTC on the first day after
its period, deduplicated by period, so restarts and replicas post each report once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite

from incident.report.model import Period
from storage.db import Database
from storage.models import Reminder

REPORT = "security_report"
CADENCES = ("monthly", "quarterly")
POST_AT = timedelta(hours=9)


def due_at(period: Period) -> datetime:
    return period.end + POST_AT


async def ensure_scheduled(database: Database, channel: str, cadence: str, after: datetime) -> str:
    """Make sure the report for the period containing `after` is scheduled; returns its label."""
    if cadence not in CADENCES:
        raise ValueError(f"report cadence must be one of {CADENCES}")
    period = Period.containing(after, cadence)
    insert = postgresql.insert if database.is_postgres else sqlite.insert
    async with database.transaction() as db:
        await db.execute(
            insert(Reminder)
            .values(
                incident_id=None,
                kind=REPORT,
                ref=period.label,
                target=channel,
                due_at=due_at(period),
                status="pending",
                attempts=0,
                payload={"cadence": cadence},
                dedupe_key=f"{REPORT}:{period.label}",
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
    return period.label
