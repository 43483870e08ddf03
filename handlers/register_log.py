"""`/breach log` (a register entry without a channel) and `/breach nonotify` (a decision not to
notify under one regime, with its rationale)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.commands import CommandCtx, subcommand
from handlers.context import incident_by_id, incident_for
from handlers.deps import Deps
from handlers.effects import Line, announcer
from handlers.errors import refuse_fields, tell
from handlers.forms import text_refused
from handlers.gate import Find, is_admin
from handlers.i18n import t
from handlers.ids import CallbackId
from handlers.listener import listener
from handlers.render.common import escape, input_block, input_value, modal, mrkdwn, option, whole_number
from handlers.render.labels import obligation_named, obligation_option
from handlers.render.regime_choices import categories_element
from incident import roster
from incident.declare import SEVERITIES
from incident.errors import NotAllowed
from incident.limits import Field, limit
from incident.log_entry import LogInput, decline_notification, log_event, validate
from incident.notifications import clock_views
from incident.regimes import Regimes
from storage.models import Incident, TimelineEvent

# Fields here are required unless a call says otherwise.
_input = partial(input_block, optional=False)
# Who may decide, besides the roles that may manage the incident.
DECIDERS = ("legal", "compliance")


def log_modal(locale: str, regimes: Regimes) -> dict[str, Any]:
    severities = [option(s, s) for s in SEVERITIES]
    return modal(
        CallbackId.LOG_EVENT,
        title=t("log.modal.title", locale),
        submit=t("log.modal.submit", locale),
        close=t("declare.modal.cancel", locale),
        blocks=[
            {"type": "section", "text": mrkdwn(t("log.modal.intro", locale))},
            _input(
                "title",
                t("log.field.title", locale),
                {"type": "plain_text_input", "max_length": limit(Field.TITLE)},
            ),
            _input(
                "summary",
                t("log.field.summary", locale),
                {"type": "plain_text_input", "multiline": True, "max_length": limit(Field.SUMMARY)},
                optional=True,
            ),
            _input(
                "severity",
                t("log.field.severity", locale),
                {"type": "static_select", "options": severities, "initial_option": severities[3]},
            ),
            _input(
                "data_categories",
                t("declare.field.data_categories", locale),
                categories_element(regimes, locale, t("forms.placeholder.data_categories", locale)),
                optional=True,
            ),
            _input(
                "people_affected",
                t("declare.field.people_affected", locale),
                {"type": "number_input", "is_decimal_allowed": False},
                optional=True,
            ),
            _input(
                "occurred_at", t("log.field.occurred_at", locale), {"type": "datetimepicker"}, optional=True
            ),
            _input(
                "rationale",
                t("log.field.rationale", locale),
                {"type": "plain_text_input", "multiline": True, "max_length": limit(Field.DECISION)},
                hint=t("log.field.rationale_hint", locale),
            ),
        ],
    )


def parse_log(view: dict[str, Any]) -> tuple[LogInput, dict[str, str]]:
    values = view.get("state", {}).get("values", {})
    errors: dict[str, str] = {}
    people = whole_number(values, "people_affected", errors, "log.error.not_a_number")
    stamp = input_value(values, "occurred_at").get("selected_date_time")
    return (
        LogInput(
            title=input_value(values, "title").get("value") or "",
            summary=input_value(values, "summary").get("value") or "",
            severity=(input_value(values, "severity").get("selected_option") or {}).get("value") or "",
            rationale=input_value(values, "rationale").get("value") or "",
            occurred_at=datetime.fromtimestamp(int(stamp), tz=UTC) if stamp else None,
            data_categories=[
                o["value"] for o in input_value(values, "data_categories").get("selected_options") or []
            ],
            people_affected=people,
        ),
        errors,
    )


@subcommand("log", find=Find.NONE)
async def log_command(ctx: CommandCtx) -> None:
    await ctx.client.views_open(
        trigger_id=ctx.trigger_id, view=log_modal(ctx.locale, ctx.deps.config.regimes)
    )


async def on_log_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    locale = deps.locale
    now = deps.clock.now()
    inp, errors = parse_log(view)
    for field, key in validate(inp, now, deps.config.regimes).items():
        errors.setdefault(field, key)
    if errors:
        await refuse_fields(ack, errors, locale)
        return
    await ack()
    user = body["user"]["id"]
    entry = await log_event(
        deps.db, deps.config.regimes, inp, actor=user, now=now, locale=locale, redact_on=deps.redact_sensitive
    )
    await tell(
        client,
        {"user_id": user},
        t("log.done", locale, key=entry.key, severity=entry.severity, command=deps.command),
    )


def nonotify_modal(incident_id: int, obligations: list[tuple[str, str]], locale: str) -> dict[str, Any]:
    """Decide not to notify under one obligation: ``obligations`` are (id, option text) of the open ones."""
    options = [option(name, oid) for oid, name in obligations[:100]]
    return modal(
        CallbackId.NO_NOTIFY,
        title=t("nonotify.modal.title", locale),
        submit=t("nonotify.modal.submit", locale),
        close=t("declare.modal.cancel", locale),
        metadata={"incident_id": incident_id},
        blocks=[
            _input(
                "obligation",
                t("nonotify.field.obligation", locale),
                {"type": "static_select", "options": options, "initial_option": options[0]},
            ),
            _input(
                "rationale",
                t("nonotify.field.rationale", locale),
                {"type": "plain_text_input", "multiline": True, "max_length": limit(Field.DECISION)},
                hint=t("nonotify.field.rationale_hint", locale),
            ),
        ],
    )


async def require_decider(client: AsyncWebClient, deps: Deps, incident_id: int, user: str) -> None:
    async with deps.db.session() as db:
        holders = await roster.current(db, incident_id)
    admin = await is_admin(client, deps, user)
    if roster.may_manage(holders, user, deps.config.roles, is_admin=admin):
        return
    if roster.roles_of(holders, user) & set(DECIDERS):
        return
    raise NotAllowed("nonotify.error.manage_only")


@subcommand("nonotify")
async def nonotify_command(ctx: CommandCtx) -> None:
    deps = ctx.deps
    incident = await incident_for(ctx.client, deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args)
    assert incident.id is not None
    await require_decider(ctx.client, deps, incident.id, ctx.user_id)
    views = [
        v
        for v in await clock_views(deps.db, incident, deps.config, deps.clock.now())
        if v.notified_at is None and v.applicability.status in ("applies", "unknown")
    ]
    if not views:
        await ctx.reply(t("nonotify.error.no_regimes", ctx.locale))
        return
    locale = incident.locale
    named = [
        (v.id, obligation_option(v.applicability.regime.name, v.obligation.recipient, locale)) for v in views
    ]
    await ctx.client.views_open(
        trigger_id=ctx.trigger_id, view=nonotify_modal(incident.id, named, incident.locale)
    )


async def on_nonotify_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    values = view.get("state", {}).get("values", {})
    rationale = (input_value(values, "rationale").get("value") or "").strip()
    obligation = (input_value(values, "obligation").get("selected_option") or {}).get("value") or ""
    if await text_refused(ack, "rationale", rationale, Field.DECISION, "log.error.rationale", deps.locale):
        return
    await ack()
    user = body["user"]["id"]
    incident_id = int(json.loads(view.get("private_metadata") or "{}").get("incident_id") or 0)
    await incident_by_id(client, deps, incident_id, user)
    await require_decider(client, deps, incident_id, user)
    await decline_notification(
        deps.db,
        deps.config,
        incident_id,
        obligation,
        rationale,
        actor=user,
        now=deps.clock.now(),
        redact_on=deps.redact_sensitive,
    )
    # The same transaction wrote the channel's line about it (`announce_declined`).


@announcer("notification_declined")
async def announce_declined(deps: Deps, incident: Incident, event: TimelineEvent) -> Line:
    # An obligation (or regime) dropped from the configuration since is still named, by its id.
    named = str(event.data.get("obligation") or event.data.get("regime") or "")
    name = obligation_named(deps.config.regimes, named, incident.locale)
    text = t(
        "nonotify.recorded",
        incident.locale,
        user=event.actor,
        regime=escape(name),
        rationale=escape((event.data.get("rationale") or "")[:1500]),
    )
    return text, None


def register(app: Any, deps: Deps) -> None:
    gate.view(app, deps, CallbackId.LOG_EVENT, Find.NONE)(listener(deps, on_log_submitted))
    gate.view(app, deps, CallbackId.NO_NOTIFY, Find.FORM)(listener(deps, on_nonotify_submitted))
