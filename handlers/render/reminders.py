"""Reminder messages, the status-update modal: pure Block Kit builders (no I/O, ``now`` passed in)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from handlers.render.common import (
    actions,
    button,
    context,
    duration,
    escape,
    option,
    plain,
    section,
    user,
    when,
)
from incident import reminders
from incident.limits import Field, limit
from storage.models import Incident, Reminder

UPDATE_BLOCK = "update_text"
VALUE = "value"


@dataclass(frozen=True)
class Subject:
    """What a reminder is about, already resolved to the incident's language by the caller."""

    title: str = ""  # checklist item / role / the obligation's regime name / follow-up text
    owner: str | None = None  # who the item or action belongs to
    recipients: list[str] = field(default_factory=list)  # who the obligation says to notify
    every: timedelta | None = None  # status-update cadence
    last_update_at: datetime | None = None
    may_apply: bool = False  # a clock whose obligation(s) may apply: the facts that decide are unknown
    deciding: str = ""  # those facts, already named in the incident's language


def _due(row: Reminder) -> datetime:
    """The moment the thing itself was due (a snoozed reminder's own time has moved)."""
    raw = row.payload.get("due_at")
    return datetime.fromisoformat(raw) if raw else row.due_at


def _drill(incident: Incident, locale: str) -> list[dict[str, Any]]:
    return [context(t("reminder.drill", locale))] if incident.is_drill else []


def _body(
    row: Reminder, incident: Incident, subject: Subject, locale: str, now: datetime, command: str
) -> str:
    key = incident.key
    title = escape(subject.title)
    if row.kind == reminders.STATUS:
        every = duration(subject.every.total_seconds(), locale) if subject.every else "—"
        return t(
            "reminder.status.text",
            locale,
            key=key,
            every=every,
            severity=incident.severity,
            last=when(subject.last_update_at or incident.declared_at),
        )
    if row.kind == reminders.ITEM:
        template = "reminder.item.channel" if row.target == incident.channel_id else "reminder.item.dm"
        return t(template, locale, key=key, item=title, due=when(_due(row)), owner=user(subject.owner))
    if row.kind == reminders.ROLE:
        return t("reminder.role.text", locale, key=key, role=title, command=command, role_key=row.ref)
    if row.kind == reminders.CLOCK:
        deadline = reminders.clock_deadline(row)
        assert deadline is not None
        who = "\n".join(f"• {escape(r)}" for r in subject.recipients) or "—"
        overdue, due = _due_words(row, deadline, now, locale)
        if subject.may_apply:
            text = _may_apply(incident, subject, title, overdue, due, locale, command)
        elif overdue:
            text = t("reminder.clock.overdue", locale, key=key, regime=title, command=command, **due)
        else:
            text = t("reminder.clock.before", locale, key=key, regime=title, command=command, **due)
        if incident.is_drill:
            return text + "\n" + t("reminder.clock.drill_who", locale)
        who_key = "firm_facts.reminder.who_depends" if len(subject.recipients) > 1 else "reminder.clock.who"
        return text + "\n" + t(who_key, locale, who=who)
    return t("reminder.action.text", locale, key=key, text=title, due=when(_due(row)))


def _due_words(row: Reminder, deadline: datetime, now: datetime, locale: str) -> tuple[bool, dict[str, str]]:
    """Whether a clock's reminder speaks of it as overdue, and the words for its deadline and the
    time late (`late`) or left (`left`)."""
    if row.payload.get("label") == "overdue" or deadline <= now:
        return True, {"deadline": when(deadline), "late": duration((now - deadline).total_seconds(), locale)}
    return False, {"deadline": when(deadline), "left": duration((deadline - now).total_seconds(), locale)}


def _may_apply(
    incident: Incident,
    subject: Subject,
    title: str,
    overdue: bool,
    due: dict[str, str],
    locale: str,
    command: str,
) -> str:
    """A clock that may apply: its deadline, and the facts that decide whether (and from when)."""
    if overdue:
        head = t("firm_facts.reminder.maybe_overdue", locale, key=incident.key, regime=title, **due)
    else:
        head = t("firm_facts.reminder.maybe_before", locale, key=incident.key, regime=title, **due)
    facts = subject.deciding or "—"
    return head + "\n" + t("firm_facts.reminder.deciding", locale, facts=facts, command=command)


def reminder_message(
    row: Reminder, incident: Incident, subject: Subject, locale: str, now: datetime, command: str
) -> tuple[list[dict[str, Any]], str]:
    """The message for a reminder row in its current state: live (with its buttons), snoozed, done
    or no longer needed."""
    assert row.id is not None
    blocks: list[dict[str, Any]] = [*_drill(incident, locale)]
    blocks.append(section(_body(row, incident, subject, locale, now, command)))
    status = row.status
    if status == reminders.DONE:
        done_by = row.payload.get("done_by")
        blocks.append(
            context(
                t("reminder.state.done", locale, user=user(done_by))
                if done_by
                else t("reminder.state.answered", locale)
            )
        )
    elif status == reminders.CANCELLED:
        blocks.append(context(t("reminder.state.cancelled", locale)))
    elif status == reminders.PENDING and row.payload.get("snoozed"):
        blocks.append(
            context(
                t(
                    "reminder.state.snoozed",
                    locale,
                    until=when(row.due_at),
                    user=user(row.payload.get("snoozed_by")),
                )
            )
        )
    else:
        elements: list[dict[str, Any]] = []
        if row.kind == reminders.STATUS:
            elements.append(
                button(
                    t("reminder.button.post_update", locale),
                    ActionId.REMINDER_POST_UPDATE,
                    str(incident.id),
                    "primary",
                )
            )
        elements.append(button(t("reminder.button.done", locale), ActionId.REMINDER_DONE, str(row.id)))
        elements.append(
            {
                "type": "overflow",
                "action_id": ActionId.REMINDER_SNOOZE,
                "options": [
                    option(t(f"reminder.button.snooze_{m}", locale), f"{row.id}:{m}")
                    for m in reminders.SNOOZE_CHOICES
                ],
            }
        )
        blocks.append(actions(*elements, block_id=f"reminder_{row.id}"))
        if row.kind == reminders.CLOCK:
            blocks.append(context(t("reminder.clock.no_snooze_past", locale)))
    return blocks, reminder_text(row, incident, locale)


def reminder_text(row: Reminder, incident: Incident, locale: str) -> str:
    """The push-notification fallback: the key and the kind of reminder, nothing confidential."""
    drill = t("reminder.drill_tag", locale) if incident.is_drill else ""
    return t(
        "reminder.fallback",
        locale,
        drill=drill,
        key=incident.key,
        kind=t(f"reminder.kind.{row.kind}", locale),
    )


def status_update_modal(incident: Incident, locale: str) -> dict[str, Any]:
    intro = t("status_update.modal.intro", locale, key=incident.key)
    blocks: list[dict[str, Any]] = [section(intro)]
    if incident.is_drill:
        blocks.append(context(t("reminder.drill", locale)))
    blocks.append(
        {
            "type": "input",
            "block_id": UPDATE_BLOCK,
            "label": plain(t("status_update.field.text", locale), 2000),
            "element": {
                "type": "plain_text_input",
                "action_id": VALUE,
                "multiline": True,
                "max_length": limit(Field.STATUS_UPDATE),
                "placeholder": plain(t("status_update.field.placeholder", locale)),
            },
        }
    )
    return {
        "type": "modal",
        "callback_id": CallbackId.STATUS_UPDATE,
        "title": plain(t("status_update.modal.title", locale), 24),
        "submit": plain(t("status_update.modal.submit", locale), 24),
        "close": plain(t("status_update.modal.cancel", locale), 24),
        "private_metadata": json.dumps({"incident_id": incident.id}),
        "blocks": blocks,
    }


def parse_status_update(view: dict[str, Any]) -> tuple[object, str]:
    """The incident id as sent (the caller checks it) and the update text."""
    meta = json.loads(view.get("private_metadata") or "{}")
    values = view.get("state", {}).get("values", {})
    text = ((values.get(UPDATE_BLOCK) or {}).get(VALUE) or {}).get("value") or ""
    return (meta.get("incident_id") if isinstance(meta, dict) else None), str(text)


def status_update_post(
    incident: Incident, author: str, text: str, locale: str
) -> tuple[list[dict[str, Any]], str]:
    blocks: list[dict[str, Any]] = [*_drill(incident, locale)]
    blocks.append(section(t("status_update.posted", locale, user=user(author), text=escape(text))))
    return blocks, t("status_update.fallback", locale, key=incident.key)
