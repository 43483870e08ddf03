"""The notifications register: who was told what, when, under which obligation; it stops that
obligation's clock and no other (a notice to the PIPL authority leaves the individuals' clock open)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlmodel import select

from incident import firm_facts, reminders
from incident.clocks import ClockView, clocks
from incident.config import IncidentConfig
from incident.errors import Invalid
from incident.limits import Field, too_long
from incident.redact import scrub, with_counts
from incident.regimes import split_obligation_id
from storage import timeline
from storage.db import Database
from storage.models import Incident, Notification

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
    """A notice sent. ``obligation`` is the id of the obligation it satisfies, ``<regime id>/<key>``."""

    obligation: str
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
    known = config.regimes.has_obligation(inp.obligation)
    if not known:
        errors["obligation"] = "notify.error.regime"
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
    if known:
        allowed = {item.key for item in config.regimes.obligation(inp.obligation).notice_contents}
        if set(inp.contents_checked) - allowed:
            errors["contents"] = "notify.error.contents"
    return errors


async def clock_views(
    database: Database, incident: Incident, config: IncidentConfig, now: datetime
) -> list[ClockView]:
    """Every obligation's clock for the incident as it stands, with the notices recorded so far."""
    async with database.session() as db:
        firm = await firm_facts.load(db)
    return clocks(incident, await sent_notices(database, incident), config.regimes, now, firm=firm)


async def sent_notices(database: Database, incident: Incident) -> list[Notification]:
    """The notices recorded for the incident so far."""
    async with database.session() as db:
        stmt = select(Notification).where(Notification.incident_id == incident.id)
        return list((await db.execute(stmt)).scalars())


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
    """Write the notification and its ``notification_recorded`` event; the obligation's clock turns
    met (or late) and its pending reminders are cancelled, in the same transaction. A clock that
    starts ``{after:}`` this obligation now runs from the notice."""
    errors = validate(inp, config, now)
    if errors:
        raise Invalid(reason=", ".join(sorted(errors)))
    assert inp.sent_at is not None
    obligation = config.regimes.obligation(inp.obligation)
    regime_id, key = split_obligation_id(inp.obligation)
    text = {name: scrub(kind, getattr(inp, name), enabled=redact_on) for name, kind in TEXT_FIELDS.items()}
    async with database.transaction() as db:
        incident = await timeline.lock_incident(db, incident_id)
        existing = list(
            (await db.execute(select(Notification).where(Notification.incident_id == incident_id))).scalars()
        )
        firm = await firm_facts.load(db)
        before = {v.id: v for v in clocks(incident, existing, config.regimes, now, firm=firm)}
        view = before.get(inp.obligation)
        row = Notification(
            incident_id=incident_id,
            regime=regime_id,
            obligation=key,
            recipient_kind=obligation.recipient_kind,
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
        after = {v.id: v for v in clocks(incident, [*existing, row], config.regimes, now, firm=firm)}
        clock = after.get(inp.obligation)
        drill = " (DRILL, practice only)" if incident.is_drill else ""
        await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="notification_recorded",
            summary=f"{inp.obligation} → {row.recipient_kind} {row.recipient}{drill}",
            announce=True,
            data=with_counts(
                {
                    "notification_id": row.id,
                    "regime": regime_id,
                    "obligation": inp.obligation,
                    "recipient_kind": row.recipient_kind,
                    "recipient": row.recipient,
                    "sent_at": inp.sent_at,
                    "sent_by": inp.sent_by,
                    "reference": row.reference,
                    "due_at": row.due_at,
                    "contents_checked": row.contents_checked,
                    "contents_missing": [
                        item.key
                        for item in obligation.notice_contents
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
        stored = replace(
            inp,
            recipient=text["recipient"].text,
            reference=text["reference"].text,
            channel=text["channel"].text,
            content=text["content"].text,
        )
        return Recorded(incident, row, clock, stored)
