"""`breachroom postmortem KEY --format md|html|json` and `breachroom export KEY`: the record, offline.

Both read the database alone (no Slack), so people appear by their Slack ids.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings, load_settings

if TYPE_CHECKING:
    from incident.postmortem import PostMortem


async def _load(settings: Settings, key: str) -> PostMortem:
    from incident import lookup
    from incident.clock import SystemClock
    from incident.config import load_config
    from incident.postmortem import build
    from storage.db import Database

    config = load_config(settings.roles_file, settings.playbook_dir, settings.regimes_file)
    # The post-mortem states whether the timeline verifies, which takes the timeline keys.
    db = Database(settings.database_url, timeline_keys=settings.timeline_keys())
    try:
        async with db.session() as session:
            incident = await lookup.by_key(session, key)
            return await build(session, incident, config, SystemClock().now())
    finally:
        await db.dispose()


def _write(text: str, output: str | None) -> None:
    if output and output != "-":
        Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def _postmortem_of(key: str) -> PostMortem | None:
    """The incident's post-mortem; None, said on stderr, when there is no incident with that key."""
    from incident.errors import NotFound

    try:
        return asyncio.run(_load(load_settings(), key))
    except NotFound:
        print(f"breachroom: no incident {key}", file=sys.stderr)
        return None


def cmd_postmortem(args: argparse.Namespace) -> int:
    from incident.postmortem import render

    pm = _postmortem_of(args.key)
    if pm is None:
        return 1
    _write(render(pm, args.format, locale=args.locale), args.output)
    return 0 if pm.verification.ok else 3


def cmd_export(args: argparse.Namespace) -> int:
    from incident.postmortem.jsonout import dumps, export_bundle

    pm = _postmortem_of(args.key)
    if pm is None:
        return 1
    _write(dumps(export_bundle(pm, include_privileged=args.include_privileged)), args.output)
    if not pm.verification.ok:
        print(
            f"breachroom: {pm.incident.key}: timeline BROKEN at event #{pm.verification.first_bad_seq}",
            file=sys.stderr,
        )
        return 3
    return 0


def add(sub: argparse._SubParsersAction) -> None:
    pm = sub.add_parser("postmortem", help="write an incident's post-mortem (Markdown, HTML or JSON)")
    pm.add_argument("key", help="incident key, e.g. BR-2026-0007")
    pm.add_argument("--format", choices=("md", "html", "json"), default="md")
    pm.add_argument(
        "--locale", choices=("zh-CN", "en"), default=None, help="default: the incident's language"
    )
    pm.add_argument("--output", "-o", default=None, help="file to write (default: standard output)")
    pm.set_defaults(func=cmd_postmortem)

    export = sub.add_parser("export", help="write the whole incident record as JSON for legal and regulators")
    export.add_argument("key", help="incident key, e.g. BR-2026-0007")
    export.add_argument("--output", "-o", default=None, help="file to write (default: standard output)")
    export.add_argument(
        "--include-privileged",
        action="store_true",
        help="include the content of decisions marked legally privileged (withheld by default)",
    )
    export.set_defaults(func=cmd_export)
