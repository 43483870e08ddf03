"""The bot wired to the embedded sandbox workspace: the demo, drills and the tests all start here."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.runtime import Runtime
from bot.server import start_http
from bot.settings import load_settings
from incident.clock import FollowClock
from incident.config import IncidentConfig
from sandbox.server import DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET, Sandbox

SANDBOX_ROLES = Path(__file__).resolve().parent.parent / "sandbox" / "data" / "roles.yaml"
"""The sandbox workspace's own roles configuration: its seeded people as default holders.

The packaged ``incident/data/roles.yaml`` names nobody (a real workspace has none of these
ids); the embedded runs load this one unless told otherwise (``roles_file=`` or
``BREACHROOM_ROLES_FILE``)."""


@dataclass
class Embedded:
    sb: Sandbox
    rt: Runtime
    runner: web.AppRunner
    bot_url: str


@asynccontextmanager
async def embedded(
    database_url: str,
    *,
    host: str = "127.0.0.1",
    bot_port: int = 0,
    sandbox_port: int = 0,
    config: IncidentConfig | None = None,
    backoff_scale: float = 1.0,
    **settings: Any,
) -> AsyncIterator[Embedded]:
    """Start the sandbox workspace and the real bot (HTTP mode) pointed at it; stop both after.

    The bot's clock follows the sandbox's, so moving the workspace's time (tests, drills at
    speed) moves the bot's with it. The roles configuration is the sandbox's own
    (``SANDBOX_ROLES``) unless ``roles_file`` or ``BREACHROOM_ROLES_FILE`` names another.
    ``config``: the configuration already loaded from those files (the tests load it once per
    process; it is immutable), instead of reading and validating them again.
    ``backoff_scale``: the bot's back-off after a 5xx, in real seconds per second (a test whose
    sandbox scales its seconds scales this too).
    """
    if "roles_file" not in settings and not os.environ.get("BREACHROOM_ROLES_FILE"):
        settings["roles_file"] = SANDBOX_ROLES
    sb = await Sandbox.start(host=host, port=sandbox_port)
    try:
        bot_settings = load_settings(
            slack_bot_token=DEFAULT_BOT_TOKEN,
            slack_signing_secret=DEFAULT_SIGNING_SECRET,
            slack_api_url=sb.api_url,
            database_url=database_url,
            host=host,
            port=bot_port,
            **settings,
        )
        rt = Runtime(
            bot_settings, clock=FollowClock(sb.clock.now), config=config, backoff_scale=backoff_scale
        )
        await rt.start()
        try:
            runner, port = await start_http(rt, host, bot_port)
            sb.bot_url = f"http://{host}:{port}/slack/events"

            async def idle() -> None:
                await rt.idle(timeout=15.0)

            sb.idle_probe = idle
            try:
                yield Embedded(sb=sb, rt=rt, runner=runner, bot_url=sb.bot_url)
            finally:
                await runner.cleanup()
        finally:
            await rt.stop()
    finally:
        await sb.stop()
