"""Small, pure Block Kit pieces shared by the renderers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

# The one duration formatter, re-exported where the renderers have always found it.
from incident.durations import duration as duration

SECTION_TEXT_MAX = 3000
MESSAGE_BLOCKS_MAX = 50  # Slack's limit on the blocks of one message
BUTTON_TEXT_MAX = 75
PLAIN_MAX = 150


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def packed(lines: list[str], limit: int = 2900) -> list[str]:
    """The lines joined into as few texts of at most `limit` characters as they fit in: a line is
    split across two only when it is longer than `limit` on its own, and nothing is dropped."""
    pieces = (line[i : i + limit] for line in lines for i in range(0, max(len(line), 1), limit))
    texts: list[str] = []
    for piece in pieces:
        if texts and len(texts[-1]) + 1 + len(piece) <= limit:
            texts[-1] += "\n" + piece
        else:
            texts.append(piece)
    return texts


def capped_sections(
    heading: str, lines: list[str], most: int, more: Callable[[int], str]
) -> list[dict[str, Any]]:
    """The heading and the lines in at most `most` sections, no line cut; when they do not fit,
    the last lines give way to `more(count)`, which says how many and where they are."""
    texts = packed([heading, *lines])
    shown = len(lines)
    while len(texts) > most and shown > 0:
        shown -= 1
        texts = packed([heading, *lines[:shown], more(len(lines) - shown)])
    return [section(text) for text in texts]


def escape(text: str) -> str:
    """Slack mrkdwn escaping: people's text must not become mentions or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def when(at: datetime | None, fmt: str = "{date_short_pretty} {time}") -> str:
    """A time every reader sees in their own timezone; the fallback is UTC."""
    if at is None:
        return "—"
    return f"<!date^{int(at.timestamp())}^{fmt}|{at.strftime('%Y-%m-%d %H:%M UTC')}>"


def user(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "—"


def plain(text: str, limit: int = PLAIN_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, SECTION_TEXT_MAX)}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": plain(text, 150)}


def section(
    text: str, accessory: dict[str, Any] | None = None, block_id: str | None = None
) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": mrkdwn(text)}
    if accessory:
        block["accessory"] = accessory
    if block_id:
        block["block_id"] = block_id
    return block


def fields(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "section",
        "fields": [mrkdwn(f"*{label}*\n{value}") for label, value in pairs[:10]],
    }


def context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:10]]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def button(
    text: str,
    action_id: str,
    value: str = "",
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": action_id,
    }
    if value:
        element["value"] = value[:2000]
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def actions(*elements: dict[str, Any], block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        block["block_id"] = block_id
    return block


def modal(
    callback_id: str,
    *,
    title: str,
    submit: str,
    close: str,
    blocks: list[dict[str, Any]],
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A modal view; its title and buttons clipped to Slack's 24 characters, `metadata` as JSON."""
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain(close, 24),
    }
    if metadata is not None:
        view["private_metadata"] = json.dumps(metadata)
    view["blocks"] = blocks
    return view


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, 75), "value": value}


def confirm_dialog(title: str, text: str, yes: str, no: str) -> dict[str, Any]:
    return {
        "title": plain(title, 100),
        "text": mrkdwn(text),
        "confirm": plain(yes, 30),
        "deny": plain(no, 30),
    }


VALUE = "value"


def input_block(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = True,
    hint: str | None = None,
    dispatch: bool = False,
) -> dict[str, Any]:
    """A modal input; its element's action id is `value` unless the element brings its own."""
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": {"action_id": VALUE, **element},
        "optional": optional,
    }
    if dispatch:
        block["dispatch_action"] = True
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def input_value(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    """The submitted state of an input block's element (`view.state.values[block_id][action_id]`)."""
    block = values.get(block_id) or {}
    return next(iter(block.values()), {}) if isinstance(block, dict) and block else {}


def whole_number(values: dict[str, Any], block_id: str, errors: dict[str, str], error_key: str) -> int | None:
    """The whole number typed into an input block; None when left blank, or when it is not a number,
    which sets the block's parse error to `error_key` in `errors` (block id → message key)."""
    raw = input_value(values, block_id).get("value")
    if raw in (None, ""):
        return None
    try:
        return int(str(raw).strip())
    except ValueError:
        errors[block_id] = error_key
        return None
