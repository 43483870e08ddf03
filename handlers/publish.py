"""Incident set-up in Slack: the channel, its members, the pinned card, the checklists, the
announcement and the role DMs, each step done once and recorded (`incident.setup`), run by the
`setup` effect (handlers/effects.py); what follows the database afterwards is handlers/views.py."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import channel_members, forget_members
from handlers.defaults import default_group_members
from handlers.deps import Deps
from handlers.i18n import t
from handlers.render.card import announcement
from handlers.views import (
    load,
    owned_message,
    put_message,
    refresh_card,
    refresh_checklists,
    refresh_topic,
    refresh_views,
    slack_error,
)
from incident import roster, skips
from incident import setup as setup_state
from incident.naming import channel_name
from incident.skips import Skip
from storage.models import Incident

log = logging.getLogger(__name__)

MAX_NAME_TRIES = 20
WORKER = f"worker-{uuid.uuid4().hex[:8]}"


# Set-up steps ---------------------------------------------------------------------------------


async def _step_channel(client: AsyncWebClient, deps: Deps, incident: Incident) -> None:
    assert incident.id is not None
    for attempt in range(1, MAX_NAME_TRIES + 1):
        name = channel_name(incident.key, incident.title, drill=incident.is_drill, suffix=attempt)
        try:
            response = await client.conversations_create(name=name, is_private=True)
        except SlackApiError as exc:
            if exc.response.get("error") == "name_taken":
                continue
            raise
        channel = response["channel"]
        await setup_state.record_channel(
            deps.db, incident.id, channel["id"], channel["name"], now=deps.clock.now()
        )
        incident.channel_id, incident.channel_name = channel["id"], channel["name"]
        return
    raise RuntimeError("no free channel name")


async def team_members(client: AsyncWebClient, deps: Deps, incident: Incident) -> list[str]:
    """The declarer, the current role holders, and everyone in a default responders' user group.

    A default group that can't be read (deleted, no access) is recorded as skipped, not fatal.
    """
    assert incident.id is not None
    async with deps.db.session() as db:
        holders = await roster.current(db, incident.id)
    grouped, skipped = await default_group_members(client, deps)
    if skipped:
        await skips.record(deps.db, incident.id, skipped, now=deps.clock.now())
    people = [incident.declared_by, *holders.values(), *grouped]
    return list(dict.fromkeys(p for p in people if p))


# An invite Slack refuses because of this one person: the others still go in.
PERSONAL_INVITE_ERRORS = frozenset(
    {
        "user_is_deactivated",
        "user_disabled",
        "user_not_found",
        "cant_invite",
        "user_is_restricted",
        "user_is_ultra_restricted",
        "ura_max_channels",
        "cant_invite_self",
    }
)


async def invite(client: AsyncWebClient, channel: str, users: list[str]) -> dict[str, str]:
    """Invite everyone Slack will take; returns who could not be invited and why.

    Slack refuses a whole multi-person invite for one deactivated account, so after such a
    refusal each person is invited on their own. A channel-level error still raises.
    """
    try:
        await client.conversations_invite(channel=channel, users=",".join(users))
        return {}
    except SlackApiError as exc:
        code = slack_error(exc)
        if code not in PERSONAL_INVITE_ERRORS | {"already_in_channel"} and not exc.response.get("errors"):
            raise
        if len(users) == 1:
            return {} if code == "already_in_channel" else {users[0]: code}
    refused: dict[str, str] = {}
    for person in users:
        try:
            await client.conversations_invite(channel=channel, users=person)
        except SlackApiError as exc:
            code = slack_error(exc)
            if code in PERSONAL_INVITE_ERRORS:
                refused[person] = code
            elif code != "already_in_channel":
                raise
    return refused


async def _step_invites(client: AsyncWebClient, deps: Deps, incident: Incident) -> None:
    assert incident.id is not None and incident.channel_id
    wanted = await team_members(client, deps, incident)
    present = await channel_members(client, incident.channel_id)
    bot_user = deps.bot_user_id
    missing = [u for u in wanted if u not in present and u != bot_user]
    refused: dict[str, str] = {}
    if missing:
        try:
            refused = await invite(client, incident.channel_id, missing)
        finally:
            forget_members(client, incident.channel_id)
    if refused:
        async with deps.db.session() as db:
            holders = await roster.current(db, incident.id)
        role_of = {user: role for role, user in holders.items()}
        await skips.record(
            deps.db,
            incident.id,
            [Skip("invite", user, code, role_of.get(user)) for user, code in refused.items()],
            now=deps.clock.now(),
        )
    invited = [u for u in missing if u not in refused]
    await setup_state.record_invites(deps.db, incident.id, invited, now=deps.clock.now())


async def _step_topic(client: AsyncWebClient, deps: Deps, incident: Incident) -> None:
    await refresh_topic(client, deps, incident)
    assert incident.id is not None
    await setup_state.mark(deps.db, incident.id, "topic")


async def _step_card(client: AsyncWebClient, deps: Deps, incident: Incident) -> None:
    assert incident.id is not None
    await refresh_card(client, deps, incident.id)
    await setup_state.mark(deps.db, incident.id, "card")


async def _step_pin(client: AsyncWebClient, deps: Deps, incident: Incident) -> None:
    assert incident.id is not None
    msg = await owned_message(deps, incident.id, "card")
    if msg is None or not msg.ts:
        raise RuntimeError("card_not_posted")
    try:
        await client.pins_add(channel=msg.channel_id, timestamp=msg.ts)
    except SlackApiError as exc:
        if exc.response.get("error") != "already_pinned":
            raise
    await setup_state.mark(deps.db, incident.id, "pin")


async def _step_checklists(client: AsyncWebClient, deps: Deps, incident: Incident) -> None:
    assert incident.id is not None
    await refresh_checklists(client, deps, incident.id)
    await setup_state.mark(deps.db, incident.id, "checklists")


# The announcement channel is gone or shut to the bot: a configuration to fix, not a retry.
UNREACHABLE_CHANNEL_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "team_access_not_granted",
    }
)


async def _step_announcement(client: AsyncWebClient, deps: Deps, incident: Incident) -> None:
    assert incident.id is not None
    channel = deps.config.roles.announcement_channel
    if channel:
        blocks = announcement(
            incident.key, incident.severity, incident.id, incident.is_drill, incident.locale
        )
        text = f"{incident.key} · {incident.severity}"
        try:
            await put_message(client, deps, incident.id, "announcement", "", channel, blocks, text)
        except SlackApiError as exc:
            code = slack_error(exc)
            if code not in UNREACHABLE_CHANNEL_ERRORS:
                raise
            log.warning("announcement channel %s unreachable for %s: %s", channel, incident.key, code)
            skip = Skip("announcement", channel, code)
            await skips.record(deps.db, incident.id, [skip], now=deps.clock.now())
    await setup_state.mark(deps.db, incident.id, "announcement")


async def _step_role_dms(client: AsyncWebClient, deps: Deps, incident: Incident) -> None:
    assert incident.id is not None
    async with deps.db.session() as db:
        holders = await roster.current(db, incident.id)
    refused: list[Skip] = []
    for role_key, user_id in holders.items():
        try:
            await dm_role_duties(client, deps, incident, role_key, user_id)
        except SlackApiError as exc:
            code = slack_error(exc)
            if code not in PERSONAL_DM_ERRORS:
                raise
            refused.append(Skip("role_dm", user_id, code, role_key))
    if refused:
        await skips.record(deps.db, incident.id, refused, now=deps.clock.now())
    await setup_state.mark(deps.db, incident.id, "role_dms")


# A duty DM Slack refuses because of the person (deactivated since they were assigned, a bot).
PERSONAL_DM_ERRORS = frozenset(
    {"user_not_found", "user_disabled", "user_is_deactivated", "cannot_dm_bot", "channel_not_found"}
)


async def dm_role_duties(
    client: AsyncWebClient, deps: Deps, incident: Incident, role_key: str, user_id: str
) -> None:
    role = deps.config.roles.get(role_key)
    if role is None:
        return
    locale = incident.locale
    duties = "\n".join(f"• {line}" for line in role.duties.get(locale).splitlines() if line.strip())
    text = t(
        "role_dm.text",
        locale,
        key=incident.key,
        role=role.name.get(locale),
        channel=incident.channel_id,
        duties=duties,
    )
    await client.chat_postMessage(channel=user_id, text=text)


Step = Callable[[AsyncWebClient, Deps, Incident], Awaitable[None]]
STEPS: tuple[tuple[str, Step], ...] = (
    ("channel", _step_channel),
    ("invites", _step_invites),
    ("topic", _step_topic),
    ("card", _step_card),
    ("pin", _step_pin),
    ("checklists", _step_checklists),
    ("announcement", _step_announcement),
    ("role_dms", _step_role_dms),
)


async def ensure_setup(client: AsyncWebClient, deps: Deps, incident_id: int) -> list[str] | None:
    """Run every set-up step not done yet; returns the steps still pending afterwards, or None
    when another worker holds the set-up's lease.

    A failed step is recorded with Slack's error and the others go on (nothing but the channel
    itself is a prerequisite); the card then says what is missing and offers Retry.
    """
    now = deps.clock.now()
    if not await setup_state.claim(deps.db, incident_id, WORKER, now):
        return None
    renewal = asyncio.ensure_future(_renew_setup(deps, incident_id))
    try:
        incident = await load(deps, incident_id)
        for step, run in STEPS:
            if (incident.setup or {}).get(step):
                continue
            if step != "channel" and not incident.channel_id:
                break
            try:
                await run(client, deps, incident)
            except Exception as exc:
                log.warning("set-up step %s of %s failed: %s", step, incident.key, slack_error(exc))
                await setup_state.mark(deps.db, incident_id, step, error=slack_error(exc))
                if step == "channel":
                    break
            incident = await load(deps, incident_id)
        incident = await load(deps, incident_id)
        if incident.channel_id:
            try:
                await refresh_views(client, deps, incident_id)
            except Exception as exc:
                log.warning("card refresh of %s failed: %s", incident.key, slack_error(exc))
        return [s for s, _ in STEPS if not (incident.setup or {}).get(s)]
    finally:
        renewal.cancel()
        await setup_state.release(deps.db, incident_id, WORKER)


async def _renew_setup(deps: Deps, incident_id: int) -> None:
    while True:
        await asyncio.sleep(setup_state.LEASE.total_seconds() / 3)
        try:
            await setup_state.renew(deps.db, incident_id, WORKER, deps.clock.now())
        except Exception:
            log.warning("could not renew the set-up lease of incident %s", incident_id, exc_info=True)
