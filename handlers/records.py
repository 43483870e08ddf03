"""Notes, decisions, evidence and follow-up actions: `/breach note|decision|evidence|action|actions`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.commands import CommandCtx, subcommand
from handlers.context import incident_by_id, incident_for, key_in
from handlers.deps import Deps
from handlers.effects import Announcer, Line, announcer
from handlers.errors import answer_privately, refuse_fields, reply_error, tell
from handlers.gate import Find, is_admin, may_see
from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from handlers.listener import listener
from handlers.render import records as render
from handlers.views import load
from incident import lookup, records
from incident.errors import NotFound
from incident.redact import Finding
from storage.models import Incident, TimelineEvent

DECISION_FIELDS = {"decision": "decision", "rationale": "rationale", "alternatives": "alternatives"}


async def warn_redacted(
    client: AsyncWebClient, incident: Incident, user: str | None, findings: tuple[Finding, ...], what: str
) -> None:
    """Tell the author, privately, that part of what they wrote was not stored, and why."""
    if not findings or not user:
        return
    text = render.redaction_notice(findings, what, incident.key, incident.locale)
    await tell(client, {"user_id": user, "channel_id": incident.channel_id}, text)


# /breach note <text> ----------------------------------------------------------------------------


@subcommand("note")
async def note_command(ctx: CommandCtx) -> None:
    incident = await incident_for(
        ctx.client, ctx.deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args
    )
    assert incident.id is not None
    text = ctx.args
    if ctx.channel_id != incident.channel_id:
        key = key_in(text)
        text = text.replace(key, "", 1) if key else text
        text = text.replace(incident.key.lower(), "", 1) if incident.key.lower() in text else text
    recorded = await records.add_note(
        ctx.deps.db,
        incident.id,
        text,
        actor=ctx.user_id,
        now=ctx.deps.clock.now(),
        redact_on=ctx.deps.redact_sensitive,
    )
    # The same transaction wrote the channel's line about it (`announce_note`).
    await warn_redacted(ctx.client, incident, ctx.user_id, recorded.findings, "note")


# Modals: decision, evidence, action -------------------------------------------------------------


def _opener(build: Callable[[Incident, str], dict[str, Any]]) -> Callable[[CommandCtx], Awaitable[None]]:
    async def open_modal(ctx: CommandCtx) -> None:
        incident = await incident_for(
            ctx.client, ctx.deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args
        )
        await ctx.client.views_open(trigger_id=ctx.trigger_id, view=build(incident, incident.locale))

    return open_modal


subcommand("decision")(_opener(render.decision_modal))
subcommand("evidence")(_opener(render.evidence_modal))
subcommand("action")(_opener(render.action_modal))


SubmitListener = Callable[[AsyncAck, dict[str, Any], dict[str, Any], AsyncWebClient, Deps], Awaitable[None]]


def _on_submitted(
    parse: Callable[[dict[str, Any]], Any],
    validate: Callable[[Any, datetime], Mapping[str, str]],
    record: Callable[..., Awaitable[Any]],
    what: str,
) -> SubmitListener:
    """A record modal's submission: field errors keep it open; else the record is made (its own
    transaction writes the channel's line) and the submitter hears what redaction took out."""

    async def on_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, deps: Deps
    ) -> None:
        inp = parse(view)
        now = deps.clock.now()
        problems = validate(inp, now)
        if problems:
            await refuse_fields(ack, problems, deps.locale)
            return
        await ack()
        user = body["user"]["id"]
        try:
            incident = await incident_by_id(client, deps, render.incident_of(view), user)
            assert incident.id is not None
            recorded = await record(
                deps.db, incident.id, inp, actor=user, now=now, redact_on=deps.redact_sensitive
            )
            await warn_redacted(client, incident, user, recorded.findings, what)
        except Exception as exc:
            await reply_error(client, {"user_id": user}, exc, deps.locale)

    return on_submitted


on_decision_submitted = _on_submitted(
    render.parse_decision,
    lambda inp, _now: records.validate_decision(inp),
    records.record_decision,
    "decision",
)
on_evidence_submitted = _on_submitted(
    render.parse_evidence, records.validate_evidence, records.add_evidence, "evidence"
)
on_action_submitted = _on_submitted(
    render.parse_action, records.validate_action, records.add_action, "action"
)


# /breach actions and the Done button ------------------------------------------------------------


@subcommand("actions", find=Find.HERE_OR_KEY_IF_ANY)
async def actions_command(ctx: CommandCtx) -> None:
    """In an incident (or with its key): that incident's follow-ups. Elsewhere: the follow-ups of
    every incident in one list — your own, or every open one for the admin group."""
    async with ctx.deps.db.session() as db:
        here = await lookup.by_channel(db, ctx.channel_id)
    if here is None and key_in(ctx.args) is None:
        await all_actions(ctx)
        return
    incident = await incident_for(
        ctx.client, ctx.deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args
    )
    assert incident.id is not None
    async with ctx.deps.db.session() as db:
        items = await records.action_items(db, incident.id)
    blocks, text = render.actions_list(incident, items, incident.locale)
    await ctx.reply(text, blocks)


async def all_actions(ctx: CommandCtx) -> None:
    deps = ctx.deps
    admin = await is_admin(ctx.client, deps, ctx.user_id)
    async with deps.db.session() as db:
        rows = await records.open_actions(db, owner=None if admin else ctx.user_id)
    blocks, text = render.actions_overview(rows, ctx.locale, deps.clock.now(), admin=admin)
    await ctx.reply(text, blocks)


async def on_action_done(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond, deps: Deps
) -> None:
    await ack()
    user = body["user"]["id"]
    try:
        item = await records.action_item(deps.db, records.parse_id(body["actions"][0].get("value")))
        incident = await load(deps, item.incident_id)
        # The gate let the owner through even from outside the channel: they may close their own
        # follow-up, and are shown their own open follow-ups, never the incident's whole list.
        member = await may_see(client, deps, incident, user)
        if not member and item.owner != user:
            raise NotFound("error.not_found")
        assert incident.id is not None
        await records.complete_action(deps.db, item.id or 0, actor=user, now=deps.clock.now())
        if member:
            async with deps.db.session() as db:
                items = await records.action_items(db, incident.id)
            blocks, text = render.actions_list(incident, items, incident.locale)
        else:
            async with deps.db.session() as db:
                rows = await records.open_actions(db, owner=user)
            blocks, text = render.actions_overview(rows, deps.locale, deps.clock.now(), admin=False)
        await answer_privately(respond, client, body, text, blocks, replace_original=True)
    except Exception as exc:
        await reply_error(client, body, exc, deps.locale)


# The channel's lines, rendered from the timeline events (the same transaction wrote them) --------


def saved_not_posted(incident: Incident, event: TimelineEvent) -> tuple[str, str]:
    """The channel takes no more messages (archived, gone): the author hears it was recorded."""
    return event.actor, t("records.saved_not_posted", incident.locale, key=incident.key)


@announcer("note", when_gone=saved_not_posted)
async def announce_note(deps: Deps, incident: Incident, event: TimelineEvent) -> Line:
    blocks, text = render.note_posted(event.actor, event.data.get("text") or "", event.seq, incident.locale)
    return text, blocks


def _posted(
    render_line: Callable[[str, dict[str, Any], int, str], tuple[list[dict[str, Any]], str]],
) -> Announcer:
    """An announcer whose line `render_line` draws from the event's actor, data and sequence number."""

    async def announce(deps: Deps, incident: Incident, event: TimelineEvent) -> Line:
        blocks, text = render_line(event.actor, event.data, event.seq, incident.locale)
        return text, blocks

    return announce


# A privileged decision's event holds no content, so its line cannot show any.
announcer("decision", when_gone=saved_not_posted)(_posted(render.decision_posted))
announcer("evidence_added", when_gone=saved_not_posted)(_posted(render.evidence_posted))
announcer("action_added", when_gone=saved_not_posted)(_posted(render.action_posted))


@announcer("action_done", when_gone=saved_not_posted)
async def announce_action_done(deps: Deps, incident: Incident, event: TimelineEvent) -> Line:
    blocks, text = render.action_done_posted(
        event.actor, event.data.get("text") or event.summary, incident.locale
    )
    return text, blocks


def register(app: Any, deps: Deps) -> None:
    gate.view(app, deps, CallbackId.DECISION, Find.FORM)(listener(deps, on_decision_submitted))
    gate.view(app, deps, CallbackId.EVIDENCE, Find.FORM)(listener(deps, on_evidence_submitted))
    gate.view(app, deps, CallbackId.ACTION_ITEM, Find.FORM)(listener(deps, on_action_submitted))
    gate.action(app, deps, ActionId.ACTION_DONE, Find.ACTION_ITEM)(listener(deps, on_action_done))
