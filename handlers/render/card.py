"""The incident card: the headline message of an incident channel, re-rendered from the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.i18n import t
from handlers.ids import ActionId
from handlers.render.common import (
    actions,
    button,
    capped_sections,
    clip,
    context,
    divider,
    duration,
    escape,
    fields,
    header,
    option,
    plain,
    section,
    user,
    when,
)
from handlers.render.firm_facts import uncovered_line
from handlers.render.labels import assumed_start, fact_labels, joined, reason_label
from incident.clocks import ClockView
from incident.declare import SEVERITIES
from incident.overview import ClockGlance, Overview, PhaseProgress
from incident.roles_config import RolesConfig
from incident.skips import Skip
from incident.suggestion import Suggestion


def clock_line(view: ClockView, locale: str, now: datetime, command: str = "/breach") -> str:
    app = view.applicability
    name = f"*{escape(app.name.get(locale))}*"
    deadline = app.deadline_at
    ref = f" · {escape(view.reference)}" if view.reference else ""
    if view.state == "open" and deadline:
        status = t(
            "card.clock.open",
            locale,
            deadline=when(deadline),
            left=duration((deadline - now).total_seconds(), locale),
        )
    elif view.state == "overdue" and deadline:
        status = t(
            "card.clock.overdue",
            locale,
            deadline=when(deadline),
            left=duration((now - deadline).total_seconds(), locale),
        )
    elif view.state == "declined":
        status = t("card.clock.declined", locale)
    elif view.state in ("met", "late"):
        status = t(f"card.clock.{view.state}", locale, sent=when(view.notified_at), reference=ref)
    else:
        status = t("card.clock.unscheduled", locale)
    maybe = ""
    if app.status == "unknown":
        maybe = t("card.clock.maybe", locale, missing=fact_labels(app.missing_facts, locale) or "—")
    return f"{name}: {status}{assumed_start(app, locale, command)}{maybe}"


# A multi-state incident has a dozen clocks or more: the card gives them sections of their own (a
# section holds 3,000 characters), up to this many; past them, /breach obligations lists the rest.
MAX_CLOCK_SECTIONS = 8
# The set-up steps skipped (a person or group Slack would not take, say) get up to this many.
MAX_SKIP_SECTIONS = 3


def clock_sections(lines: list[str], locale: str, command: str) -> list[dict[str, Any]]:
    """Every clock line on the card, none cut in half, under the heading."""
    return capped_sections(
        f"*{t('card.clocks', locale)}*",
        lines,
        MAX_CLOCK_SECTIONS,
        lambda count: t("card.clocks.more_in_obligations", locale, count=count, command=command),
    )


def clock_lines(glance: ClockGlance, locale: str, now: datetime, command: str) -> list[str]:
    """The clocks that apply, most urgent first, each with its time left; the ones that only may
    apply folded into one line naming the facts that would decide them."""
    lines = [clock_line(c, locale, now, command) for c in glance.shown]
    if glance.may_apply:
        count = len(glance.may_apply)
        if glance.missing_facts:
            facts = fact_labels(glance.missing_facts, locale)
            lines.append(t("dayone.clocks.more", locale, count=count, facts=facts, command=command))
        else:
            lines.append(t("dayone.clocks.maybe", locale, count=count))
    return lines or [t("card.no_clocks", locale)]


def skip_line(skip: Skip, roles: RolesConfig, locale: str) -> str:
    """One default set-up could not use, and why, in the reader's language."""
    role_def = roles.get(skip.role) if skip.role else None
    role = role_def.name.get(locale) if role_def else ""
    reason = reason_label(skip.reason, locale)
    if skip.what == "usergroup":
        return t("dayone.skip.usergroup", locale, role=role, group=f"<!subteam^{skip.target}>", reason=reason)
    if skip.what == "announcement":
        return t("dayone.skip.announcement", locale, channel=f"<#{skip.target}>", reason=reason)
    who = user(skip.target)
    if skip.what == "holder":
        return t("dayone.skip.holder", locale, role=role, who=who, reason=reason)
    if skip.what == "role_dm":
        return t("dayone.skip.role_dm", locale, role=role, who=who, reason=reason)
    if role:
        return t("dayone.skip.invite_role", locale, role=role, who=who, reason=reason)
    return t("dayone.skip.invite", locale, who=who, reason=reason)


def suggestion_facts(s: Suggestion, locale: str) -> str:
    """ "1,200 people, National ID, not encrypted": the facts the suggestion rests on."""
    parts: list[str] = []
    if s.people_affected is not None:
        parts.append(t("dayone.suggest.people", locale, count=f"{s.people_affected:,}"))
    parts += [name.get(locale) for name in s.data_categories]
    if s.encrypted is not None:
        parts.append(t("dayone.suggest.encrypted" if s.encrypted else "dayone.suggest.not_encrypted", locale))
    return joined(parts, locale) if parts else t("dayone.suggest.no_facts", locale)


def suggestion_blocks(ov: Overview, locale: str) -> list[dict[str, Any]]:
    """The suggested severity with a one-click Accept, unless the incident already has it."""
    s, inc = ov.suggestion, ov.incident
    if s is None or not s.differs_from(inc) or inc.status == "closed":
        return []
    accept = button(
        t("dayone.suggest.accept", locale, severity=s.severity),
        ActionId.CARD_ACCEPT_SEVERITY,
        f"{inc.id}:{s.severity}",
        "primary",
    )
    line = t("dayone.suggest.line", locale, severity=s.severity, facts=suggestion_facts(s, locale))
    return [
        section(line, accessory=accept, block_id="suggested_severity"),
        context(t("dayone.suggest.who", locale)),
    ]


def phase_mark(p: PhaseProgress) -> str:
    """▶️ the current phase, ✅ a finished one, 🔓 one running alongside (Notify), ▫️ not open yet."""
    if p.current:
        return "▶️"
    if p.total and p.done == p.total:
        return "✅"
    return "🔓" if p.open else "▫️"


def card(
    ov: Overview, roles: RolesConfig, locale: str, now: datetime, command: str = "/breach"
) -> list[dict[str, Any]]:
    inc = ov.incident
    drill = f" · {t('card.drill', locale)}" if inc.is_drill else ""
    current_phase = next((p.title.get(locale) for p in ov.phases if p.current), inc.phase or "—")
    blocks: list[dict[str, Any]] = [header(f"🚨 {inc.key} · {inc.severity}{drill}")]
    if inc.is_drill:
        blocks.append(section(t("card.drill_banner", locale)))
    blocks.append(
        section(f"*{escape(inc.title)}*" + (f"\n{escape(inc.summary[:500])}" if inc.summary else ""))
    )
    blocks.append(
        fields(
            (t("card.status", locale), t(f"status.{inc.status}", locale)),
            (t("card.severity", locale), inc.severity),
            (t("card.phase", locale), current_phase),
            (t("card.declared", locale), f"{when(inc.declared_at)} · {user(inc.declared_by)}"),
        )
    )
    unfilled = t("card.unfilled", locale)
    role_lines = [
        f"{r.name.get(locale)}: {user(ov.holders[r.key]) if r.key in ov.holders else unfilled}" for r in roles
    ]
    blocks.append(section(f"*{t('card.roles', locale)}*\n" + "\n".join(role_lines)))
    if ov.declarer_in_command:
        blocks.append(context(t("dayone.declarer_commands.card", locale, who=user(inc.declared_by))))
    if ov.skipped:
        notes = [f"• {skip_line(s, roles, locale)}" for s in ov.skipped]
        blocks += capped_sections(
            t("dayone.skip.heading", locale),
            notes,
            MAX_SKIP_SECTIONS,
            lambda count: t("dayone.skip.more", locale, count=count),
        )
        blocks.append(context(t("dayone.skip.fix", locale)))
    progress = [f"{phase_mark(p)} {p.title.get(locale)} {p.done} / {p.total}" for p in ov.phases]
    blocks.append(section(f"*{t('card.checklists', locale)}*\n" + "\n".join(progress)))
    blocks += clock_sections(clock_lines(ov.clock_glance, locale, now, command), locale, command)
    warning = uncovered_line(ov.uncovered, locale)
    if warning:
        blocks.append(context(clip(warning, 2900)))
    blocks += suggestion_blocks(ov, locale)
    blocks.append(divider())
    value = str(inc.id)
    buttons: list[dict[str, Any]] = []
    if ov.pending_setup:
        steps = ", ".join(t(f"setup.{s}", locale) for s in ov.pending_setup)
        blocks.append(context(t("card.pending_setup", locale, steps=steps)))
        buttons.append(button(t("card.button.retry", locale), ActionId.CARD_RETRY_SETUP, value, "primary"))
    if ov.undelivered:
        blocks.append(context(t("card.undelivered", locale, count=ov.undelivered)))
    if inc.status != "closed":
        buttons += [
            button(t("card.button.post_update", locale), ActionId.CARD_POST_UPDATE, value),
            button(t("card.button.next_phase", locale), ActionId.CARD_NEXT_PHASE, value),
            button(t("card.button.assign_role", locale), ActionId.CARD_ASSIGN_ROLE, value),
            {
                "type": "static_select",
                "action_id": ActionId.CARD_SEVERITY,
                "placeholder": plain(t("card.button.severity", locale)),
                "options": [option(s, f"{inc.id}:{s}") for s in SEVERITIES],
            },
            button(t("card.button.resolve", locale), ActionId.CARD_RESOLVE, value),
            button(t("card.button.close", locale), ActionId.CARD_CLOSE, value, "danger"),
        ]
    buttons += [
        button(t("card.button.timeline", locale), ActionId.CARD_TIMELINE, value),
        button(t("card.button.refresh", locale), ActionId.CARD_REFRESH, value),
    ]
    blocks.append(actions(*buttons, block_id="card_actions"))
    blocks.append(context(t("card.confidential", locale)))
    return blocks


def card_text(ov: Overview, locale: str) -> str:
    """The notification fallback: no title, so nothing confidential shows in a push preview."""
    inc = ov.incident
    return f"{inc.key} · {inc.severity} · {t(f'status.{inc.status}', locale)}"


def announcement(key: str, severity: str, incident_id: int, drill: bool, locale: str) -> list[dict[str, Any]]:
    text = t(
        "announce.text",
        locale,
        key=key,
        severity=severity,
        drill=t("announce.drill", locale) if drill else "",
    )
    return [
        section(text),
        actions(
            button(t("announce.button", locale), ActionId.REQUEST_ACCESS, str(incident_id)),
            block_id="announce",
        ),
    ]
