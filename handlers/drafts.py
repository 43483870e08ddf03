"""`/breach notify draft [obligation]` and the "Draft notice" button: the notice for one obligation,
written from the record, shown only to the person who asked (a modal), edited and approved by legal.

The draft's text never reaches the channel: drafting logs ``notice_drafted`` (hashes, no text) and
approval is a decision whose channel line names the obligation, the version and the SHA-256.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.commands import CommandCtx
from handlers.context import KEY, incident_by_id, incident_for
from handlers.deps import Deps
from handlers.errors import message_for, refuse_fields, reply_error, tell
from handlers.gate import Find, id_in
from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from handlers.postmortem import names_for
from handlers.records import warn_redacted
from handlers.render import drafts as render
from incident import firm_facts
from incident.errors import DomainError, NotFound
from incident.limits import Field, limit
from incident.notice_draft import drafts
from incident.regimes import Obligation
from storage.models import Incident

# The word after `notify` that asks for a draft instead of recording a notice.
DRAFT_WORD = "draft"


def wants_draft(ctx: CommandCtx) -> bool:
    """`/breach notify draft ...`: the notify command hands over to `draft_command`."""
    return ctx.words()[:1] == [DRAFT_WORD]


async def draft_command(ctx: CommandCtx) -> None:
    """With an obligation (``<regime>/<key>``, or a regime with one): its draft in a modal;
    without one: the obligations that apply or may, each with a Draft notice button."""
    deps = ctx.deps
    incident = await incident_for(ctx.client, deps, user=ctx.user_id, channel=ctx.channel_id, text=ctx.args)
    regimes = deps.config.regimes
    name = next((w for w in ctx.words()[1:] if not KEY.fullmatch(w.upper())), None)
    if name is None:
        listed = drafts.draftable(incident, regimes, await firm_facts.read(deps.db))
        blocks = render.obligations_list(incident, listed, regimes, deps.command)
        await ctx.reply(t("drafts.list.title", incident.locale, key=incident.key), blocks=blocks)
        return
    obligation = drafts.obligation_named(regimes, name)
    await open_draft(ctx.client, deps, incident, obligation, ctx.user_id, ctx.trigger_id)


async def open_draft(
    client: AsyncWebClient, deps: Deps, incident: Incident, obligation: Obligation, user: str, trigger_id: str
) -> None:
    """Open the modal at once (a trigger lives 3 seconds), then write the draft into it."""
    assert incident.id is not None
    locale = incident.locale
    opened = await client.views_open(trigger_id=trigger_id, view=render.loading_modal(locale))
    view_id = opened["view"]["id"]

    async def names(ids: Iterable[str]) -> Mapping[str, str]:
        return await names_for(client, ids)

    try:
        made = await drafts.draft(
            deps.db, deps.config, incident.id, obligation, actor=user, now=deps.clock.now(), names=names
        )
        who = await drafts.approver(
            deps.db, incident.id, user, deps.config.roles, is_admin=await gate.is_admin(client, deps, user)
        )
    except DomainError as exc:
        await client.views_update(
            view_id=view_id, view=render.message_modal(message_for(exc, locale), locale)
        )
        return
    view = render.draft_modal(
        incident, made, deps.config.regimes, may_approve=who.may, legal=who.legal, command=deps.command
    )
    await client.views_update(view_id=view_id, view=view)


async def on_draft_clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await ack()
    user = body["user"]["id"]
    value = str(((body.get("actions") or [{}])[0]).get("value") or "")
    try:
        incident = await incident_by_id(client, deps, id_in(value), user)
        obligation = drafts.obligation_named(deps.config.regimes, render.button_obligation(value))
    except DomainError as exc:
        await reply_error(client, body, exc, deps.locale)
        return
    await open_draft(client, deps, incident, obligation, user, body["trigger_id"])


async def on_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """Approve: the texts as edited, checked, then stored with their SHA-256 and a decision."""
    user = body["user"]["id"]
    locale = deps.locale
    try:
        incident_id, obligation_id, version = render.draft_meta(view)
        obligation = drafts.obligation_named(deps.config.regimes, obligation_id)
    except DomainError:
        await ack()
        await reply_error(client, {"user_id": user}, NotFound("error.not_found"), locale)
        return
    texts = render.draft_texts(view, obligation.languages)
    problems = drafts.validate_texts(texts)
    if problems:
        errors = {render.text_block(language): key for language, key in problems.items()}
        await refuse_fields(ack, errors, locale, limit=limit(Field.NOTICE))
        return
    is_admin = await gate.is_admin(client, deps, user)
    who = await drafts.approver(deps.db, incident_id, user, deps.config.roles, is_admin=is_admin)
    if not who.may:
        await refuse_fields(
            ack,
            {render.text_block(obligation.languages[0]): "drafts.error.approve_only"},
            locale,
            legal=f"<@{who.legal}>" if who.legal else "—",
            commander=f"<@{who.commander}>" if who.commander else "—",
        )
        return
    await ack()
    where: dict[str, Any] = {"user_id": user}
    try:
        incident = await incident_by_id(client, deps, incident_id, user)
        where["channel_id"] = incident.channel_id
        approved = await drafts.approve(
            deps.db,
            deps.config,
            incident_id,
            obligation,
            version,
            texts,
            actor=user,
            now=deps.clock.now(),
            is_admin=is_admin,
            redact_on=deps.redact_sensitive,
        )
    except DomainError as exc:
        await reply_error(client, where, exc, locale)
        return
    # The same transaction wrote the decision's channel line (the hash, never the text).
    hashes = "; ".join(f"{row.language} `{row.sha256}`" for row in approved.rows)
    text = t(
        "drafts.approved.you",
        incident.locale,
        key=incident.key,
        recipient=obligation.recipient.get(incident.locale),
        version=version,
        hashes=hashes,
        command=deps.command,
    )
    await tell(client, where, text)
    await warn_redacted(client, incident, user, approved.findings, "notice")


def register(app: Any, deps: Deps) -> None:
    async def clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await on_draft_clicked(ack, body, client, deps)

    async def submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await on_submitted(ack, body, view, client, deps)

    gate.action(app, deps, ActionId.NOTICE_DRAFT, Find.VALUE)(deps.tracker.wrap(clicked))
    gate.view(app, deps, CallbackId.NOTICE_DRAFT, Find.FORM)(deps.tracker.wrap(submitted))
