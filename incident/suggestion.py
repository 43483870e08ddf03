"""The severity the facts call for, shown on the card, and accepting it in one click.

The matrix (``incident/severity.py``) only suggests; accepting is a manager's decision, recorded
as one (a ``Decision`` row and a ``decision`` event) with the severity change beside it, in one
transaction. The click names the level it saw: when the facts moved since, nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from incident.clocks import facts_of
from incident.errors import Conflict
from incident.lifecycle import AlreadyClosed
from incident.regimes import Regimes
from incident.roles_config import RolesConfig
from incident.roster import locked_for_manager
from incident.severity import Severity, suggest_severity
from incident.text import Text
from storage import timeline
from storage.db import Database
from storage.models import Decision, Incident

DECISION_KIND = "severity"


@dataclass(frozen=True)
class Suggestion:
    """The suggested level, the matrix's reasons, and the facts a person reads it by."""

    severity: Severity
    reasons: tuple[Text, ...]
    people_affected: int | None
    data_categories: tuple[Text, ...]  # their names in the regimes file
    encrypted: bool | None

    def differs_from(self, incident: Incident) -> bool:
        return incident.severity != self.severity


def suggest(incident: Incident, regimes: Regimes | None = None) -> Suggestion:
    """The matrix's level for the incident's facts; ``regimes`` names its data categories."""
    severity, reasons = suggest_severity(facts_of(incident))
    keys = sorted(incident.data_categories or ())
    return Suggestion(
        severity=severity,
        reasons=tuple(reasons),
        people_affected=incident.people_affected,
        data_categories=tuple(regimes.category_name(c) if regimes else Text(c, c) for c in keys),
        encrypted=incident.encrypted,
    )


class SuggestionChanged(Conflict):
    key = "dayone.suggest.changed"


@dataclass(frozen=True)
class Accepted:
    incident: Incident
    before: str
    changed: bool


async def accept(
    database: Database,
    incident_id: int,
    severity: str,
    *,
    actor: str,
    now: datetime,
    roles: RolesConfig,
    is_admin: bool = False,
) -> Accepted:
    """Set the severity to the suggestion `severity`, as a recorded decision.

    Refused (nothing written) for someone who may not manage, on a closed incident, and when the
    suggestion is no longer `severity` (the facts changed after the card was drawn). Accepting the
    severity the incident already has changes nothing.
    """
    async with database.transaction() as db:
        incident = await locked_for_manager(db, incident_id, actor, roles, is_admin=is_admin)
        if incident.status == "closed":
            raise AlreadyClosed(incident=incident.key)
        suggestion = suggest(incident)
        if suggestion.severity != severity:
            raise SuggestionChanged(key=incident.key, suggested=suggestion.severity)
        before = incident.severity
        if before == severity:
            return Accepted(incident, before, changed=False)
        incident.severity = severity
        why = "; ".join(r.en for r in suggestion.reasons)
        decision = Decision(
            incident_id=incident_id,
            kind=DECISION_KIND,
            text=f"Severity {before} → {severity}, as the severity matrix suggests",
            rationale=why,
            decided_by=actor,
            decided_at=now,
        )
        db.add(decision)
        await db.flush()
        await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="decision",
            summary=f"accepted the suggested severity {severity} ({before} before)",
            data={
                "decision_id": decision.id,
                "privileged": False,
                "text": decision.text,
                "rationale": why,
                "alternatives": "",
                "approver": None,
            },
            at=now,
        )
        await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="severity_changed",
            summary=f"{before} → {severity}",
            data={"before": before, "after": severity, "suggested": True, "decision_id": decision.id},
            at=now,
        )
    return Accepted(incident, before, changed=True)
