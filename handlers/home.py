"""Your incidents: `/breach list` and the App Home tab, both for incidents you are a member of only."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.commands import CommandCtx, subcommand
from handlers.deps import Deps
from handlers.events import first_delivery
from handlers.gate import Find, is_admin, is_member
from handlers.i18n import t
from handlers.render.home import home_view, incident_list
from handlers.workspace import settings_part
from incident import lifecycle
from incident import register as breach_register
from storage.models import Incident

RECENT_REGISTER = 10
MAX_HOME_BLOCKS = 100


async def incidents_of(
    client: AsyncWebClient, deps: Deps, user: str, *, include_closed: bool
) -> list[Incident]:
    """The incidents whose private channel `user` is in, open ones first. Everyone else's stay unseen."""
    mine: list[Incident] = []
    for incident in await lifecycle.incidents_open_first(deps.db):
        if not include_closed and incident.status == lifecycle.CLOSED:
            continue
        if await is_member(client, incident, user):
            mine.append(incident)
    return mine


# Not answered in the ack: with a cold membership cache it asks Slack once per incident, which
# could outrun the ack's 3 seconds in a firm with hundreds of incidents.
@subcommand("list", "ls", find=Find.NONE)
async def list_command(ctx: CommandCtx) -> None:
    incidents = await incidents_of(ctx.client, ctx.deps, ctx.user_id, include_closed=True)
    await ctx.reply(t("home.list.title", ctx.locale), incident_list(incidents, ctx.locale))


async def publish_home(client: AsyncWebClient, deps: Deps, user: str) -> None:
    incidents = await incidents_of(client, deps, user, include_closed=False)
    standings = await lifecycle.standings(deps.db, incidents, user)
    entries = None
    if await is_admin(client, deps, user):
        async with deps.db.session() as db:
            entries = (await breach_register.rows(db, deps.config, now=deps.clock.now()))[-RECENT_REGISTER:][
                ::-1
            ]
    view = home_view(standings, deps.config.roles, deps.locale, deps.clock.now(), entries)
    settings = await settings_part(client, deps, user)
    if settings:  # admins: the Settings part goes above the "updated" line, never cut off
        blocks = view["blocks"]
        view["blocks"] = blocks[: MAX_HOME_BLOCKS - len(settings) - 1] + settings + blocks[-1:]
    await client.views_publish(user_id=user, view=view)


def register(app: Any, deps: Deps) -> None:
    async def on_home_opened(body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        user = event.get("user")
        if not user or event.get("tab", "home") != "home" or not await first_delivery(deps, body):
            return
        await publish_home(client, deps, user)

    gate.event(app, deps, "app_home_opened", Find.NONE)(deps.tracker.wrap(on_home_opened))
