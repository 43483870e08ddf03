"""Where an obligation's clock stands, how long is left, and when to remind before it runs out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from incident.regimes.evaluation import Applicability
from incident.regimes.facts import InvalidFact

ClockState = Literal["open", "met", "late", "overdue", "unscheduled"]
MISSED_STATES: frozenset[ClockState] = frozenset({"late", "overdue"})

# Reminders before each regulatory deadline, and one at the deadline itself.
REMINDER_OFFSETS: tuple[tuple[str, timedelta], ...] = (
    ("T-24h", timedelta(hours=24)),
    ("T-4h", timedelta(hours=4)),
    ("T-1h", timedelta(hours=1)),
    ("overdue", timedelta(0)),
)


def clock_state(app: Applicability, notified_at: datetime | None, now: datetime) -> ClockState:
    """Where an obligation's clock stands.

    - ``met``: notified at or before the deadline (or notified while no deadline is known);
    - ``late``: notified after the deadline;
    - ``overdue``: not notified and the deadline has passed;
    - ``open``: not notified, deadline still ahead (the deadline instant itself is still open);
    - ``unscheduled``: not notified and no deadline (register only, clock start unknown,
      or the obligation does not apply).

    ``late`` and ``overdue`` are the two ways a deadline is missed (``MISSED_STATES``).
    """
    _require_aware("now", now)
    deadline = app.deadline_at
    if notified_at is not None:
        _require_aware("notified_at", notified_at)
        return "met" if deadline is None or notified_at <= deadline else "late"
    if deadline is None:
        return "unscheduled"
    return "overdue" if now > deadline else "open"


def is_missed(state: ClockState | str) -> bool:
    return state in MISSED_STATES


def time_left(deadline_at: datetime | None, now: datetime) -> timedelta | None:
    """Time until the deadline; negative once it has passed, None without a deadline."""
    return None if deadline_at is None else deadline_at - now


def reminder_times(deadline_at: datetime, now: datetime) -> list[tuple[str, datetime]]:
    """When to remind, as ``(label, at)``. Reminders already past are dropped, except
    ``overdue``: it is always returned (at the deadline), so a late schedule still fires it."""
    return [
        (label, deadline_at - offset)
        for label, offset in REMINDER_OFFSETS
        if label == "overdue" or deadline_at - offset >= now
    ]


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidFact(fact=name, value=repr(value))
