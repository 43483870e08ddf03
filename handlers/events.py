"""Events API deliveries: handled once (Slack retries them, `X-Slack-Retry-Num`), and the
membership events that keep the gate's caches honest."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.deps import Deps
from handlers.membership import forget_members
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


# Membership changes ---------------------------------------------------------------------------
# The gate remembers who is in a channel for a while (handlers/membership.py) and who is in a user
# group (handlers/directory.py). Slack says at once when that changes; forget the entry then, so a
# person removed from an incident's channel or from the admin group loses access immediately.
# These only drop cached answers: repeating one (a retry, a second replica) does no harm.


def forget_channel(client: AsyncWebClient, event: dict[str, Any]) -> None:
    forget_members(client, str(event.get("channel") or "") or None)


def register(app: Any, deps: Deps) -> None:
    from handlers import gate
    from handlers.gate import Find

    async def on_channel_change(event: dict[str, Any], client: AsyncWebClient) -> None:
        forget_channel(client, event)

    async def on_group_change(event: dict[str, Any]) -> None:
        deps.directory.forget(str(event.get("subteam_id") or ""))

    for name in ("member_joined_channel", "member_left_channel", "channel_left"):
        gate.event(app, deps, name, Find.NONE)(deps.tracker.wrap(on_channel_change))
    gate.event(app, deps, "subteam_members_changed", Find.NONE)(deps.tracker.wrap(on_group_change))
