"""The card's suggested severity: Accept sets it, as a decision, for those who may manage."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.context import incident_from_action
from handlers.deps import Deps
from handlers.errors import reply_error, tell
from handlers.gate import Find, is_admin
from handlers.i18n import t
from handlers.ids import ActionId
from handlers.listener import listener
from incident import suggestion
from incident.errors import DomainError
from storage import outbox


async def on_accept(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await ack()
    incident = await incident_from_action(client, deps, body)
    assert incident.id is not None
    severity = str(body["actions"][0].get("value") or "").partition(":")[2]
    user = body["user"]["id"]
    try:
        result = await suggestion.accept(
            deps.db,
            incident.id,
            severity,
            actor=user,
            now=deps.clock.now(),
            roles=deps.config.roles,
            is_admin=await is_admin(client, deps, user),
        )
    except DomainError as exc:
        if isinstance(exc, suggestion.SuggestionChanged):
            await outbox.refresh(deps.db, incident.id, deps.clock.now())  # show the suggestion as it is now
        # Answered here, inside the tracked listener, so the refusal is out before it counts as done.
        await reply_error(client, body, exc, deps.locale)
        return
    if not result.changed:
        return
    text = t(
        "dayone.suggest.accepted", incident.locale, key=incident.key, before=result.before, after=severity
    )
    await tell(client, body, text)


def register(app: Any, deps: Deps) -> None:
    gate.action(app, deps, ActionId.CARD_ACCEPT_SEVERITY, Find.VALUE)(listener(deps, on_accept))
