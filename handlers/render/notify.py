"""The notify form and the obligations summary: pure Block Kit builders."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from handlers.render.common import (
    clip,
    context,
    divider,
    duration,
    escape,
    header,
    input_block,
    input_value,
    option,
    plain,
    section,
    when,
)
from handlers.render.labels import assumed_start, fact_labels
from incident.clocks import ClockView
from incident.limits import Field, limit
from incident.notifications import RECIPIENT_KINDS, NotificationInput
from incident.regimes import Applicability, Regime
from storage.models import Incident, TimelineEvent

# --------------------------------------------------------------------------- notify


def notify_modal(
    incident: Incident, views: list[ClockView], regime: Regime, locale: str, user: str, now: datetime
) -> dict[str, Any]:
    """Record a notification sent. ``views``: clocks one may record against; ``regime``: the chosen one."""
    blocks: list[dict[str, Any]] = []
    if incident.is_drill:
        blocks.append(section(t("notify.drill", locale)))
    regime_options = [
        option(
            v.applicability.regime.name.get(locale)
            + ("" if v.applicability.status == "applies" else t("notify.may_apply", locale)),
            v.regime_id,
        )
        for v in views
    ]
    chosen = next((o for o in regime_options if o["value"] == regime.id), regime_options[0])
    blocks.append(
        input_block(
            "regime",
            t("notify.field.regime", locale),
            {
                "type": "static_select",
                "action_id": ActionId.NOTIFY_REGIME,
                "options": regime_options,
                "initial_option": chosen,
            },
            optional=False,
            dispatch=True,
        )
    )
    view = next((v for v in views if v.regime_id == regime.id), None)
    if view and view.deadline_at:
        blocks.append(context(t("notify.deadline", locale, deadline=when(view.deadline_at))))
    who = "\n".join(f"• {escape(r.text.get(locale))}" for r in regime.notify)
    if who:
        blocks.append(context(clip(t("notify.who", locale, who=who), 2900)))
    kinds = [option(t(f"notify.kind.{k}", locale), k) for k in RECIPIENT_KINDS]
    blocks += [
        input_block(
            "recipient_kind",
            t("notify.field.recipient_kind", locale),
            {"type": "static_select", "options": kinds, "initial_option": kinds[0]},
            optional=False,
        ),
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
    if regime.notice_contents:
        blocks.append(
            input_block(
                "contents",
                t("notify.field.contents", locale),
                {
                    "type": "checkboxes",
                    "options": [
                        option(clip(i.text.get(locale), 75), i.key) for i in regime.notice_contents[:10]
                    ],
                },
                hint=t("notify.field.contents_hint", locale),
            )
        )
    title = "notify.modal.title_drill" if incident.is_drill else "notify.modal.title"
    return {
        "type": "modal",
        "callback_id": CallbackId.NOTIFY,
        "title": plain(t(title, locale), 24),
        "submit": plain(t("notify.modal.submit", locale), 24),
        "close": plain(t("notify.modal.cancel", locale), 24),
        "private_metadata": json.dumps({"incident_id": incident.id, "regime": regime.id}),
        "blocks": blocks,
    }


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
        regime=(input_value(values, "regime").get("selected_option") or {}).get("value")
        or notify_meta(view).get("regime", ""),
        recipient_kind=(input_value(values, "recipient_kind").get("selected_option") or {}).get("value")
        or "",
        recipient=input_value(values, "recipient").get("value") or "",
        sent_at=datetime.fromtimestamp(int(stamp), tz=UTC) if stamp else None,
        sent_by=input_value(values, "sent_by").get("selected_user") or user,
        reference=input_value(values, "reference").get("value") or "",
        channel=input_value(values, "channel").get("value") or "",
        content=input_value(values, "content").get("value") or "",
        contents_checked=[o["value"] for o in input_value(values, "contents").get("selected_options") or []],
    )


def recorded_line(incident: Incident, regime: Regime, event: TimelineEvent, locale: str) -> str:
    """The channel's line about a `notification_recorded` event, from the event itself."""
    data = event.data
    state = data.get("clock_after")
    text = t(
        "notify.recorded",
        locale,
        regime=escape(regime.name.get(locale)),
        kind=t(f"notify.kind.{data['recipient_kind']}", locale),
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
) -> list[dict[str, Any]]:
    """Which regimes apply and why, deadline and time left, state, and the facts still unknown."""
    blocks: list[dict[str, Any]] = [header(t("obligations.title", locale, key=incident.key))]
    if incident.is_drill:
        blocks.append(section(t("notify.drill", locale)))
    by_id = {v.regime_id: v for v in views}
    shown = [a for a in evaluated if a.status != "does_not_apply" and not a.regime.register_only]
    for app in shown[:20]:
        view = by_id.get(app.regime.id)
        status = t(f"obligations.status.{app.status}", locale)
        lines = [f"*{escape(app.regime.name.get(locale))}* · {status}"]
        if view is not None:
            lines.append(_clock_status(view, locale, now) + assumed_start(app, locale, command))
        if app.reasons:
            lines.append(t("obligations.why", locale, why="; ".join(r.get(locale) for r in app.reasons)))
        if app.missing_facts:
            lines.append(t("obligations.missing", locale, facts=fact_labels(app.missing_facts, locale)))
        if app.regime.target_note:
            lines.append(f"_{escape(app.regime.target_note.get(locale))}_")
        blocks.append(section(clip("\n".join(lines), 2900)))
    if not shown:
        blocks.append(section(t("obligations.none", locale)))
    register = [a for a in evaluated if a.regime.register_only and a.status != "does_not_apply"]
    if register:
        blocks.append(
            context(
                t(
                    "obligations.register",
                    locale,
                    names=", ".join(a.regime.name.get(locale) for a in register),
                )
            )
        )
    not_applying = [a.regime.name.get(locale) for a in evaluated if a.status == "does_not_apply"]
    if not_applying:
        blocks.append(
            context(clip(t("obligations.not_applying", locale, names=", ".join(not_applying)), 2900))
        )
    unknown = [f for a in evaluated if a.status != "does_not_apply" for f in a.missing_facts]
    blocks.append(divider())
    if unknown:
        blocks.append(
            section(
                t("obligations.unknown_facts", locale, facts=fact_labels(unknown, locale), command=command)
            )
        )
    else:
        blocks.append(context(t("obligations.all_known", locale)))
    return blocks[:50]
