"""Declaring: `/breach declare [title]`, `/breach drill [title | scenario]`, and the modal's submission."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.commands import CommandCtx, subcommand
from handlers.context import id_in, incident_from_action
from handlers.defaults import resolve_defaults
from handlers.deps import Deps
from handlers.errors import refuse_fields, tell
from handlers.gate import Find
from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from handlers.publish import ensure_setup
from handlers.render.common import actions, button, context, section
from handlers.render.declare_modal import FIELD_BLOCKS, declare_modal, parse_declare, with_clock_starts
from handlers.views import load
from incident.declare import declare, validate
from incident.scenarios import builtin_scenarios, looks_like_scenario_id
from incident.severity import severity_help
from incident.yamlsource import ConfigError
from storage import outbox
from storage.models import Incident

log = logging.getLogger(__name__)


async def open_declare_modal(
    ctx: CommandCtx, *, drill: bool, initial: Mapping[str, Any] | None = None
) -> None:
    config = ctx.deps.config
    view = declare_modal(
        ctx.locale,
        config.playbooks,
        config.default_playbook,
        severity_help(ctx.locale),
        config.regimes,
        title=(initial or {}).get("title") or ctx.args,
        drill=drill,
        origin_channel=ctx.channel_id,
        initial=initial,
    )
    await ctx.client.views_open(trigger_id=ctx.trigger_id, view=view)


@subcommand("declare", find=Find.NONE)
async def declare_command(ctx: CommandCtx) -> None:
    await open_declare_modal(ctx, drill=False)


@subcommand("drill", find=Find.NONE)
async def drill_command(ctx: CommandCtx) -> None:
    """A scenario's name prefills the form from its data file; an unknown one lists them.

    Any other text (a title has spaces, a scenario id has hyphens) stays the drill's title."""
    name = ctx.args.strip()
    if not (looks_like_scenario_id(name) or name.lower() == "list"):
        await open_declare_modal(ctx, drill=True)
        return
    try:
        scenarios = builtin_scenarios(ctx.deps.config)
    except ConfigError as exc:
        log.error("drill scenarios are invalid:\n%s", exc)
        await ctx.reply(t("drill.scenarios_invalid", ctx.locale))
        return
    scenario = scenarios.get(name)
    if scenario is not None:
        await open_declare_modal(
            ctx, drill=True, initial=scenario.form_values(ctx.locale, ctx.deps.clock.now())
        )
        return
    lines = [
        t("drill.scenario_line", ctx.locale, id=s.id, title=s.title.get(ctx.locale))
        for s in sorted(scenarios.values(), key=lambda s: s.id)
    ]
    head = "drill.scenarios" if name.lower() == "list" else "drill.unknown_scenario"
    await ctx.reply(
        t(head, ctx.locale, name=name, command=ctx.deps.command, scenarios="\n".join(lines) or "—")
    )


async def on_jurisdictions_chosen(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """The declare form's jurisdictions changed: ask for the clock starts a duty there may run
    from (GDPR's awareness for the EU or UK, a state's determination), drop those no longer due."""
    await ack()
    view = body.get("view") or {}
    if view.get("callback_id") != CallbackId.DECLARE or not view.get("id"):
        return
    action = (body.get("actions") or [{}])[0]
    chosen = [str(o.get("value")) for o in action.get("selected_options") or [] if isinstance(o, dict)]
    updated = with_clock_starts(view, deps.config.regimes, chosen)
    if updated is None:
        return
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=updated)
    except SlackApiError as exc:
        # The form changed again meanwhile (another choice, already on its way here): that
        # choice's update is the one that counts. A closed form needs nothing either.
        if exc.response.get("error") not in ("hash_conflict", "not_found"):
            raise
        log.info("declare form not updated: %s", exc.response.get("error"))


async def default_holders(client: AsyncWebClient, deps: Deps) -> dict[str, str]:
    """Each role's first usable default responder (a user group gives its first member)."""
    return (await resolve_defaults(client, deps)).holders


async def on_declare_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    await deps.extras["refresh_settings"]()  # settings changed in Slack (maybe on another replica)
    locale = deps.locale
    now = deps.clock.now()
    inp, errors = parse_declare(view)
    for field, key in validate(inp, now, deps.config).items():
        errors.setdefault(FIELD_BLOCKS.get(field, field), key)
    if errors:
        await refuse_fields(ack, errors, locale)
        return
    await ack()
    user = body["user"]["id"]
    origin = json.loads(view.get("private_metadata") or "{}").get("origin") or ""
    defaults = await resolve_defaults(client, deps)
    await declare(
        deps.db,
        deps.config,
        inp,
        actor=user,
        now=now,
        locale=locale,
        holders=defaults.holders,
        skipped=defaults.skipped,
        redact_on=deps.redact_sensitive,
        origin=origin,
    )
    # The same transaction wrote the set-up effect: the delivery engine builds the channel, then
    # tells the declarer where it is (handlers/effects.py). A second delivery of the submission
    # finds the first incident and writes nothing.


async def tell_declarer(
    client: AsyncWebClient,
    deps: Deps,
    incident: Incident,
    user: str,
    origin: str,
    pending: list[str],
    *,
    took_command: bool = False,
) -> None:
    """Where the channel is; or, while set-up is unfinished, what is missing and a Retry button.

    `took_command`: no default commander could be filled, so the declarer commands (and may hand over).
    """
    locale = incident.locale
    if incident.channel_id:
        text = t(
            "declare.done", locale, key=incident.key, severity=incident.severity, channel=incident.channel_id
        )
    else:
        text = t("declare.done_pending", locale, key=incident.key, severity=incident.severity)
    blocks = None
    if took_command:
        text += "\n" + t("dayone.declarer_commands.told", locale, key=incident.key)
    if pending:
        steps = ", ".join(t(f"setup.{s}", locale) for s in pending)
        retry = button(t("card.button.retry", locale), ActionId.CARD_RETRY_SETUP, str(incident.id), "primary")
        blocks = [section(text), context(t("card.pending_setup", locale, steps=steps)), actions(retry)]
    await tell(client, {"user_id": user, "channel_id": origin}, text, blocks)


async def on_retry_setup(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await ack()
    # The gate (Find.SETUP) let through those who may see the incident and, while its set-up is
    # unfinished, its declarer: before the channel exists nobody else could press Retry.
    incident = await load(deps, id_in((body.get("actions") or [{}])[0].get("value")))
    assert incident.id is not None
    pending = await ensure_setup(client, deps, incident.id) or []  # None: someone else is on it
    channel = (body.get("container") or {}).get("channel_id") or ""
    await tell_declarer(client, deps, await load(deps, incident.id), body["user"]["id"], channel, pending)


async def on_refresh_card(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await ack()
    incident = await incident_from_action(client, deps, body)
    assert incident.id is not None
    await outbox.refresh(deps.db, incident.id, deps.clock.now(), revive=True)


def register(app: Any, deps: Deps) -> None:
    def bind(func: Any) -> Any:
        async def listener(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
            await func(ack=ack, body=body, client=client, deps=deps)

        return deps.tracker.wrap(listener)

    async def submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await on_declare_submitted(ack, body, view, client, deps)

    gate.view(app, deps, CallbackId.DECLARE, Find.NONE)(deps.tracker.wrap(submitted))
    gate.action(app, deps, ActionId.JURISDICTIONS, Find.NONE)(bind(on_jurisdictions_chosen))
    gate.action(app, deps, ActionId.CARD_RETRY_SETUP, Find.SETUP)(bind(on_retry_setup))
    gate.action(app, deps, ActionId.CARD_REFRESH, Find.VALUE)(bind(on_refresh_card))
