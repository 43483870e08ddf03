"""Slack adapters: translate payloads into domain calls and domain results into Block Kit."""

from __future__ import annotations

from typing import Any

from handlers.deps import Deps


def register(app: Any, deps: Deps) -> None:
    """Attach every listener to the Bolt app. Feature modules are imported here, in one place."""
    from handlers import commands, declare

    commands.register(app, deps)
    declare.register(app, deps)
