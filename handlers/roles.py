"""Roles: `/breach role <role> @person`, the card's Assign role form, and `/breach roles`.

A handoff keeps history (the old holder is relieved, not overwritten); the new holder is brought
into the private channel if needed and told their duties, and the card shows the new roster.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.commands import CommandCtx, subcommand
from handlers.context import KEY, channel_members, forget_members, incident_for
from handlers.deps import Deps
from handlers.effects import dm_sender
from handlers.errors import refuse_fields, reply_error, tell
from handlers.gate import Find, is_admin
from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from handlers.lifecycle import about, button_opening, form_incident
from handlers.listener import listener
from handlers.publish import PERSONAL_DM_ERRORS, dm_role_duties, invite
from handlers.render.lifecycle import assign_role_modal, parse_assign_role, roster
from handlers.views import load, slack_error
from incident import lifecycle, skips
from incident import roster as roster_domain
from incident.errors import Invalid
from incident.roles_config import RoleDef, RolesConfig
from incident.skips import Skip
from incident.text import LOCALES
from storage.models import Effect, Incident

log = logging.getLogger(__name__)

# Slack escapes a mention in a command as <@U123|name> (or <@U123> without the name).
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def find_role(roles: RolesConfig, text: str) -> RoleDef | None:
    """A role by its key or its name in either language, ignoring case and surrounding spaces."""
    wanted = " ".join(text.split()).casefold()
    if not wanted:
        return None
    for role in roles:
        names = {role.key, *(role.name.get(loc) for loc in LOCALES)}
        if wanted in {n.casefold() for n in names} or wanted.replace(" ", "_") == role.key:
            return role
    return None


def role_list(roles: RolesConfig, locale: str) -> str:
    return ", ".join(f"`{r.key}` ({r.name.get(locale)})" for r in roles)


async def hand_over(
    client: AsyncWebClient, deps: Deps, incident: Incident, role: str, user: str, actor: str
) -> roster_domain.Handoff:
    """Give the role (managers only); the effect written with it brings the new holder into the
    channel and tells them their duties, and the re-render every change writes redraws the card."""
    assert incident.id is not None
    handoff = await roster_domain.hand_over(
        deps.db,
        incident.id,
        role,
        user,
        actor=actor,
        now=deps.clock.now(),
        roles=deps.config.roles,
        is_admin=await is_admin(client, deps, actor),
    )
    # The same transaction wrote the effect that brings the new holder in and tells them their
    # duties (`send_role_duties`): nothing of the handoff is left to this request after the commit.
    return handoff


@dm_sender(roster_domain.ROLE_DUTIES)
async def send_role_duties(client: AsyncWebClient, deps: Deps, effect: Effect) -> None:
    """Bring a new role holder into the incident's channel, then tell them their duties: after the
    commit, as an effect, so a crash or a refusal Slack may mend is retried. A person Slack won't
    add is noted as skipped (on the card); one it won't message (deactivated since, a bot) is not
    asked again."""
    assert effect.incident_id is not None
    incident = await load(deps, effect.incident_id)
    if not incident.channel_id:
        return  # set-up has not made the channel: it invites and briefs every holder itself
    user = str(effect.payload["user"])
    role = str(effect.payload["role"])
    if user not in await channel_members(client, incident.channel_id):
        try:
            refused = await invite(client, incident.channel_id, [user])
        finally:
            forget_members(client, incident.channel_id)
        if refused:
            skip = Skip("invite", user, refused[user], role)
            await skips.record(deps.db, effect.incident_id, [skip], now=deps.clock.now())
    try:
        await dm_role_duties(client, deps, incident, role, user)
    except SlackApiError as exc:
        if slack_error(exc) not in PERSONAL_DM_ERRORS:
            raise
        log.info("duties of %s not sent to %s: %s", incident.key, user, slack_error(exc))


@subcommand("role", "assign")
async def role_command(ctx: CommandCtx) -> None:
    incident = await incident_for(
        ctx.client, ctx.deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args
    )
    roles = ctx.deps.config.roles
    mention = MENTION.search(ctx.args)
    role_text = KEY.sub(" ", MENTION.sub(" ", ctx.args))
    role = find_role(roles, role_text)
    if role is None:
        raise Invalid(
            "error.unknown_role",
            role=" ".join(role_text.split())[:60] or "—",
            known=role_list(roles, ctx.locale),
        )
    if mention is None:
        raise Invalid("roles.error.usage", command=ctx.deps.command)
    user = mention.group(1)
    handoff = await hand_over(ctx.client, ctx.deps, incident, role.key, user, ctx.user_id)
    name = role.name.get(ctx.locale)
    if not handoff.changed:
        await ctx.reply(t("roles.already", ctx.locale, role=name, user=f"<@{user}>"))
        return
    previous = f"<@{handoff.previous}>" if handoff.previous else "—"
    await ctx.reply(t("roles.assigned", ctx.locale, role=name, user=f"<@{user}>", previous=previous))


@subcommand("roles", "roster")
async def roles_command(ctx: CommandCtx) -> None:
    incident = await incident_for(
        ctx.client, ctx.deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args
    )
    assert incident.id is not None
    async with ctx.deps.db.session() as db:
        history = await roster_domain.history(db, incident.id)
    blocks = roster(incident, ctx.deps.config.roles, history, ctx.locale)
    await ctx.reply(t("roles.roster.title", ctx.locale, key=incident.key), blocks)


async def open_assign_role(
    client: AsyncWebClient, deps: Deps, incident: Incident, user: str, trigger: str
) -> None:
    assert incident.id is not None
    # Refuse before the form opens, so nobody fills one in for nothing.
    await lifecycle.require_manager(
        deps.db, incident.id, user, deps.config.roles, is_admin=await is_admin(client, deps, user)
    )
    await client.views_open(
        trigger_id=trigger, view=assign_role_modal(incident, deps.config.roles, deps.locale)
    )


async def on_assign_role_submitted(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    actor = body["user"]["id"]
    incident = await form_incident(ack, client, deps, body)
    role, user = parse_assign_role(body["view"])
    if role not in deps.config.roles or not user:
        await refuse_fields(ack, {"role": "roles.error.pick"}, deps.locale)
        return
    await ack()
    try:
        await hand_over(client, deps, incident, role, user, actor)
    except Exception as exc:
        await reply_error(client, about(incident, actor), exc, deps.locale)
        return
    name = deps.config.roles[role].name.get(deps.locale)
    await tell(
        client, about(incident, actor), t("roles.assigned_short", deps.locale, role=name, user=f"<@{user}>")
    )


def register(app: Any, deps: Deps) -> None:
    gate.action(app, deps, ActionId.CARD_ASSIGN_ROLE, Find.VALUE)(
        listener(deps, button_opening(open_assign_role))
    )
    gate.view(app, deps, CallbackId.ASSIGN_ROLE, Find.FORM)(listener(deps, on_assign_role_submitted))
