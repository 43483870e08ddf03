"""The options of the forms' jurisdiction and data-category menus, served as someone types.

A menu becomes an external select only past Slack's 100 options (handlers/render/regime_choices.py);
its options are the loaded regimes file's, so a code added there is offered at once. They are the
firm's configuration, not an incident's: no incident is read, and anyone may list them.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from handlers import gate
from handlers.deps import Deps
from handlers.gate import Find
from handlers.ids import ActionId
from handlers.render.regime_choices import suggestions


def form_locale(body: dict[str, Any], default: str) -> str:
    """The language the form was drawn in (its private metadata says), else ``default``."""
    meta = gate.metadata(body.get("view"))
    locale = meta.get("locale")
    return locale if isinstance(locale, str) and locale else default


def register(app: Any, deps: Deps) -> None:
    async def options(ack: AsyncAck, body: dict[str, Any]) -> None:
        answer = suggestions(
            deps.config.regimes,
            str(body.get("action_id") or ""),
            form_locale(body, deps.locale),
            str(body.get("value") or ""),
        )
        await ack(**answer)

    for action_id in (ActionId.JURISDICTIONS, ActionId.DATA_CATEGORIES):
        gate.options(app, deps, action_id, Find.NONE)(deps.tracker.wrap(options))
