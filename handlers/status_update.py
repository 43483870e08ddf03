"""Status updates: the card's and the reminder's "Post update" open a modal; posting resets the cadence."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.context import incident_by_id
from handlers.deps import Deps
from handlers.effects import Line, announcer
from handlers.errors import reply_error
from handlers.forms import read_form, text_refused
from handlers.gate import Find
from handlers.ids import ActionId, CallbackId
from handlers.listener import listener
from handlers.reminders import parse_id, refresh_reminder
from handlers.render.reminders import parse_status_update, status_update_modal, status_update_post
from incident import reminders
from incident.errors import DomainError
from incident.limits import Field
from storage.models import Incident, TimelineEvent


async def on_post_update_clicked(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    await ack()
    user_id = body["user"]["id"]
    try:
        value = (body.get("actions") or [{}])[0].get("value")
        incident = await incident_by_id(client, deps, parse_id(value), user_id)
    except DomainError as exc:
        await reply_error(client, body, exc, deps.locale)
        return
    await client.views_open(
        trigger_id=body["trigger_id"], view=status_update_modal(incident, incident.locale)
    )


def _read(view: dict[str, Any]) -> tuple[int, str]:
    """The incident and the text of a status-update form."""
    raw_id, text = parse_status_update(view)
    return parse_id(raw_id), text


async def on_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    user_id = body["user"]["id"]
    form = await read_form(ack, client, user_id, deps.locale, lambda: _read(view))
    if form is None:
        return
    incident_id, text = form
    if await text_refused(
        ack, "update_text", text, Field.STATUS_UPDATE, "status_update.error.empty", deps.locale
    ):
        return
    await ack()
    try:
        await incident_by_id(client, deps, incident_id, user_id)
        recorded = await reminders.record_status_update(
            deps.db,
            incident_id,
            text,
            actor=user_id,
            now=deps.clock.now(),
            config=deps.config,
            cadence_of=deps.cadences,
            redact_on=deps.redact_sensitive,
        )
    except DomainError as exc:
        await reply_error(client, {"user_id": user_id}, exc, deps.locale)
        return
    # The same transaction wrote the channel's post (`announce_update`) and the re-render.
    for reminder_id in recorded.answered:
        await refresh_reminder(client, deps, reminder_id)


def register(app: Any, deps: Deps) -> None:
    clicked = listener(deps, on_post_update_clicked)
    gate.action(app, deps, ActionId.CARD_POST_UPDATE, Find.VALUE)(clicked)
    gate.action(app, deps, ActionId.REMINDER_POST_UPDATE, Find.VALUE)(clicked)
    gate.view(app, deps, CallbackId.STATUS_UPDATE, Find.FORM)(listener(deps, on_submitted))


@announcer("status_update")
async def announce_update(deps: Deps, incident: Incident, event: TimelineEvent) -> Line:
    text = event.data.get("text") or ""
    blocks, fallback = status_update_post(incident, event.actor, text, incident.locale)
    return fallback, blocks
