"""How long a deadline is: ``30m``, ``24h``, ``72h``, ``30d``, ``14bd`` (business days)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from incident.i18n import Key, both
from incident.text import Text

_DURATION = re.compile(r"(\d{1,5})(m|h|d|bd)")
DurationUnit = Literal["m", "h", "d", "bd"]
# How a length reads ("72 小时", "72 h"): message keys, read when a reason quotes a deadline.
_UNIT_KEYS: Mapping[str, Key] = {
    "m": Key("regime.duration.m"),
    "h": Key("regime.duration.h"),
    "d": Key("regime.duration.d"),
    "bd": Key("regime.duration.bd"),
}


@dataclass(frozen=True, slots=True)
class Duration:
    """A deadline length: minutes, hours, calendar days, or business days (Mon–Fri)."""

    amount: int
    unit: DurationUnit

    @classmethod
    def parse(cls, value: str) -> Duration:
        match = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None or int(match.group(1)) == 0:
            raise ValueError(f"{value!r} is not a duration (use e.g. 30m, 24h, 72h, 30d, 4bd)")
        return cls(int(match.group(1)), match.group(2))  # type: ignore[arg-type]  # the regex admits only the four units

    def after(self, start: datetime) -> datetime:
        """The moment this long after ``start``. Business days skip Saturday and Sunday (in UTC)."""
        if self.unit == "bd":
            return add_business_days(start, self.amount)
        unit = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}[self.unit]
        return start + self.amount * unit

    def text(self) -> Text:
        return both(_UNIT_KEYS[self.unit], amount=self.amount)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def add_business_days(start: datetime, days: int) -> datetime:
    """``days`` working days after ``start``, same time of day; weekends don't count.

    A start on a weekend counts from the next Monday: Saturday + 1 business day is Monday.
    Public holidays are not skipped, so the result can only be early, never late.
    """
    result, left = start, days
    while left > 0:
        result += timedelta(days=1)
        if result.weekday() < 5:
            left -= 1
    return result
