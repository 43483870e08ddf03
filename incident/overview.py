"""Everything the incident card shows, read from the database in one go."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from incident import roster
from incident.clocks import NO_NOTIFY, ClockView, clocks
from incident.config import IncidentConfig
from incident.playbook import Playbook
from incident.text import Text
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
class Overview:
    incident: Incident
    holders: dict[str, str]
    phases: list[PhaseProgress]
    clocks: list[ClockView]
    pending_setup: list[str] = field(default_factory=list)


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
        clocks=clocks(incident, notifications, config.regimes, now, declined),
        pending_setup=pending_setup(incident),
    )
