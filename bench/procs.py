"""Starting and stopping benchmark targets as separate processes (the load generator must not
share their event loop)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def process(
    *args: str, ready: str | None = None, timeout: float = 60.0, env: dict[str, str] | None = None
) -> AsyncIterator[tuple[Any, str]]:
    """Run `python -m <args>`; yield (process, first stdout line) once it printed its ready line."""
    env = {**os.environ, "BREACHROOM_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout)).decode().strip()
        if not line or (ready and ready not in line):
            raise RuntimeError(f"{args[0]} did not start: {line!r}")
        yield proc, line
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def until_terminated() -> None:
    """Wait for the SIGTERM with which `process` stops a target."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


def parse(line: str) -> dict[str, Any]:
    return json.loads(line)
