"""`/breach obligations`: which obligations apply, why, each clock by when, and which facts are
still unknown."""

from __future__ import annotations

from sqlalchemy import select

from handlers.commands import CommandCtx, subcommand
from handlers.context import incident_for
from handlers.i18n import t
from handlers.render.notify import obligations
from incident.clocks import clocks, judged
from storage.models import Notification


@subcommand("obligations", "clocks", read_only=True)
async def obligations_command(ctx: CommandCtx) -> None:
    deps = ctx.deps
    incident = await incident_for(ctx.client, deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args)
    now = deps.clock.now()
    async with deps.db.session() as db:
        sent = list(
            (await db.execute(select(Notification).where(Notification.incident_id == incident.id))).scalars()
        )
    views = clocks(incident, sent, deps.config.regimes, now)
    evaluated = judged(incident, sent, deps.config.regimes)
    blocks = obligations(incident, views, evaluated, incident.locale, now, deps.command)
    await ctx.reply(t("obligations.title", incident.locale, key=incident.key), blocks=blocks)
