"""How the obligations' verdicts moved when the facts did (for the incident timeline)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from incident.regimes.evaluation import STATUS_LABELS, Applicability, Status
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
        name = Text(
            f"{self.regime.name.zh_CN}——{self.obligation.recipient.zh_CN}",
            f"{self.regime.name.en} — {self.obligation.recipient.en}",
        )
        old, new = _status_label(self.old_status), _status_label(self.new_status)
        if self.kind == "deadline_changed":
            return Text(
                f"{name.zh_CN}：截止时间 {_when(self.old_deadline_at)} → {_when(self.new_deadline_at)}",
                f"{name.en}: deadline {_when(self.old_deadline_at)} → {_when(self.new_deadline_at)}",
            )
        due = Text(
            f"，截止 {_when(self.new_deadline_at)}" if self.new_deadline_at else "",
            f", due {_when(self.new_deadline_at)}" if self.new_deadline_at else "",
        )
        if self.kind == "started":
            return Text(
                f"{name.zh_CN}：现已适用（此前：{old.zh_CN}）{due.zh_CN}",
                f"{name.en} now applies (was: {old.en}){due.en}",
            )
        if self.kind == "stopped":
            return Text(
                f"{name.zh_CN}：不再适用（现为：{new.zh_CN}）", f"{name.en} no longer applies (now: {new.en})"
            )
        return Text(f"{name.zh_CN}：{old.zh_CN} → {new.zh_CN}", f"{name.en}: {old.en} → {new.en}")


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
    return STATUS_LABELS[status] if status else Text("未评估", "not evaluated")


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"
