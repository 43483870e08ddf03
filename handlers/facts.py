"""`/breach facts`: update the impact facts; the clocks are re-judged and the change is logged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.commands import CommandCtx, subcommand
from handlers.context import incident_for
from handlers.deps import Deps
from handlers.effects import Line, announcer
from handlers.errors import refuse_fields
from handlers.forms import read_form, record_for_member
from handlers.gate import Find
from handlers.i18n import t
from handlers.ids import CallbackId
from handlers.reminders import parse_id
from handlers.render.common import escape, user, when
from handlers.render.facts_modal import facts_modal, parse_facts
from incident import facts
from incident.facts import FactsInput
from incident.regimes import Regimes
from storage import timeline
from storage.models import Incident, TimelineEvent


@subcommand("facts")
async def facts_command(ctx: CommandCtx) -> None:
    deps = ctx.deps
    incident = await incident_for(ctx.client, deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args)
    view = facts_modal(incident, facts.current(incident), deps.config.regimes, incident.locale)
    await ctx.client.views_open(trigger_id=ctx.trigger_id, view=view)


def _show(field: str, value: Any, locale: str, regimes: Regimes) -> str:
    if value is None or value == []:
        return t("facts.value.unknown", locale)
    if isinstance(value, bool):
        return t("declare.option.yes" if value else "declare.option.no", locale)
    if field == "data_categories":
        return escape(", ".join(regimes.category_name(v).get(locale) for v in value))
    if field == "jurisdictions":
        return escape(", ".join(regimes.jurisdiction_name(v).get(locale) for v in value))
    if field in ("aware_at", "determined_at") and isinstance(value, str):
        return when(datetime.fromisoformat(value))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return escape(str(value))


def _read(view: dict[str, Any]) -> tuple[int, FactsInput, dict[str, str]]:
    """The incident, the facts and their parse errors (block id → message key) of a facts form."""
    raw_id, inp, errors = parse_facts(view)
    return parse_id(raw_id), inp, errors


async def on_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    user_id = body["user"]["id"]
    now = deps.clock.now()
    form = await read_form(ack, client, user_id, deps.locale, lambda: _read(view))
    if form is None:
        return
    incident_id, inp, errors = form
    for field, key in facts.validate(inp, now, deps.config.regimes).items():
        errors.setdefault(field, key)
    if errors:
        await refuse_fields(ack, errors, deps.locale)
        return
    await ack()
    await record_for_member(client, deps, user_id, incident_id, facts.update, inp, now)
    # The same transaction wrote the channel's line (`announce_facts`) and the re-render.


@announcer("facts_changed")
async def announce_facts(deps: Deps, incident: Incident, event: TimelineEvent) -> Line:
    """What changed, and (from the `clocks_reevaluated` event written with it) how the clocks moved."""
    loc = incident.locale
    before, after = event.data.get("before") or {}, event.data.get("after") or {}
    regimes = deps.config.regimes
    lines = [
        f"• {t(f'facts.field.{field}', loc)}: {_show(field, before.get(field), loc, regimes)}"
        f" → {_show(field, value, loc, regimes)}"
        for field, value in after.items()
    ]
    text = t("facts.changed", loc, user=user(event.actor), changes="\n".join(lines))
    async with deps.db.session() as db:
        following = await timeline.events(db, incident.id or 0, kinds={"clocks_reevaluated"})
    moved = next((e for e in following if e.seq == event.seq + 1), None)
    if moved is not None:
        key = "zh-CN" if loc == "zh-CN" else "en"
        moves = "\n".join(
            f"• {escape(c.get(key) or c.get('en') or '')}" for c in moved.data.get("changes", [])
        )
        text += "\n" + t("facts.clocks_changed", loc, changes=moves)
    return text, None


def register(app: Any, deps: Deps) -> None:
    async def submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await on_submitted(ack, body, view, client, deps)

    gate.view(app, deps, CallbackId.FACTS, Find.FORM)(deps.tracker.wrap(submitted))
