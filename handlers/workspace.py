"""Workspace settings made in Slack: applying them to the running bot, who may edit them, the form.

The files and the environment are the base (``install``); ``refresh`` overlays the stored settings
onto them, keeping the configuration's interface (``deps.config.roles.admin_usergroup``,
``.announcement_channel``, each role's ``.defaults``; ``deps.locale``; the cadence dict the
scheduler reads). It runs at start-up, after each change, and before each declaration, so a second
replica sees a change made through the first.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.deps import Deps
from handlers.errors import refuse_fields, tell
from handlers.gate import Find
from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from handlers.render.settings import Effective, Group, parse_settings, settings_blocks, settings_modal
from incident import firm_facts
from incident import workspace_settings as ws
from incident.config import IncidentConfig
from incident.severity import SEVERITIES

log = logging.getLogger(__name__)

BASE = "settings_base"
REPORT = "settings_report"  # deps.extras: the effective (channel, schedule) of the security report
FIRM = "settings_firm"  # deps.extras: the firm's answers to facts about itself, as last read
HISTORY_SHOWN = 8


@dataclass
class Base:
    """What the files and the environment say, before stored settings apply."""

    config: IncidentConfig
    locale: str
    cadences: dict[str, timedelta]
    report_channel: str | None
    report_schedule: str
    pinned: dict[str, str] = field(default_factory=dict)  # setting key → the variable that fixes it


def pinned_by_environment(settings: Any, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Setting key → environment variable, for each setting the operator fixed outside Slack."""
    env = os.environ if environ is None else environ
    given = settings.model_fields_set
    pinned = {
        key: var
        for attr, key, var in (
            ("locale", ws.LOCALE, "BREACHROOM_LOCALE"),
            ("report_channel", ws.REPORT_CHANNEL, "BREACHROOM_REPORT_CHANNEL"),
            ("report_schedule", ws.REPORT_SCHEDULE, "BREACHROOM_REPORT_SCHEDULE"),
        )
        if attr in given and getattr(settings, attr) not in (None, "")  # an empty variable sets nothing
    }
    for severity in SEVERITIES:
        if env.get(f"BREACHROOM_CADENCE_{severity}"):
            pinned[ws.cadence_key(severity)] = f"BREACHROOM_CADENCE_{severity}"
    return pinned


def install(deps: Deps, settings: Any) -> None:
    """Remember the files' and environment's values as the base settings overlay (at construction)."""
    deps.extras[BASE] = Base(
        config=deps.config,
        locale=deps.locale,
        cadences=dict(deps.cadences),
        report_channel=settings.report_channel,
        report_schedule=settings.report_schedule,
        pinned=pinned_by_environment(settings),
    )
    deps.extras[REPORT] = (settings.report_channel, settings.report_schedule)


async def refresh(deps: Deps, *, reschedule: bool = False) -> None:
    """Apply the stored settings over the base; ``reschedule`` also re-points the security report."""
    base: Base | None = deps.extras.get(BASE)
    if base is None:
        return  # a Deps built without a Runtime (unit tests of handlers) has only its files
    values = await ws.load(deps.db)
    pinned = base.pinned
    deps.config = ws.overlay(base.config, values)
    # A stored language was checked against the supported ones when an admin saved it.
    deps.locale = values.get(ws.LOCALE, base.locale) if ws.LOCALE not in pinned else base.locale  # type: ignore[assignment]
    cadences = deps.cadences  # one dict shared with the scheduler: change it in place
    fresh = ws.cadences(base.cadences, values, pinned)
    cadences.clear()
    cadences.update(fresh)
    channel = (
        base.report_channel
        if ws.REPORT_CHANNEL in pinned
        else values.get(ws.REPORT_CHANNEL, base.report_channel)
    )
    schedule = (
        base.report_schedule
        if ws.REPORT_SCHEDULE in pinned
        else values.get(ws.REPORT_SCHEDULE, base.report_schedule)
    )
    deps.extras[REPORT] = (channel, schedule)
    deps.extras[FIRM] = firm_facts.answers(values)
    if reschedule:
        await ws.schedule_report(deps.db, channel, schedule, deps.clock.now())


def report_target(deps: Deps) -> tuple[str | None, str]:
    """The security report's effective (channel, schedule)."""
    channel, schedule = deps.extras.get(REPORT, (None, "off"))
    return channel, schedule


def effective(deps: Deps) -> Effective:
    base: Base | None = deps.extras.get(BASE)
    channel, schedule = report_target(deps)
    return Effective(
        roles=deps.config.roles,
        locale=deps.locale,
        cadences=dict(deps.cadences),
        report_channel=channel,
        report_schedule=schedule,
        pinned=dict(base.pinned) if base else {},
        firm=dict(deps.extras.get(FIRM) or {}),
    )


async def may_edit(client: AsyncWebClient, deps: Deps, user: str) -> bool:
    """Members of the admin group; until one is set (or if it was deleted), the workspace's admins
    and owners, so a fresh install can be set up in Slack."""
    group = deps.config.roles.admin_usergroup
    if group:
        try:
            return bool(await deps.directory.is_member(client, group, user))
        except SlackApiError as exc:
            log.warning(
                "admin group unreadable (%s): workspace admins may edit settings", exc.response.get("error")
            )
    try:
        person = (await client.users_info(user=user)).get("user") or {}
    except SlackApiError:
        return False
    return bool(person.get("is_admin") or person.get("is_owner")) and not person.get("deleted")


async def settings_part(client: AsyncWebClient, deps: Deps, user: str) -> list[dict[str, Any]]:
    """The Settings blocks of App Home for someone who may edit them; nothing for everyone else."""
    if not await may_edit(client, deps, user):
        return []
    await refresh(deps)
    return settings_blocks(effective(deps), await ws.history(deps.db, HISTORY_SHOWN), deps.locale)


async def usergroups(client: AsyncWebClient) -> list[Group]:
    try:
        found = (await client.usergroups_list()).get("usergroups") or []
    except SlackApiError as exc:
        log.warning("usergroups.list failed: %s", exc.response.get("error"))
        return []
    return sorted((Group(g["id"], g.get("handle") or g["id"]) for g in found), key=lambda g: g.handle)


async def join(client: AsyncWebClient, channel: str) -> str | None:
    """Join the announcement channel; None when the bot is in it, else the message key saying why not."""
    try:
        await client.conversations_join(channel=channel)
        return None
    except SlackApiError as exc:
        error = exc.response.get("error")
    if error == "is_archived":
        return "settings.join.archived"
    try:  # a private channel cannot be joined, only invited to: is the bot in it already?
        info = (await client.conversations_info(channel=channel)).get("channel") or {}
        if info.get("is_member"):
            return None
    except SlackApiError:
        pass
    if error in ("method_not_supported_for_channel_type", "channel_not_found"):
        return "settings.join.private"
    log.warning("conversations.join %s failed: %s", channel, error)
    return "settings.join.failed"


def register(app: Any, deps: Deps) -> None:
    from handlers.home import publish_home

    deps.extras["refresh_settings"] = lambda: refresh(deps)

    async def on_edit(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user = body["user"]["id"]
        await refresh(deps)
        if not await may_edit(client, deps, user):
            await tell(client, body, t("settings.not_allowed", deps.locale))
            return
        view = settings_modal(effective(deps), await usergroups(client), deps.locale)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def on_submit(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = body["user"]["id"]
        locale = deps.locale
        await refresh(deps)
        if not await may_edit(client, deps, user):
            await ack()
            await tell(client, body, t("settings.not_allowed", locale))
            return
        before = effective(deps)
        changes, errors = parse_settings(view["state"]["values"], before)
        if errors:
            await refuse_fields(ack, errors, locale)
            return
        done = await ws.change(deps.db, changes, actor=user, now=deps.clock.now())
        await ack()
        keys = {c.key for c in done}
        await refresh(deps, reschedule=bool(keys & {ws.REPORT_CHANNEL, ws.REPORT_SCHEDULE}))
        if firm_facts.changed(keys):
            await firm_facts.restate(deps.db, deps.clock.now())
        await deps.reminders_changed()
        channel = deps.config.roles.announcement_channel
        if ws.ANNOUNCEMENT in keys and channel:
            why = await join(client, channel)
            if why:
                await tell(client, body, t(why, deps.locale, channel=channel))
        await tell(client, body, t("settings.saved", deps.locale, count=len(done)))
        await publish_home(client, deps, user)

    # Settings concern no incident: the listeners check who may edit them (may_edit) themselves.
    gate.action(app, deps, ActionId.SETTINGS_EDIT, Find.NONE)(deps.tracker.wrap(on_edit))
    gate.view(app, deps, CallbackId.SETTINGS, Find.NONE)(deps.tracker.wrap(on_submit))
