"""The bot and the sandbox workspace, wired together the way Slack and the bot meet in production."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.embedded import SANDBOX_ROLES, embedded
from bot.runtime import Runtime
from bot.settings import load_settings
from incident.clock import FollowClock, SystemClock
from incident.config import IncidentConfig, load_config
from sandbox.driver import Person
from sandbox.observe import ChannelView
from sandbox.server import DEFAULT_APP_TOKEN, DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET, Sandbox
from storage import outbox, timeline
from storage.db import Database
from storage.models import Incident, Notification, Reminder, TimelineEvent

SIGNING_SECRET = DEFAULT_SIGNING_SECRET
BOT_TOKEN = DEFAULT_BOT_TOKEN
# Real seconds per Slack second in the sandbox's rate limits: bursts are refused where Slack would
# refuse them, and the bot still has to wait and retry, but a wait is tens of milliseconds.
RATE_LIMIT_SCALE = 0.02
# What names the configuration files, as an argument or in the environment (bot/settings.py).
CONFIG_SETTINGS = ("roles_file", "playbook_dir", "regimes_file")
CONFIG_VARIABLES = ("BREACHROOM_ROLES_FILE", "BREACHROOM_PLAYBOOK_DIR", "BREACHROOM_REGIMES_FILE")


@functools.cache
def sandbox_config() -> IncidentConfig:
    """The sandbox's roles with the packaged playbooks and regimes, read and validated once per
    test process: parsing them with line numbers was three quarters of starting a bot. The
    configuration is immutable (frozen dataclasses; stored settings overlay a copy), so every
    bot of the process can hold the same one."""
    return load_config(SANDBOX_ROLES)


def shared_config(env: dict[str, Any]) -> IncidentConfig | None:
    """The process's configuration for a bot started with `env`, unless it names files of its own."""
    if any(key in env for key in CONFIG_SETTINGS) or any(os.environ.get(v) for v in CONFIG_VARIABLES):
        return None
    return sandbox_config()


# The declare form's answers most tests start from (a payroll export, EU and China clients).
DECLARE_FIELDS: dict[str, object] = {
    "Severity": "SEV2",
    "Data categories": ["payroll", "national ID"],
    "Estimated people affected": "1200",
    "Affected clients": "Acme Trading\nBeta Foods",
    "Jurisdictions": ["EU / EEA", "China"],
}


@dataclass
class Slack:
    """What a test holds: the workspace, the bot, and the people in it."""

    sb: Sandbox
    rt: Runtime
    runner: web.AppRunner
    bot_url: str
    config: IncidentConfig | None = None  # the files' configuration it was started with, if shared

    def person(self, name: str) -> Person:
        return self.sb.person(name)

    def __getattr__(self, name: str) -> Person:
        # slack.alice, slack.heidi, ... are the seeded people.
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.sb.person(name)
        except (KeyError, LookupError) as exc:
            raise AttributeError(name) from exc

    def channel(self, id_or_name: str) -> ChannelView:
        return self.sb.channel(id_or_name)

    async def settle(self, timeout: float = 15.0) -> None:
        await self.sb.settle(timeout=timeout)

    @property
    def db(self) -> Database:
        return self.rt.db

    async def incident(self, key: str | None = None) -> Incident:
        """The incident by key, or the most recently declared one."""
        async with self.db.session() as s:
            stmt = select(Incident)
            stmt = stmt.where(Incident.key == key) if key else stmt.order_by(Incident.id.desc()).limit(1)
            found = (await s.execute(stmt)).scalar_one()
            return found

    async def incidents(self) -> list[Incident]:
        async with self.db.session() as s:
            return list((await s.execute(select(Incident).order_by(Incident.id))).scalars())

    async def timeline(self, incident: Incident) -> list[TimelineEvent]:
        assert incident.id is not None
        async with self.db.session() as s:
            return await timeline.events(s, incident.id)

    async def kinds(self, incident: Incident) -> list[str]:
        return [e.kind for e in await self.timeline(incident)]

    def violations(self) -> list[Any]:
        return list(self.sb.violations)

    def expect_rejected(self, method: str, error: str) -> None:
        """This test makes Slack refuse `method` with `error` on purpose; without this, any
        refused call fails the test when the bot stops."""
        self.sb.expect_rejected(method, error)


async def submit_declaration(
    slack: Slack, fields: dict[str, object], *, person: str = "alice", title: str = ""
) -> Incident:
    """`/breach declare [title]` in #general, the declare form submitted with `fields` (accepted):
    the incident it made."""
    who = slack.person(person)
    await who.command(f"declare {title}" if title else "declare", channel="C0GENERAL1")
    await slack.settle()
    assert who.modal().data["callback_id"] == "declare"
    delivery = await who.submit(fields)
    assert not delivery.errors, delivery.errors
    await slack.settle()
    return await slack.incident()


async def submit_form(slack: Slack, who: str, command: str, channel: str, values: dict[str, Any]) -> None:
    """`/breach <command>` in `channel` by `who`, the form it opens submitted with `values`, which
    the form accepts."""
    person = slack.person(who)
    await person.command(command, channel=channel)
    await slack.settle()
    delivery = await person.submit(values)
    assert not delivery.errors, (command, delivery.errors)
    await slack.settle()


async def record_notice(
    slack: Slack, who: str, channel: str, obligation: str, recipient: str, reference: str, sent_at: int
) -> None:
    """`who` records that the notice `obligation` names went to `recipient` at `sent_at` (epoch
    seconds) under `reference`."""
    values = {"recipient": recipient, "reference": reference, "sent_at": sent_at}
    await submit_form(slack, who, f"notify {obligation}", channel, values)


@asynccontextmanager
async def running_bot(
    db_url: str, *, rate_limits: bool = True, rate_limit_scale: float = RATE_LIMIT_SCALE, **env: Any
) -> AsyncIterator[Slack]:
    """The bot against a sandbox as strict as Slack: its rate limits on (in scaled seconds, as is
    the bot's back-off after a server error), the manifest's scopes, the 3-second ack deadline.
    When the test is done, the sandbox must have refused no call the test did not declare with
    `slack.expect_rejected`."""
    config = shared_config(env)
    async with embedded(db_url, config=config, backoff_scale=rate_limit_scale, **env) as e:
        e.sb.rate_limits_enabled = rate_limits
        e.sb.rate_limit_scale = rate_limit_scale
        slack = Slack(sb=e.sb, rt=e.rt, runner=e.runner, bot_url=e.bot_url, config=config)
        yield slack
        # Skipped when the body raised inside `async with`; as a fixture, checked at teardown.
        await slack.settle()
        problems = slack.sb.unexpected_rejections()
        if problems:
            pytest.fail("the sandbox refused calls the test did not expect:\n  " + "\n  ".join(problems))


@asynccontextmanager
async def over_socket_mode(db_url: str, **settings: Any) -> AsyncIterator[Sandbox]:
    """The bot (`breachroom serve --socket`) on `db_url`, reached by the sandbox workspace over
    Socket Mode instead of signed HTTP, the sandbox's people its default role holders: the sandbox.
    `settings` are more of the bot's settings."""
    sb = await Sandbox.start()
    bot_settings = load_settings(
        slack_bot_token=DEFAULT_BOT_TOKEN,
        slack_signing_secret=DEFAULT_SIGNING_SECRET,
        slack_app_token=DEFAULT_APP_TOKEN,
        slack_api_url=sb.api_url,
        database_url=db_url,
        roles_file=SANDBOX_ROLES,
        **settings,
    )
    rt = Runtime(bot_settings, clock=FollowClock(sb.clock.now))
    await rt.start()
    handler = rt.socket_handler()
    try:
        await handler.connect_async()
        sb.transport = "socket"

        async def idle() -> None:
            await rt.idle(timeout=15.0)

        sb.idle_probe = idle
        yield sb
    finally:
        await handler.close_async()
        await rt.stop()
        await sb.stop()


# Reminders ---------------------------------------------------------------------------------------


async def fire_due(slack: Slack) -> None:
    """Run what is due at the workspace's current time, as the scheduler's wake-up would, and settle."""
    await slack.rt.engine.run_due()
    await slack.settle()


def _runtime_like(slack: Slack) -> Runtime:
    return Runtime(
        slack.rt.settings,
        clock=FollowClock(slack.sb.clock.now),
        config=slack.config,
        backoff_scale=slack.rt.backoff_scale,
    )


@asynccontextmanager
async def another_process(slack: Slack) -> AsyncIterator[Runtime]:
    """A second bot process (its own Runtime, scheduler and connection pool) on the same database
    and workspace, as two replicas of `breachroom serve` would be."""
    rt = _runtime_like(slack)
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


@asynccontextmanager
async def restarted(slack: Slack) -> AsyncIterator[Slack]:
    """Stop the bot process, then start a new one on the same database (a deploy, a crash)."""
    from bot.server import start_http

    await slack.runner.cleanup()
    await slack.rt.stop()
    rt = _runtime_like(slack)
    await rt.start()
    runner, port = await start_http(rt, "127.0.0.1", 0)
    old = (slack.rt, slack.runner, slack.bot_url)
    slack.rt, slack.runner, slack.bot_url = rt, runner, f"http://127.0.0.1:{port}/slack/events"
    slack.sb.bot_url = slack.bot_url

    async def idle() -> None:
        await rt.idle(timeout=15.0)

    slack.sb.idle_probe = idle
    try:
        yield slack
    finally:
        await runner.cleanup()
        await rt.stop()
        slack.rt, slack.runner, slack.bot_url = old


# Bots in other processes ---------------------------------------------------------------------------


async def drained(database: Database) -> bool:
    """Nothing owed in the database bots in other processes share: no effect and no reminder is
    claimed (being delivered), or pending and due. Those bots run on the system clock."""
    now = SystemClock().now()
    if await outbox.due_now(database, now):
        return False
    async with database.session() as s:
        owed = await s.execute(
            select(Reminder.id)
            .where(
                (Reminder.status == "claimed") | ((Reminder.status == "pending") & (Reminder.due_at <= now))
            )
            .limit(1)
        )
        return owed.first() is None


def watch_processes(sb: Sandbox, database: Database) -> None:
    """Make `sb.settle()` wait for bots that run as other processes (`breachroom serve`), whose
    in-flight work no counter here sees: until nothing is owed in their database, and then no
    Web API call is in flight or was answered after that was seen. A doubled delivery shows up
    as a claimed or due row, so once this settles, whatever was going to be sent has been."""

    async def idle() -> None:
        while True:
            if await drained(database):
                return
            await asyncio.sleep(0.05)

    sb.idle_probe = idle


# Rows for the pure functions -----------------------------------------------------------------------


def unsaved_incident(declared_at: datetime, **columns: Any) -> Incident:
    """An incident that is never stored, for the clock and render functions: placeholder
    bookkeeping (key, title, severity, declarer) unless `columns` say otherwise; the facts a test is
    about come in `columns`."""
    placeholders: dict[str, Any] = {
        "key": f"BR-{declared_at.year}-0001",
        "year": declared_at.year,
        "number": 1,
        "title": "t",
        "severity": "SEV2",
        "declared_by": "UALICE001",
    }
    return Incident(**{**placeholders, "declared_at": declared_at, **columns})


def unsaved_leak(
    found: datetime, jurisdictions: list[str], data_categories: list[str], **columns: Any
) -> Incident:
    """An unencrypted leak (never stored) of `data_categories` in `jurisdictions`, the firm their
    controller, declared the moment it was found."""
    return unsaved_incident(
        found,
        discovered_at=found,
        jurisdictions=jurisdictions,
        data_categories=data_categories,
        encrypted=False,
        processor_role="controller",
        **columns,
    )


def unsaved_notification(
    regime: str, obligation: str | None, sent_at: datetime, **columns: Any
) -> Notification:
    """A notice recorded as sent (never stored): to a placeholder authority unless `columns` say."""
    placeholders: dict[str, Any] = {
        "incident_id": 1,
        "recipient_kind": "authority",
        "recipient": "The authority",
        "sent_by": "UDAVE0001",
    }
    return Notification(
        **{**placeholders, "regime": regime, "obligation": obligation, "sent_at": sent_at, **columns}
    )
