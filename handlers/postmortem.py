"""The post-mortem in Slack: generated on close (the close effect, handlers/effects.py) and by
`/breach postmortem`.

The Markdown goes to the incident channel as a file with a short summary; the person who asked
gets, privately, a signed link to the HTML version that expires after 24 hours.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.commands import CommandCtx, subcommand
from handlers.context import incident_for
from handlers.deps import Deps
from handlers.i18n import t
from handlers.render.common import duration, when
from incident.postmortem import PostMortem, build, render
from incident.postmortem.access import link_for
from incident.postmortem.publish import digest, record_generated
from storage.models import Incident

log = logging.getLogger(__name__)

BOT_ACTOR = "breachroom"


async def build_postmortem(deps: Deps, incident_id: int) -> PostMortem:
    async with deps.db.session() as db:
        incident = await db.get(Incident, incident_id)
        assert incident is not None
        return await build(db, incident, deps.config, deps.clock.now())


def people_in(pm: PostMortem) -> set[str]:
    ids = {pm.incident.declared_by}
    ids.update(r.user for r in pm.roles)
    ids.update(r.assigned_by for r in pm.roles)
    ids.update(e.actor for e in pm.events)
    ids.update(x for d in pm.decisions for x in (d.decided_by, d.approver) if x)
    ids.update(x for e in pm.evidence for x in (e.custodian, e.recorded_by) if x)
    ids.update(x for a in pm.actions for x in (a.owner, a.created_by, a.done_by) if x)
    ids.update(i.done_by for p in pm.checklist for i in p.items if i.done_by)
    ids.update(n.sent_by for n in pm.notifications)
    return {i for i in ids if i and i[0] in "UW"}


async def names_for(client: AsyncWebClient, ids: Iterable[str]) -> dict[str, str]:
    """Real names for the file, which Slack will not render mentions in; ids where Slack won't say."""
    names: dict[str, str] = {}
    for user_id in sorted(ids):
        try:
            info = (await client.users_info(user=user_id)).get("user") or {}
        except SlackApiError:
            continue
        name = info.get("real_name") or (info.get("profile") or {}).get("real_name") or info.get("name")
        if name:
            names[user_id] = str(name)
    return names


def summary_text(pm: PostMortem) -> str:
    inc, v = pm.incident, pm.verification
    locale = inc.locale
    chain = (
        t("postmortem.chain_ok", locale, count=v.count, head=v.head[:16])
        if v.ok
        else t("postmortem.chain_broken", locale, seq=v.first_bad_seq)
    )
    open_for = duration((inc.closed_at - inc.declared_at).total_seconds(), locale) if inc.closed_at else "—"
    return t(
        "postmortem.summary",
        locale,
        key=inc.key,
        title=inc.title,
        chain=chain,
        met=pm.clocks_met,
        missed=pm.clocks_missed,
        decisions=len(pm.decisions),
        evidence=len(pm.evidence),
        actions=len(pm.actions),
        open_for=open_for,
    )


@dataclass(frozen=True)
class Published:
    incident: Incident
    uploaded: bool
    seq: int


async def publish(
    client: AsyncWebClient, deps: Deps, incident_id: int, *, actor: str, must_upload: bool = False
) -> Published:
    """Build from the database, upload the Markdown to the channel, and log that it was produced.

    `must_upload` (the close effect): an upload Slack refuses raises, so the effect tries again,
    instead of recording a post-mortem that never reached the channel."""
    pm = await build_postmortem(deps, incident_id)
    incident = pm.incident
    names = await names_for(client, people_in(pm))
    # Rendering a long record is CPU work (0.64 s at 10k events): off the event loop.
    markdown = await asyncio.to_thread(render, pm, "md", names)
    file_id = None
    uploaded = False
    if incident.channel_id:
        try:
            response = await client.files_upload_v2(
                channel=incident.channel_id,
                content=markdown,
                filename=f"{incident.key}-postmortem.md",
                title=t("postmortem.file_title", incident.locale, key=incident.key),
                initial_comment=summary_text(pm),
            )
            files = response.get("files") or [response.get("file") or {}]
            file_id = (files[0] or {}).get("id")
            uploaded = True
        except SlackApiError as exc:
            if must_upload:
                raise
            log.warning("post-mortem upload for %s failed: %s", incident.key, exc.response.get("error"))
    seq = await record_generated(
        deps.db,
        incident_id,
        actor=actor,
        now=deps.clock.now(),
        head=pm.verification.head,
        count=pm.verification.count,
        markdown_sha256=digest(markdown),
        file_id=file_id,
    )
    return Published(incident, uploaded, seq)


def base_url(deps: Deps) -> str | None:
    return deps.public_base_url or deps.own_base_url


@subcommand("postmortem")
async def postmortem_command(ctx: CommandCtx) -> None:
    incident = await incident_for(
        ctx.client, ctx.deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args
    )
    assert incident.id is not None
    published = await publish(ctx.client, ctx.deps, incident.id, actor=ctx.user_id)
    locale = incident.locale
    lines = [
        t("postmortem.posted", locale, key=incident.key)
        if published.uploaded
        else t("postmortem.not_posted", locale, key=incident.key)
    ]
    base = base_url(ctx.deps)
    if base and ctx.deps.link_secret:
        url, expires = link_for(base, incident.id, ctx.deps.clock.now(), ctx.deps.link_secret, ctx.user_id)
        lines.append(t("postmortem.link", locale, url=url, expires=when(expires)))
    else:
        lines.append(t("postmortem.no_link", locale))
    await ctx.reply("\n".join(lines))
