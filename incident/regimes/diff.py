"""How the obligations' verdicts moved when the facts did (for the incident timeline)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from incident.i18n import both
from incident.regimes.evaluation import Applicability, Status, status_label
from incident.regimes.model import Obligation, Regime
from incident.text import Text

ChangeKind = Literal["started", "stopped", "status_changed", "deadline_changed"]


@dataclass(frozen=True)
class Change:
    """How one obligation's verdict changed when the facts did."""

    regime: Regime
    obligation: Obligation
    kind: ChangeKind
    old_status: Status | None
    new_status: Status | None
    old_deadline_at: datetime | None
    new_deadline_at: datetime | None

    @property
    def regime_id(self) -> str:
        return self.regime.id

    @property
    def obligation_id(self) -> str:
        return self.obligation.id

    def describe(self) -> Text:
        name = both("regime.diff.name", regime=self.regime.name, recipient=self.obligation.recipient)
        old, new = _status_label(self.old_status), _status_label(self.new_status)
        if self.kind == "deadline_changed":
            was, now = _when(self.old_deadline_at), _when(self.new_deadline_at)
            return both("regime.diff.deadline_changed", name=name, old=was, new=now)
        if self.kind == "started" and self.new_deadline_at:
            return both("regime.diff.started_due", name=name, old=old, due=_when(self.new_deadline_at))
        if self.kind == "started":
            return both("regime.diff.started", name=name, old=old)
        if self.kind == "stopped":
            return both("regime.diff.stopped", name=name, new=new)
        return both("regime.diff.status_changed", name=name, old=old, new=new)


def diff(old: list[Applicability], new: list[Applicability]) -> list[Change]:
    """What changed between two evaluations: obligations that started or stopped applying,
    other status moves (unknown ↔ does not apply), and moved deadlines."""
    before = {a.id: a for a in old}
    after = {a.id: a for a in new}
    changes: list[Change] = []
    for key in dict.fromkeys([*after, *before]):
        was, now = before.get(key), after.get(key)
        found = now or was
        assert found is not None
        old_status, new_status = (was.status if was else None), (now.status if now else None)
        old_at, new_at = (was.deadline_at if was else None), (now.deadline_at if now else None)
        kind: ChangeKind | None = None
        if new_status == "applies" and old_status != "applies":
            kind = "started"
        elif old_status == "applies" and new_status != "applies":
            kind = "stopped"
        elif old_status != new_status:
            kind = "status_changed"
        elif old_at != new_at:
            kind = "deadline_changed"
        if kind is not None:
            changes.append(
                Change(found.regime, found.obligation, kind, old_status, new_status, old_at, new_at)
            )
    return changes


def _status_label(status: Status | None) -> Text:
    return status_label(status) if status else both("regime.status.not_evaluated")


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"
