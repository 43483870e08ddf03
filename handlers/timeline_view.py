"""Reading the record: `/breach timeline [kind]`, the card's Timeline button, `/breach verify`."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers import anchors, gate
from handlers.commands import CommandCtx, subcommand
from handlers.context import incident_by_id, incident_for, key_in
from handlers.deps import Deps
from handlers.errors import answer_privately, reply_error
from handlers.gate import Find
from handlers.ids import ActionId
from handlers.listener import listener
from handlers.render.chain import anchor_metadata, heads_line, mismatch_text, verify_blocks
from handlers.render.timeline import timeline_blocks, verify_text
from incident import records
from storage.models import Incident

LATEST = 20


async def timeline_view(deps: Deps, incident: Incident, kind: str | None) -> tuple[list[dict[str, Any]], str]:
    assert incident.id is not None
    events, kinds = await records.recent_events(deps.db, incident.id, kind=kind, limit=LATEST)
    return timeline_blocks(incident, events, kind, kinds, incident.locale)


@subcommand("timeline")
async def timeline_command(ctx: CommandCtx) -> None:
    incident = await incident_for(
        ctx.client, ctx.deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args
    )
    key = key_in(ctx.args)
    words = [w for w in ctx.words() if not key or w.upper() != key]
    blocks, text = await timeline_view(ctx.deps, incident, words[0].lower() if words else None)
    await ctx.reply(text, blocks)


async def on_card_timeline(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, deps: Deps
) -> None:
    await ack()
    user = body["user"]["id"]
    try:
        incident = await incident_by_id(client, deps, records.parse_id(body["actions"][0].get("value")), user)
        blocks, text = await timeline_view(deps, incident, None)
        await answer_privately(respond, client, body, text, blocks)
    except Exception as exc:
        await reply_error(client, body, exc, deps.locale)


@subcommand("verify")
async def verify_command(ctx: CommandCtx) -> None:
    """Everyone in the channel sees the result. The chain in the database is recomputed, then
    compared with the heads the bot posted in the channel; an intact result is itself a new anchor."""
    incident = await incident_for(
        ctx.client, ctx.deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args
    )
    assert incident.id is not None
    locale = incident.locale
    result = await records.verification(ctx.deps.db, incident.id)
    heads = await anchors.check_posted(ctx.client, ctx.deps.db, incident)
    if result.ok and heads.mismatches:
        text = mismatch_text(incident, heads.mismatches, locale)
    else:
        text = verify_text(incident, result, locale)
    blocks = verify_blocks(text, heads_line(heads.checked, heads.unread, locale))
    intact = result.ok and not heads.mismatches and result.count > 0
    metadata = anchor_metadata(incident, result.count, result.head) if intact else None
    posted = False
    if incident.channel_id:
        try:
            await ctx.client.chat_postMessage(
                channel=incident.channel_id, text=text, blocks=blocks, metadata=metadata
            )
            posted = True
        except SlackApiError:
            posted = False  # e.g. archived after close: the asker still gets the answer
    if not posted or ctx.channel_id != incident.channel_id:
        await ctx.reply(text, blocks)


def register(app: Any, deps: Deps) -> None:
    gate.action(app, deps, ActionId.CARD_TIMELINE, Find.VALUE)(listener(deps, on_card_timeline))
