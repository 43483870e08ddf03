"""The post-mortem as facts, built from the database alone; the renderers only lay them out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from incident import checklist, firm_facts, roster
from incident.clocks import ClockView, clocks
from incident.config import IncidentConfig
from incident.declare import first_phase
from incident.notice_draft.drafts import drafts_of
from incident.overview import playbook_of
from incident.playbook import Opens, Playbook
from incident.records import action_items
from incident.text import Text
from storage import timeline
from storage.models import (
    ActionItem,
    ChecklistItem,
    Decision,
    Evidence,
    Incident,
    NoticeDraft,
    Notification,
    RoleAssignment,
    TimelineEvent,
)

PHASE_EVENTS = frozenset({"phase_advanced", "phase_override"})


@dataclass(frozen=True)
class RoleSpan:
    role: str
    name: Text
    user: str
    assigned_by: str
    assumed_at: datetime
    relieved_at: datetime | None


@dataclass(frozen=True)
class PhaseSpan:
    key: str
    title: Text
    parallel: bool
    start: datetime | None
    end: datetime | None
    overridden: bool = False

    @property
    def seconds(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class ItemOutcome:
    phase: str
    key: str
    title: Text
    state: str  # done | na | open
    required: bool
    done_by: str | None
    done_at: datetime | None
    na_reason: str | None


@dataclass(frozen=True)
class PhaseChecklist:
    key: str
    title: Text
    items: tuple[ItemOutcome, ...]

    def count(self, state: str) -> int:
        return sum(1 for i in self.items if i.state == state)


@dataclass(frozen=True)
class Interval:
    """A measured duration: `measure` is to_declare / to_contain / to_notify / to_resolve / open_for."""

    measure: str
    start_basis: str
    end_basis: str
    seconds: float | None
    # A time to notify: the obligation (``<regime id>/<key>``) and how it reads.
    regime: str | None = None
    regime_name: Text | None = None


@dataclass(frozen=True)
class PostMortem:
    incident: Incident
    playbook: Playbook
    generated_at: datetime
    as_of: datetime
    roles: tuple[RoleSpan, ...]
    phases: tuple[PhaseSpan, ...]
    checklist: tuple[PhaseChecklist, ...]
    clocks: tuple[ClockView, ...]
    notifications: tuple[Notification, ...]
    decisions: tuple[Decision, ...]
    evidence: tuple[Evidence, ...]
    actions: tuple[ActionItem, ...]
    events: tuple[TimelineEvent, ...]
    verification: timeline.Verification
    # Every notice drafted from the record, each version and language, approved or not.
    notice_drafts: tuple[NoticeDraft, ...] = ()
    # The data categories' names in the regimes file the bot runs with (a firm's own file may add some).
    category_names: Mapping[str, Text] = field(default_factory=dict)

    @property
    def intervals(self) -> tuple[Interval, ...]:
        inc = self.incident
        out = [
            Interval("to_declare", "discovered", "declared", _between(inc.discovered_at, inc.declared_at)),
            Interval("to_contain", "discovered", "contained", _between(inc.discovered_at, inc.contained_at)),
        ]
        for view in self.clocks:
            start = view.applicability.clock_start
            if view.notified_at is None:
                continue
            out.append(
                Interval(
                    "to_notify",
                    "clock_start",
                    "notified",
                    _between(start, view.notified_at),
                    regime=view.id,
                    regime_name=view.name,
                )
            )
        out.append(
            Interval("to_resolve", "discovered", "resolved", _between(inc.discovered_at, inc.resolved_at))
        )
        out.append(Interval("open_for", "declared", "closed", _between(inc.declared_at, inc.closed_at)))
        return tuple(out)

    @property
    def clocks_met(self) -> int:
        return sum(1 for c in self.clocks if c.state == "met")

    @property
    def clocks_missed(self) -> int:
        return sum(1 for c in self.clocks if c.state in ("late", "overdue"))


def _between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def _phase_after(event: TimelineEvent) -> str | None:
    data = event.data or {}
    for key in ("after", "to", "phase"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def phase_spans(incident: Incident, playbook: Playbook, events: list[TimelineEvent]) -> list[PhaseSpan]:
    """How long each phase was the incident's current phase, from the phase events.

    The first phase starts at declaration; each move ends the phase it left and starts the one
    it entered; the phase current at close ends at close (still running before that).
    """
    first = first_phase(playbook)
    starts: dict[str, tuple[datetime, bool]] = {first: (incident.declared_at, False)}
    ends: dict[str, datetime] = {}
    current = first
    for event in events:
        if event.kind not in PHASE_EVENTS:
            continue
        after = _phase_after(event)
        if not after or after == current:
            continue
        ends.setdefault(current, event.at)
        overridden = event.kind == "phase_override" or (event.data or {}).get("override") is True
        starts.setdefault(after, (event.at, overridden))
        current = after
    spans: list[PhaseSpan] = []
    for phase in playbook.phases:
        start = starts.get(phase.key)
        end = ends.get(phase.key) or (incident.closed_at if start else None)
        spans.append(
            PhaseSpan(
                phase.key,
                phase.title,
                parallel=phase.opens is Opens.AT_DECLARE and phase.key != first,
                start=start[0] if start else None,
                end=end,
                overridden=start[1] if start else False,
            )
        )
    return spans


def checklist_outcome(playbook: Playbook, items: list[ChecklistItem]) -> list[PhaseChecklist]:
    out: list[PhaseChecklist] = []
    for phase in playbook.phases:
        mine = sorted((i for i in items if i.phase == phase.key), key=lambda i: i.position)
        outcomes = []
        for row in mine:
            try:
                title = playbook.item(row.item_key).title
            except KeyError:
                title = Text(row.item_key, row.item_key)
            outcomes.append(
                ItemOutcome(
                    phase=phase.key,
                    key=row.item_key,
                    title=title,
                    state=row.state,
                    required=row.required,
                    done_by=row.done_by,
                    done_at=row.done_at,
                    na_reason=row.na_reason,
                )
            )
        out.append(PhaseChecklist(phase.key, phase.title, tuple(outcomes)))
    return out


def role_spans(history: list[RoleAssignment], config: IncidentConfig) -> list[RoleSpan]:
    order = {key: i for i, key in enumerate(config.roles.keys())}
    spans = []
    for row in history:
        role = config.roles.get(row.role)
        name = role.name if role else Text(row.role, row.role)
        spans.append(RoleSpan(row.role, name, row.user_id, row.assigned_by, row.assumed_at, row.relieved_at))
    return sorted(spans, key=lambda s: (order.get(s.role, len(order)), s.assumed_at))


_Recorded = TypeVar("_Recorded", Notification, Decision, Evidence)


async def _of_incident(
    db: AsyncSession, model: type[_Recorded], incident_id: int, order: Any
) -> list[_Recorded]:
    """The incident's rows of one register, oldest (by ``order``) first."""
    stmt = select(model).where(model.incident_id == incident_id).order_by(col(order))
    return list((await db.execute(stmt)).scalars())


async def build(db: AsyncSession, incident: Incident, config: IncidentConfig, now: datetime) -> PostMortem:
    """Everything the post-mortem says, read in one session. Clocks are judged as of close (or now)."""
    assert incident.id is not None
    playbook = playbook_of(incident)
    as_of = incident.closed_at or now
    iid = incident.id
    items = await checklist.items_of(db, iid)
    notifications = await _of_incident(db, Notification, iid, Notification.sent_at)
    decisions = await _of_incident(db, Decision, iid, Decision.decided_at)
    evidence = await _of_incident(db, Evidence, iid, Evidence.recorded_at)
    actions = await action_items(db, iid)
    events = await timeline.events(db, incident.id)
    # The same rows, checked in memory: reading a long timeline twice was half the build's time.
    verification = timeline.verify_rows(events, timeline.keys_of(db), incident)
    return PostMortem(
        incident=incident,
        playbook=playbook,
        generated_at=now,
        as_of=as_of,
        roles=tuple(role_spans(await roster.history(db, incident.id), config)),
        phases=tuple(phase_spans(incident, playbook, events)),
        checklist=tuple(checklist_outcome(playbook, items)),
        clocks=tuple(clocks(incident, notifications, config.regimes, as_of, firm=await firm_facts.load(db))),
        notifications=tuple(notifications),
        decisions=tuple(decisions),
        evidence=tuple(evidence),
        actions=tuple(actions),
        events=tuple(events),
        verification=verification,
        notice_drafts=tuple((await drafts_of(db, [iid]))[iid]),
        category_names=config.regimes.category_names(),
    )
