"""The composition root: settings in, a running bot out."""

from __future__ import annotations

import hashlib
import logging

from slack_bolt.async_app import AsyncApp

import handlers
from bot.metrics import Metrics
from bot.settings import Settings
from bot.slack_client import CountingWebClient, build_client
from handlers.deps import Deps
from handlers.directory import Directory
from handlers.tracking import InFlight
from incident.clock import Clock, SystemClock
from incident.config import IncidentConfig, load_config
from storage.db import Database

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
    ) -> None:
        settings.require("slack_bot_token", "slack_signing_secret")
        assert settings.slack_bot_token and settings.slack_signing_secret
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.db = db or Database(settings.database_url)
        self.metrics = Metrics()
        self.tracker = InFlight()
        self.client: CountingWebClient = build_client(
            settings.slack_bot_token, settings.slack_api_url, self.metrics
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
        self.deps.extras["directory"] = Directory()
        self.app = AsyncApp(
            signing_secret=settings.slack_signing_secret,
            client=self.client,
            process_before_response=False,
            raise_error_for_unhandled_request=False,
        )
        handlers.register(self.app, self.deps)
        self._started = False

    async def start(self) -> None:
        """Learn who the bot is; Slack being unreachable here is not fatal (handlers ask again)."""
        try:
            auth = await self.client.auth_test()
            self.deps.extras["bot_user_id"] = auth.get("user_id")
        except Exception as exc:
            log.warning("auth.test failed at start-up: %s", exc)
        self._started = True

    async def stop(self, *, grace: float = 10.0) -> None:
        """Let listeners finish what they acked, then release everything."""
        if not await self.tracker.wait_idle(timeout=grace):
            log.warning("stopping with %d listener(s) still running", self.tracker.count)
        await self.db.dispose()
        self._started = False
