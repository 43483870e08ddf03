"""Declaring an incident: the record first, in one transaction; Slack catches up afterwards."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from incident.config import IncidentConfig
from incident.limits import Field, limit, too_long
from incident.naming import incident_key
from incident.playbook import Playbook
from incident.redact import scrub, scrub_lines, with_counts
from incident.regimes import Facts, Regimes, evaluate
from incident.roles_config import COMMANDER
from incident.roster import assign
from incident.skips import Skip, note_skipped
from incident.text import Text
from storage import outbox, timeline
from storage.db import Database
from storage.models import ChecklistItem, Incident, KeySequence

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
# The data categories and jurisdictions a declaration may name are the regimes file's
# (``config.regimes.categories`` / ``.jurisdictions``): a regime added there is selectable at once.
TITLE_MAX = limit(Field.TITLE)
# Legal clock starts the declare form asks for when an obligation that may apply runs from one;
# until a person sets it, such a clock runs from discovery, assumed.
ASKED_STARTS = ("aware_at", "determined_at")


@dataclass
class DeclareInput:
    title: str
    severity: str
    summary: str = ""
    data_categories: list[str] = field(default_factory=list)
    people_affected: int | None = None
    affected_clients: list[str] = field(default_factory=list)
    jurisdictions: list[str] = field(default_factory=list)
    encrypted: bool | None = None
    exfiltration_confirmed: bool | None = None
    processor_role: str | None = None
    discovered_at: datetime | None = None
    aware_at: datetime | None = None
    determined_at: datetime | None = None
    is_drill: bool = False
    playbook_id: str | None = None
    # The same submission delivered twice (double click, Slack retry) carries the same token.
    declare_token: str | None = None


def validate(inp: DeclareInput, now: datetime, config: IncidentConfig) -> dict[str, str]:
    """Field → message key, for errors shown on the modal's fields."""
    errors: dict[str, str] = {}
    if not inp.title.strip():
        errors["title"] = "declare.error.title_required"
    elif len(inp.title) > TITLE_MAX:
        errors["title"] = "declare.error.title_too_long"
    if too_long(Field.SUMMARY, inp.summary):
        errors["summary"] = "redact.error.field_too_long"
    if too_long(Field.CLIENTS, "\n".join(inp.affected_clients)):
        errors["affected_clients"] = "redact.error.field_too_long"
    if inp.severity not in SEVERITIES:
        errors["severity"] = "declare.error.severity"
    if inp.people_affected is not None and inp.people_affected < 0:
        errors["people_affected"] = "declare.error.negative"
    if inp.discovered_at is not None and inp.discovered_at > now:
        errors["discovered_at"] = "declare.error.future"
    for start in ASKED_STARTS:
        at = getattr(inp, start)
        if at is not None and at > now:
            errors[start] = "declare.error.future"
    if inp.playbook_id and inp.playbook_id not in config.playbooks:
        errors["playbook"] = "declare.error.playbook"
    if set(inp.data_categories) - set(config.regimes.category_keys()):
        errors["data_categories"] = "declare.error.category"
    if set(inp.jurisdictions) - set(config.regimes.jurisdiction_codes()):
        errors["jurisdictions"] = "declare.error.jurisdiction"
    return errors


def starts_to_ask(regimes: Regimes, jurisdictions: Iterable[str]) -> Mapping[str, tuple[Text, ...]]:
    """The legal clock starts worth asking for once these jurisdictions are chosen: each start (of
    ``ASKED_STARTS``) that some obligation which may apply to them runs from, with the names of
    those obligations' regimes. Everything else about the incident is taken as not known yet, so
    a start is asked for whenever the file has a duty that could run from it there (GDPR's
    awareness for EU or UK, a state's determination for Colorado); nothing is asked before a
    jurisdiction is chosen. Codes the file does not list are ignored."""
    codes = frozenset(jurisdictions) & frozenset(regimes.jurisdiction_codes())
    if not codes:
        return {}
    found: dict[str, dict[str, Text]] = {}
    for judged in evaluate(Facts(jurisdictions=codes), regimes):
        start = judged.obligation.clock_start
        if judged.status != "does_not_apply" and start in ASKED_STARTS:
            found.setdefault(str(start), {}).setdefault(judged.regime.id, judged.regime.name)
    return {start: tuple(found[start].values()) for start in ASKED_STARTS if start in found}


async def next_number(db: AsyncSession, year: int, dialect: str) -> int:
    """Race-free per-year sequence: the upsert takes the row lock, so concurrent declarers queue."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(KeySequence)
        .values(year=year, last=1)
        .on_conflict_do_update(index_elements=["year"], set_={"last": col(KeySequence.last) + 1})
        .returning(col(KeySequence.last))
    )
    return int((await db.execute(stmt)).scalar_one())


async def next_identity(db: AsyncSession, year: int, dialect: str) -> dict[str, Any]:
    """A new incident's (or register entry's) identity: its year, the year's next number, its key."""
    number = await next_number(db, year, dialect)
    return {"key": incident_key(year, number), "year": year, "number": number}


def first_phase(playbook: Playbook) -> str:
    """The phase an incident starts in: the playbook's first (it always opens at declaration).

    at_declare phases later in the playbook (the notify track) are open from the start too, but
    the incident still reaches them in order; starting at the first after_previous phase would
    open it at declaration and skip the first phase's gate.
    """
    return playbook.phases[0].key


def checklist_rows(incident: Incident, playbook: Playbook) -> list[ChecklistItem]:
    assert incident.id is not None
    rows: list[ChecklistItem] = []
    for phase in playbook.phases:
        for position, item in enumerate(phase.items):
            rows.append(
                ChecklistItem(
                    incident_id=incident.id,
                    phase=phase.key,
                    item_key=item.key,
                    position=position,
                    owner_role=item.owner,
                    required=item.required,
                    restricted=item.restricted,
                    regime=item.regime,
                    due_at=incident.declared_at + item.due if item.due else None,
                )
            )
    return rows


@dataclass(frozen=True)
class Declared:
    incident: Incident
    created: bool


async def declare(
    database: Database,
    config: IncidentConfig,
    inp: DeclareInput,
    *,
    actor: str,
    now: datetime,
    locale: str,
    holders: dict[str, str],
    skipped: Sequence[Skip] = (),
    redact_on: bool = True,
    origin: str = "",
) -> Declared:
    """Record the incident, its roles and its checklist, with their timeline events, and the
    effect that builds its channel and then tells the declarer (in `origin`, or privately).

    `holders` are the default responders per role, already resolved to user ids; `skipped` the
    configured defaults that could not be used (recorded as `setup_skipped`). With no commander
    among the holders the declarer commands, so someone may always manage the incident. Idempotent
    on `declare_token`: a second delivery of the same submission returns the first incident.
    """
    if inp.declare_token:
        async with database.session() as db:
            existing = (
                await db.execute(select(Incident).where(Incident.declare_token == inp.declare_token))
            ).scalar_one_or_none()
            if existing is not None:
                return Declared(existing, created=False)
    playbook = config.playbook(inp.playbook_id)
    title = scrub(Field.TITLE, inp.title, enabled=redact_on)
    summary = scrub(Field.SUMMARY, inp.summary, enabled=redact_on)
    clients = scrub_lines(Field.CLIENTS, inp.affected_clients, enabled=redact_on)
    try:
        async with database.transaction() as db:
            incident = Incident(
                **await next_identity(db, now.year, database.dialect),
                title=title.text,
                summary=summary.text,
                severity=inp.severity,
                status="open",
                phase=first_phase(playbook),
                locale=locale,
                is_drill=inp.is_drill,
                playbook_id=playbook.id,
                playbook_version=playbook.version,
                playbook_snapshot=playbook.to_dict(),
                declare_token=inp.declare_token,
                declared_by=actor,
                declared_at=now,
                discovered_at=inp.discovered_at or now,
                aware_at=inp.aware_at,
                determined_at=inp.determined_at,
                data_categories=sorted(set(inp.data_categories)),
                people_affected=inp.people_affected,
                affected_clients=[c.text for c in clients],
                jurisdictions=sorted(set(inp.jurisdictions)),
                encrypted=inp.encrypted,
                exfiltration_confirmed=inp.exfiltration_confirmed,
                processor_role=inp.processor_role,
            )
            db.add(incident)
            await db.flush()
            assert incident.id is not None
            drill = " DRILL" if incident.is_drill else ""
            await timeline.append(
                db,
                incident.id,
                actor=actor,
                kind="declared",
                summary=f"{incident.key} {incident.severity}{drill}: {incident.title}",
                data=with_counts(
                    {
                        "severity": incident.severity,
                        "drill": incident.is_drill,
                        "playbook": {"id": playbook.id, "version": playbook.version},
                        "discovered_at": incident.discovered_at,
                        "aware_at": incident.aware_at,
                        "determined_at": incident.determined_at,
                        "data_categories": incident.data_categories,
                        "people_affected": incident.people_affected,
                        "affected_clients": incident.affected_clients,
                        "jurisdictions": incident.jurisdictions,
                        "encrypted": incident.encrypted,
                        "exfiltration_confirmed": incident.exfiltration_confirmed,
                    },
                    title,
                    summary,
                    *clients,
                ),
                at=now,
            )
            db.add_all(checklist_rows(incident, playbook))
            await note_skipped(db, incident, skipped, now=now)
            fallback = COMMANDER not in holders
            if fallback:
                holders = {**holders, COMMANDER: actor}
            for role in config.roles.keys():
                if role in holders:
                    await assign(db, incident, role, holders[role], actor=actor, now=now, roles=config.roles)
            if fallback:
                incident.setup = {**(incident.setup or {}), "declarer_commands": True}
                await timeline.append(
                    db,
                    incident.id,
                    actor="breachroom",
                    kind="declarer_commands",
                    summary=f"no default commander could be filled: {actor} commands until handing over",
                    data={"role": COMMANDER, "user": actor},
                    at=now,
                )
            await outbox.enqueue(
                db,
                outbox.SETUP,
                incident_id=incident.id,
                now=now,
                payload={"declarer": actor, "origin": origin, "took_command": fallback},
                coalesce_key=f"setup:{incident.id}",
            )
    except IntegrityError:
        # Two deliveries of one submission raced past the check above: the other one won.
        if not inp.declare_token:
            raise
        async with database.session() as db:
            existing = (
                await db.execute(select(Incident).where(Incident.declare_token == inp.declare_token))
            ).scalar_one()
            return Declared(existing, created=False)
    return Declared(incident, created=True)
