"""After declaring: `/breach status`, `severity`, `resolve`, `close`, and the card's matching controls.

Changing severity, resolving and closing are for the incident commander, the deputy and admins;
the domain checks that inside the change's own transaction, so a refusal writes nothing, and
the handler then touches nothing in Slack either.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.commands import CommandCtx, subcommand
from handlers.context import incident_by_id, incident_for, incident_from_action, key_in
from handlers.deps import Deps
from handlers.errors import refuse_fields, reply_error, tell
from handlers.forms import text_refused
from handlers.gate import Find, is_admin
from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from handlers.listener import listener
from handlers.render.card import card, card_text
from handlers.render.lifecycle import (
    close_modal,
    incident_of,
    parse_close,
    parse_resolve,
    resolve_modal,
)
from incident import lifecycle
from incident.declare import SEVERITIES
from incident.errors import Invalid, NotFound
from incident.limits import Field
from incident.overview import overview
from storage.models import Incident

log = logging.getLogger(__name__)

Handler = Callable[[AsyncAck, dict[str, Any], AsyncWebClient, Deps], Awaitable[None]]


Opener = Callable[[AsyncWebClient, Deps, Incident, str, str], Awaitable[None]]


def command_opening(open_form: Opener) -> Callable[[CommandCtx], Awaitable[None]]:
    """`/breach <sub> [key]`: open a form about this channel's incident (or the named one)."""

    async def command(ctx: CommandCtx) -> None:
        incident = await incident_for(
            ctx.client, ctx.deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args
        )
        await open_form(ctx.client, ctx.deps, incident, ctx.user_id, ctx.trigger_id)

    return command


def button_opening(open_form: Opener) -> Handler:
    """A card button: open a form about the incident the button belongs to."""

    async def click(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
        await ack()
        incident = await incident_from_action(client, deps, body)
        await open_form(client, deps, incident, body["user"]["id"], body["trigger_id"])

    return click


async def form_incident(ack: AsyncAck, client: AsyncWebClient, deps: Deps, body: dict[str, Any]) -> Incident:
    """The incident a submitted form is about, for a member; a stale or forged form is closed and refused."""
    try:
        return await incident_by_id(client, deps, incident_of(body["view"]), body["user"]["id"])
    except NotFound:
        await ack()
        raise


def about(incident: Incident, user: str) -> dict[str, Any]:
    """Where to answer someone privately about an incident when the payload has no channel."""
    return {"user_id": user, "channel_id": incident.channel_id or ""}


# Status -----------------------------------------------------------------------------------------


@subcommand("status", read_only=True)
async def status_command(ctx: CommandCtx) -> None:
    incident = await incident_for(
        ctx.client, ctx.deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args
    )
    now = ctx.deps.clock.now()
    async with ctx.deps.db.session() as db:
        ov = await overview(db, incident, ctx.deps.config, now)
    locale = incident.locale
    await ctx.reply(card_text(ov, locale), card(ov, ctx.deps.config.roles, locale, now))


# Severity ---------------------------------------------------------------------------------------


async def set_severity(
    client: AsyncWebClient, deps: Deps, incident_id: int, severity: str, actor: str
) -> lifecycle.Changed:
    result = await lifecycle.change_severity(
        deps.db,
        incident_id,
        severity,
        actor=actor,
        now=deps.clock.now(),
        roles=deps.config.roles,
        is_admin=await is_admin(client, deps, actor),
    )
    return result


@subcommand("severity", "sev")
async def severity_command(ctx: CommandCtx) -> None:
    incident = await incident_for(
        ctx.client, ctx.deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args
    )
    words = [w for w in ctx.words() if not key_in(w)]
    severity = lifecycle.parse_severity(words[0]) if words else None
    if severity is None:
        raise Invalid(
            "lifecycle.error.severity", given=" ".join(words)[:20] or "—", known=", ".join(SEVERITIES)
        )
    assert incident.id is not None
    before = incident.severity
    result = await set_severity(ctx.client, ctx.deps, incident.id, severity, ctx.user_id)
    key = "lifecycle.severity.changed" if result.changed else "lifecycle.severity.unchanged"
    await ctx.reply(t(key, ctx.locale, key=incident.key, before=before, after=severity))


async def on_card_severity(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await ack()
    action = body["actions"][0]
    severity = str((action.get("selected_option") or {}).get("value") or action.get("value")).partition(":")[
        2
    ]
    user = body["user"]["id"]
    incident = await incident_from_action(client, deps, body)
    assert incident.id is not None
    result = await set_severity(client, deps, incident.id, severity, user)
    if result.changed:
        after = result.incident.severity
        await tell(
            client,
            body,
            t(
                "lifecycle.severity.changed",
                deps.locale,
                key=incident.key,
                before=incident.severity,
                after=after,
            ),
        )


# Resolve ----------------------------------------------------------------------------------------


async def open_resolve(
    client: AsyncWebClient, deps: Deps, incident: Incident, user: str, trigger: str
) -> None:
    assert incident.id is not None
    current = await lifecycle.require_manager(
        deps.db, incident.id, user, deps.config.roles, is_admin=await is_admin(client, deps, user)
    )
    if current.status == lifecycle.CLOSED:
        raise lifecycle.AlreadyClosed(incident=current.key)
    # Resolving is what remains once contained; once resolved there is nothing left to record.
    problems = lifecycle.check_resolution(current, lifecycle.Resolution("resolved"), deps.clock.now())
    if "stage" in problems:
        raise Invalid(problems["stage"], incident=current.key)
    await client.views_open(trigger_id=trigger, view=resolve_modal(current, deps.clock.now(), deps.locale))


subcommand("resolve")(command_opening(open_resolve))


async def on_resolve_submitted(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    user = body["user"]["id"]
    incident = await form_incident(ack, client, deps, body)
    res = parse_resolve(body["view"])
    now = deps.clock.now()
    errors = lifecycle.check_resolution(incident, res, now)
    if errors:
        await refuse_fields(ack, errors, deps.locale, incident=incident.key)
        return
    await ack()
    assert incident.id is not None
    try:
        await lifecycle.resolve(
            deps.db,
            incident.id,
            res,
            actor=user,
            now=now,
            roles=deps.config.roles,
            is_admin=await is_admin(client, deps, user),
        )
    except Exception as exc:
        await reply_error(client, about(incident, user), exc, deps.locale)
        return


# Close ------------------------------------------------------------------------------------------


async def open_close(client: AsyncWebClient, deps: Deps, incident: Incident, user: str, trigger: str) -> None:
    assert incident.id is not None
    current, still_open = await lifecycle.close_preview(
        deps.db, incident.id, user, deps.config.roles, is_admin=await is_admin(client, deps, user)
    )
    await client.views_open(trigger_id=trigger, view=close_modal(current, still_open, deps.locale))


subcommand("close")(command_opening(open_close))


async def on_close_submitted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    user = body["user"]["id"]
    incident = await form_incident(ack, client, deps, body)
    lessons, archive = parse_close(body["view"])
    if await text_refused(
        ack, "lessons", lessons, Field.LESSONS, "lifecycle.error.lessons_required", deps.locale
    ):
        return
    await ack()
    assert incident.id is not None
    incident_id, now = incident.id, deps.clock.now()
    try:
        await lifecycle.close(
            deps.db,
            incident_id,
            lessons=lessons,
            archive=archive,
            actor=user,
            now=now,
            roles=deps.config.roles,
            is_admin=await is_admin(client, deps, user),
            redact_on=deps.redact_sensitive,
        )
    except Exception as exc:
        await reply_error(client, about(incident, user), exc, deps.locale)
        return
    # The same transaction wrote the close effect: post-mortem, closed card, then the archive.


def register(app: Any, deps: Deps) -> None:
    gate.action(app, deps, ActionId.CARD_SEVERITY, Find.VALUE)(listener(deps, on_card_severity))
    gate.action(app, deps, ActionId.CARD_RESOLVE, Find.VALUE)(listener(deps, button_opening(open_resolve)))
    gate.action(app, deps, ActionId.CARD_CLOSE, Find.VALUE)(listener(deps, button_opening(open_close)))
    gate.view(app, deps, CallbackId.RESOLVE, Find.FORM)(listener(deps, on_resolve_submitted))
    gate.view(app, deps, CallbackId.CLOSE, Find.FORM)(listener(deps, on_close_submitted))
