"""The report as figures, from the database alone; renderers only lay them out."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from incident.config import IncidentConfig
from incident.register import RegisterRow, rows
from storage.models import ActionItem, Decision, Incident

PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime
    end: datetime

    @classmethod
    def parse(cls, text: str) -> Period:
        """`2026-Q4`, `2026-11` or `2026`."""
        match = PERIOD.match(text.strip().upper())
        if not match:
            raise ValueError(f"bad period {text!r}: use 2026-Q4, 2026-11 or 2026")
        year = int(match["year"])
        if match["quarter"]:
            q = int(match["quarter"])
            start = datetime(year, 3 * q - 2, 1, tzinfo=UTC)
            end = datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=UTC)
            return cls(f"{year}-Q{q}", start, end)
        if match["month"]:
            m = int(match["month"])
            return cls(
                f"{year}-{m:02d}",
                datetime(year, m, 1, tzinfo=UTC),
                datetime(year + (m == 12), 1 if m == 12 else m + 1, 1, tzinfo=UTC),
            )
        return cls(str(year), datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC))

    def previous(self) -> Period:
        if "-Q" in self.label:
            year, q = int(self.label[:4]), int(self.label[-1])
            return Period.parse(f"{year - 1}-Q4" if q == 1 else f"{year}-Q{q - 1}")
        if "-" in self.label:
            year, m = int(self.label[:4]), int(self.label[5:])
            return Period.parse(f"{year - 1}-12" if m == 1 else f"{year}-{m - 1:02d}")
        return Period.parse(str(int(self.label) - 1))

    @classmethod
    def containing(cls, at: datetime, kind: str) -> Period:
        """The month or quarter `at` falls in."""
        if kind == "monthly":
            return cls.parse(f"{at.year}-{at.month:02d}")
        return cls.parse(f"{at.year}-Q{(at.month - 1) // 3 + 1}")


@dataclass(frozen=True)
class Spread:
    """Median and worst of a set of durations in seconds (None when there are none)."""

    count: int
    median: float | None
    worst: float | None

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        if not values:
            return cls(0, None, None)
        return cls(len(values), statistics.median(values), max(values))


@dataclass(frozen=True)
class Figures:
    incidents: int
    by_severity: dict[str, int]
    by_category: dict[str, int]
    to_declare: Spread
    to_contain: Spread
    to_notify: Spread
    to_resolve: Spread
    clocks: int
    clocks_met: int

    @property
    def met_rate(self) -> float | None:
        return self.clocks_met / self.clocks if self.clocks else None


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def figures(register: list[RegisterRow]) -> Figures:
    """Real incidents only: drills are reported apart and never count in the metrics."""
    real = [r for r in register if not r.drill]
    to_declare: list[float] = []
    to_contain: list[float] = []
    to_notify: list[float] = []
    to_resolve: list[float] = []
    clocks = met = 0
    for r in real:
        for value, bucket in (
            (_seconds(r.discovered_at, r.declared_at), to_declare),
            (_seconds(r.discovered_at, r.contained_at), to_contain),
            (_seconds(r.declared_at, r.resolved_at), to_resolve),
        ):
            if value is not None:
                bucket.append(value)
        for d in r.decisions:
            if d.decision == "notified":
                value = _seconds(r.discovered_at, d.at)
                if value is not None:
                    to_notify.append(value)
            if d.clock in ("met", "late", "overdue"):
                clocks += 1
                met += d.clock == "met"
    return Figures(
        incidents=len(real),
        by_severity=dict(sorted(Counter(r.severity for r in real).items())),
        by_category=dict(sorted(Counter(c for r in real for c in r.data_categories).items())),
        to_declare=Spread.of(to_declare),
        to_contain=Spread.of(to_contain),
        to_notify=Spread.of(to_notify),
        to_resolve=Spread.of(to_resolve),
        clocks=clocks,
        clocks_met=met,
    )


@dataclass(frozen=True)
class Drill:
    key: str
    title: str
    declared_at: datetime
    to_contain: float | None
    clocks_met: int
    clocks_missed: int
    closed: bool


@dataclass(frozen=True)
class FollowUp:
    key: str
    text: str
    owner: str | None
    due_at: datetime | None
    category: str
    overdue: bool


@dataclass(frozen=True)
class Decided:
    key: str
    regime: str | None
    text: str
    rationale: str
    decided_by: str
    privileged: bool


@dataclass
class Report:
    period: Period
    generated_at: datetime
    current: Figures
    previous: Figures
    register: list[RegisterRow]
    drills: list[Drill]
    open_actions: list[FollowUp]
    policy_changes: int
    training_changes: int
    lessons: list[tuple[str, str]]
    decisions: list[Decided] = field(default_factory=list)

    @property
    def overdue_actions(self) -> list[FollowUp]:
        return [a for a in self.open_actions if a.overdue]


async def build(db: AsyncSession, config: IncidentConfig, period: Period, now: datetime) -> Report:
    current = await rows(db, config, start=period.start, end=period.end, now=now)
    prev_period = period.previous()
    previous = await rows(db, config, start=prev_period.start, end=prev_period.end, now=now)
    keys = {r.key: r for r in current}
    incidents = (
        {
            i.id: i
            for i in (await db.execute(select(Incident).where(col(Incident.key).in_(list(keys))))).scalars()
        }
        if keys
        else {}
    )
    actions = list(
        (
            await db.execute(
                select(ActionItem).where(ActionItem.status == "open").order_by(col(ActionItem.due_at))
            )
        ).scalars()
    )
    all_keys = {i.id: i.key for i in (await db.execute(select(Incident.id, Incident.key))).all()}
    in_period = list(
        (
            await db.execute(
                select(ActionItem).where(
                    ActionItem.created_at >= period.start, ActionItem.created_at < period.end
                )
            )
        ).scalars()
    )
    decisions = (
        list(
            (
                await db.execute(
                    select(Decision)
                    .where(col(Decision.incident_id).in_(list(incidents)))
                    .order_by(col(Decision.decided_at))
                )
            ).scalars()
        )
        if incidents
        else []
    )
    return Report(
        period=period,
        generated_at=now,
        current=figures(current),
        previous=figures(previous),
        register=current,
        drills=[
            Drill(
                r.key,
                r.title,
                r.declared_at,
                _seconds(r.discovered_at, r.contained_at),
                r.clocks_met,
                r.clocks_missed,
                r.closed_at is not None,
            )
            for r in current
            if r.drill
        ],
        open_actions=[
            FollowUp(
                all_keys.get(a.incident_id, "?"),
                a.text,
                a.owner,
                a.due_at,
                a.category,
                bool(a.due_at and a.due_at < now),
            )
            for a in actions
        ],
        policy_changes=sum(1 for a in in_period if a.category == "policy"),
        training_changes=sum(1 for a in in_period if a.category == "training"),
        lessons=[(i.key, i.lessons) for i in incidents.values() if i.lessons and not i.is_drill],
        decisions=[
            Decided(
                all_keys.get(d.incident_id, "?"), d.regime, d.text, d.rationale, d.decided_by, d.privileged
            )
            for d in decisions
        ],
    )
