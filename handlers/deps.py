"""What the handlers need from the running bot, without importing the bot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from handlers.directory import Directory
from handlers.tracking import Coalescer, InFlight
from incident.clock import Clock
from incident.text import Locale
from storage.db import Database


@dataclass
class Deps:
    db: Database
    clock: Clock
    locale: Locale
    command: str
    tracker: InFlight
    config: Any = None  # incident configuration (roles, playbooks, regimes), set by the bot
    public_base_url: str | None = None
    link_secret: bytes = b""
    redact_sensitive: bool = True
    # Called after anything that adds or changes reminder rows, so the scheduler re-reads them.
    on_reminders_changed: Callable[[], Awaitable[None]] | None = None
    # Status-update cadence per severity: one dict shared with the delivery engine, changed in place
    # when a cadence is set in Slack.
    cadences: dict[str, timedelta] = field(default_factory=dict)
    directory: Directory = field(default_factory=Directory)  # user groups, cached
    bot_user_id: str | None = None  # learnt from auth.test at start-up
    own_base_url: str | None = None  # this process's own HTTP address (links without PUBLIC_BASE_URL)
    report_audience: str = "internal"  # the scheduled security report's audience
    # Re-renders of one incident's card / checklists run one at a time in this process.
    card_renders: Coalescer = field(default_factory=Coalescer)
    checklist_renders: Coalescer = field(default_factory=Coalescer)
    extras: dict[str, Any] = field(default_factory=dict)

    async def reminders_changed(self) -> None:
        if self.on_reminders_changed is not None:
            await self.on_reminders_changed()
