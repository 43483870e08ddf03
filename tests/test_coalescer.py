"""Concurrent re-render requests fold into one more run; nobody returns before their change shows."""

from __future__ import annotations

import asyncio

import pytest

from handlers.tracking import Coalescer


async def test_a_burst_renders_twice_and_every_caller_sees_a_later_run() -> None:
    coalescer = Coalescer()
    state = {"version": 0}
    runs: list[int] = []  # the version each run saw
    gate = asyncio.Event()

    async def render() -> None:
        seen = state["version"]
        await gate.wait()
        runs.append(seen)

    async def change_then_render(version: int) -> int:
        state["version"] = version
        await coalescer.run("incident-1", render)
        return runs[-1]

    first = asyncio.create_task(change_then_render(1))
    await asyncio.sleep(0)
    others = [asyncio.create_task(change_then_render(v)) for v in range(2, 11)]
    await asyncio.sleep(0)
    gate.set()
    seen = await asyncio.gather(first, *others)
    assert len(runs) == 2  # one for the first request, one for the nine that arrived meanwhile
    assert all(s >= v for s, v in zip(seen, range(1, 11), strict=True))  # each saw its own change
    assert runs[-1] == 10


async def test_keys_are_independent_and_a_failure_reaches_the_waiters() -> None:
    coalescer = Coalescer()
    calls: list[str] = []

    async def ok() -> None:
        calls.append("ok")

    async def boom() -> None:
        await asyncio.sleep(0.01)
        raise RuntimeError("slack down")

    failing = asyncio.create_task(coalescer.run("a", boom))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(coalescer.run("a", ok))
    await coalescer.run("b", ok)
    with pytest.raises(RuntimeError):
        await failing
    with pytest.raises(RuntimeError):
        await waiter
    await coalescer.run("a", ok)  # the key is free again after a failure
    assert calls == ["ok", "ok"]
