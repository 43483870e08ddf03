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


class Coalescer:
    """Runs one re-render per key at a time and folds the requests that arrive meanwhile into
    one more run, so a burst of clicks re-renders twice, not once per click.

    Every caller returns only after a run that started after its call has finished, so what it
    changed in the database is on screen when it returns.
    """

    def __init__(self) -> None:
        self._running: dict[Any, asyncio.Future[None]] = {}
        self._again: set[Any] = set()

    async def run(
        self,
        key: Any,
        render: Callable[[], Awaitable[None]],
        again: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`again`, if given, is what the folded-in run does (e.g. a wider render covering every
        request that arrived); otherwise `render` runs again."""
        running = self._running.get(key)
        if running is not None:
            self._again.add(key)
            await asyncio.shield(running)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            step = render
            while True:
                self._again.discard(key)
                await step()
                if key not in self._again:
                    break
                step = again or render
            future.set_result(None)
        except BaseException as exc:
            future.set_exception(exc)
            # Waiters see the failure too; don't leave it "never retrieved" when nobody waited.
            future.exception()
            raise
        finally:
            self._running.pop(key, None)
            self._again.discard(key)
