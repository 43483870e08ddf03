"""Block Kit for the timeline's posted head and for verifying the chain against posted heads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handlers.i18n import t
from handlers.render.common import context, section, when
from storage.models import Incident
from storage.timeline import HeadMismatch

SHORT = 12
# Slack message metadata naming the head: the verify command reads it back from the channel.
EVENT_TYPE = "breachroom_timeline_head"


def anchor_metadata(incident: Incident, seq: int, head: str) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"incident": incident.key, "seq": seq, "head": head}}


def anchor_blocks(seq: int, head: str, locale: str) -> tuple[list[dict[str, Any]], str]:
    """A small message: the short head to read, the full head in the text and the metadata."""
    blocks = [context(t("chain.anchor.context", locale, seq=seq, short=head[:SHORT]))]
    return blocks, t("chain.anchor.text", locale, seq=seq, head=head)


def heads_line(checked: int, unread: str | None, locale: str) -> str:
    if unread is not None:
        return t("chain.verify.heads_unread", locale, error=unread)
    if not checked:
        return t("chain.verify.heads_none", locale)
    return t("chain.verify.heads_ok", locale, count=checked)


def mismatch_text(incident: Incident, mismatches: Sequence[HeadMismatch], locale: str) -> str:
    """Name the first posted head the database disagrees with: its seq and when it was posted."""
    first = mismatches[0]
    posted = first.posted
    about = {"key": incident.key, "seq": posted.seq, "at": when(posted.posted_at), "count": len(mismatches)}
    if first.found is None:
        return t("chain.verify.head_missing", locale, **about)
    return t(
        "chain.verify.head_differs", locale, posted=posted.head[:SHORT], found=first.found[:SHORT], **about
    )


def verify_blocks(text: str, heads: str) -> list[dict[str, Any]]:
    return [section(text), context(heads)]
