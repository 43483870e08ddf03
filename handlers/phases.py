"""Phases: `/breach phase [next|override]`, the card's Next phase button, and the override modal."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.checklist import field_value, metadata_of, refuse
from handlers.commands import CommandCtx, subcommand
from handlers.context import incident_by_id, incident_for
from handlers.deps import Deps
from handlers.effects import Line, announcer
from handlers.errors import refuse_fields, tell
from handlers.gate import Find, is_admin
from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from handlers.listener import listener
from handlers.render.common import (
    actions,
    button,
    clip,
    escape,
    input_block,
    modal,
    mrkdwn,
    section,
    user,
)
from incident import checklist, phases, roster
from incident.checklist import ID_LIMIT
from incident.errors import Invalid
from incident.overview import playbook_of
from incident.phases import Move, PhaseMove
from incident.playbook import Playbook
from incident.roles_config import COMMANDER
from storage.models import ChecklistItem, Incident, TimelineEvent

log = logging.getLogger(__name__)

Reply = Callable[[str, list[dict[str, Any]] | None], Awaitable[None]]
ITEMS_SHOWN = 30


def _item_lines(playbook: Playbook, items: list[ChecklistItem], locale: str) -> str:
    lines = []
    for item in items[:ITEMS_SHOWN]:
        title = playbook.item(item.item_key).title.get(locale)
        lines.append(f"• {escape(title)}")
    if len(items) > ITEMS_SHOWN:
        lines.append(f"• … +{len(items) - ITEMS_SHOWN}")
    return "\n".join(lines)


async def _may_manage(client: AsyncWebClient, deps: Deps, incident: Incident, user_id: str) -> bool:
    assert incident.id is not None
    async with deps.db.session() as db:
        holders = await roster.current(db, incident.id)
    if roster.may_manage(holders, user_id, deps.config.roles):
        return True
    return await is_admin(client, deps, user_id)


async def _commander(deps: Deps, incident: Incident) -> str | None:
    assert incident.id is not None
    async with deps.db.session() as db:
        return (await roster.current(db, incident.id)).get(COMMANDER)


def _title(playbook: Playbook, key: str | None, locale: str) -> str:
    return playbook.phase(key).title.get(locale) if key else "—"


async def answer_move(
    client: AsyncWebClient, deps: Deps, incident: Incident, move: PhaseMove, actor: str, reply: Reply
) -> None:
    """Tell the person what the gate said, or announce the move and re-render what it opened."""
    locale = incident.locale
    playbook = playbook_of(incident)
    here = _title(playbook, move.from_phase, locale)
    items = _item_lines(playbook, move.blocking, locale)
    if move.move is Move.COMPLETE:
        if move.blocking:
            await reply(
                t("phase.complete_open", locale, phase=here, count=len(move.blocking), items=items), None
            )
        else:
            await reply(t("phase.complete", locale, phase=here), None)
        return
    following = _title(playbook, move.to_phase, locale)
    if move.move is Move.BLOCKED:
        text = t("phase.blocked", locale, phase=here, next=following, count=len(move.blocking), items=items)
        blocks = [section(text)]
        if await _may_manage(client, deps, incident, actor):
            blocks.append(section(t("phase.blocked_manage", locale)))
            value = f"{incident.id}:{move.from_phase}"
            blocks.append(
                actions(button(t("phase.button.override", locale), ActionId.PHASE_OVERRIDE, value, "danger"))
            )
        else:
            commander = await _commander(deps, incident)
            blocks.append(section(t("phase.blocked_ask", locale, commander=user(commander))))
        await reply(text, blocks)
        return
    # Advanced: the same transaction wrote the channel's line (`announce_advanced`) and the re-render.


@announcer("phase_advanced")
async def announce_advanced(deps: Deps, incident: Incident, event: TimelineEvent) -> Line:
    locale = incident.locale
    playbook = playbook_of(incident)
    here = _title(playbook, event.data.get("from"), locale)
    following = _title(playbook, event.data.get("to"), locale)
    if event.data.get("override"):
        text = t(
            "phase.advanced_override",
            locale,
            user=user(event.actor),
            **{"from": here},
            to=following,
            count=int(event.data.get("skipped") or 0),
            reason=escape(clip(event.data.get("reason") or "", 1500)),
        )
    else:
        text = t("phase.advanced", locale, user=user(event.actor), **{"from": here}, to=following)
    return text, None


async def next_phase(
    client: AsyncWebClient, deps: Deps, incident: Incident, actor: str, reply: Reply
) -> None:
    assert incident.id is not None
    move = await phases.advance(
        deps.db, incident.id, actor=actor, now=deps.clock.now(), roles=deps.config.roles
    )
    await answer_move(client, deps, move.incident, move, actor, reply)


async def show_phases(ctx: CommandCtx, incident: Incident) -> None:
    assert incident.id is not None
    incident, rows = await phases.status(ctx.deps.db, incident.id)
    locale = incident.locale
    playbook = playbook_of(incident)
    lines = [t("phase.status.header", locale, key=incident.key, playbook=playbook.title.get(locale))]
    for number, row in enumerate(rows, start=1):
        if row.current:
            mark = "▶️"
        elif row.passed or (row.total and row.done == row.total):
            mark = "✅"
        else:
            mark = "▫️"
        line = f"{mark} {number}. *{row.phase.title.get(locale)}* {row.done} / {row.total}"
        if row.open_required:
            line += t("phase.status.open_required", locale, count=row.open_required)
        if not row.is_open:
            line += t("phase.status.not_open", locale)
        if row.current:
            line += f" {t('phase.status.current', locale)}"
        lines.append(line)
    lines.append(t("phase.status.footer", locale, command=ctx.deps.command))
    await ctx.reply("\n".join(lines))


def override_modal(incident: Incident, move: PhaseMove, channel: str) -> dict[str, Any]:
    locale = incident.locale
    playbook = playbook_of(incident)
    intro = t(
        "phase.modal.intro",
        locale,
        **{"from": _title(playbook, move.from_phase, locale)},
        to=_title(playbook, move.to_phase, locale),
        items=_item_lines(playbook, move.blocking, locale) or "—",
    )
    return modal(
        CallbackId.PHASE_OVERRIDE,
        title=t("phase.modal.title", locale),
        submit=t("phase.modal.submit", locale),
        close=t("checklist.modal.cancel", locale),
        metadata={"incident": incident.id, "from": move.from_phase, "channel": channel},
        blocks=[
            {"type": "section", "text": mrkdwn(intro)},
            input_block(
                "reason",
                t("phase.modal.reason", locale),
                {"type": "plain_text_input", "multiline": True, "max_length": phases.REASON_MAX},
                optional=False,
            ),
        ],
    )


async def gate_preview(deps: Deps, incident: Incident) -> PhaseMove:
    """What an override would skip: the current phase, the next one and its open required items."""
    assert incident.id is not None
    async with deps.db.session() as db:
        fresh = await db.get(Incident, incident.id)
        assert fresh is not None
        playbook = playbook_of(fresh)
        here = phases.current_phase(fresh, playbook)
        following = phases.next_phase(fresh, playbook)
        blocking = checklist.open_required(await checklist.items_of(db, incident.id, here.key))
    if following is None:
        return PhaseMove(Move.COMPLETE, fresh, here.key, blocking=blocking)
    return PhaseMove(Move.BLOCKED, fresh, here.key, following.key, blocking=blocking)


async def open_override(
    client: AsyncWebClient,
    deps: Deps,
    incident: Incident,
    actor: str,
    trigger_id: str,
    channel: str,
    reply: Reply,
) -> None:
    if not await _may_manage(client, deps, incident, actor):
        commander = await _commander(deps, incident)
        await reply(t("error.manage_only", incident.locale, commander=user(commander)), None)
        return
    preview = await gate_preview(deps, incident)
    if preview.move is Move.COMPLETE or not preview.blocking:
        # Nothing to override: the last phase says so, and an open gate just moves on.
        await next_phase(client, deps, preview.incident, actor, reply)
        return
    await client.views_open(trigger_id=trigger_id, view=override_modal(preview.incident, preview, channel))


@subcommand("phase")
async def phase_command(ctx: CommandCtx) -> None:
    words = ctx.words()
    incident = await incident_for(
        ctx.client, ctx.deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args
    )

    async def reply(text: str, blocks: list[dict[str, Any]] | None) -> None:
        await ctx.reply(text, blocks)

    verb = next((w.lower() for w in words if not w.upper().startswith("BR-")), "")
    if not verb:
        await show_phases(ctx, incident)
    elif verb == "next":
        await next_phase(ctx.client, ctx.deps, incident, ctx.user_id, reply)
    elif verb == "override":
        channel = incident.channel_id or ctx.channel_id
        await open_override(ctx.client, ctx.deps, incident, ctx.user_id, ctx.trigger_id, channel, reply)
    else:
        await ctx.reply(t("phase.usage", ctx.locale, command=ctx.deps.command))


def incident_id(text: str) -> int:
    """An incident id from a button value or modal metadata; ``Invalid`` for anything forged."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < ID_LIMIT:
        raise Invalid("error.invalid", reason=text[:40])
    return int(text)


def _ephemeral_reply(client: AsyncWebClient, body: dict[str, Any], channel: str) -> Reply:
    user_id = body["user"]["id"]

    async def reply(text: str, blocks: list[dict[str, Any]] | None) -> None:
        if channel and blocks:
            await client.chat_postEphemeral(channel=channel, user=user_id, text=text, blocks=blocks)
        else:
            await tell(client, {"user_id": user_id, "channel_id": channel}, text)

    return reply


def _channel_of(body: dict[str, Any]) -> str:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""


async def on_card_next_phase(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await ack()
    locale: str = deps.locale
    try:
        user_id = body["user"]["id"]
        incident = await incident_by_id(
            client, deps, incident_id(body["actions"][0].get("value", "")), user_id
        )
        locale = incident.locale
        await next_phase(client, deps, incident, user_id, _ephemeral_reply(client, body, _channel_of(body)))
    except Exception as exc:
        await refuse(client, body, exc, deps, locale)


async def on_override_button(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await ack()
    locale: str = deps.locale
    try:
        user_id = body["user"]["id"]
        head, _, _phase = (body["actions"][0].get("value") or "").partition(":")
        incident = await incident_by_id(client, deps, incident_id(head), user_id)
        locale = incident.locale
        channel = incident.channel_id or _channel_of(body)
        reply = _ephemeral_reply(client, body, _channel_of(body))
        await open_override(client, deps, incident, user_id, body["trigger_id"], channel, reply)
    except Exception as exc:
        await refuse(client, body, exc, deps, locale)


async def on_override_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    metadata = metadata_of(view)
    user_id = body["user"]["id"]
    where = {"user_id": user_id, "channel_id": str(metadata.get("channel") or "")}
    reason = field_value(view, "reason") or ""
    locale: str = deps.locale
    if not reason.strip():
        await refuse_fields(ack, {"reason": "phase.error.reason_required"}, locale)
        return
    await ack()
    try:
        incident = await incident_by_id(client, deps, incident_id(str(metadata.get("incident", ""))), user_id)
        locale = incident.locale
        assert incident.id is not None
        expected = metadata.get("from")
        move = await phases.advance(
            deps.db,
            incident.id,
            actor=user_id,
            now=deps.clock.now(),
            roles=deps.config.roles,
            override_reason=reason,
            is_admin=await is_admin(client, deps, user_id),
            expected_from=expected if isinstance(expected, str) else None,
            redact_on=deps.redact_sensitive,
        )

        async def reply(text: str, blocks: list[dict[str, Any]] | None) -> None:
            await tell(client, where, text)

        await answer_move(client, deps, move.incident, move, user_id, reply)
    except Exception as exc:
        await refuse(client, where, exc, deps, locale)


def register(app: Any, deps: Deps) -> None:
    gate.action(app, deps, ActionId.CARD_NEXT_PHASE, Find.VALUE)(listener(deps, on_card_next_phase))
    gate.action(app, deps, ActionId.PHASE_OVERRIDE, Find.VALUE)(listener(deps, on_override_button))
    gate.view(app, deps, CallbackId.PHASE_OVERRIDE, Find.FORM)(listener(deps, on_override_submitted))
