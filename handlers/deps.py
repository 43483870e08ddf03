"""What the handlers need from the running bot, without importing the bot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from handlers.tracking import InFlight
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
    extras: dict[str, Any] = field(default_factory=dict)

    async def reminders_changed(self) -> None:
        if self.on_reminders_changed is not None:
            await self.on_reminders_changed()
