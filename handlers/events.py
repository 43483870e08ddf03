"""Events API deliveries are handled once: Slack retries them (`X-Slack-Retry-Num`)."""

from __future__ import annotations

from typing import Any

from handlers.deps import Deps
from incident import records


async def first_delivery(deps: Deps, body: dict[str, Any]) -> bool:
    """True the first time an event id is seen; False for a retry or a second replica's copy.

    For listeners whose work is not one transaction of ours (publishing App Home): the claim is
    its own transaction. A change recorded in the database should rather claim the event inside
    its own transaction with `incident.records.first_delivery`. A body without an event id (not
    an Events API callback) always counts as a first delivery.
    """
    async with deps.db.transaction() as db:
        return await records.first_delivery(db, body.get("event_id"), deps.clock.now())
