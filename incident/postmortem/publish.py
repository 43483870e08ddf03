"""Recording that a post-mortem was produced: which chain head it describes and the file's digest."""

from __future__ import annotations

import hashlib
from datetime import datetime

from storage import timeline
from storage.db import Database


def digest(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


async def record_generated(
    database: Database,
    incident_id: int,
    *,
    actor: str,
    now: datetime,
    head: str,
    count: int,
    markdown_sha256: str,
    file_id: str | None,
) -> int:
    """Append `postmortem_generated`: anyone holding the file can check it against the timeline."""
    async with database.transaction() as db:
        event = await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="postmortem_generated",
            summary=f"post-mortem of {count} events, head {head[:12]}",
            data={"head": head, "count": count, "markdown_sha256": markdown_sha256, "file_id": file_id},
            at=now,
        )
    return event.seq
