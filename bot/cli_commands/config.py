"""`breachroom config export [--output FILE]` and `breachroom config import FILE`.

The settings made in App Home, as YAML a firm keeps in version control: ids are written as the
names Slack knows (`@heidi`, `@legal-team`, `#security`) and resolved back on import, where an
unknown name is an error naming its line. Import replaces the stored settings with the file's.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from dataclasses import dataclass, field
from pathlib import Path

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cli_commands import write_output
from bot.settings import Settings, load_settings
from incident import workspace_settings as ws
from incident.clock import SystemClock
from incident.config import load_config
from incident.roles_config import CHANNEL_ID, HOLDER_ID, USERGROUP_ID
from incident.yamlsource import ConfigError
from storage.db import Database


@dataclass
class Names:
    """The workspace's people, user groups and channels, both ways (id ↔ name)."""

    users: dict[str, str] = field(default_factory=dict)  # name → id
    groups: dict[str, str] = field(default_factory=dict)  # handle → id
    channels: dict[str, str] = field(default_factory=dict)  # name → id
    by_id: dict[str, str] = field(default_factory=dict)  # id → "@name" / "#name"

    def name_of(self, ident: str) -> str | None:
        return self.by_id.get(ident)

    def id_of(self, kind: str, ref: str) -> str | None:
        if kind == "channel":
            if CHANNEL_ID.fullmatch(ref):
                return ref
            return self.channels.get(ref[1:]) if ref.startswith("#") else None
        pattern = USERGROUP_ID if kind == "group" else HOLDER_ID
        if pattern.fullmatch(ref):
            return ref
        if not ref.startswith("@"):
            return None
        name = ref[1:]
        if kind == "group":
            return self.groups.get(name)
        return self.users.get(name) or self.groups.get(name)


async def read_names(client: AsyncWebClient) -> Names:
    """Everything Slack can name for us (users:read, usergroups:read, channels:read, groups:read)."""
    names = Names()
    async for page in await client.users_list(limit=200):
        for user in page.get("members") or []:
            if user.get("deleted") or user.get("is_bot"):
                continue
            names.users[user["name"]] = user["id"]
            names.by_id[user["id"]] = f"@{user['name']}"
    for group in (await client.usergroups_list()).get("usergroups") or []:
        names.groups[group["handle"]] = group["id"]
        names.by_id[group["id"]] = f"@{group['handle']}"
    async for page in await client.conversations_list(
        types="public_channel,private_channel", exclude_archived=True, limit=200
    ):
        for channel in page.get("channels") or []:
            names.channels[channel["name"]] = channel["id"]
            names.by_id[channel["id"]] = f"#{channel['name']}"
    return names


def _client(settings: Settings) -> AsyncWebClient:
    settings.require("slack_bot_token")
    return AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)


def _actor() -> str:
    """Who imported, as the change log records it (the operator's login, not a Slack id)."""
    try:
        login = getpass.getuser()
    except Exception:
        login = "operator"
    return f"cli:{login}"[:32]


async def _export(settings: Settings) -> tuple[str, int]:
    """The YAML text and how many settings it holds."""
    db = Database(settings.database_url)
    try:
        values = await ws.load(db)
    finally:
        await db.dispose()
    try:
        names = await read_names(_client(settings))
    except SlackApiError as exc:
        print(
            f"Slack would not list names ({exc.response.get('error')}): ids are written as ids",
            file=sys.stderr,
        )
        names = Names()
    return ws.export_yaml(values, names.name_of), len(values)


async def _import(settings: Settings, path: str, text: str) -> int:
    config = load_config(settings.roles_file, settings.playbook_dir, settings.regimes_file)
    try:
        names = await read_names(_client(settings))
    except SlackApiError as exc:
        print(
            f"Slack would not list names ({exc.response.get('error')}): cannot resolve them", file=sys.stderr
        )
        return 1
    try:
        values = ws.parse_import(text, config.roles.keys(), names.id_of, name=path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    db = Database(settings.database_url)
    try:
        done = await ws.change(db, values, actor=_actor(), now=SystemClock().now(), replace=True)
    finally:
        await db.dispose()
    print(
        f"{len(values)} setting(s) in {path}, {len(done)} changed (bots apply them at the next declaration)"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    text, count = asyncio.run(_export(load_settings()))
    write_output(text, args.output, f"{count} setting(s) written to {args.output}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except OSError as exc:
        print(f"{args.file}: cannot read ({exc.strerror})", file=sys.stderr)
        return 1
    return asyncio.run(_import(load_settings(), args.file, text))


def add(sub: argparse._SubParsersAction) -> None:
    config = sub.add_parser("config", help="export or import the settings made in Slack, as YAML")
    actions = config.add_subparsers(dest="config_command", required=True)

    export = actions.add_parser("export", help="write the stored settings as YAML, ids as names")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.set_defaults(func=cmd_export, needs_schema=True)

    imp = actions.add_parser("import", help="replace the stored settings with a YAML file's")
    imp.add_argument("file", help="a file written by `breachroom config export`")
    imp.set_defaults(func=cmd_import, needs_schema=True)
