"""Time is injected so tests move it instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (tests, drills at simulated speed)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = (start or datetime.now(UTC)).astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        self._now += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)


class FollowClock:
    """Follows another clock given as epoch seconds, e.g. the sandbox workspace's clock, so that
    the bot and its simulated Slack agree on what time it is when a test or drill moves time."""

    def __init__(self, now_seconds: Callable[[], float]) -> None:
        self._source = now_seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._source(), tz=UTC)
