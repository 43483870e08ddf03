"""The Settings part of App Home and its edit form (pure Block Kit builders; `now` and data passed in)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from handlers.render.common import (
    actions,
    button,
    context,
    divider,
    header,
    input_block,
    option,
    plain,
    section,
    when,
)
from incident import workspace_settings as ws
from incident.roles_config import RolesConfig
from incident.severity import SEVERITIES
from incident.text import LOCALES
from storage.models import SettingChange

ADMIN_BLOCK = "settings_admin"
ANNOUNCE_BLOCK = "settings_announce"
LOCALE_BLOCK = "settings_locale"
USERS_BLOCK = "settings_users."
GROUPS_BLOCK = "settings_groups."
CADENCE_BLOCK = "settings_cadence."
REPORT_CHANNEL_BLOCK = "settings_report_channel"
REPORT_SCHEDULE_BLOCK = "settings_report_schedule"
FIRM_BLOCK = "settings_firm."
ANSWERS = ("yes", "no", "unknown")
MAX_GROUP_OPTIONS = 100


@dataclass(frozen=True)
class Group:
    id: str
    handle: str


@dataclass(frozen=True)
class Effective:
    """What applies now, and which settings the environment fixes (key → variable name)."""

    roles: RolesConfig
    locale: str
    cadences: Mapping[str, timedelta]
    report_channel: str | None
    report_schedule: str
    pinned: Mapping[str, str] = field(default_factory=dict)
    firm: Mapping[str, bool] = field(default_factory=dict)  # the firm's answers (incident/firm_facts.py)


def every(span: timedelta) -> str:
    """A cadence as the form takes it back: ``1d``, ``4h`` or ``45m``."""
    minutes = int(span.total_seconds() // 60)
    if minutes and minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes and minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def _holder(ident: str) -> str:
    return f"<!subteam^{ident}>" if ident.startswith("S") else f"<@{ident}>"


def _pinned(eff: Effective, key: str, locale: str) -> str:
    var = eff.pinned.get(key)
    return t("settings.pinned", locale, variable=var) if var else ""


def settings_blocks(eff: Effective, changes: Sequence[SettingChange], locale: str) -> list[dict[str, Any]]:
    """The Settings part of an admin's App Home: what applies, who changed what when, an Edit button."""
    none = t("settings.none", locale)
    roles = eff.roles
    lines = [
        t(
            "settings.line.admin",
            locale,
            value=_holder(roles.admin_usergroup) if roles.admin_usergroup else none,
        ),
        t(
            "settings.line.announce",
            locale,
            value=f"<#{roles.announcement_channel}>" if roles.announcement_channel else none,
        ),
        t("settings.line.locale", locale, value=t(f"settings.locale.{eff.locale}", locale))
        + _pinned(eff, ws.LOCALE, locale),
    ]
    holders = [
        t(
            "settings.line.role",
            locale,
            role=role.name.get(locale),
            value=", ".join(_holder(d) for d in role.defaults) or none,
        )
        for role in roles
    ]
    cadence = [
        t("settings.line.cadence", locale, severity=s, value=every(eff.cadences[s]))
        + _pinned(eff, ws.cadence_key(s), locale)
        for s in SEVERITIES
        if s in eff.cadences
    ]
    report = t(
        "settings.line.report",
        locale,
        channel=f"<#{eff.report_channel}>" if eff.report_channel else none,
        schedule=t(f"settings.schedule.{eff.report_schedule}", locale),
    ) + (_pinned(eff, ws.REPORT_CHANNEL, locale) or _pinned(eff, ws.REPORT_SCHEDULE, locale))
    history = [
        t(
            "settings.change",
            locale,
            at=when(c.changed_at),
            user=f"<@{c.changed_by}>",
            setting=setting_label(c.key, roles, locale),
        )
        for c in changes
    ]
    return [
        divider(),
        header(t("settings.title", locale)),
        section("\n".join(lines)),
        section(f"*{t('settings.holders', locale)}*\n" + "\n".join(holders)),
        section(f"*{t('settings.cadence', locale)}*\n" + "\n".join(cadence) + "\n" + report),
        section(f"*{t('firm_facts.settings.title', locale)}*\n" + "\n".join(_firm_lines(eff, locale))),
        actions(button(t("settings.edit", locale), ActionId.SETTINGS_EDIT, style="primary")),
        context(
            f"*{t('settings.history', locale)}*\n" + ("\n".join(history) or t("settings.no_history", locale))
        ),
    ]


def setting_label(key: str, roles: RolesConfig, locale: str) -> str:
    if key.startswith(ws.ROLE_PREFIX):
        role = roles.get(key.removeprefix(ws.ROLE_PREFIX))
        name = role.name.get(locale) if role else key.removeprefix(ws.ROLE_PREFIX)
        return t("settings.label.role", locale, role=name)
    if key.startswith(ws.CADENCE_PREFIX):
        return t("settings.label.cadence", locale, severity=key.removeprefix(ws.CADENCE_PREFIX))
    if key.startswith(ws.FIRM_PREFIX):
        return t(f"firm_facts.setting.{key.removeprefix(ws.FIRM_PREFIX)}", locale)
    return t(f"settings.label.{key}", locale)


def _answer(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def _firm_lines(eff: Effective, locale: str) -> list[str]:
    return [
        t(
            "firm_facts.answer",
            locale,
            fact=t(f"firm_facts.setting.{fact}", locale),
            answer=t(f"firm_facts.value.{_answer(eff.firm.get(fact))}", locale),
        )
        for fact in ws.FIRM_FACTS
    ]


def _firm_inputs(eff: Effective, locale: str) -> list[dict[str, Any]]:
    """One yes / no / not sure question per fact about the firm, answered as it stands now."""
    blocks: list[dict[str, Any]] = [header(t("firm_facts.settings.title", locale))]
    blocks.append(context(t("firm_facts.settings.intro", locale)))
    for fact in ws.FIRM_FACTS:
        choices = [option(t(f"declare.option.{a}", locale), a) for a in ANSWERS]
        blocks.append(
            input_block(
                f"{FIRM_BLOCK}{fact}",
                t(f"firm_facts.setting.{fact}", locale),
                {
                    "type": "radio_buttons",
                    "options": choices,
                    "initial_option": choices[ANSWERS.index(_answer(eff.firm.get(fact)))],
                },
                optional=False,
                hint=t(f"firm_facts.hint.{fact}", locale),
            )
        )
    return blocks


def _group_options(groups: Sequence[Group]) -> list[dict[str, Any]]:
    return [option(f"@{g.handle}", g.id) for g in groups[:MAX_GROUP_OPTIONS]]


def settings_modal(eff: Effective, groups: Sequence[Group], locale: str) -> dict[str, Any]:
    """The form an admin edits settings in; settings fixed by the environment are shown, not asked."""
    roles = eff.roles
    # Only 100 options fit a select: the groups already configured come first, so none is lost.
    configured = {roles.admin_usergroup} | {g for role in roles for g in role.default_usergroups}
    opts = _group_options(sorted(groups, key=lambda g: g.id not in configured))
    by_id = {o["value"]: o for o in opts}
    blocks: list[dict[str, Any]] = []
    if opts:
        admin: dict[str, Any] = {
            "type": "static_select",
            "options": opts,
            "placeholder": plain(t("settings.pick_group", locale)),
        }
        if roles.admin_usergroup in by_id:
            admin["initial_option"] = by_id[roles.admin_usergroup]
        blocks.append(
            input_block(
                ADMIN_BLOCK,
                t("settings.label.admin_usergroup", locale),
                admin,
                hint=t("settings.admin_hint", locale),
            )
        )
    else:
        blocks.append(context(t("settings.no_groups", locale)))
    announce: dict[str, Any] = {
        "type": "conversations_select",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
        "placeholder": plain(t("settings.pick_channel", locale)),
    }
    if roles.announcement_channel:
        announce["initial_conversation"] = roles.announcement_channel
    blocks.append(
        input_block(
            ANNOUNCE_BLOCK,
            t("settings.label.announcement_channel", locale),
            announce,
            hint=t("settings.announce_hint", locale),
        )
    )
    if ws.LOCALE in eff.pinned:
        blocks.append(context(t("settings.label.locale", locale) + _pinned(eff, ws.LOCALE, locale)))
    else:
        langs = [option(t(f"settings.locale.{code}", locale), code) for code in LOCALES]
        blocks.append(
            input_block(
                LOCALE_BLOCK,
                t("settings.label.locale", locale),
                {
                    "type": "static_select",
                    "options": langs,
                    "initial_option": langs[LOCALES.index(eff.locale)],
                },
                optional=False,
            )
        )
    blocks.append(header(t("settings.holders", locale)))
    for role in roles:
        users = [d for d in role.default_users]
        people: dict[str, Any] = {
            "type": "multi_users_select",
            "placeholder": plain(t("settings.pick_people", locale)),
        }
        if users:
            people["initial_users"] = users
        blocks.append(input_block(f"{USERS_BLOCK}{role.key}", role.name.get(locale), people))
        if opts:
            chosen = [by_id[g] for g in role.default_usergroups if g in by_id]
            teams: dict[str, Any] = {
                "type": "multi_static_select",
                "options": opts,
                "placeholder": plain(t("settings.pick_groups", locale)),
            }
            if chosen:
                teams["initial_options"] = chosen
            blocks.append(
                input_block(
                    f"{GROUPS_BLOCK}{role.key}",
                    t("settings.groups_of", locale, role=role.name.get(locale)),
                    teams,
                )
            )
    blocks.append(header(t("settings.cadence", locale)))
    for severity in SEVERITIES:
        key = ws.cadence_key(severity)
        label = t("settings.label.cadence", locale, severity=severity)
        if key in eff.pinned:
            blocks.append(context(f"{label}: {every(eff.cadences[severity])}" + _pinned(eff, key, locale)))
            continue
        blocks.append(
            input_block(
                f"{CADENCE_BLOCK}{severity}",
                label,
                {"type": "plain_text_input", "initial_value": every(eff.cadences[severity]), "max_length": 8},
                optional=False,
                hint=t("settings.cadence_hint", locale),
            )
        )
    if ws.REPORT_CHANNEL in eff.pinned:
        blocks.append(
            context(t("settings.label.report_channel", locale) + _pinned(eff, ws.REPORT_CHANNEL, locale))
        )
    else:
        report: dict[str, Any] = {
            "type": "conversations_select",
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
            "placeholder": plain(t("settings.pick_channel", locale)),
        }
        if eff.report_channel:
            report["initial_conversation"] = eff.report_channel
        blocks.append(input_block(REPORT_CHANNEL_BLOCK, t("settings.label.report_channel", locale), report))
    if ws.REPORT_SCHEDULE in eff.pinned:
        blocks.append(
            context(t("settings.label.report_schedule", locale) + _pinned(eff, ws.REPORT_SCHEDULE, locale))
        )
    else:
        schedules = [option(t(f"settings.schedule.{s}", locale), s) for s in ws.REPORT_SCHEDULES]
        blocks.append(
            input_block(
                REPORT_SCHEDULE_BLOCK,
                t("settings.label.report_schedule", locale),
                {
                    "type": "static_select",
                    "options": schedules,
                    "initial_option": schedules[ws.REPORT_SCHEDULES.index(eff.report_schedule)],
                },
                optional=False,
            )
        )
    blocks += _firm_inputs(eff, locale)
    return {
        "type": "modal",
        "callback_id": CallbackId.SETTINGS,
        "title": plain(t("settings.modal_title", locale), 24),
        "submit": plain(t("settings.save", locale), 24),
        "close": plain(t("settings.cancel", locale), 24),
        "blocks": blocks[:100],
    }


def parse_settings(values: dict[str, Any], eff: Effective) -> tuple[dict[str, Any], dict[str, str]]:
    """The submitted form → the settings whose value differs from what applies now, and field
    errors (block id → message key). Settings the form did not show stay as they are."""
    from handlers.render.common import input_value

    roles = eff.roles
    wanted: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if ADMIN_BLOCK in values:
        picked = input_value(values, ADMIN_BLOCK).get("selected_option")
        wanted[ws.ADMIN] = picked["value"] if picked else None
    if ANNOUNCE_BLOCK in values:
        wanted[ws.ANNOUNCEMENT] = input_value(values, ANNOUNCE_BLOCK).get("selected_conversation")
    if LOCALE_BLOCK in values:
        picked = input_value(values, LOCALE_BLOCK).get("selected_option")
        if picked:
            wanted[ws.LOCALE] = picked["value"]
    for role in roles:
        users_block, groups_block = f"{USERS_BLOCK}{role.key}", f"{GROUPS_BLOCK}{role.key}"
        if users_block not in values:
            continue
        users = list(input_value(values, users_block).get("selected_users") or [])
        if groups_block in values:
            groups = [o["value"] for o in input_value(values, groups_block).get("selected_options") or []]
        else:
            groups = list(role.default_usergroups)
        wanted[ws.role_key(role.key)] = users + groups
    for severity in SEVERITIES:
        block = f"{CADENCE_BLOCK}{severity}"
        if block not in values:
            continue
        raw = (input_value(values, block).get("value") or "").strip()
        try:
            wanted[ws.cadence_key(severity)] = every(ws.parse_cadence(raw))
        except ValueError:
            errors[block] = "settings.error.cadence"
    if REPORT_CHANNEL_BLOCK in values:
        wanted[ws.REPORT_CHANNEL] = input_value(values, REPORT_CHANNEL_BLOCK).get("selected_conversation")
    if REPORT_SCHEDULE_BLOCK in values:
        picked = input_value(values, REPORT_SCHEDULE_BLOCK).get("selected_option")
        if picked:
            wanted[ws.REPORT_SCHEDULE] = picked["value"]
    for fact in ws.FIRM_FACTS:
        block = f"{FIRM_BLOCK}{fact}"
        if block in values:
            picked = (input_value(values, block).get("selected_option") or {}).get("value")
            if picked in ANSWERS:
                wanted[ws.firm_key(fact)] = None if picked == "unknown" else picked == "yes"
    current = current_values(eff)
    return {k: v for k, v in wanted.items() if current.get(k) != v}, errors


def current_values(eff: Effective) -> dict[str, Any]:
    """What applies now, keyed as settings are stored (to store only what a person changed)."""
    roles = eff.roles
    now: dict[str, Any] = {
        ws.ADMIN: roles.admin_usergroup,
        ws.ANNOUNCEMENT: roles.announcement_channel,
        ws.LOCALE: eff.locale,
        ws.REPORT_CHANNEL: eff.report_channel,
        ws.REPORT_SCHEDULE: eff.report_schedule,
    }
    for role in roles:
        now[ws.role_key(role.key)] = list(role.default_users) + list(role.default_usergroups)
    for severity, span in eff.cadences.items():
        now[ws.cadence_key(severity)] = every(span)
    for fact in ws.FIRM_FACTS:
        now[ws.firm_key(fact)] = eff.firm.get(fact)
    return now
