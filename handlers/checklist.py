"""Checklist buttons and their modals: Done, Not applicable, Assign, Note, Reopen.

Each listener acks, names the item from the button's ``"<id>:<version>"``, checks the clicker is
in the incident's channel, calls one domain function, then re-renders the phase's messages and the
card from the database. When the click changed nothing, or met a newer state than the one it was
rendered from, the clicker is told privately what happened.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.context import channel_members, incident_by_id
from handlers.deps import Deps
from handlers.errors import message_for, refuse_fields, tell
from handlers.gate import Find
from handlers.i18n import t
from handlers.ids import ActionId, CallbackId
from handlers.listener import listener
from handlers.render.checklist import item_title
from handlers.render.common import clip, modal, mrkdwn, plain, user, when
from handlers.views import load
from incident import checklist
from incident.checklist import ItemChanged, ItemRef, Outcome
from incident.errors import DomainError
from incident.overview import playbook_of
from storage import outbox
from storage.models import ChecklistItem, Incident

log = logging.getLogger(__name__)

VALUE = "value"


# Re-rendering ---------------------------------------------------------------------------------


async def refresh_after(deps: Deps, incident_id: int) -> None:
    """A click that changed nothing (already done, a stale view) still re-renders: the clicker's
    view may be the stale one. A click that changed something wrote its re-render already."""
    await outbox.refresh(deps.db, incident_id, deps.clock.now())


# Telling the clicker --------------------------------------------------------------------------


def refusal(exc: BaseException, deps: Deps, locale: str) -> str:
    """The error in the reader's words; a restricted item names its owner role, not its key."""
    if isinstance(exc, DomainError) and exc.key == "checklist.error.restricted":
        role = deps.config.roles.get(exc.params.get("role", ""))
        if role is not None:
            exc = DomainError(exc.key, **{**exc.params, "role": role.name.get(locale)})
    return message_for(exc, locale)


async def refuse(
    client: AsyncWebClient, body: dict[str, Any], exc: BaseException, deps: Deps, locale: str
) -> None:
    if not isinstance(exc, DomainError):
        log.exception("checklist listener failed", exc_info=exc)
    try:
        await tell(client, body, refusal(exc, deps, locale))
    except Exception:
        log.exception("could not tell the user about an error")


def outcome_text(result: ItemChanged, action: str, title: str, locale: str) -> str | None:
    """What to tell the clicker privately, or None when the click did just what they saw."""
    item = result.item
    params = {"item": title}
    if result.outcome is Outcome.CHANGED:
        return t("checklist.told.stale_applied", locale, **params) if result.stale else None
    if result.outcome is Outcome.MOVED:
        return t("checklist.told.moved", locale, state=t(f"checklist.state.{item.state}", locale), **params)
    if result.outcome is Outcome.IS_NA:
        return t(
            "checklist.told.is_na", locale, user=user(item.done_by), reason=item.na_reason or "—", **params
        )
    if result.outcome is Outcome.IS_DONE:
        return t("checklist.told.is_done", locale, user=user(item.done_by), **params)
    if action == "done":
        return t(
            "checklist.told.already_done", locale, user=user(item.done_by), when=when(item.done_at), **params
        )
    if action == "na":
        return t("checklist.told.already_na", locale, user=user(item.done_by), **params)
    if action == "reopen":
        return t("checklist.told.already_open", locale, **params)
    return t("checklist.told.unchanged", locale, **params)


async def _item(deps: Deps, ref: ItemRef) -> ChecklistItem:
    async with deps.db.session() as db:
        return await checklist.get(db, ref.item_id)


def _title(incident: Incident, item: ChecklistItem) -> str:
    return item_title(playbook_of(incident).phase(item.phase), item, incident.locale)


async def _applied(
    client: AsyncWebClient,
    deps: Deps,
    body: dict[str, Any],
    incident: Incident,
    result: ItemChanged,
    action: str,
) -> None:
    """Re-render from the database (always: the clicker's view may be the stale one), then explain."""
    assert incident.id is not None
    if not result.changed:
        await refresh_after(deps, incident.id)
    text = outcome_text(result, action, _title(incident, result.item), incident.locale)
    if text:
        await tell(client, body, text)


# Buttons that act at once ---------------------------------------------------------------------

Act = Callable[[ItemRef, str], Awaitable[ItemChanged]]


async def _act(client: AsyncWebClient, deps: Deps, body: dict[str, Any], action: str, act: Act) -> None:
    locale: str = deps.locale
    try:
        ref = ItemRef.parse(body["actions"][0].get("value", ""))
        user_id = body["user"]["id"]
        item = await _item(deps, ref)
        incident = await incident_by_id(client, deps, item.incident_id, user_id)
        locale = incident.locale
        result = await act(ref, user_id)
        await _applied(client, deps, body, incident, result, action)
    except Exception as exc:
        await refuse(client, body, exc, deps, locale)


async def on_done(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await ack()

    async def act(ref: ItemRef, actor: str) -> ItemChanged:
        return await checklist.complete(deps.db, ref, actor=actor, now=deps.clock.now())

    await _act(client, deps, body, "done", act)


async def on_reopen(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await ack()

    async def act(ref: ItemRef, actor: str) -> ItemChanged:
        return await checklist.reopen(deps.db, ref, actor=actor, now=deps.clock.now())

    await _act(client, deps, body, "reopen", act)


# Buttons that ask first -----------------------------------------------------------------------


def _channel_of(body: dict[str, Any]) -> str:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""


def item_modal(
    callback_id: str, title: str, item_text: str, block: dict[str, Any], metadata: dict[str, Any], locale: str
) -> dict[str, Any]:
    return modal(
        callback_id,
        title=title,
        submit=t("checklist.modal.submit", locale),
        close=t("checklist.modal.cancel", locale),
        metadata=metadata,
        blocks=[{"type": "section", "text": mrkdwn(f"*{item_text}*")}, block],
    )


def _text_input(block_id: str, label: str, max_length: int, initial: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": VALUE, "multiline": True}
    element["max_length"] = max_length
    if initial:
        element["initial_value"] = clip(initial, max_length)
    return {"type": "input", "block_id": block_id, "label": plain(label, 2000), "element": element}


async def _open_modal(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps, kind: str
) -> None:
    await ack()
    locale: str = deps.locale
    try:
        value = body["actions"][0].get("value", "")
        ref = ItemRef.parse(value)
        item = await _item(deps, ref)
        incident = await load(deps, item.incident_id)
        locale = incident.locale
        title = clip(_title(incident, item), 2900)
        metadata = {"ref": value, "channel": _channel_of(body)}
        if kind == "na":
            block = _text_input("reason", t("checklist.modal.na.reason", locale), checklist.REASON_MAX)
            view = item_modal(
                CallbackId.ITEM_NA, t("checklist.modal.na.title", locale), title, block, metadata, locale
            )
        elif kind == "assign":
            element: dict[str, Any] = {"type": "users_select", "action_id": VALUE}
            if item.assignee:
                element["initial_user"] = item.assignee
            block = {
                "type": "input",
                "block_id": "assignee",
                "label": plain(t("checklist.modal.assign.user", locale)),
                "element": element,
            }
            view = item_modal(
                CallbackId.ITEM_ASSIGN,
                t("checklist.modal.assign.title", locale),
                title,
                block,
                metadata,
                locale,
            )
        else:
            block = _text_input("note", t("checklist.modal.note.text", locale), checklist.NOTE_MAX, item.note)
            view = item_modal(
                CallbackId.ITEM_NOTE, t("checklist.modal.note.title", locale), title, block, metadata, locale
            )
        await client.views_open(trigger_id=body["trigger_id"], view=view)
    except Exception as exc:
        await refuse(client, body, exc, deps, locale)


def metadata_of(view: dict[str, Any]) -> dict[str, Any]:
    """The modal's private_metadata as we wrote it; anything else (a forged view) reads as empty."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def field_value(view: dict[str, Any], block_id: str) -> Any:
    values = (view.get("state") or {}).get("values") or {}
    state = (values.get(block_id) or {}).get(VALUE) or {}
    if not isinstance(state, dict):
        return None
    found = state.get("selected_user") if "selected_user" in state else state.get("value")
    return found if isinstance(found, str) else None


Submit = Callable[[ItemRef, str, Any], Awaitable[ItemChanged]]


async def _submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    deps: Deps,
    *,
    block_id: str,
    action: str,
    submit: Submit,
) -> None:
    metadata = metadata_of(view)
    value = field_value(view, block_id)
    user_id = body["user"]["id"]
    where = {"user_id": user_id, "channel_id": str(metadata.get("channel") or "")}
    locale: str = deps.locale
    try:
        ref = ItemRef.parse(str(metadata.get("ref", "")))
        item = await _item(deps, ref)
        incident = await load(deps, item.incident_id)
        locale = incident.locale
    except Exception as exc:
        await ack()
        await refuse(client, where, exc, deps, locale)
        return
    if not (value or "").strip():
        key = {"na": "checklist.error.reason_required", "assign": "checklist.error.assignee_required"}
        await refuse_fields(ack, {block_id: key.get(action, "checklist.error.note_required")}, locale)
        return
    if action == "assign" and incident.channel_id:
        if value not in await channel_members(client, incident.channel_id):
            await refuse_fields(ack, {block_id: "checklist.error.not_member"}, locale, user=user(value))
            return
    await ack()
    try:
        incident = await incident_by_id(client, deps, item.incident_id, user_id)
        result = await submit(ref, user_id, value)
        await _applied(client, deps, where, incident, result, action)
    except Exception as exc:
        await refuse(client, where, exc, deps, locale)


def register(app: Any, deps: Deps) -> None:
    async def na(ref: ItemRef, actor: str, reason: Any) -> ItemChanged:
        return await checklist.mark_not_applicable(
            deps.db, ref, str(reason), actor=actor, now=deps.clock.now(), redact_on=deps.redact_sensitive
        )

    async def assign(ref: ItemRef, actor: str, person: Any) -> ItemChanged:
        return await checklist.assign(deps.db, ref, str(person), actor=actor, now=deps.clock.now())

    async def note(ref: ItemRef, actor: str, text: Any) -> ItemChanged:
        return await checklist.add_note(
            deps.db, ref, str(text), actor=actor, now=deps.clock.now(), redact_on=deps.redact_sensitive
        )

    def submitter(block_id: str, action: str, submit: Submit) -> Any:
        return listener(deps, _submitted, block_id=block_id, action=action, submit=submit)

    gate.action(app, deps, ActionId.ITEM_DONE, Find.ITEM)(listener(deps, on_done))
    gate.action(app, deps, ActionId.ITEM_REOPEN, Find.ITEM)(listener(deps, on_reopen))
    gate.action(app, deps, ActionId.ITEM_NA, Find.ITEM)(listener(deps, _open_modal, kind="na"))
    gate.action(app, deps, ActionId.ITEM_ASSIGN, Find.ITEM)(listener(deps, _open_modal, kind="assign"))
    gate.action(app, deps, ActionId.ITEM_NOTE, Find.ITEM)(listener(deps, _open_modal, kind="note"))
    gate.view(app, deps, CallbackId.ITEM_NA, Find.FORM)(submitter("reason", "na", na))
    gate.view(app, deps, CallbackId.ITEM_ASSIGN, Find.FORM)(submitter("assignee", "assign", assign))
    gate.view(app, deps, CallbackId.ITEM_NOTE, Find.FORM)(submitter("note", "note", note))
