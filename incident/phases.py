"""Moving an incident through its playbook's phases, with a gate on required items.

The incident walks the playbook's phases in order; ``at_declare`` phases are open from the
start but are still walked through, so every phase's required items are checked when the
incident leaves it. A manager (commander, deputy, admin) may override the gate with a reason,
which is recorded as a decision. Every move logs ``phase_advanced`` with from/to: the
post-mortem computes phase durations from these events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from incident import checklist, lookup, roster
from incident.errors import Conflict, Invalid
from incident.limits import Field, limit
from incident.overview import open_phase_keys, playbook_of
from incident.playbook import Phase, Playbook
from incident.redact import scrub, with_counts
from incident.roles_config import RolesConfig
from storage import timeline
from storage.db import Database
from storage.models import ChecklistItem, Decision, Incident

REASON_MAX = limit(Field.REASON)


class Move(StrEnum):
    ADVANCED = "advanced"
    BLOCKED = "blocked"  # required items of the current phase are open; nothing changed
    COMPLETE = "complete"  # already in the last phase; there is no next one


@dataclass(frozen=True)
class PhaseMove:
    move: Move
    incident: Incident
    from_phase: str
    to_phase: str | None = None
    blocking: list[ChecklistItem] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    overridden: bool = False
    decision_id: int | None = None
    reason: str | None = None


def current_index(incident: Incident, playbook: Playbook) -> int:
    keys = [phase.key for phase in playbook.phases]
    return keys.index(incident.phase) if incident.phase in keys else 0


def current_phase(incident: Incident, playbook: Playbook) -> Phase:
    return playbook.phases[current_index(incident, playbook)]


def next_phase(incident: Incident, playbook: Playbook) -> Phase | None:
    index = current_index(incident, playbook) + 1
    return playbook.phases[index] if index < len(playbook.phases) else None


async def advance(
    database: Database,
    incident_id: int,
    *,
    actor: str,
    now: datetime,
    roles: RolesConfig,
    override_reason: str | None = None,
    is_admin: bool = False,
    expected_from: str | None = None,
    redact_on: bool = True,
) -> PhaseMove:
    """Move to the next phase if the current one's required items are all done or N/A.

    With ``override_reason`` a manager moves on regardless; the open items and the reason go on
    record as a ``phase_override`` decision. ``expected_from`` (the phase the person saw) turns a
    repeated request into a ``Conflict`` instead of skipping a phase.
    """
    if override_reason is not None and len(override_reason) > REASON_MAX:
        raise Invalid("checklist.error.too_long", limit=REASON_MAX)
    clean = scrub(Field.REASON, override_reason, enabled=redact_on) if override_reason is not None else None
    reason = clean.text if clean is not None else None
    if reason is not None and not reason:
        raise Invalid("phase.error.reason_required")
    async with database.transaction() as db:
        incident = await lookup.locked(db, Incident, incident_id)
        if incident.status == "closed":
            raise Invalid("phase.error.closed", key=incident.key)
        playbook = playbook_of(incident)
        here = current_phase(incident, playbook)
        if expected_from is not None and expected_from != here.key:
            raise Conflict("phase.error.moved", phase=here.title.get(incident.locale))
        following = next_phase(incident, playbook)
        blocking = checklist.open_required(await checklist.items_of(db, incident_id, here.key))
        if following is None:
            return PhaseMove(Move.COMPLETE, incident, here.key, blocking=blocking)
        if blocking and reason is None:
            return PhaseMove(Move.BLOCKED, incident, here.key, following.key, blocking=blocking)
        if reason is not None:
            holders = await roster.current(db, incident_id)
            roster.require_manage(holders, actor, roles, is_admin=is_admin)
        before_open = open_phase_keys(incident, playbook)
        incident.phase = following.key
        opened = [key for key in open_phase_keys(incident, playbook) if key not in before_open]
        decision_id = None
        if reason is not None:
            open_keys = [item.item_key for item in blocking]
            decision = Decision(
                incident_id=incident_id,
                kind="phase_override",
                text=f"{here.key} → {following.key} with {len(blocking)} required item(s) open: "
                + (", ".join(open_keys) or "—"),
                rationale=reason,
                decided_by=actor,
                decided_at=now,
            )
            db.add(decision)
            await db.flush()
            decision_id = decision.id
            await timeline.append(
                db,
                incident_id,
                actor=actor,
                kind="phase_override",
                summary=f"{here.key} → {following.key} (override): {reason}",
                data={
                    "from": here.key,
                    "to": following.key,
                    "open_items": open_keys,
                    "reason": reason,
                    "decision_id": decision_id,
                }
                | (with_counts({}, clean) if clean is not None else {}),
                at=now,
            )
        await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="phase_advanced",
            announce=True,
            summary=f"{here.key} → {following.key}",
            data={"from": here.key, "to": following.key, "override": reason is not None, "opened": opened}
            # The channel's line about an override names how many required items it skipped, and why.
            | ({"skipped": len(blocking), "reason": reason} if reason is not None else {}),
            at=now,
        )
        return PhaseMove(
            Move.ADVANCED,
            incident,
            here.key,
            following.key,
            blocking=blocking,
            opened=opened,
            overridden=reason is not None,
            decision_id=decision_id,
            reason=reason,
        )


@dataclass(frozen=True)
class PhaseStatus:
    phase: Phase
    done: int
    total: int
    open_required: int
    is_open: bool
    current: bool
    passed: bool


async def status(database: Database, incident_id: int) -> tuple[Incident, list[PhaseStatus]]:
    """Every phase with its progress, whether it is open, current, or already passed."""
    async with database.session() as db:
        incident = await lookup.row(db, Incident, incident_id)
        items = await checklist.items_of(db, incident_id)
    playbook = playbook_of(incident)
    open_keys = set(open_phase_keys(incident, playbook))
    index = current_index(incident, playbook)
    result = []
    for position, phase in enumerate(playbook.phases):
        mine = [i for i in items if i.phase == phase.key]
        result.append(
            PhaseStatus(
                phase=phase,
                done=sum(1 for i in mine if i.state != checklist.OPEN),
                total=len(mine),
                open_required=len(checklist.open_required(mine)),
                is_open=phase.key in open_keys,
                current=position == index,
                passed=position < index,
            )
        )
    return incident, result
