"""Events API deliveries are handled once: Slack retries them (`X-Slack-Retry-Num`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from handlers.deps import Deps
from storage.models import ProcessedEvent


async def first_delivery(deps: Deps, body: dict[str, Any]) -> bool:
    """True the first time an event id is seen; False for a retry or a second replica's copy.

    The row is the claim: two deliveries racing each other insert the same primary key, and only
    one insert commits. A body without an event id (not an Events API callback) always counts.
    """
    event_id = body.get("event_id")
    if not event_id:
        return True
    try:
        async with deps.db.transaction() as db:
            db.add(ProcessedEvent(event_id=str(event_id)[:64], received_at=deps.clock.now()))
    except IntegrityError:
        return False
    return True
