"""A notice drafted from the record: the obligation's required contents, each filled or a marked gap.

Pure: an obligation (its recipient and ``notice_contents``), the record and the role names in,
the notice's text out. The wording of the notice lives in one template per language
beside this module (``templates/notice.<language>.txt``), which a firm can read and adjust.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from incident.errors import Invalid
from incident.limits import Field, limit
from incident.notice_draft.fills import DraftRecord, answer
from incident.regimes import Obligation
from incident.roles_config import COMMANDER
from incident.text import Text

TEMPLATES = Path(__file__).with_name("templates")
# An item's answer is clipped to the first of these that lets the whole notice fit Slack's input.
ANSWER_CLIPS = (600, 300, 120)


@dataclass(frozen=True)
class Composed:
    """One language's draft: its text and the content items left as gaps for a person to fill."""

    language: str
    text: str
    gaps: tuple[str, ...]


@cache
def environment() -> jinja2.Environment:
    # Plain text for a letter or a portal form, never HTML: nothing to escape, and the values are
    # the record's own (already through the sensitive-data guard). Undefined names fail loudly.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def compose(
    obligation: Obligation,
    regime_name: Text,
    record: DraftRecord,
    language: str,
    role_names: Mapping[str, Text],
) -> Composed:
    """The draft notice for ``obligation`` in ``language``; Invalid if even clipped it cannot fit."""
    template = environment().get_template(f"notice.{language}.txt")
    items = []
    gaps: list[str] = []
    for item in obligation.notice_contents:
        value = answer(item.fill, record, language)
        if value is None:
            gaps.append(item.key)
        role = item.ask or COMMANDER
        ask = role_names.get(role, Text(role, role)).get(language)
        items.append({"key": item.key, "text": item.text.get(language), "answer": value, "ask": ask})
    for length in ANSWER_CLIPS:
        text = template.render(
            key=record.key,
            drill=record.drill,
            recipient=obligation.recipient.get(language),
            recipient_kind=obligation.recipient_kind,
            regime=regime_name.get(language),
            items=[{**i, "answer": _clip(i["answer"], length) if i["answer"] else None} for i in items],
        ).strip()
        if len(text) <= limit(Field.NOTICE):
            return Composed(language, text + "\n", tuple(gaps))
    raise Invalid("drafts.error.too_long", limit=limit(Field.NOTICE))


__all__ = ["Composed", "compose"]
