"""`breachroom register` (the breach register export) and `breachroom report` (the periodic
security report, in both languages, internal and client-facing)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from bot.cli_commands import write_output
from bot.settings import load_settings


def _day(text: str) -> datetime:
    return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)


async def _register(args: argparse.Namespace) -> str:
    from incident import register
    from incident.clock import SystemClock
    from incident.config import load_config
    from storage.db import Database

    settings = load_settings()
    config = load_config(settings.roles_file, settings.playbook_dir, settings.regimes_file)
    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            rows = await register.rows(
                session,
                config,
                start=_day(args.from_) if args.from_ else None,
                end=_day(args.to) if args.to else None,
                now=SystemClock().now(),
            )
    finally:
        await db.dispose()
    if args.format == "md":
        return register.to_markdown(rows, args.locale or settings.locale)
    return register.FORMATS[args.format](rows)


def cmd_register(args: argparse.Namespace) -> int:
    write_output(asyncio.run(_register(args)), args.out, f"wrote {args.out}")
    return 0


async def build_report(period_text: str, now: datetime | None = None):
    from incident.clock import SystemClock
    from incident.config import load_config
    from incident.report.model import Period, build
    from storage.db import Database

    settings = load_settings()
    config = load_config(settings.roles_file, settings.playbook_dir, settings.regimes_file)
    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            return await build(session, config, Period.parse(period_text), now or SystemClock().now())
    finally:
        await db.dispose()


def write_report(report, out: Path, audiences: list[str], formats: list[str]) -> list[Path]:
    from incident.report import html, markdown

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for audience in audiences:
        for locale in ("zh-CN", "en"):
            for fmt in formats:
                render = markdown.render if fmt == "md" else html.render
                path = out / f"security-report-{report.period.label}.{audience}.{locale}.{fmt}"
                path.write_text(render(report, locale, audience), encoding="utf-8")
                written.append(path)
    return written


def cmd_report(args: argparse.Namespace) -> int:
    try:
        report = asyncio.run(build_report(args.period))
    except ValueError as exc:
        print(f"breachroom: {exc}", file=sys.stderr)
        return 2
    audiences = ["internal", "client"] if args.audience == "both" else [args.audience]
    formats = ["md", "html"] if args.format == "both" else [args.format]
    for path in write_report(report, Path(args.out), audiences, formats):
        print(f"wrote {path}")
    return 0


def add(sub: argparse._SubParsersAction) -> None:
    reg = sub.add_parser("register", help="export the breach register (every incident, notified or not)")
    reg.add_argument("--from", dest="from_", metavar="DATE", help="declared on or after (YYYY-MM-DD)")
    reg.add_argument("--to", metavar="DATE", help="declared before (YYYY-MM-DD)")
    reg.add_argument("--format", choices=["csv", "md", "json"], default="csv")
    reg.add_argument("--locale", choices=["zh-CN", "en"], default=None, help="for --format md")
    reg.add_argument("--out", help="write to this file instead of standard output")
    reg.set_defaults(func=cmd_register, needs_schema=True)

    rep = sub.add_parser("report", help="write the periodic security report (both languages)")
    rep.add_argument("--period", required=True, help="2026-Q4, 2026-11 or 2026")
    rep.add_argument("--audience", choices=["internal", "client", "both"], default="both")
    rep.add_argument("--format", choices=["md", "html", "both"], default="both")
    rep.add_argument("--out", default="var/reports", help="folder for the files (default var/reports)")
    rep.set_defaults(func=cmd_report, needs_schema=True)
