"""The `breachroom` command line."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Sequence

from bot.settings import Settings, SettingsError, load_settings
from incident.reminders import CadenceError
from incident.yamlsource import ConfigError

log = logging.getLogger("breachroom")


def _fail(message: str, code: int = 2) -> int:
    print(f"breachroom: {message}", file=sys.stderr)
    return code


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def check_schema(settings: Settings) -> str | None:
    """None when the database is at the code's schema head, else a one-line reason."""
    from storage.db import Database
    from storage.migrate import current_revision, head_revision

    db = Database(settings.database_url)
    try:
        current = await current_revision(db.engine)
    except Exception as exc:
        return f"DATABASE_URL: cannot reach the database ({type(exc).__name__})"
    finally:
        await db.dispose()
    head = head_revision()
    if current != head:
        have = current or "nothing"
        return f"database schema is at {have}, this version needs {head}: run `breachroom migrate`"
    return None


def freeze_startup_heap() -> None:
    """Take what start-up built (modules, configuration, the app; some 150,000 objects) out of the
    garbage collector's full passes. It lives as long as the process, and each full pass walked
    all of it, about 0.1 s on a small machine, at moments nobody chooses: an ack's 3 seconds or a
    reminder's minute included."""
    gc.collect()
    gc.freeze()


async def _serve(settings: Settings, socket: bool, worker: bool = True) -> int:
    from bot.runtime import Runtime
    from bot.server import start_http

    rt = Runtime(settings, worker=worker)
    await rt.start()
    if not worker:
        log.info("front only (--no-worker): effects and reminders are delivered by `breachroom worker`")
    runner, port = await start_http(rt, settings.host, settings.port)
    freeze_startup_heap()
    handler = None
    if socket:
        handler = rt.socket_handler()
        await handler.connect_async()
        log.info("connected to Slack over Socket Mode; health on http://%s:%d/healthz", settings.host, port)
    else:
        log.info("serving Slack requests on http://%s:%d/slack/events", settings.host, port)
    await _stop_event().wait()
    log.info("stopping: finishing in-flight requests")
    if handler is not None:
        await handler.close_async()
    await runner.cleanup()
    await rt.stop()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.require("slack_bot_token", "slack_signing_secret")
    if args.socket:
        settings.require("slack_app_token")
    problem = asyncio.run(check_schema(settings))
    if problem:
        return _fail(problem)
    return asyncio.run(_serve(settings, args.socket, worker=not args.no_worker))


async def _worker(settings: Settings) -> int:
    from bot.runtime import Runtime

    rt = Runtime(settings, worker=True)
    await rt.start()
    freeze_startup_heap()
    log.info("delivering effects and reminders as %s", rt.engine.worker)
    await _stop_event().wait()
    log.info("stopping: finishing the delivery pass in progress")
    await rt.stop()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.require("slack_bot_token", "slack_signing_secret")
    problem = asyncio.run(check_schema(settings))
    if problem:
        return _fail(problem)
    return asyncio.run(_worker(settings))


def cmd_migrate(args: argparse.Namespace) -> int:
    from storage.migrate import upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    print("database schema is up to date")
    return 0


async def _verify(settings: Settings, key: str) -> int:
    """Recompute the chain, then compare it with the heads the bot posted in the incident's channel
    (when SLACK_BOT_TOKEN is set: they live in Slack, out of reach of the database)."""
    from handlers.anchors import check_posted
    from incident import lookup
    from storage import timeline
    from storage.db import Database

    db = Database(settings.database_url, timeline_keys=settings.timeline_keys())
    try:
        async with db.session() as session:
            incident = await lookup.by_key(session, key)
            assert incident.id is not None
            result = await timeline.verify(session, incident.id)
        heads = None
        if settings.slack_bot_token:
            from slack_sdk.web.async_client import AsyncWebClient

            client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
            heads = await check_posted(client, db, incident)
    finally:
        await db.dispose()
    if not result.ok:
        print(f"{incident.key}: timeline BROKEN at event #{result.first_bad_seq} ({result.reason})")
        return 1
    if heads is not None and heads.mismatches:
        for bad in heads.mismatches:
            posted = bad.posted
            found = "missing from the database" if bad.found is None else f"the database has {bad.found}"
            print(
                f"{incident.key}: posted head #{posted.seq} ({posted.posted_at.isoformat()}) DISAGREES: "
                f"posted {posted.head}, {found}"
            )
        return 1
    print(f"{incident.key}: timeline intact, {result.count} events, head {result.head}")
    if heads is None:
        print("posted heads not checked: set SLACK_BOT_TOKEN to compare with the heads posted in Slack")
    elif heads.unread:
        print(f"posted heads not checked: Slack said {heads.unread}")
    else:
        print(f"agrees with the {heads.checked} head(s) posted in the incident's channel")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from incident.errors import NotFound

    try:
        return asyncio.run(_verify(load_settings(), args.key))
    except NotFound:
        return _fail(f"no incident {args.key}", 1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="breachroom", description="Data-breach incident response in Slack.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve Slack (HTTP mode, or Socket Mode with --socket)")
    serve.add_argument("--socket", action="store_true", help="connect over Socket Mode with SLACK_APP_TOKEN")
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="answer Slack only; effects and reminders are delivered by `breachroom worker` processes",
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser(
        "worker", help="deliver effects and reminders from the database (beside `serve --no-worker`)"
    )
    worker.set_defaults(func=cmd_worker)

    migrate = sub.add_parser("migrate", help="upgrade the database schema to this version")
    migrate.set_defaults(func=cmd_migrate)

    verify = sub.add_parser("verify", help="check an incident's hash-chained timeline")
    verify.add_argument("key", help="incident key, e.g. BR-2026-0007")
    verify.set_defaults(func=cmd_verify, needs_schema=True)

    from bot.cli_commands import add_all

    add_all(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings_level = load_settings().log_level
    except SettingsError as exc:
        return _fail(str(exc))
    logging.basicConfig(level=settings_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("alembic", "apscheduler"):  # their INFO lines are noise in an operator's log
        logging.getLogger(chatty).setLevel(logging.WARNING)
    from bot import logs

    logs.install()
    try:
        if getattr(args, "needs_schema", False):
            # Commands that read or write the record refuse an old schema with one line, not a trace.
            problem = asyncio.run(check_schema(load_settings()))
            if problem:
                return _fail(problem)
        return int(args.func(args))
    except SettingsError as exc:
        return _fail(str(exc))
    except (ConfigError, CadenceError) as exc:
        # A firm's roles, playbooks, regimes or cadences that do not validate: say where, not a trace.
        return _fail(str(exc))


if __name__ == "__main__":
    sys.exit(main())
