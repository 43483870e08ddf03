"""Counts the work a listener does after its ack, so shutdown and tests can wait for it to finish.

Bolt acks first and runs the rest of a listener in a background task (DESIGN.md, "ack first");
that task is invisible to the HTTP server, so a graceful stop would cut it off mid-way.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class InFlight:
    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        return self._count

    def enter(self) -> None:
        self._count += 1
        self._idle.clear()

    def leave(self) -> None:
        self._count -= 1
        if self._count == 0:
            self._idle.set()

    def wrap(self, func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """Wrap a listener; functools.wraps keeps the argument names Bolt injects by."""

        @functools.wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            self.enter()
            try:
                return await func(*args, **kwargs)
            finally:
                self.leave()

        return wrapper

    async def wait_idle(self, timeout: float | None = None) -> bool:
        """True when nothing is running (after yielding so just-scheduled tasks can start)."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            await asyncio.sleep(0)
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                await asyncio.wait_for(self._idle.wait(), remaining)
            except TimeoutError:
                return False
            # Give tasks spawned by the finished ones a turn, then confirm we are still idle.
            await asyncio.sleep(0.01)
            if self._count == 0:
                return True

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run background work that belongs to no listener, still counted."""

        async def run() -> Any:
            try:
                return await coro
            finally:
                self.leave()

        self.enter()
        return asyncio.ensure_future(run())
