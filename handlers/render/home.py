"""What a person is in: the App Home tab and `/breach list`.

Only what a member of each incident already sees: key, severity, status, the channel link, their
roles and the titles of their playbook items. Never an incident's own title or facts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.i18n import t
from handlers.render.common import MESSAGE_BLOCKS_MAX, context, divider, header, section, when
from incident.lifecycle import Standing
from incident.overview import playbook_of
from incident.register import RegisterRow
from incident.roles_config import RolesConfig
from storage.models import ChecklistItem, Incident

MAX_HOME_INCIDENTS = 30
MAX_ITEMS_SHOWN = 10
LINES_PER_SECTION = 20


def headline(incident: Incident, locale: str) -> str:
    channel = f" · <#{incident.channel_id}>" if incident.channel_id else ""
    drill = f" · {t('card.drill', locale)}" if incident.is_drill else ""
    status = t(f"status.{incident.status}", locale)
    return f"*{incident.key}* · {incident.severity} · {status}{drill}{channel}"


def incident_list(incidents: list[Incident], locale: str) -> list[dict[str, Any]]:
    """`/breach list`: open incidents first (the caller's order is kept), one line each."""
    if not incidents:
        return [section(t("home.list.none", locale))]
    lines = [headline(i, locale) for i in incidents]
    blocks = [header(t("home.list.title", locale))]
    for start in range(0, len(lines), LINES_PER_SECTION):
        blocks.append(section("\n".join(lines[start : start + LINES_PER_SECTION])))
    return blocks[:MESSAGE_BLOCKS_MAX]


def _item_line(incident: Incident, item: ChecklistItem, locale: str) -> str:
    try:
        title = playbook_of(incident).item(item.item_key).title.get(locale)
    except KeyError:
        title = item.item_key
    due = t("home.item.due", locale, due=when(item.due_at)) if item.due_at else ""
    return f"• {title}{due}"


def register_blocks(entries: list[RegisterRow], locale: str) -> list[dict[str, Any]]:
    """The most recent register entries, for admins: no titles, only what the register records."""
    lines = []
    for row in entries:
        count = {
            k: sum(1 for d in row.decisions if d.decision == k)
            for k in ("notified", "not_notified", "pending")
        }
        lines.append(
            t(
                "home.register.line",
                locale,
                key=row.key,
                severity=row.severity,
                status=t(f"status.{row.status}", locale) if row.kind != "log" else "—",
                drill=t("home.register.drill", locale) if row.drill else "",
                kind=t("home.register.log", locale) if row.kind == "log" else "",
                declared=when(row.declared_at, "{date_short}"),
                decisions=t(
                    "home.register.decisions",
                    locale,
                    notified=count["notified"],
                    declined=count["not_notified"],
                    pending=count["pending"],
                ),
            )
        )
    return [
        divider(),
        section(f"*{t('home.register.title', locale)}*\n" + ("\n".join(lines) or t("home.none", locale))),
        context(t("home.register.export", locale)),
    ]


def home_view(
    standings: list[Standing],
    roles: RolesConfig,
    locale: str,
    now: datetime,
    register: list[RegisterRow] | None = None,
) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [header(t("home.title", locale))]
    if not standings:
        blocks.append(section(t("home.none", locale)))
    for standing in standings[:MAX_HOME_INCIDENTS]:
        incident = standing.incident
        held = [roles[r].name.get(locale) if r in roles else r for r in standing.roles]
        role_line = t("home.roles", locale, roles=", ".join(held)) if held else t("home.no_role", locale)
        blocks += [divider(), section(f"{headline(incident, locale)}\n{role_line}")]
        items = standing.items
        if items:
            lines = [_item_line(incident, item, locale) for item in items[:MAX_ITEMS_SHOWN]]
            if len(items) > MAX_ITEMS_SHOWN:
                lines.append(t("home.items_more", locale, count=len(items) - MAX_ITEMS_SHOWN))
            blocks.append(section(t("home.items", locale, count=len(items)) + "\n" + "\n".join(lines)))
        else:
            blocks.append(context(t("home.no_items", locale)))
    if len(standings) > MAX_HOME_INCIDENTS:
        blocks.append(context(t("home.more_incidents", locale, count=len(standings) - MAX_HOME_INCIDENTS)))
    if register is not None:
        blocks += register_blocks(register, locale)
    blocks.append(context(t("home.updated", locale, at=when(now))))
    return {"type": "home", "blocks": blocks[:100]}
