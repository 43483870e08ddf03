"""`/breach notify [obligation]`: record a notice that was sent; the clock of the obligation it
names turns met (or late), and no other."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.commands import CommandCtx, subcommand
from handlers.context import incident_by_id, incident_for
from handlers.deps import Deps
from handlers.drafts import draft_command, wants_draft
from handlers.effects import Line, announcer
from handlers.errors import refuse_fields, reply_error
from handlers.forms import read_form, record_for_member
from handlers.gate import Find
from handlers.ids import ActionId, CallbackId
from handlers.listener import listener
from handlers.reminders import parse_id
from handlers.render.labels import obligation_named
from handlers.render.notify import notify_meta, notify_modal, parse_notify, recorded_line
from incident import notifications
from incident.clocks import ClockView
from incident.errors import DomainError, Invalid
from incident.notifications import NotificationInput
from storage.models import Incident, TimelineEvent

# Form errors by domain field → the block that shows them.
BLOCKS = {"contents": "contents", "obligation": "obligation"}


@subcommand("notify")
async def notify_command(ctx: CommandCtx) -> None:
    if wants_draft(ctx):  # `notify draft [obligation]`: the notice drafted from the record
        await draft_command(ctx)
        return
    deps = ctx.deps
    incident = await incident_for(ctx.client, deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args)
    now = deps.clock.now()
    views = await notifications.recordable_clocks(deps.db, incident, deps.config, now)
    if not views:
        raise Invalid("notify.error.no_clocks", command=deps.command)
    view = notify_modal(incident, views, chosen_clock(views, ctx.words()), incident.locale, ctx.user_id, now)
    await ctx.client.views_open(trigger_id=ctx.trigger_id, view=view)


def chosen_clock(views: list[ClockView], words: list[str]) -> ClockView:
    """The clock a word names: an obligation id (``cn-pipl-57/individuals``), else the first
    obligation of a regime id; without one, the first clock."""
    for word in words:
        found = next((v for v in views if v.id == word), None) or next(
            (v for v in views if v.regime_id == word), None
        )
        if found is not None:
            return found
    return views[0]


async def on_regime_chosen(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    """Show the chosen obligation's deadline, recipient and required notice contents."""
    await ack()
    view = body.get("view") or {}
    user_id = body["user"]["id"]
    try:
        incident = await incident_by_id(client, deps, parse_id(notify_meta(view).get("incident_id")), user_id)
    except DomainError as exc:
        await reply_error(client, body, exc, deps.locale)
        return
    wanted = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value")
    now = deps.clock.now()
    views = await notifications.recordable_clocks(deps.db, incident, deps.config, now)
    chosen = next((v for v in views if v.id == wanted), None)
    if chosen is None:
        return
    updated = notify_modal(incident, views, chosen, incident.locale, user_id, now)
    await client.views_update(view_id=view["id"], hash=view.get("hash"), view=updated)


def _read(view: dict[str, Any], user_id: str) -> tuple[int, NotificationInput]:
    """The incident and the notice recorded by a notify form."""
    return parse_id(notify_meta(view).get("incident_id")), parse_notify(view, user_id)


async def on_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    user_id = body["user"]["id"]
    now = deps.clock.now()
    form = await read_form(ack, client, user_id, deps.locale, lambda: _read(view, user_id))
    if form is None:
        return
    incident_id, inp = form
    errors = notifications.validate(inp, deps.config, now)
    if errors:
        await refuse_fields(
            ack, {BLOCKS.get(field, field): key for field, key in errors.items()}, deps.locale
        )
        return
    await ack()
    await record_for_member(
        client, deps, user_id, incident_id, notifications.record, inp, now, redact_on=deps.redact_sensitive
    )
    # The same transaction wrote the channel's line about it (`announce_recorded`) and the re-render.


@announcer("notification_recorded")
async def announce_recorded(deps: Deps, incident: Incident, event: TimelineEvent) -> Line:
    named = event.data.get("obligation") or event.data.get("regime") or ""
    name = obligation_named(deps.config.regimes, named, incident.locale)
    return recorded_line(incident, name, event, incident.locale), None


def register(app: Any, deps: Deps) -> None:
    gate.action(app, deps, ActionId.NOTIFY_REGIME, Find.FORM)(listener(deps, on_regime_chosen))
    gate.view(app, deps, CallbackId.NOTIFY, Find.FORM)(listener(deps, on_submitted))
