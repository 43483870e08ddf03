"""Everything the incident card shows, read from the database in one go."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from incident import firm_facts, roster
from incident.clocks import DECLINED, NO_NOTIFY, ClockView, clocks
from incident.config import IncidentConfig
from incident.coverage import uncovered_names
from incident.playbook import Playbook
from incident.roles_config import COMMANDER
from incident.skips import Skip, declarer_commands, skipped
from incident.suggestion import Suggestion, suggest
from incident.text import Text
from storage import outbox
from storage.models import ChecklistItem, Decision, Incident, Notification

SETUP_STEPS = ("channel", "invites", "topic", "card", "pin", "checklists", "announcement", "role_dms")


@dataclass(frozen=True)
class PhaseProgress:
    key: str
    title: Text
    done: int
    total: int
    open: bool
    current: bool


@dataclass(frozen=True)
class ClockGlance:
    """The clocks as a commander reads them: those that apply (most urgent first) and those acted
    on, one by one; the ones that only may apply, counted, with the facts that would decide them."""

    shown: list[ClockView]
    may_apply: list[ClockView]
    missing_facts: list[str]


# Overdue first, then by deadline; a clock already met or declined last.
_URGENCY = {"overdue": 0, "open": 1, "unscheduled": 2, "late": 3, "met": 4, DECLINED: 5}


def glance(views: list[ClockView]) -> ClockGlance:
    acted = {"met", "late", DECLINED}
    shown = [v for v in views if v.applicability.status == "applies" or v.state in acted]
    shown.sort(key=lambda v: (_URGENCY.get(v.state, 2), v.deadline_at is None, v.deadline_at or 0))
    may_apply = [v for v in views if v not in shown]
    missing = [f for v in may_apply for f in v.applicability.missing_facts]
    return ClockGlance(shown=shown, may_apply=may_apply, missing_facts=list(dict.fromkeys(missing)))


@dataclass(frozen=True)
class Overview:
    incident: Incident
    holders: dict[str, str]
    phases: list[PhaseProgress]
    clocks: list[ClockView]
    pending_setup: list[str] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    suggestion: Suggestion | None = None
    # Effects for this incident that Slack kept refusing (storage/outbox.py): the view may be stale.
    undelivered: int = 0
    # The incident's jurisdictions no regime of the loaded file covers (incident/coverage.py).
    uncovered: list[Text] = field(default_factory=list)

    @property
    def clock_glance(self) -> ClockGlance:
        return glance(self.clocks)

    @property
    def declarer_in_command(self) -> bool:
        """The declarer took command for want of a default commander, and still holds it."""
        inc = self.incident
        return declarer_commands(inc) and self.holders.get(COMMANDER) == inc.declared_by


def playbook_of(incident: Incident) -> Playbook:
    """The incident's own copy of its playbook, as it was at declaration."""
    assert incident.playbook_snapshot is not None
    return Playbook.from_dict(incident.playbook_snapshot)


def phases_before(incident: Incident, playbook: Playbook) -> list[str]:
    """Keys of the phases the incident has moved past (the playbook's order up to its current phase)."""
    keys = [phase.key for phase in playbook.phases]
    if incident.phase not in keys:
        return []
    return keys[: keys.index(incident.phase)]


def open_phase_keys(incident: Incident, playbook: Playbook) -> list[str]:
    """Phases whose checklists are out: ``Playbook.open_phases`` with every phase before the current one
    counted as completed, so there is one definition of "open" (at_declare phases from the start,
    after_previous ones as the current phase reaches them)."""
    return [phase.key for phase in playbook.open_phases(phases_before(incident, playbook))]


def pending_setup(incident: Incident) -> list[str]:
    done = incident.setup or {}
    return [step for step in SETUP_STEPS if not done.get(step)]


async def overview(db: AsyncSession, incident: Incident, config: IncidentConfig, now: datetime) -> Overview:
    assert incident.id is not None
    playbook = playbook_of(incident)
    items = list(
        (await db.execute(select(ChecklistItem).where(ChecklistItem.incident_id == incident.id))).scalars()
    )
    notifications = list(
        (await db.execute(select(Notification).where(Notification.incident_id == incident.id))).scalars()
    )
    declined = list(
        (
            await db.execute(
                select(Decision).where(Decision.incident_id == incident.id, Decision.kind == NO_NOTIFY)
            )
        ).scalars()
    )
    open_keys = set(open_phase_keys(incident, playbook))
    phases = []
    for phase in playbook.phases:
        mine = [i for i in items if i.phase == phase.key]
        phases.append(
            PhaseProgress(
                key=phase.key,
                title=phase.title,
                done=sum(1 for i in mine if i.state != "open"),
                total=len(mine),
                open=phase.key in open_keys,
                current=phase.key == incident.phase,
            )
        )
    return Overview(
        incident=incident,
        holders=await roster.current(db, incident.id),
        phases=phases,
        clocks=clocks(incident, notifications, config.regimes, now, declined, await firm_facts.load(db)),
        uncovered=uncovered_names(incident.jurisdictions, config.regimes),
        pending_setup=pending_setup(incident),
        skipped=skipped(incident),
        suggestion=suggest(incident, config.regimes),
        undelivered=await outbox.dead_count(db, incident.id),
    )
