"""The notify form and the obligations summary: pure Block Kit builders."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from handlers.i18n import catalog, t
from handlers.ids import ActionId, CallbackId
from handlers.render.common import (
    MESSAGE_BLOCKS_MAX,
    clip,
    context,
    divider,
    duration,
    escape,
    header,
    input_block,
    input_value,
    modal,
    option,
    packed,
    section,
    when,
)
from handlers.render.drafts import draft_button
from handlers.render.firm_facts import from_settings_line, uncovered_line
from handlers.render.labels import assumed_start, fact_labels, obligation_option
from incident.clocks import ClockView
from incident.limits import Field, limit
from incident.notifications import NotificationInput
from incident.regimes import Applicability
from incident.text import Text
from storage.models import Incident, TimelineEvent

# --------------------------------------------------------------------------- notify


def notify_modal(
    incident: Incident, views: list[ClockView], chosen: ClockView, locale: str, user: str, now: datetime
) -> dict[str, Any]:
    """Record a notice sent. ``views``: the clocks of the obligations one may record against
    (they apply or may apply); ``chosen``: the one this notice satisfies."""
    blocks: list[dict[str, Any]] = []
    if incident.is_drill:
        blocks.append(section(t("notify.drill", locale)))
    options = [
        option(
            obligation_option(
                v.applicability.regime.name,
                v.obligation.recipient,
                locale,
                75 - len(t("notify.may_apply", locale)),
            )
            + ("" if v.applicability.status == "applies" else t("notify.may_apply", locale)),
            v.id,
        )
        for v in views[:100]
    ]
    initial = next((o for o in options if o["value"] == chosen.id), options[0])
    blocks.append(
        input_block(
            "obligation",
            t("notify.field.regime", locale),
            {
                "type": "static_select",
                "action_id": ActionId.NOTIFY_REGIME,
                "options": options,
                "initial_option": initial,
            },
            optional=False,
            dispatch=True,
        )
    )
    obligation = chosen.obligation
    if chosen.deadline_at:
        blocks.append(context(t("notify.deadline", locale, deadline=when(chosen.deadline_at))))
    kind = t(f"obligation.kind.{obligation.recipient_kind}", locale)
    who = f"{escape(obligation.recipient.get(locale))} · {kind}"
    blocks.append(context(clip(t("notify.who", locale, who=who), 2900)))
    blocks += [
        input_block(
            "recipient",
            t("notify.field.recipient", locale),
            {"type": "plain_text_input", "max_length": limit(Field.RECIPIENT)},
            optional=False,
        ),
        input_block(
            "sent_at",
            t("notify.field.sent_at", locale),
            {"type": "datetimepicker", "initial_date_time": int(now.timestamp())},
            optional=False,
            hint=t("notify.field.sent_at_hint", locale),
        ),
        input_block(
            "reference",
            t("notify.field.reference", locale),
            {"type": "plain_text_input", "max_length": limit(Field.REFERENCE)},
        ),
        input_block(
            "sent_by",
            t("notify.field.sent_by", locale),
            {"type": "users_select", "initial_user": user},
            optional=False,
        ),
        input_block(
            "channel",
            t("notify.field.channel", locale),
            {"type": "plain_text_input", "max_length": limit(Field.CHANNEL)},
        ),
        input_block(
            "content",
            t("notify.field.content", locale),
            {"type": "plain_text_input", "multiline": True, "max_length": limit(Field.CONTENT)},
        ),
    ]
    if obligation.notice_contents:
        blocks.append(
            input_block(
                "contents",
                t("notify.field.contents", locale),
                {
                    "type": "checkboxes",
                    "options": [
                        option(clip(i.text.get(locale), 75), i.key) for i in obligation.notice_contents[:10]
                    ],
                },
                hint=t("notify.field.contents_hint", locale),
            )
        )
    title = "notify.modal.title_drill" if incident.is_drill else "notify.modal.title"
    return modal(
        CallbackId.NOTIFY,
        title=t(title, locale),
        submit=t("notify.modal.submit", locale),
        close=t("notify.modal.cancel", locale),
        metadata={"incident_id": incident.id, "obligation": chosen.id},
        blocks=blocks,
    )


def notify_meta(view: dict[str, Any]) -> dict[str, Any]:
    """The form's private metadata; a forged, non-JSON one reads as empty."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def parse_notify(view: dict[str, Any], user: str) -> NotificationInput:
    values = view.get("state", {}).get("values", {})
    stamp = input_value(values, "sent_at").get("selected_date_time")
    return NotificationInput(
        obligation=(input_value(values, "obligation").get("selected_option") or {}).get("value")
        or notify_meta(view).get("obligation", ""),
        recipient=input_value(values, "recipient").get("value") or "",
        sent_at=datetime.fromtimestamp(int(stamp), tz=UTC) if stamp else None,
        sent_by=input_value(values, "sent_by").get("selected_user") or user,
        reference=input_value(values, "reference").get("value") or "",
        channel=input_value(values, "channel").get("value") or "",
        content=input_value(values, "content").get("value") or "",
        contents_checked=[o["value"] for o in input_value(values, "contents").get("selected_options") or []],
    )


def recorded_line(incident: Incident, name: str, event: TimelineEvent, locale: str) -> str:
    """The channel's line about a `notification_recorded` event, from the event itself; ``name``
    is how its obligation reads (or its id, if the regimes file no longer has it)."""
    data = event.data
    state = data.get("clock_after")
    kind = data.get("recipient_kind") or "other"
    text = t(
        "notify.recorded",
        locale,
        regime=escape(name),
        kind=t(f"obligation.kind.{kind if f'obligation.kind.{kind}' in catalog() else 'other'}", locale),
        recipient=escape(data.get("recipient") or ""),
        sent=when(datetime.fromisoformat(data["sent_at"])),
        reference=escape(data.get("reference") or "") or "—",
        state=t(f"obligations.state.{state}", locale) if state else "—",
        user=f"<@{data.get('sent_by') or event.actor}>",
    )
    return (t("notify.drill_tag", locale) + text) if incident.is_drill else text


# --------------------------------------------------------------------------- obligations


def _clock_status(view: ClockView, locale: str, now: datetime) -> str:
    deadline = view.deadline_at
    if view.state == "open" and deadline:
        return t(
            "obligations.open",
            locale,
            deadline=when(deadline),
            left=duration((deadline - now).total_seconds(), locale),
        )
    if view.state == "overdue" and deadline:
        return t(
            "obligations.overdue",
            locale,
            deadline=when(deadline),
            late=duration((now - deadline).total_seconds(), locale),
        )
    if view.state in ("met", "late"):
        return t(
            f"obligations.{view.state}",
            locale,
            sent=when(view.notified_at),
            reference=escape(view.reference or "—"),
        )
    return t("obligations.unscheduled", locale)


def obligations(
    incident: Incident,
    views: list[ClockView],
    evaluated: list[Applicability],
    locale: str,
    now: datetime,
    command: str,
    firm: Mapping[str, bool] | None = None,
    uncovered: Sequence[Text] = (),
) -> list[dict[str, Any]]:
    """Which obligations apply and why, each with its own clock (deadline, time left, state), and
    the facts still unknown. ``firm``: the facts taken from the firm's settings; ``uncovered``: the
    incident's places no regime covers."""
    blocks: list[dict[str, Any]] = [header(t("obligations.title", locale, key=incident.key))]
    if incident.is_drill:
        blocks.append(section(t("notify.drill", locale)))
    warning = uncovered_line(uncovered, locale)
    if warning:
        blocks.append(section(warning))
    from_firm = from_settings_line(firm or {}, locale, command)
    if from_firm:
        blocks.append(context(from_firm))
    by_id = {v.id: v for v in views}
    shown = [a for a in evaluated if a.status != "does_not_apply" and not a.register_only]
    items = [_obligation_item(incident, app, by_id.get(app.id), locale, now, command) for app in shown]
    if not shown:
        items.append((section(t("obligations.none", locale)), ""))
    trailer: list[dict[str, Any]] = []
    register = [a for a in evaluated if a.register_only and a.status != "does_not_apply"]
    if register:
        names = ", ".join(a.name.get(locale) for a in register)
        trailer.append(context(clip(t("obligations.register", locale, names=names), 2900)))
    not_applying = _not_applying(evaluated, locale)
    if not_applying:
        trailer.append(
            context(clip(t("obligations.not_applying", locale, names=", ".join(not_applying)), 2900))
        )
    unknown = [f for a in evaluated if a.status != "does_not_apply" for f in a.missing_facts]
    trailer.append(divider())
    if unknown:
        trailer.append(
            section(
                t("obligations.unknown_facts", locale, facts=fact_labels(unknown, locale), command=command)
            )
        )
    else:
        trailer.append(context(t("obligations.all_known", locale)))
    return blocks + _fitted(items, MESSAGE_BLOCKS_MAX - len(blocks) - len(trailer)) + trailer


def _obligation_item(
    incident: Incident, app: Applicability, view: ClockView | None, locale: str, now: datetime, command: str
) -> tuple[dict[str, Any], str]:
    """One obligation's section, with its Draft button; and the same in one line, for a list too
    long to give each its own section."""
    status = t(f"obligations.status.{app.status}", locale)
    name = f"*{escape(app.name.get(locale))}* · {status}"
    clock = _clock_status(view, locale, now) + assumed_start(app, locale, command) if view is not None else ""
    record = t("obligations.record_with", locale, command=command, id=app.id)
    lines = [name, clock] if clock else [name]
    if app.reasons:
        lines.append(t("obligations.why", locale, why="; ".join(r.get(locale) for r in app.reasons)))
    if app.missing_facts:
        lines.append(t("obligations.missing", locale, facts=fact_labels(app.missing_facts, locale)))
    if app.obligation.target_note:
        lines.append(f"_{escape(app.obligation.target_note.get(locale))}_")
    lines.append(f"_{record}_")
    # Each obligation's notice can be drafted from the record right here (handlers/drafts.py).
    button = draft_button(incident.id, app.id, locale) if incident.id is not None else None
    one_line = " · ".join(part for part in (f"• {name}", clock, record) if part)
    return section(clip("\n".join(lines), 2900), accessory=button), one_line


def _fitted(items: list[tuple[dict[str, Any], str]], room: int) -> list[dict[str, Any]]:
    """Every obligation in at most `room` blocks: each in its own section while they fit, and
    when they do not, the last ones as lines packed together (no Draft button, nothing left out)."""
    if len(items) <= room:
        return [block for block, _ in items]
    keep = max(room - 1, 0)
    rest = packed([line for _, line in items[keep:]])
    while keep > 0 and keep + len(rest) > room:
        keep -= 1
        rest = packed([line for _, line in items[keep:]])
    return [block for block, _ in items[:keep]] + [section(text) for text in rest]


def _not_applying(evaluated: list[Applicability], locale: str) -> list[str]:
    """A regime none of whose obligations applies reads as its name; an obligation that does not
    apply while others of its regime may, as the regime and its recipient."""
    by_regime: dict[str, list[Applicability]] = {}
    for app in evaluated:
        by_regime.setdefault(app.regime.id, []).append(app)
    names: list[str] = []
    for apps in by_regime.values():
        out = [a for a in apps if a.status == "does_not_apply"]
        if len(out) == len(apps):
            names.append(apps[0].regime.name.get(locale))
        else:
            names += [a.name.get(locale) for a in out]
    return names
