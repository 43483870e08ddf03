"""Reminder messages: sending a due reminder (called by the scheduler), and its Snooze and Done."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate, security_report
from handlers.context import incident_by_id
from handlers.deps import Deps
from handlers.effects import retry_after
from handlers.errors import reply_error, tell
from handlers.gate import Find
from handlers.i18n import t
from handlers.ids import ActionId
from handlers.render.common import when
from handlers.render.labels import fact_labels
from handlers.render.reminders import Subject, reminder_message
from incident import reminders
from incident.errors import DomainError, NotFound
from incident.overview import playbook_of
from incident.reminders import Delivered, SendFailed
from incident.report.schedule import REPORT
from storage.models import ActionItem, Incident, Reminder

log = logging.getLogger(__name__)


async def subject_of(deps: Deps, row: Reminder, incident: Incident) -> Subject:
    """Resolve what the reminder is about in the incident's language."""
    locale = incident.locale
    if row.kind == reminders.STATUS:
        every_s = row.payload.get("every_s")
        last = row.payload.get("last_update_at")
        return Subject(
            every=timedelta(seconds=every_s) if every_s else None,
            last_update_at=datetime.fromisoformat(last) if last else None,
        )
    if row.kind == reminders.ITEM:
        title = row.ref
        for phase in playbook_of(incident).phases:
            for item in phase.items:
                if item.key == row.ref:
                    title = item.title.get(locale)
        return Subject(title=title, owner=row.payload.get("owner") or row.target)
    if row.kind == reminders.ROLE:
        role = deps.config.roles.get(row.ref)
        return Subject(title=role.name.get(locale) if role else row.ref)
    if row.kind == reminders.CLOCK:
        regimes = deps.config.regimes
        if not regimes.has_obligation(row.ref):
            return Subject(title=row.ref)
        obligation = regimes.obligation(row.ref)
        regime = regimes.get(obligation.regime_id)
        if not row.payload.get("may_apply"):
            return Subject(title=regime.name.get(locale), recipients=[obligation.recipient.get(locale)])
        named = [o for o in row.payload.get("obligations") or [row.ref] if regimes.has_obligation(o)]
        return Subject(
            title=regime.name.get(locale),
            recipients=[regimes.obligation(o).recipient.get(locale) for o in named],
            may_apply=True,
            deciding=fact_labels(row.payload.get("deciding") or [], locale),
        )
    async with deps.db.session() as db:
        action = await db.get(ActionItem, int(row.payload.get("action_id") or row.ref))
    return Subject(title=action.text if action else row.ref, owner=action.owner if action else None)


async def render(deps: Deps, row: Reminder, incident: Incident) -> tuple[list[dict[str, Any]], str]:
    subject = await subject_of(deps, row, incident)
    return reminder_message(row, incident, subject, incident.locale, deps.clock.now(), deps.command)


async def deliver(client: AsyncWebClient, deps: Deps, row: Reminder) -> Delivered:
    """Send one due reminder to its DM or channel. Failures that may pass raise ``SendFailed``."""
    if row.kind == REPORT:
        return await security_report.post(client, deps, row)
    async with deps.db.session() as db:
        incident = await db.get(Incident, row.incident_id) if row.incident_id is not None else None
    if incident is None:
        raise SendFailed("incident_missing")
    blocks, text = await render(deps, row, incident)
    try:
        response = await client.chat_postMessage(channel=row.target, blocks=blocks, text=text)
    except SlackApiError as exc:
        raise SendFailed(str(exc.response.get("error") or "slack_error"), retry_after(exc)) from exc
    except Exception as exc:  # connection refused, timeouts: Slack unreachable
        raise SendFailed(type(exc).__name__) from exc
    # Recording the send (reminders.mark_sent) re-renders the incident: an item fallen overdue or a
    # clock past its deadline shows without a click.
    label = row.payload.get("label")
    summary = f"{row.kind} {row.ref}{' ' + label if label else ''} → {row.target}"
    return Delivered(channel_id=response["channel"], message_ts=response.get("ts"), summary=summary)


async def refresh_reminder(client: AsyncWebClient, deps: Deps, reminder_id: int) -> None:
    """Re-render a reminder message from its row (after Snooze, Done, or an update answering it)."""
    row = await reminders.get(deps.db, reminder_id)
    if not row.channel_id or not row.message_ts or row.incident_id is None:
        return
    async with deps.db.session() as db:
        incident = await db.get(Incident, row.incident_id)
    assert incident is not None
    blocks, text = await render(deps, row, incident)
    try:
        await client.chat_update(channel=row.channel_id, ts=row.message_ts, blocks=blocks, text=text)
    except SlackApiError as exc:
        log.warning("reminder %s message not updated: %s", reminder_id, exc.response.get("error"))


def parse_id(value: object) -> int:
    """A row id from a payload; anything else (a forged or stale payload) is "not found"."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise NotFound("error.not_found") from None
    if not 0 < number < 2**31:
        raise NotFound("error.not_found")
    return number


async def _member_row(client: AsyncWebClient, deps: Deps, reminder_id: int, user_id: str) -> Reminder:
    row = await reminders.get(deps.db, reminder_id)
    if row.incident_id is None:
        raise NotFound("error.not_found")
    await incident_by_id(client, deps, row.incident_id, user_id)
    return row


async def on_snooze(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await ack()
    user_id = body["user"]["id"]
    locale = deps.locale
    try:
        raw = str(((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value") or "")
        head, _, tail = raw.partition(":")
        reminder_id, minutes = parse_id(head), parse_id(tail)
        row = await _member_row(client, deps, reminder_id, user_id)
        result = await reminders.snooze(deps.db, row.id or 0, minutes, actor=user_id, now=deps.clock.now())
    except DomainError as exc:
        await reply_error(client, body, exc, locale)
        return
    await refresh_reminder(client, deps, reminder_id)
    key = "reminder.snooze_clamped" if result.clamped else "reminder.snoozed"
    await tell(client, body, t(key, locale, until=when(result.until)))


async def on_done(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await ack()
    user_id = body["user"]["id"]
    try:
        reminder_id = parse_id((body.get("actions") or [{}])[0].get("value"))
        await _member_row(client, deps, reminder_id, user_id)
        await reminders.mark_done(deps.db, reminder_id, actor=user_id, now=deps.clock.now())
    except DomainError as exc:
        await reply_error(client, body, exc, deps.locale)
        return
    await refresh_reminder(client, deps, reminder_id)


def register(app: Any, deps: Deps) -> None:
    def bind(func: Any) -> Any:
        async def listener(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
            await func(ack=ack, body=body, client=client, deps=deps)

        return deps.tracker.wrap(listener)

    gate.action(app, deps, ActionId.REMINDER_SNOOZE, Find.REMINDER)(bind(on_snooze))
    gate.action(app, deps, ActionId.REMINDER_DONE, Find.REMINDER)(bind(on_done))
