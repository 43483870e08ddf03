"""The composition root: settings in, a running bot out."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp

import handlers
from bot import logs
from bot.metrics import Metrics
from bot.settings import Settings
from bot.slack_client import CountingWebClient, build_client, open_session
from handlers import effects, workspace
from handlers.deps import Deps
from handlers.reminders import deliver
from handlers.tracking import InFlight
from incident import reminders
from incident import setup as setup_state
from incident.clock import Clock, SystemClock
from incident.config import IncidentConfig, load_config
from incident.reminders import Delivered
from schedules.scheduler import DeliveryEngine
from storage import outbox
from storage.db import Database
from storage.models import Effect, Reminder

log = logging.getLogger(__name__)


class Runtime:
    """Everything one bot process holds: database, Slack client, Bolt app, scheduler, metrics."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        db: Database | None = None,
        config: IncidentConfig | None = None,
        worker: bool = True,
        backoff_scale: float = 1.0,
    ) -> None:
        """`worker`: this process also delivers effects and reminders (the embedded default);
        without it the process only answers Slack and writes effects for a `breachroom worker`.
        `backoff_scale`: the Web API client's back-off after a 5xx, in real seconds per second
        (below 1 only against a sandbox counting scaled seconds)."""
        settings.require("slack_bot_token", "slack_signing_secret")
        assert settings.slack_bot_token and settings.slack_signing_secret
        logs.install()  # before Bolt and the engine exist: nothing confidential reaches a log
        self.settings = settings
        self.backoff_scale = backoff_scale
        self.clock: Clock = clock or SystemClock()
        self.db = db or Database(settings.database_url)
        if self.db.timeline_keys is None:
            self.db.timeline_keys = settings.timeline_keys()
        self.metrics = Metrics()
        self.tracker = InFlight()
        self.client: CountingWebClient = build_client(
            settings.slack_bot_token, settings.slack_api_url, self.metrics, backoff_scale=backoff_scale
        )
        self.deps = Deps(
            db=self.db,
            clock=self.clock,
            locale=settings.locale,
            command=settings.command,
            tracker=self.tracker,
            public_base_url=settings.public_base_url,
            # Links we sign (post-mortem pages) are keyed off the signing secret, never stored.
            link_secret=hashlib.sha256(
                b"breachroom-links:" + settings.slack_signing_secret.encode()
            ).digest(),
            redact_sensitive=settings.redact_sensitive,
            config=config or load_config(settings.roles_file, settings.playbook_dir, settings.regimes_file),
        )
        cadences = reminders.cadences()
        self.deps.cadences = cadences
        workspace.install(self.deps, settings)  # files and environment: the base Slack settings overlay

        async def send(row: Reminder) -> Delivered:
            return await deliver(self.client, self.deps, row)

        async def perform(row: Effect) -> None:
            await effects.perform(self.client, self.deps, row)

        # Effect and reminder rows are the truth; the engine only wakes up to look at them.
        self.worker = worker
        self.engine = DeliveryEngine(
            self.db, self.deps.config, self.clock, send, perform, cadences=cadences, track=self.tracker.spawn
        )
        self.engine.cadences = cadences  # one dict: a cadence set in Slack reaches the engine
        self.deps.on_reminders_changed = self.engine.changed
        if worker:
            self.db.on_effects = self.engine.kick
        self.app = AsyncApp(
            # Named, or Bolt names it by inspecting the whole call stack (with source lines) on
            # every start: a tenth of a test's set-up.
            name="breachroom",
            signing_secret=settings.slack_signing_secret,
            client=self.client,
            process_before_response=False,
            raise_error_for_unhandled_request=False,
        )
        handlers.register(self.app, self.deps)
        self._http: aiohttp.ClientSession | None = None
        self._started = False

    def socket_handler(self) -> Any:
        """Socket Mode: the same Bolt app, reached over Slack's websocket instead of HTTP."""
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        self.settings.require("slack_app_token")
        return AsyncSocketModeHandler(self.app, self.settings.slack_app_token, web_client=self.client)

    async def start(self) -> None:
        """Open the Web API's connection pool and learn who the bot is; Slack being unreachable
        here is not fatal (handlers ask again)."""
        self._http = open_session(self.client)
        try:
            await self._start()
        except BaseException:
            await self._close_http()
            raise

    async def _start(self) -> None:
        try:
            auth = await self.client.auth_test()
            self.deps.bot_user_id = auth.get("user_id")
        except Exception as exc:
            log.warning("auth.test failed at start-up: %s", exc)
        settings = self.settings
        if settings.report_channel and settings.report_schedule != "off":
            from incident.report.schedule import ensure_scheduled

            self.deps.report_audience = settings.report_audience
            now = self.clock.now()
            await ensure_scheduled(self.db, settings.report_channel, settings.report_schedule, now)
        await workspace.refresh(self.deps, reschedule=True)
        if self.worker:
            await self.reconcile()
            self.engine.start()
        self._started = True

    async def reconcile(self) -> None:
        """Incidents whose set-up never finished get a set-up effect (the outbox keeps every other
        promise; an incident declared before the outbox existed has none)."""
        try:
            unfinished = await setup_state.unfinished(self.db)
            if unfinished:
                await setup_state.resume(self.db, unfinished, now=self.clock.now())
        except Exception:
            log.exception("could not resume unfinished set-ups")

    async def idle(self, timeout: float = 15.0) -> None:
        """Wait until listeners are done and no effect is due or being delivered: what a test's
        `settle` and a drill wait on."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.tracker.wait_idle(timeout=max(0.0, deadline - loop.time()))
            if not self.worker or not await outbox.due_now(self.db, self.clock.now()):
                if self.tracker.count == 0:
                    return
                continue
            if loop.time() >= deadline:
                raise TimeoutError(f"effects still due after {timeout}s")
            self.engine.kick()
            await asyncio.sleep(0.01)

    async def stop(self, *, grace: float = 10.0) -> None:
        """Let listeners finish what they acked, then release everything."""
        await self.engine.stop()
        if not await self.tracker.wait_idle(timeout=grace):
            log.warning("stopping with %d listener(s) still running", self.tracker.count)
        await self._close_http()
        await self.db.dispose()
        self._started = False

    async def _close_http(self) -> None:
        """Close the connection pool; a listener still running past the grace period then calls
        Slack on a session of its own (slack_sdk's fallback for a closed one)."""
        if self._http is not None:
            self.client.session = None
            await self._http.close()
            self._http = None
