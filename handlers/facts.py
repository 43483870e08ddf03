"""`/breach facts`: update the impact facts; the clocks are re-judged and the change is logged."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.commands import CommandCtx, subcommand
from handlers.context import incident_by_id, incident_for
from handlers.deps import Deps
from handlers.errors import refuse_fields, reply_error
from handlers.gate import Find
from handlers.i18n import t
from handlers.ids import CallbackId
from handlers.publish import refresh_card
from handlers.reminders import parse_id
from handlers.render.common import escape, user
from handlers.render.notify import facts_modal, parse_facts
from incident import facts
from incident.errors import DomainError, NotFound


@subcommand("facts")
async def facts_command(ctx: CommandCtx) -> None:
    deps = ctx.deps
    incident = await incident_for(ctx.client, deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args)
    view = facts_modal(incident, facts.current(incident), incident.locale)
    await ctx.client.views_open(trigger_id=ctx.trigger_id, view=view)


def _show(field: str, value: Any, locale: str) -> str:
    if value is None or value == []:
        return t("facts.value.unknown", locale)
    if isinstance(value, bool):
        return t("declare.option.yes" if value else "declare.option.no", locale)
    if field == "data_categories":
        return ", ".join(t(f"category.{v}", locale) for v in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return escape(str(value))


async def on_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    user_id = body["user"]["id"]
    now = deps.clock.now()
    locale = deps.locale
    try:
        raw_id, inp, errors = parse_facts(view)
        incident_id = parse_id(raw_id)
    except (DomainError, KeyError, TypeError, ValueError, OverflowError):
        await ack()
        await reply_error(client, {"user_id": user_id}, NotFound("error.not_found"), locale)
        return
    for field, key in facts.validate(inp, now).items():
        errors.setdefault(field, key)
    if errors:
        await refuse_fields(ack, errors, locale)
        return
    await ack()
    try:
        await incident_by_id(client, deps, incident_id, user_id)
        result = await facts.update(
            deps.db,
            deps.config,
            incident_id,
            inp,
            actor=user_id,
            now=now,
            cadence_of=deps.extras.get("cadences"),
        )
    except DomainError as exc:
        await reply_error(client, {"user_id": user_id}, exc, locale)
        return
    if not result.any:
        return
    incident = result.incident
    loc = incident.locale
    await deps.reminders_changed()
    await refresh_card(client, deps, incident_id)
    if incident.channel_id:
        lines = [
            f"• {t(f'facts.field.{field}', loc)}: {_show(field, before, loc)} → {_show(field, after, loc)}"
            for field, (before, after) in result.changed.items()
        ]
        text = t("facts.changed", loc, user=user(user_id), changes="\n".join(lines))
        if result.clock_changes:
            moves = "\n".join(f"• {escape(m.describe().get(loc))}" for m in result.clock_changes)
            text += "\n" + t("facts.clocks_changed", loc, changes=moves)
        await client.chat_postMessage(channel=incident.channel_id, text=text)


def register(app: Any, deps: Deps) -> None:
    async def submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await on_submitted(ack, body, view, client, deps)

    gate.view(app, deps, CallbackId.FACTS, Find.FORM)(deps.tracker.wrap(submitted))
