"""`breachroom doctor` (and `/healthz?deep=1`): is this installation able to run a breach response?

Each check is one line: ok, warning (works, but something will be missing) or error (something
will fail), with what to do. Operator text, in English. The same checks back `/healthz?deep=1`.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings, load_settings
from incident import workspace_settings as ws
from incident.clock import SystemClock
from incident.config import IncidentConfig, load_config
from incident.yamlsource import ConfigError
from storage import outbox
from storage.db import Database

# The bot scopes the code needs: manifest.yml's `oauth_config.scopes.bot` (tests/test_doctor.py
# keeps the two equal; the manifest is not shipped in the image, so the list lives here too).
REQUIRED_SCOPES = (
    "commands",
    "chat:write",
    "channels:join",
    "channels:read",
    "groups:read",
    "groups:write",
    "groups:history",
    "im:write",
    "pins:write",
    "reactions:read",
    "users:read",
    "usergroups:read",
    "files:write",
)
SKEW_WARNING = 60  # seconds; Slack refuses signed requests more than 5 minutes off
SKEW_ERROR = 300
OK, WARNING, ERROR = "ok", "warning", "error"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


def _headers(response: object) -> dict[str, str]:
    raw = getattr(response, "headers", None) or {}
    return {str(k).lower(): str(v) for k, v in dict(raw).items()}


async def check_slack(client: AsyncWebClient, now: datetime) -> tuple[list[Check], bool]:
    """Token, scopes and clock skew, all from one auth.test; the flag says whether the token works."""
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error")
        return [
            Check(
                "token",
                ERROR,
                f"Slack refused the bot token ({error})",
                "set SLACK_BOT_TOKEN to the app's "
                "Bot User OAuth Token (xoxb-…) from its OAuth & Permissions page",
            )
        ], False
    except Exception as exc:
        return [
            Check(
                "token",
                ERROR,
                f"Slack did not answer ({type(exc).__name__})",
                "check SLACK_API_URL and that this host can reach it",
            )
        ], False
    checks = [Check("token", OK, f"valid: @{auth.get('user')} in {auth.get('team')}")]
    headers = _headers(auth)
    granted = {s.strip() for s in headers.get("x-oauth-scopes", "").split(",") if s.strip()}
    missing = [s for s in REQUIRED_SCOPES if s not in granted]
    if "x-oauth-scopes" not in headers:
        checks.append(Check("scopes", WARNING, "Slack did not say which scopes the token has"))
    elif missing:
        checks.append(
            Check(
                "scopes",
                ERROR,
                f"missing scope(s): {', '.join(missing)}",
                "add them under OAuth & Permissions (or from manifest.yml), then reinstall the app",
            )
        )
    else:
        checks.append(Check("scopes", OK, f"all {len(REQUIRED_SCOPES)} needed scopes granted"))
    checks.append(_skew(headers.get("date"), now))
    return checks, True


def _skew(date: str | None, now: datetime) -> Check:
    if not date:
        return Check("clock", WARNING, "Slack's answer had no Date header to compare the clock with")
    try:
        theirs = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return Check("clock", WARNING, f"Slack's Date header is unreadable ({date!r})")
    skew = abs((now - theirs).total_seconds())
    if skew >= SKEW_ERROR:
        return Check(
            "clock",
            ERROR,
            f"this host's clock is {skew:.0f}s off Slack's",
            "synchronise it (NTP): Slack's signed requests are refused beyond 5 minutes",
        )
    if skew >= SKEW_WARNING:
        return Check(
            "clock", WARNING, f"this host's clock is {skew:.0f}s off Slack's", "synchronise it (NTP)"
        )
    return Check("clock", OK, f"within {SKEW_WARNING}s of Slack's")


async def check_people(client: AsyncWebClient, config: IncidentConfig) -> list[Check]:
    """Every configured person, group and channel can be found; the bot is in the announcement channel."""
    checks: list[Check] = []
    roles = config.roles
    users = {u for role in roles for u in role.default_users}
    groups = {g for role in roles for g in role.default_usergroups} | ({roles.admin_usergroup} - {None})
    for user in sorted(users):
        holder_of = ", ".join(r.key for r in roles if user in r.defaults)
        try:
            person = (await client.users_info(user=user)).get("user") or {}
            if person.get("deleted"):
                checks.append(
                    Check(
                        f"user {user}",
                        WARNING,
                        f"deactivated (default holder of {holder_of})",
                        "pick someone else in App Home → Settings",
                    )
                )
            else:
                checks.append(Check(f"user {user}", OK, f"@{person.get('name')} ({holder_of})"))
        except SlackApiError as exc:
            checks.append(
                Check(
                    f"user {user}",
                    WARNING,
                    f"not found ({exc.response.get('error')}; default holder of {holder_of})",
                    "pick someone else in App Home → Settings",
                )
            )
    if groups:
        try:
            listed = {g["id"]: g for g in (await client.usergroups_list()).get("usergroups") or []}
        except SlackApiError as exc:
            listed = None
            checks.append(
                Check(
                    "user groups",
                    ERROR,
                    f"cannot list them ({exc.response.get('error')})",
                    "grant usergroups:read and reinstall the app",
                )
            )
        for group in sorted(g for g in groups if g):
            if listed is None:
                break
            found = listed.get(group)
            what = "the admin group" if group == roles.admin_usergroup else "a default holder"
            if found is None or found.get("date_delete"):
                checks.append(
                    Check(
                        f"group {group}",
                        WARNING if what != "the admin group" else ERROR,
                        f"not found ({what})",
                        "pick another group in App Home → Settings",
                    )
                )
            else:
                checks.append(Check(f"group {group}", OK, f"@{found.get('handle')} ({what})"))
    checks.extend(await _channel(client, "announcement channel", roles.announcement_channel))
    return checks


async def _channel(client: AsyncWebClient, name: str, channel: str | None) -> list[Check]:
    if not channel:
        return [
            Check(
                name,
                WARNING,
                "not set: declarations are announced nowhere",
                "pick one in App Home → Settings",
            )
        ]
    try:
        info = (await client.conversations_info(channel=channel)).get("channel") or {}
    except SlackApiError as exc:
        return [
            Check(
                name,
                ERROR,
                f"{channel} cannot be reached ({exc.response.get('error')})",
                "if private, type `/invite @Breachroom` in it; else pick another in App Home → Settings",
            )
        ]
    if info.get("is_archived"):
        return [Check(name, ERROR, f"#{info.get('name')} is archived", "pick another in App Home → Settings")]
    if not info.get("is_member"):
        return [
            Check(
                name,
                ERROR,
                f"the bot is not a member of #{info.get('name')}",
                "type `/invite @Breachroom` in it, or save it again in App Home → Settings (the bot joins)",
            )
        ]
    return [Check(name, OK, f"#{info.get('name')}, the bot is a member")]


async def check_report_channel(client: AsyncWebClient, channel: str | None) -> list[Check]:
    """The security report's channel, when one is set: it must exist; the bot joins a public one."""
    if not channel:
        return []
    try:
        info = (await client.conversations_info(channel=channel)).get("channel") or {}
    except SlackApiError as exc:
        return [
            Check(
                "report channel",
                ERROR,
                f"{channel} cannot be reached ({exc.response.get('error')})",
                "if private, type `/invite @Breachroom` in it; else pick another in App Home → Settings",
            )
        ]
    if info.get("is_archived"):
        return [Check("report channel", ERROR, f"#{info.get('name')} is archived", "pick another one")]
    joined = "the bot is a member" if info.get("is_member") else "public: the bot joins it to post"
    return [Check("report channel", OK, f"#{info.get('name')}, {joined}")]


async def check_public_url(url: str | None) -> Check:
    if not url:
        return Check(
            "PUBLIC_BASE_URL",
            WARNING,
            "not set: signed report links point at this host's own address",
            "set PUBLIC_BASE_URL to the https address Slack reaches the bot at",
        )
    try:
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(f"{url}/healthz") as response:
            if response.status == 200:
                return Check("PUBLIC_BASE_URL", OK, f"{url}/healthz answers")
            return Check(
                "PUBLIC_BASE_URL",
                ERROR,
                f"{url}/healthz answered HTTP {response.status}",
                "check the proxy in front of the bot",
            )
    except Exception as exc:
        return Check(
            "PUBLIC_BASE_URL",
            ERROR,
            f"{url}/healthz unreachable ({type(exc).__name__})",
            "check DNS, TLS and the proxy in front of the bot",
        )


async def check_schema(settings: Settings) -> Check:
    from bot.cli import check_schema as schema_problem

    problem = await schema_problem(settings)
    if problem:
        return Check("database", ERROR, problem)
    return Check("database", OK, "reachable, schema current")


# Effects waiting longer than this mean no worker is delivering them (or Slack refuses them).
OUTBOX_STALE = timedelta(minutes=5)


async def check_outbox(settings: Settings, now: datetime) -> Check:
    """What Slack has not been told yet: effects pending (and for how long) and dead ones."""
    db = Database(settings.database_url)
    try:
        backlog = await outbox.backlog(db)
    finally:
        await db.dispose()
    if backlog.dead:
        return Check(
            "outbox",
            ERROR,
            f"{backlog.dead} effect(s) gave up after repeated Slack errors; their views may be stale",
            "fix what Slack refused (see the log or /metrics), then press Refresh on the incident's card",
        )
    if backlog.oldest_pending is not None and now - backlog.oldest_pending > OUTBOX_STALE:
        return Check(
            "outbox",
            WARNING,
            f"{backlog.pending} effect(s) pending, the oldest since "
            f"{backlog.oldest_pending:%Y-%m-%d %H:%M} UTC",
            "make sure a worker runs: `breachroom serve` (without --no-worker) or `breachroom worker`",
        )
    return Check("outbox", OK, f"{backlog.pending} effect(s) pending, none dead")


async def effective_config(settings: Settings) -> tuple[IncidentConfig, str | None]:
    """The configuration the bot runs with (the files, overlaid with the settings made in Slack)
    and the security report's channel (the environment's, else Slack's)."""
    config = load_config(settings.roles_file, settings.playbook_dir, settings.regimes_file)
    db = Database(settings.database_url)
    try:
        values = await ws.load(db)
    finally:
        await db.dispose()
    return ws.overlay(config, values), settings.report_channel or values.get(ws.REPORT_CHANNEL)


async def run_checks(
    settings: Settings,
    client: AsyncWebClient,
    config: IncidentConfig | None = None,
    *,
    report_channel: str | None = None,
    now: datetime | None = None,
) -> list[Check]:
    """Every check, in the order an operator fixes things: database, Slack, configuration, URL.
    Without ``config`` (the CLI) the configuration is read as the bot would: files plus database."""
    checks = [await check_schema(settings)]
    if checks[0].status == OK:
        checks.append(await check_outbox(settings, now or SystemClock().now()))
    if config is None and checks[0].status == OK:
        try:
            config, report_channel = await effective_config(settings)
        except ConfigError as exc:
            checks.append(Check("configuration", ERROR, str(exc).splitlines()[0], "run `breachroom check`"))
    slack, token_ok = await check_slack(client, now or SystemClock().now())
    checks.extend(slack)
    if token_ok and config is not None:
        checks.extend(await check_people(client, config))
        checks.extend(await check_report_channel(client, report_channel))
    checks.append(await check_public_url(settings.public_base_url))
    return checks


def as_json(checks: Iterable[Check]) -> dict[str, object]:
    rows = [asdict(c) for c in checks]
    return {"ok": all(r["status"] != ERROR for r in rows), "checks": rows}


def render(checks: Iterable[Check]) -> str:
    lines = []
    for c in checks:
        lines.append(
            f"{c.status:<8}{c.name}: {c.detail}"
            + (f"\n        → {c.fix}" if c.fix and c.status != OK else "")
        )
    return "\n".join(lines)


async def _doctor(settings: Settings) -> list[Check]:
    settings.require("slack_bot_token")
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    return await run_checks(settings, client)


def cmd_doctor(args: argparse.Namespace) -> int:
    checks = asyncio.run(_doctor(load_settings()))
    print(render(checks))
    errors = sum(c.status == ERROR for c in checks)
    warnings = sum(c.status == WARNING for c in checks)
    print(f"{errors} error(s), {warnings} warning(s)", file=sys.stderr if errors else sys.stdout)
    return 1 if errors else 0


def add(sub: argparse._SubParsersAction) -> None:
    doctor = sub.add_parser(
        "doctor", help="check the token, scopes, people, channels, URL, database and clock"
    )
    doctor.set_defaults(func=cmd_doctor)
