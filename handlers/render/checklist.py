"""Phase checklist messages: one per open phase, split into parts that stay within Slack's limits.

Pure: everything comes in as arguments (``now`` included) and the same input renders the same
blocks, so re-rendering after any change converges and ``put_message`` skips unchanged parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.i18n import t
from handlers.ids import ActionId
from handlers.render.common import actions, button, clip, context, escape, header, section, user, when
from incident.playbook import Opens, Phase
from incident.roles_config import RolesConfig
from storage.models import ChecklistItem, Incident

# Two blocks an item (its section and its buttons) plus a header and a context line: 2*24+2 = 50.
ITEMS_PER_PART = 24
TITLE_MAX = 500
NOTE_MAX = 800
REASON_MAX = 800
STATE_MARK = {"open": "⬜", "done": "✅", "na": "➖"}


@dataclass(frozen=True)
class ChecklistPart:
    phase: str
    part: int
    ref: str
    blocks: list[dict[str, Any]]
    text: str


def item_value(item: ChecklistItem) -> str:
    """What the item's buttons carry: its id and the version this rendering shows."""
    return f"{item.id}:{item.version}"


def item_title(phase: Phase, item: ChecklistItem, locale: str) -> str:
    for spec in phase.items:
        if spec.key == item.item_key:
            return spec.title.get(locale)
    return item.item_key


def progress(items: list[ChecklistItem]) -> tuple[int, int]:
    return sum(1 for i in items if i.state != "open"), len(items)


def item_text(phase: Phase, item: ChecklistItem, roles: RolesConfig, locale: str, now: datetime) -> str:
    title = escape(clip(item_title(phase, item, locale), TITLE_MAX))
    mark = STATE_MARK.get(item.state, "⬜")
    lines = [f"{mark} *{title}*"]
    role = roles.get(item.owner_role)
    details = [role.name.get(locale) if role else item.owner_role]
    if item.assignee:
        details.append(t("checklist.assignee", locale, user=user(item.assignee)))
    if item.due_at is not None and item.state == "open":
        details.append(t("checklist.due", locale, when=when(item.due_at)))
        if item.due_at < now:
            details.append(t("checklist.overdue", locale))
    if not item.required:
        details.append(t("checklist.optional", locale))
    if item.restricted:
        details.append(t("checklist.restricted", locale))
    if item.regime:
        details.append(t("checklist.regime", locale, regime=escape(item.regime)))
    lines.append(" · ".join(details))
    if item.state == "done":
        lines.append(t("checklist.done_by", locale, user=user(item.done_by), when=when(item.done_at)))
    elif item.state == "na":
        reason = escape(clip(item.na_reason or "—", REASON_MAX))
        lines.append(
            t("checklist.na_by", locale, user=user(item.done_by), when=when(item.done_at), reason=reason)
        )
    if item.note:
        lines.append(t("checklist.note", locale, note=escape(clip(item.note, NOTE_MAX))))
    return "\n".join(lines)


def item_buttons(item: ChecklistItem, locale: str) -> dict[str, Any]:
    value = item_value(item)
    if item.state == "open":
        elements = [
            button(t("checklist.button.done", locale), ActionId.ITEM_DONE, value, "primary"),
            button(t("checklist.button.na", locale), ActionId.ITEM_NA, value),
            button(t("checklist.button.assign", locale), ActionId.ITEM_ASSIGN, value),
            button(t("checklist.button.note", locale), ActionId.ITEM_NOTE, value),
        ]
    else:
        elements = [
            button(t("checklist.button.reopen", locale), ActionId.ITEM_REOPEN, value),
            button(t("checklist.button.note", locale), ActionId.ITEM_NOTE, value),
        ]
    return actions(*elements, block_id=f"item_{item.id}")


def phase_messages(
    incident: Incident,
    phase: Phase,
    items: list[ChecklistItem],
    roles: RolesConfig,
    locale: str,
    now: datetime,
    *,
    current: bool = False,
    passed: bool = False,
) -> list[ChecklistPart]:
    """The messages of one phase's checklist, in order; ``items`` are that phase's rows."""
    ordered = sorted(items, key=lambda i: (i.position, i.id or 0))
    chunks = [ordered[i : i + ITEMS_PER_PART] for i in range(0, len(ordered), ITEMS_PER_PART)] or [[]]
    done, total = progress(ordered)
    title = phase.title.get(locale)
    if current:
        where = t("checklist.current", locale)
    elif passed:
        where = t("checklist.passed", locale)
    elif phase.opens is Opens.AT_DECLARE:
        where = t("checklist.open_track", locale)
    else:
        where = ""
    parts: list[ChecklistPart] = []
    for number, chunk in enumerate(chunks, start=1):
        if len(chunks) == 1:
            head = t("checklist.header", locale, phase=title, done=done, total=total)
        else:
            head = t(
                "checklist.header_part",
                locale,
                phase=title,
                part=number,
                parts=len(chunks),
                done=done,
                total=total,
            )
        blocks: list[dict[str, Any]] = [header(head)]
        label = f"{incident.key}" + (f" · {where}" if where else "")
        blocks.append(context(label))
        for item in chunk:
            blocks.append(section(item_text(phase, item, roles, locale, now)))
            blocks.append(item_buttons(item, locale))
        text = t("checklist.text", locale, key=incident.key, phase=title, done=done, total=total)
        parts.append(ChecklistPart(phase.key, number, f"{phase.key}:{number}", blocks, text))
    return parts
