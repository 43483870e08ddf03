"""A handler function with the app's Deps, as a tracked Bolt listener."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from handlers.deps import Deps


def listener(deps: Deps, func: Callable[..., Awaitable[Any]], **fixed: Any) -> Callable[..., Awaitable[Any]]:
    """`func(<what Bolt injects>, deps=deps, **fixed)` as a listener the tracker counts.

    Bolt passes a listener the arguments it names (`ack`, `body`, `view`, `client`, `respond`,
    `event`), read from the unwrapped callable: a partial that fixes `deps` (and `fixed`) by
    keyword names just the ones before them, so `func` gets what it asks for and `deps`.
    A failure reaches the one error handler (handlers/errors.py)."""
    return deps.tracker.wrap(functools.partial(func, deps=deps, **fixed))
