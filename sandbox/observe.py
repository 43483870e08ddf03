"""Read-only views of the sandbox for tests: channels, messages, rendered text."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.workspace import Channel, Workspace


def _text(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


def element_texts(element: Any) -> list[str]:
    """Every visible string of an element: button label, placeholder, option texts."""
    if not isinstance(element, dict):
        return []
    out: list[str] = []
    if element.get("type") in ("mrkdwn", "plain_text"):
        return [_text(element)]
    for key in ("text", "placeholder"):
        if element.get(key):
            out.append(_text(element[key]))
    for option in element.get("options") or []:
        out.append(_text(option.get("text")))
    for group in element.get("option_groups") or []:
        for option in group.get("options") or []:
            out.append(_text(option.get("text")))
    if element.get("type") == "image":
        out.append(str(element.get("alt_text", "")))
    return out


def block_texts(block: dict[str, Any]) -> list[str]:
    """Every visible string in one block, in reading order."""
    out: list[str] = []
    kind = block.get("type")
    if kind in ("section", "header"):
        if block.get("text"):
            out.append(_text(block["text"]))
        out.extend(_text(f) for f in block.get("fields") or [])
        out.extend(element_texts(block.get("accessory")))
    elif kind in ("context", "actions"):
        for element in block.get("elements") or []:
            out.extend(element_texts(element))
    elif kind == "input":
        out.append(_text(block.get("label")))
        if block.get("hint"):
            out.append(_text(block["hint"]))
        out.extend(element_texts(block.get("element")))
    elif kind == "rich_text":
        out.append(_rich_text(block))
    elif kind == "image":
        out.append(str(block.get("alt_text", "")))
        if block.get("title"):
            out.append(_text(block["title"]))
    return [t for t in out if t]


def _rich_text(node: Any) -> str:
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        return "".join(_rich_text(child) for child in node.get("elements") or [])
    if isinstance(node, list):
        return "".join(_rich_text(child) for child in node)
    return ""


def buttons_of(blocks: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for block in blocks:
        candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if block.get("accessory"):
            candidates.append(block["accessory"])
        found.extend(
            _text(e.get("text")) for e in candidates if isinstance(e, dict) and e.get("type") == "button"
        )
    return found


class MessageView:
    """One message as stored now (or as it was, if `data` was given)."""

    def __init__(
        self, workspace: Workspace, channel_id: str, data: dict[str, Any], ephemeral: bool = False
    ) -> None:
        self._ws = workspace
        self.channel = channel_id
        self.data = data
        self.ephemeral = ephemeral

    def __repr__(self) -> str:
        return f"MessageView(channel={self.channel!r}, ts={self.ts!r}, text={self.text[:60]!r})"

    @property
    def ts(self) -> str:
        return str(self.data["ts"])

    @property
    def text(self) -> str:
        return str(self.data.get("text", ""))

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.data.get("blocks") or [])

    @property
    def user(self) -> str | None:
        return self.data.get("user")

    @property
    def thread_ts(self) -> str | None:
        return self.data.get("thread_ts")

    @property
    def reactions(self) -> dict[str, list[str]]:
        return {r["name"]: list(r["users"]) for r in self.data.get("reactions", [])}

    @property
    def files(self) -> list[dict[str, Any]]:
        return list(self.data.get("files") or [])

    @property
    def is_edited(self) -> bool:
        return "edited" in self.data

    @property
    def buttons(self) -> list[str]:
        return buttons_of(self.blocks)

    @property
    def all_text(self) -> str:
        """Everything a reader sees: the fallback text plus all rendered block text."""
        parts = [self.text]
        for block in self.blocks:
            parts.extend(block_texts(block))
        for attachment in self.data.get("attachments") or []:
            parts.append(str(attachment.get("text", "")))
            for block in attachment.get("blocks") or []:
                parts.extend(block_texts(block))
        for f in self.files:
            parts.append(str(f.get("title", "")))
        return "\n".join(p for p in parts if p)

    def text_of(self, fragment: str) -> str:
        """The text of the first section/context/header block containing `fragment`."""
        for block in self.blocks:
            joined = "\n".join(block_texts(block))
            if fragment in joined:
                return joined
        raise LookupError(f"no block contains {fragment!r} in {self!r}")

    def refreshed(self) -> MessageView:
        """The latest stored version of this message (after chat.update)."""
        if self.ephemeral:
            for eph in self._ws.ephemerals:
                if eph.ts == self.ts:
                    return MessageView(self._ws, self.channel, eph.as_message(), ephemeral=True)
            raise LookupError(f"ephemeral {self.ts} is gone")
        channel = self._ws.require_channel(self.channel)
        msg = channel.message(self.ts)
        if msg is None:
            raise LookupError(f"message {self.ts} was deleted from {self.channel}")
        return MessageView(self._ws, self.channel, msg)

    def snapshot(self) -> MessageView:
        """A copy of the message as it looks now, that later edits do not change: what a person's
        screen still shows when it goes stale (click it with `click(..., refresh=False)`)."""
        latest = self.refreshed()
        return MessageView(self._ws, self.channel, copy.deepcopy(latest.data), latest.ephemeral)


class ChannelView:
    def __init__(self, workspace: Workspace, channel: Channel) -> None:
        self._ws = workspace
        self._channel = channel

    def __repr__(self) -> str:
        return f"ChannelView({self.id!r}, #{self.name})"

    @property
    def id(self) -> str:
        return self._channel.id

    @property
    def name(self) -> str:
        return self._channel.name

    @property
    def is_private(self) -> bool:
        return self._channel.is_private

    @property
    def is_archived(self) -> bool:
        return self._channel.archived

    @property
    def topic(self) -> str:
        return self._channel.topic

    @property
    def purpose(self) -> str:
        return self._channel.purpose

    @property
    def members(self) -> list[str]:
        return list(self._channel.members)

    @property
    def bookmarks(self) -> list[dict[str, Any]]:
        return list(self._channel.bookmarks)

    @property
    def messages(self) -> list[MessageView]:
        """All messages, oldest first, thread replies included (check `.thread_ts`)."""
        return [MessageView(self._ws, self.id, m) for m in self._channel.messages]

    @property
    def bot_messages(self) -> list[MessageView]:
        return [m for m in self.messages if m.data.get("bot_id") == self._ws.bot_id]

    @property
    def pins(self) -> list[MessageView]:
        return [
            MessageView(self._ws, self.id, m) for m in self._channel.messages if m["ts"] in self._channel.pins
        ]

    def message_with_text(self, fragment: str) -> MessageView:
        """The newest message whose rendered text contains `fragment`."""
        for msg in reversed(self.messages):
            if fragment in msg.all_text:
                return msg
        raise LookupError(f"no message in #{self.name} contains {fragment!r}")

    def message_with_button(self, button_text: str, near: str | None = None) -> MessageView:
        """The newest message with a button labelled `button_text` (and text `near`, if given)."""
        for msg in reversed(self.messages):
            if any(button_text in b for b in msg.buttons) and (near is None or near in msg.all_text):
                return msg
        raise LookupError(f"no message in #{self.name} has a button {button_text!r}")

    def refreshed(self, message: MessageView) -> MessageView:
        return message.refreshed()
