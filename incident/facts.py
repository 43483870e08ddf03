"""The impact facts of an incident: changing them re-judges the regulatory clocks, on the record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select

from incident import firm_facts, reminders
from incident.clocks import EXTRA_FACTS, judged
from incident.config import IncidentConfig
from incident.regimes import Change, Regimes, diff
from storage import timeline
from storage.db import Database
from storage.models import Incident, Notification

# More people than live on Earth is a typing mistake (and would overflow the column).
MAX_PEOPLE = 10_000_000_000
# Clock starts a person records (each a column of the incident).
TIMES = ("aware_at", "determined_at")


@dataclass(frozen=True)
class FactsInput:
    """What the facts form edits. None is "not known yet" (and may be set back to unknown)."""

    people_affected: int | None = None
    data_categories: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()
    encrypted: bool | None = None
    exfiltration_confirmed: bool | None = None
    processor_role: str | None = None
    aware_at: datetime | None = None
    determined_at: datetime | None = None
    high_risk: bool | None = None
    critical_infrastructure: bool | None = None
    crime_suspected: bool | None = None
    eu_main_establishment: bool | None = None
    dfs_covered_entity: bool | None = None
    covered_financial_institution: bool | None = None
    hipaa_business_associate: bool | None = None
    public_company_client: bool | None = None
    law_enforcement_investigating: bool | None = None
    efile_credentials_stolen: bool | None = None

    def as_data(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = (
                value.isoformat()
                if isinstance(value, datetime)
                else (list(value) if isinstance(value, tuple) else value)
            )
        return out


FACT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(FactsInput))


def current(incident: Incident) -> FactsInput:
    extra = incident.facts or {}
    return FactsInput(
        people_affected=incident.people_affected,
        data_categories=tuple(sorted(incident.data_categories or [])),
        jurisdictions=tuple(sorted(incident.jurisdictions or [])),
        encrypted=incident.encrypted,
        exfiltration_confirmed=incident.exfiltration_confirmed,
        processor_role=incident.processor_role,
        aware_at=incident.aware_at,
        determined_at=incident.determined_at,
        **{name: extra.get(name) for name in EXTRA_FACTS},
    )


def normalised(inp: FactsInput) -> FactsInput:
    return replace(
        inp,
        data_categories=tuple(sorted(set(inp.data_categories))),
        jurisdictions=tuple(sorted(set(inp.jurisdictions))),
    )


def validate(inp: FactsInput, now: datetime, regimes: Regimes) -> dict[str, str]:
    """Field → message key for the form. Categories and jurisdictions are the regimes file's."""
    errors: dict[str, str] = {}
    if inp.people_affected is not None and inp.people_affected < 0:
        errors["people_affected"] = "facts.error.negative"
    elif inp.people_affected is not None and inp.people_affected > MAX_PEOPLE:
        errors["people_affected"] = "facts.error.too_many"
    for name in TIMES:
        at = getattr(inp, name)
        if at is not None and at > now + timedelta(minutes=1):
            errors[name] = "facts.error.future"
    if set(inp.data_categories) - set(regimes.category_keys()):
        errors["data_categories"] = "facts.error.category"
    if set(inp.jurisdictions) - set(regimes.jurisdiction_codes()):
        errors["jurisdictions"] = "facts.error.jurisdiction"
    if inp.processor_role not in (None, "controller", "processor"):
        errors["processor_role"] = "facts.error.role"
    return errors


def _apply(incident: Incident, inp: FactsInput) -> None:
    incident.people_affected = inp.people_affected
    incident.data_categories = list(inp.data_categories)
    incident.jurisdictions = list(inp.jurisdictions)
    incident.encrypted = inp.encrypted
    incident.exfiltration_confirmed = inp.exfiltration_confirmed
    incident.processor_role = inp.processor_role
    incident.aware_at = inp.aware_at
    incident.determined_at = inp.determined_at
    extra = dict(incident.facts or {})
    for name in EXTRA_FACTS:
        value = getattr(inp, name)
        if value is None:
            extra.pop(name, None)
        else:
            extra[name] = value
    incident.facts = extra


@dataclass(frozen=True)
class FactsChanged:
    incident: Incident
    changed: dict[str, tuple[Any, Any]]
    clock_changes: list[Change]

    @property
    def any(self) -> bool:
        return bool(self.changed)


async def update(
    database: Database,
    config: IncidentConfig,
    incident_id: int,
    inp: FactsInput,
    *,
    actor: str,
    now: datetime,
    cadence_of: Mapping[str, timedelta] | None = None,
) -> FactsChanged:
    """Record new facts, re-judge the clocks, re-derive the reminders: one transaction.

    Logs ``facts_changed`` (before / after of each changed fact) and, when an obligation's verdict
    or deadline moved, ``clocks_reevaluated`` with what moved (one line per obligation: its regime
    and recipient). A recorded clock start (awareness, determination) moves the clocks that ran from
    an assumed one. Unchanged facts change nothing.
    """
    inp = normalised(inp)
    async with database.transaction() as db:
        incident = await timeline.lock_incident(db, incident_id)
        before = normalised(current(incident))
        old_data, new_data = before.as_data(), inp.as_data()
        changed = {k: (old_data[k], new_data[k]) for k in FACT_FIELDS if old_data[k] != new_data[k]}
        if not changed:
            return FactsChanged(incident, {}, [])
        sent = list(
            (await db.execute(select(Notification).where(Notification.incident_id == incident_id))).scalars()
        )
        firm = await firm_facts.load(db)
        old_eval = judged(incident, sent, config.regimes, firm)
        _apply(incident, inp)
        new_eval = judged(incident, sent, config.regimes, firm)
        await db.flush()
        await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="facts_changed",
            announce=True,
            summary="; ".join(f"{k}: {_show(a)} → {_show(b)}" for k, (a, b) in changed.items()),
            data={
                "before": {k: a for k, (a, _) in changed.items()},
                "after": {k: b for k, (_, b) in changed.items()},
            },
            at=now,
        )
        moves = diff(old_eval, new_eval)
        if moves:
            await timeline.append(
                db,
                incident_id,
                actor=actor,
                kind="clocks_reevaluated",
                summary="; ".join(m.describe().en for m in moves),
                data={
                    "changes": [
                        {
                            "regime": m.regime_id,
                            "obligation": m.obligation_id,
                            "kind": m.kind,
                            "before": m.old_status,
                            "after": m.new_status,
                            "deadline_before": m.old_deadline_at,
                            "deadline_after": m.new_deadline_at,
                            "en": m.describe().en,
                            "zh-CN": m.describe().zh_CN,
                        }
                        for m in moves
                    ]
                },
                at=now,
            )
        await reminders.sync(db, incident, config, now, cadence_of)
        return FactsChanged(incident, changed, moves)


def _show(value: Any) -> str:
    if value is None:
        return "?"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)
