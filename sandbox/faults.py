"""Things going wrong on Slack's side: injected faults and rate-limit tiers."""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field

from sandbox.clock import Clock

FAULT_KINDS = ("server_error", "timeout", "ratelimited")


@dataclass
class Fault:
    """One injected failure rule.

    kind: "server_error" (HTTP `status`, 500 by default, like Slack's edge),
    "timeout" (the answer comes after `delay` seconds; the call still takes effect, as
    when a request reached Slack but the client gave up), "ratelimited" (HTTP 429 with
    Retry-After `retry_after`), or "error:<code>" (HTTP 200 with ok=false, error=code).
    times: the next N matching calls fail (None with a rate means unlimited).
    rate: the probability each matching call fails, from a seeded RNG.
    """

    method: str | None
    kind: str
    times: int | None = 1
    rate: float | None = None
    delay: float = 35.0
    status: int = 500
    retry_after: float = 1
    fired: int = 0

    @property
    def error_code(self) -> str | None:
        return self.kind.split(":", 1)[1] if self.kind.startswith("error:") else None

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times


@dataclass
class Faults:
    seed: int = 1234
    rules: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def add(
        self,
        method: str | None = None,
        kind: str = "server_error",
        times: int | None = 1,
        rate: float | None = None,
        delay: float = 35.0,
        status: int = 500,
        retry_after: float = 1,
    ) -> Fault:
        """Make calls to `method` (None: any method) fail; see `Fault` for the kinds."""
        if kind not in FAULT_KINDS and not kind.startswith("error:"):
            raise ValueError(f"unknown fault kind {kind!r}")
        if rate is not None and times == 1:
            times = None
        rule = Fault(method, kind, times, rate, delay, status, retry_after)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()
        self._rng = random.Random(self.seed)

    def take(self, method: str) -> Fault | None:
        """The fault this call suffers, if any; counts it as fired."""
        for rule in self.rules:
            if rule.spent or (rule.method is not None and rule.method != method):
                continue
            if rule.rate is not None and self._rng.random() >= rule.rate:
                continue
            rule.fired += 1
            return rule
        return None


# Slack's published tiers (calls per minute) for the methods the sandbox answers.
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
METHOD_TIERS: dict[str, int] = {
    "apps.connections.open": 1,
    "conversations.create": 2,
    "conversations.archive": 2,
    "conversations.setTopic": 2,
    "conversations.setPurpose": 2,
    "conversations.list": 2,
    "users.list": 2,
    "usergroups.list": 2,
    "usergroups.users.list": 2,
    "pins.add": 2,
    "pins.list": 2,
    "bookmarks.add": 2,
    "conversations.invite": 3,
    "conversations.info": 3,
    "conversations.history": 3,
    "conversations.open": 3,
    "conversations.join": 3,
    "chat.update": 3,
    "reactions.add": 3,
    "users.lookupByEmail": 3,
    "conversations.members": 4,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "auth.test": 4,
    "users.info": 4,
    "views.open": 4,
    "views.update": 4,
    "views.push": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
}


class RateLimiter:
    """Slack's limits: per-method tiers over a minute, and ~1 message a second per channel.

    chat.postMessage gets a token bucket per channel (`post_burst` messages, refilled at
    one a second), which is how Slack tolerates short bursts.

    `scale` is how many real seconds one of Slack's seconds lasts: 1.0 is Slack itself (the demo,
    drills); the tests use a small one, so a burst is still refused exactly as Slack would refuse
    it, but the wait it asks for is tens of milliseconds instead of seconds.
    """

    def __init__(self, clock: Clock, post_burst: int = 3, scale: float = 1.0) -> None:
        self.clock = clock
        self.post_burst = post_burst
        self._windows: dict[str, deque[float]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}
        self.scale = scale

    @property
    def scale(self) -> float:
        return self._scale

    @scale.setter
    def scale(self, value: float) -> None:
        if value <= 0:
            raise ValueError("the rate-limit scale must be positive")
        # What was counted was counted in the old seconds: start afresh rather than mix them.
        self._scale = float(value)
        self.reset()

    def reset(self) -> None:
        self._windows.clear()
        self._buckets.clear()

    def _slack_now(self) -> float:
        return self.clock.now() / self.scale

    def retry_after(self, method: str, channel: str | None) -> float | None:
        """Real seconds to wait if this call is over the limit, else None (and the call counts).

        Slack asks for whole seconds; scaled, that is `scale` times as many real seconds."""
        now = self._slack_now()
        if method == "chat.postMessage":
            key = channel or "-"
            tokens, last = self._buckets.get(key, (float(self.post_burst), now))
            tokens = min(float(self.post_burst), tokens + (now - last))
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return max(1, math.ceil(1.0 - tokens)) * self.scale
            self._buckets[key] = (tokens - 1.0, now)
            return None
        limit = TIER_PER_MINUTE[METHOD_TIERS.get(method, 3)]
        window = self._windows.setdefault(method, deque())
        while window and window[0] <= now - 60.0:
            window.popleft()
        if len(window) >= limit:
            return max(1, math.ceil(window[0] + 60.0 - now)) * self.scale
        window.append(now)
        return None


def retry_after_header(seconds: float) -> str:
    """Slack's Retry-After is whole seconds; a scaled wait is a decimal number of them."""
    if seconds == int(seconds):
        return str(int(seconds))
    return f"{seconds:.3f}".rstrip("0").rstrip(".")
