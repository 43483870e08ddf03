"""`/breach obligations`: which obligations apply, why, each clock by when, and which facts are
still unknown."""

from __future__ import annotations

from handlers.commands import CommandCtx, subcommand
from handlers.context import incident_for
from handlers.i18n import t
from handlers.render.notify import obligations
from incident import firm_facts
from incident.clocks import clocks, judged
from incident.coverage import uncovered_names
from incident.notifications import sent_notices


@subcommand("obligations", "clocks", read_only=True)
async def obligations_command(ctx: CommandCtx) -> None:
    deps = ctx.deps
    incident = await incident_for(ctx.client, deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args)
    now = deps.clock.now()
    regimes = deps.config.regimes
    sent = await sent_notices(deps.db, incident)
    firm = await firm_facts.read(deps.db)
    views = clocks(incident, sent, regimes, now, firm=firm)
    evaluated = judged(incident, sent, regimes, firm)
    blocks = obligations(
        incident,
        views,
        evaluated,
        incident.locale,
        now,
        deps.command,
        firm=firm_facts.from_firm(incident, firm),
        uncovered=uncovered_names(incident.jurisdictions, regimes),
    )
    await ctx.reply(t("obligations.title", incident.locale, key=incident.key), blocks=blocks)
