"""The notifications register: who was told what, when, under which regime; it stops that clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import select

from incident import reminders
from incident.clocks import ClockView, clocks
from incident.config import IncidentConfig
from incident.errors import Invalid
from incident.limits import Field, too_long
from incident.redact import scrub, with_counts
from storage import timeline
from storage.db import Database
from storage.models import Incident, Notification

RECIPIENT_KINDS = ("regulator", "client", "individual", "partner", "law_enforcement")
# A clock a person may record against: applies, or may apply while facts are missing.
RECORDABLE = ("applies", "unknown")
# The form's free-text fields and the limit each one has.
TEXT_FIELDS = {
    "recipient": Field.RECIPIENT,
    "reference": Field.REFERENCE,
    "channel": Field.CHANNEL,
    "content": Field.CONTENT,
}


@dataclass(frozen=True)
class NotificationInput:
    regime: str
    recipient_kind: str
    recipient: str
    sent_at: datetime | None
    sent_by: str
    reference: str = ""
    channel: str = ""
    content: str = ""
    contents_checked: list[str] = field(default_factory=list)


def validate(inp: NotificationInput, config: IncidentConfig, now: datetime) -> dict[str, str]:
    """Field → message key for the form."""
    errors: dict[str, str] = {}
    if inp.regime not in config.regimes:
        errors["regime"] = "notify.error.regime"
    if inp.recipient_kind not in RECIPIENT_KINDS:
        errors["recipient_kind"] = "notify.error.recipient_kind"
    if not inp.recipient.strip():
        errors["recipient"] = "notify.error.recipient"
    for name, kind in TEXT_FIELDS.items():
        if too_long(kind, getattr(inp, name)):
            errors[name] = "redact.error.field_too_long"
    if inp.sent_at is None:
        errors["sent_at"] = "notify.error.sent_at"
    elif inp.sent_at > now + timedelta(minutes=1):
        errors["sent_at"] = "notify.error.future"
    if not inp.sent_by:
        errors["sent_by"] = "notify.error.sent_by"
    if inp.regime in config.regimes:
        allowed = {item.key for item in config.regimes.get(inp.regime).notice_contents}
        if set(inp.contents_checked) - allowed:
            errors["contents"] = "notify.error.contents"
    return errors


async def clock_views(
    database: Database, incident: Incident, config: IncidentConfig, now: datetime
) -> list[ClockView]:
    """Every regime's clock for the incident as it stands, with the notices recorded so far."""
    async with database.session() as db:
        sent = list(
            (await db.execute(select(Notification).where(Notification.incident_id == incident.id))).scalars()
        )
    return clocks(incident, sent, config.regimes, now)


async def recordable_clocks(
    database: Database, incident: Incident, config: IncidentConfig, now: datetime
) -> list[ClockView]:
    views = await clock_views(database, incident, config, now)
    return [v for v in views if v.applicability.status in RECORDABLE]


@dataclass(frozen=True)
class Recorded:
    incident: Incident
    notification: Notification
    clock: ClockView | None
    stored: NotificationInput  # the input as recorded (scrubbed): what may be shown back


async def record(
    database: Database,
    config: IncidentConfig,
    incident_id: int,
    inp: NotificationInput,
    *,
    actor: str,
    now: datetime,
    cadence_of: Mapping[str, timedelta] | None = None,
    redact_on: bool = True,
) -> Recorded:
    """Write the notification and its ``notification_recorded`` event; the regime's clock turns
    met (or late) and its pending reminders are cancelled, in the same transaction."""
    errors = validate(inp, config, now)
    if errors:
        raise Invalid(reason=", ".join(sorted(errors)))
    assert inp.sent_at is not None
    text = {name: scrub(kind, getattr(inp, name), enabled=redact_on) for name, kind in TEXT_FIELDS.items()}
    async with database.transaction() as db:
        incident = await timeline.lock_incident(db, incident_id)
        existing = list(
            (await db.execute(select(Notification).where(Notification.incident_id == incident_id))).scalars()
        )
        before = {v.regime_id: v for v in clocks(incident, existing, config.regimes, now)}
        view = before.get(inp.regime)
        row = Notification(
            incident_id=incident_id,
            regime=inp.regime,
            recipient_kind=inp.recipient_kind,
            recipient=text["recipient"].text,
            due_at=view.deadline_at if view else None,
            sent_at=inp.sent_at,
            sent_by=inp.sent_by,
            reference=text["reference"].text,
            channel=text["channel"].text,
            content=text["content"].text,
            contents_checked=list(inp.contents_checked),
            recorded_at=now,
        )
        db.add(row)
        await db.flush()
        after = {v.regime_id: v for v in clocks(incident, [*existing, row], config.regimes, now)}
        clock = after.get(inp.regime)
        drill = " (DRILL, practice only)" if incident.is_drill else ""
        await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="notification_recorded",
            summary=f"{inp.regime} → {inp.recipient_kind} {row.recipient}{drill}",
            announce=True,
            data=with_counts(
                {
                    "notification_id": row.id,
                    "regime": inp.regime,
                    "recipient_kind": inp.recipient_kind,
                    "recipient": row.recipient,
                    "sent_at": inp.sent_at,
                    "sent_by": inp.sent_by,
                    "reference": row.reference,
                    "due_at": row.due_at,
                    "contents_checked": row.contents_checked,
                    "contents_missing": [
                        item.key
                        for item in config.regimes.get(inp.regime).notice_contents
                        if item.key not in row.contents_checked
                    ],
                    "clock_before": view.state if view else None,
                    "clock_after": clock.state if clock else None,
                    "drill": incident.is_drill,
                },
                *text.values(),
            ),
            at=now,
        )
        await reminders.sync(db, incident, config, now, cadence_of)
        stored = replace(inp, **{name: clean.text for name, clean in text.items()})
        return Recorded(incident, row, clock, stored)
