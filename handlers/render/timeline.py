"""Block Kit for reading the timeline and its verification."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from handlers.i18n import t
from handlers.render.common import clip, context, escape, section, when
from storage.models import Incident, TimelineEvent
from storage.timeline import Verification

SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def actor(value: str | None) -> str:
    """A person as a mention; the bot or a system actor as plain text."""
    if not value:
        return "—"
    return f"<@{value}>" if SLACK_USER.match(value) else escape(value)


def event_line(event: TimelineEvent, locale: str) -> str:
    head = f"`#{event.seq}` {when(event.at)} · {actor(event.actor)} · *{escape(event.kind)}*"
    body = escape(clip(event.summary, 600))
    data = event.data or {}
    if event.kind == "message_added":
        posted = data.get("posted_at")
        link = data.get("permalink")
        extra = t("timeline.message_from", locale, author=actor(data.get("author")))
        if link:
            extra += f" · <{link}|{t('timeline.original', locale)}>"
        if posted:
            try:
                extra += " · " + t("timeline.posted", locale, at=when(datetime.fromisoformat(str(posted))))
            except ValueError:
                pass
        body = f"{body}\n{extra}"
    return f"{head}\n{body}"


def timeline_blocks(
    incident: Incident, events: list[TimelineEvent], kind: str | None, kinds: list[str], locale: str
) -> tuple[list[dict[str, Any]], str]:
    if kind and not events:
        text = t(
            "timeline.no_kind", locale, kind=escape(kind), kinds=", ".join(f"`{k}`" for k in kinds) or "—"
        )
        return [section(text)], text
    title = (
        t("timeline.header_kind", locale, key=incident.key, count=len(events), kind=escape(kind))
        if kind
        else t("timeline.header", locale, key=incident.key, count=len(events))
    )
    blocks: list[dict[str, Any]] = [section(f"*{title}*")]
    blocks += [section(event_line(e, locale)) for e in events[:45]]
    blocks.append(context(t("timeline.footer", locale, kinds=", ".join(kinds))))
    return blocks, title


def verify_text(incident: Incident, result: Verification, locale: str) -> str:
    if result.ok:
        return t("timeline.verify.ok", locale, key=incident.key, count=result.count, head=result.head)
    return t(
        "timeline.verify.broken",
        locale,
        key=incident.key,
        count=result.count,
        seq=result.first_bad_seq,
        reason=result.reason or "?",
        head=result.head,
    )
