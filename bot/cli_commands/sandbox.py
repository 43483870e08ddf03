"""`breachroom sandbox`: the bot and a local Slack workspace together, no Slack app needed."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from bot.settings import load_settings


async def _run(args: argparse.Namespace) -> int:
    from bot.embedded import embedded

    settings = load_settings()
    async with embedded(
        args.database_url or settings.database_url,
        host=args.host,
        bot_port=args.port,
        sandbox_port=args.sandbox_port,
        locale=settings.locale,
    ) as env:
        print(f'Breachroom is running against the sandbox workspace "{env.sb.workspace.team_name}".')
        print(f"  Sandbox workspace (open this): {env.sb.url}/")
        print(f"  Bot endpoint:                  {env.bot_url}")
        print(f"  Health:                        {env.bot_url.removesuffix('/slack/events')}/healthz")
        print("Press Ctrl+C to stop.", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from storage.migrate import upgrade

    settings = load_settings()
    # The embedded workspace is a single process on its own database: it migrates itself.
    upgrade(args.database_url or settings.database_url)
    try:
        return asyncio.run(_run(args))
    except OSError as exc:
        print(f"breachroom: cannot start the sandbox: {exc}", file=sys.stderr)
        return 2


def add(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sandbox", help="run the bot with a local Slack workspace (no Slack app needed)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3000, help="the bot's port (default 3000)")
    parser.add_argument("--sandbox-port", type=int, default=3001, help="the workspace's port (default 3001)")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL or ./var/breachroom.db")
    parser.set_defaults(func=cmd_sandbox)
