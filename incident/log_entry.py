"""Cheap register entries (`/breach log`) and decisions not to notify under a regime.

A low-severity event that needs no channel (a misdirected email retrieved the same hour) is still
recorded: a key from the same sequence, the facts, the reason it was not notified, and its own
hash-chained timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from incident.clocks import NO_NOTIFY
from incident.config import IncidentConfig
from incident.declare import SEVERITIES, next_identity
from incident.errors import Invalid
from incident.limits import Field, too_long
from incident.redact import scrub, scrub_required, with_counts
from incident.regimes import Regimes, split_obligation_id
from storage import timeline
from storage.db import Database
from storage.models import Decision, Incident

# The entry form's free-text fields and the limit each one has.
TEXT_FIELDS = {"title": Field.TITLE, "summary": Field.SUMMARY, "rationale": Field.DECISION}


@dataclass
class LogInput:
    title: str
    summary: str
    severity: str
    rationale: str
    occurred_at: datetime | None = None
    data_categories: list[str] = field(default_factory=list)
    people_affected: int | None = None
    is_drill: bool = False


def validate(inp: LogInput, now: datetime, regimes: Regimes) -> dict[str, str]:
    """Field → message key; the data categories are the regimes file's."""
    errors: dict[str, str] = {}
    if not inp.title.strip():
        errors["title"] = "log.error.title"
    if inp.severity not in SEVERITIES:
        errors["severity"] = "log.error.severity"
    if not inp.rationale.strip():
        errors["rationale"] = "log.error.rationale"
    if inp.people_affected is not None and inp.people_affected < 0:
        errors["people_affected"] = "log.error.negative"
    if inp.occurred_at is not None and inp.occurred_at > now:
        errors["occurred_at"] = "log.error.future"
    if set(inp.data_categories) - set(regimes.category_keys()):
        errors["data_categories"] = "log.error.category"
    for name, kind in TEXT_FIELDS.items():
        if too_long(kind, getattr(inp, name)):
            errors[name] = "redact.error.field_too_long"
    return errors


async def log_event(
    database: Database,
    regimes: Regimes,
    inp: LogInput,
    *,
    actor: str,
    now: datetime,
    locale: str,
    redact_on: bool = True,
) -> Incident:
    """One transaction: the register entry, its not-notified decision, and their timeline events."""
    problems = validate(inp, now, regimes)
    if problems:
        raise Invalid("error.invalid", reason=", ".join(sorted(problems)))
    title, summary, rationale = (
        scrub(kind, getattr(inp, name), enabled=redact_on) for name, kind in TEXT_FIELDS.items()
    )
    async with database.transaction() as db:
        entry = Incident(
            **await next_identity(db, now.year, database.dialect),
            kind="log",
            title=title.text,
            summary=summary.text,
            severity=inp.severity,
            status="closed",
            locale=locale,
            is_drill=inp.is_drill,
            declared_by=actor,
            declared_at=now,
            discovered_at=inp.occurred_at or now,
            closed_at=now,
            data_categories=sorted(set(inp.data_categories)),
            people_affected=inp.people_affected,
            not_notified_rationale=rationale.text,
            setup={"channel": True, "logged": True},
        )
        db.add(entry)
        await db.flush()
        assert entry.id is not None
        await timeline.append(
            db,
            entry.id,
            actor=actor,
            kind="logged",
            at=now,
            summary=f"{entry.key} {entry.severity}: {entry.title}",
            data=with_counts(
                {
                    "severity": entry.severity,
                    "data_categories": entry.data_categories,
                    "people_affected": entry.people_affected,
                    "discovered_at": entry.discovered_at,
                    "drill": entry.is_drill,
                },
                title,
                summary,
            ),
        )
        db.add(
            Decision(
                incident_id=entry.id,
                kind=NO_NOTIFY,
                text="not notified",
                rationale=entry.not_notified_rationale,
                decided_by=actor,
                decided_at=now,
            )
        )
        await timeline.append(
            db,
            entry.id,
            actor=actor,
            kind="not_notified",
            at=now,
            summary=entry.not_notified_rationale[:300],
            data=with_counts({"regime": None, "rationale": entry.not_notified_rationale}, rationale),
        )
        return entry


@dataclass(frozen=True)
class Declined:
    incident: Incident
    decision: Decision


async def decline_notification(
    database: Database,
    config: IncidentConfig,
    incident_id: int,
    obligation: str,
    rationale: str,
    *,
    actor: str,
    now: datetime,
    redact_on: bool = True,
) -> Declined:
    """Record the decision not to notify under one obligation (``<regime id>/<key>``), with its
    reason (Art. 33(5) wants both). The regime's other obligations keep their clocks."""
    if not config.regimes.has_obligation(obligation):
        raise Invalid("error.invalid", reason=obligation)
    regime, key = split_obligation_id(obligation)
    clean = scrub_required(Field.DECISION, rationale, "log.error.rationale", enabled=redact_on)
    rationale = clean.text
    async with database.transaction() as db:
        incident = await timeline.lock_incident(db, incident_id)
        decision = Decision(
            incident_id=incident_id,
            kind=NO_NOTIFY,
            regime=regime,
            obligation=key,
            text=f"do not notify: {obligation}",
            rationale=rationale,
            decided_by=actor,
            decided_at=now,
        )
        db.add(decision)
        await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="notification_declined",
            announce=True,
            at=now,
            summary=f"{obligation}: {rationale[:300]}",
            data=with_counts({"regime": regime, "obligation": obligation, "rationale": rationale}, clean),
        )
        return Declined(incident, decision)
