"""Access to a confidential incident: Request access on the announcement, the commander decides.

The announcement itself never changes. The requester hears back privately; the commander's
decision message is re-rendered from the request row, so it shows who decided and when.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers import gate
from handlers.context import channel_members, forget_members, id_in
from handlers.deps import Deps
from handlers.effects import dm_sender
from handlers.errors import tell
from handlers.gate import Find, is_admin
from handlers.i18n import t
from handlers.ids import ActionId
from handlers.lifecycle import listener
from handlers.render.lifecycle import access_request, access_request_text
from handlers.views import load, owned_message, put_message, slack_error
from incident import access
from incident.errors import NotFound
from incident.reminders import SendFailed
from storage.models import AccessRequest, Effect, Incident

KIND = "access_request"


async def show_request(
    client: AsyncWebClient, deps: Deps, incident: Incident, request: AccessRequest, to: str | None = None
) -> None:
    """Post the decision message to `to` the first time; afterwards redraw it wherever it is."""
    assert incident.id is not None and request.id is not None
    shown = await owned_message(deps, incident.id, KIND, str(request.id))
    if shown is not None:
        channel = shown.channel_id
    elif to is not None:
        # The DM's own id: chat.update needs it, a user id only works for posting.
        channel = (await client.conversations_open(users=to))["channel"]["id"]
    else:
        return
    blocks = access_request(incident, request, incident.locale)
    text = access_request_text(incident, request, incident.locale)
    await put_message(client, deps, incident.id, KIND, str(request.id), channel, blocks, text)


async def on_request_access(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await ack()
    user = body["user"]["id"]
    async with deps.db.session() as db:
        # Not a membership check: the requester is, by definition, not in the channel yet.
        incident = await db.get(Incident, id_in(body["actions"][0].get("value")))
    if incident is None:
        raise NotFound("error.not_found")
    locale = deps.locale
    if incident.channel_id and user in await channel_members(client, incident.channel_id):
        await tell(
            client, body, t("access.already_member", locale, key=incident.key, channel=incident.channel_id)
        )
        return
    assert incident.id is not None
    result = await access.request_access(
        deps.db, incident.id, user, now=deps.clock.now(), roles=deps.config.roles
    )
    if not result.created:
        await tell(client, body, t("access.still_pending", locale, key=incident.key))
        return
    if result.decider is None:
        await tell(client, body, t("access.nobody_to_ask", locale, key=incident.key))
        return
    # The same transaction wrote the decider's DM (`send_request`).
    await tell(client, body, t("access.requested", locale, key=incident.key))


async def on_decide(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps, *, approve: bool
) -> None:
    await ack()
    actor = body["user"]["id"]
    request_id = id_in(body["actions"][0].get("value"))
    decided = await access.decide(
        deps.db,
        request_id,
        approve=approve,
        actor=actor,
        now=deps.clock.now(),
        roles=deps.config.roles,
        is_admin=await is_admin(client, deps, actor),
    )
    incident, request = decided.incident, decided.request
    if not decided.changed:
        await show_request(client, deps, incident, request)  # a stale copy catches up
        status = t(f"access.status.{request.status}", deps.locale)
        await tell(
            client,
            body,
            t("access.already_decided", deps.locale, status=status, by=f"<@{request.decided_by}>"),
        )
        return
    # The same transaction wrote the requester's answer (`send_answer`), which lets them in first,
    # and the redraw of the decision message (`send_request`): both retried if Slack refuses.


async def _request_of(deps: Deps, effect: Effect) -> tuple[Incident, AccessRequest]:
    assert effect.incident_id is not None
    incident = await load(deps, effect.incident_id)
    request = await access.get(deps.db, int(effect.payload["request"]))
    return incident, request


@dm_sender(access.ASK)
async def send_request(client: AsyncWebClient, deps: Deps, effect: Effect) -> None:
    """The decision message, to the person asked to decide; once it is shown (and after the
    decision), redrawn in place."""
    incident, request = await _request_of(deps, effect)
    await show_request(client, deps, incident, request, to=str(effect.payload["user"]))


# Slack's answers to an invite that a retry may mend; any other refusal is told to the decider.
INVITE_RETRY = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


@dm_sender(access.ANSWER)
async def send_answer(client: AsyncWebClient, deps: Deps, effect: Effect) -> None:
    """Denied: say so. Approved: bring the requester into the channel, then tell them where it is."""
    incident, request = await _request_of(deps, effect)
    locale = incident.locale
    if request.status == access.DENIED:
        await client.chat_postMessage(
            channel=request.user_id, text=t("access.denied", locale, key=incident.key)
        )
        return
    if incident.channel_id is None:
        raise SendFailed("no_channel_yet")  # set-up has not made the channel: retried with a backoff
    try:
        await client.conversations_invite(channel=incident.channel_id, users=request.user_id)
        forget_members(client, incident.channel_id)
    except SlackApiError as exc:
        code = slack_error(exc)
        if code in INVITE_RETRY:
            raise
        if code != "already_in_channel":
            actor = str(effect.payload.get("actor") or "")
            text = t("access.invite_failed", deps.locale, key=incident.key, error=code)
            await tell(client, {"user_id": actor}, text)
            return
    await client.chat_postMessage(
        channel=request.user_id,
        text=t("access.approved", locale, key=incident.key, channel=incident.channel_id),
    )


async def on_approve(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await on_decide(ack, body, client, deps, approve=True)


async def on_deny(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    await on_decide(ack, body, client, deps, approve=False)


def register(app: Any, deps: Deps) -> None:
    gate.action(app, deps, ActionId.REQUEST_ACCESS, Find.ACCESS_REQUEST)(listener(deps, on_request_access))
    gate.action(app, deps, ActionId.ACCESS_APPROVE, Find.ACCESS_DECISION)(listener(deps, on_approve))
    gate.action(app, deps, ActionId.ACCESS_DENY, Find.ACCESS_DECISION)(listener(deps, on_deny))
