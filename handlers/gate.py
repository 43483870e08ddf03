"""The one authorization gate (DESIGN.md principle 9).

Every listener is registered here together with how its incident is found: this channel or a
key in the text, the id at the head of a button's value, a checklist item, a reminder, a
follow-up action, an access request, a modal's private metadata, or none at all (declare, help,
home, membership events). A Bolt middleware runs before any listener: it finds the incident,
checks that the person may see it (a member of its private channel, or of the admin user group),
and hands it to the listener as ``context["incident"]``. Anyone else gets the same "not found"
answer an unknown key or id gets, and the listener never runs.

A request for which no listener was registered through this module is refused too (and logged),
so a listener added straight to the Bolt app does nothing until it says how its incident is found.
Being the declarer grants nothing once the incident exists; the one exception is Retry set-up,
which the declarer may press while the set-up is still unfinished (the channel may not exist yet).
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.deps import Deps
from handlers.errors import AFTER_COMMIT, VERIFIED, answer_privately, message_for, reply_error, tell
from handlers.membership import answer_in_time, channel_members_now, rate_limited
from incident import lookup
from incident.errors import DomainError, NotFound
from incident.overview import pending_setup
from storage.db import watch_commits
from storage.models import AccessRequest, ActionItem, ChecklistItem, Incident, Reminder

log = logging.getLogger(__name__)

KEY = re.compile(r"\bBR-\d{4}-\d{4,}\b", re.IGNORECASE)
INCIDENT = "incident"


class NoIncidentHere(DomainError):
    key = "error.no_incident_here"


class SlackBusy(DomainError):
    """Slack said to wait (429) and nothing it said before answers the question: try again."""

    key = "error.generic"


class Find(StrEnum):
    """How a listener's incident is found (and so, who may use it)."""

    NONE = "none"  # no incident: declare, help, list, App Home, membership events
    HERE_OR_KEY = "here_or_key"  # commands: this channel's incident, or the key in the text
    HERE_OR_KEY_IF_ANY = "here_or_key_if_any"  # as above, or none when neither is given
    CHANNEL = "channel"  # a message's channel (shortcut, reaction); none if not an incident's
    VALUE = "value"  # the incident id at the head of a button's value or selected option
    SETUP = "setup"  # as VALUE; the declarer too, while the incident's set-up is unfinished
    ITEM = "item"  # a checklist item ref (`"<item id>:<version>"`) in the value
    REMINDER = "reminder"  # a reminder id at the head of the value or selected option
    ACTION_ITEM = "action_item"  # a follow-up action id; its owner may use it too
    ACCESS_DECISION = "access_decision"  # an access request id (approve / deny)
    ACCESS_REQUEST = "access_request"  # Request access: open to outsiders, reveals only the key
    FORM = "form"  # a modal's private metadata (`incident`, `incident_id` or an item `ref`)


@dataclass(frozen=True)
class Found:
    incident: Incident | None
    owner: str | None = None  # the follow-up action's owner (Find.ACTION_ITEM)


def key_in(text: str) -> str | None:
    match = KEY.search(text or "")
    return match.group(0).upper() if match else None


def id_in(value: object) -> int:
    """The leading number of a value (`"12"`, `"12:SEV2"`, `"12:3"`); NotFound if there is none."""
    head = str(value or "").split(":", 1)[0].strip()
    if not head.isascii() or not head.isdigit() or len(head) > 18 or int(head) == 0:
        raise NotFound("error.not_found")
    return int(head)


# Who may see an incident ----------------------------------------------------------------------


# Slack's 3-second ack deadline leaves no room to wait out a 429 (usergroups.users.list is Tier 2,
# 20 a minute): these go by the last answer Slack gave when it says to wait, and wait only a wait
# the ack can afford (handlers/membership.py `answer_in_time`). That answer is dropped when Slack
# reports a change (handlers/events.py), so a removal still wins.


async def is_admin(client: AsyncWebClient, deps: Deps, user: str) -> bool:
    """Members of the configured admin user group may see and manage every incident.

    SlackBusy when Slack is rate-limiting and has never said who is in the group."""
    directory = deps.directory
    group = deps.config.roles.admin_usergroup

    async def ask(quick: AsyncWebClient) -> bool:
        return bool(await directory.is_member(quick, group, user))

    def last_known() -> bool | None:
        known = directory.last_known(group) if group else None
        return None if known is None else user in known

    try:
        return await answer_in_time(client, ask, last_known)
    except SlackApiError as exc:
        if not rate_limited(exc):
            raise
        log.warning("admin group %s rate-limited with no earlier answer: asking to try again", group)
        raise SlackBusy() from exc


async def _in_channel(client: AsyncWebClient, incident: Incident, user: str) -> bool | None:
    """Whether `user` is in the incident's channel; None when Slack is rate-limiting and has never
    said who is in it."""
    if not incident.channel_id or not user:
        return False
    try:
        return user in await channel_members_now(client, incident.channel_id)
    except SlackApiError as exc:
        return None if rate_limited(exc) else False


async def is_member(client: AsyncWebClient, incident: Incident, user: str) -> bool:
    return bool(await _in_channel(client, incident, user))


async def may_see(client: AsyncWebClient, deps: Deps, incident: Incident, user: str) -> bool:
    """The rule: a member of the incident's private channel, or of the admin user group.

    SlackBusy (try again) rather than a refusal when Slack would not say whether `user` is in the
    channel and they are no admin."""
    member = await _in_channel(client, incident, user)
    if member or await is_admin(client, deps, user):
        return True
    if member is None:
        raise SlackBusy()
    return False


async def require_access(client: AsyncWebClient, deps: Deps, incident: Incident, user: str) -> None:
    """NotFound (the answer an unknown key gets) unless `user` may see `incident`."""
    if not await may_see(client, deps, incident, user):
        raise NotFound("error.incident_not_found", key=incident.key)


# Finding the incident of a request ------------------------------------------------------------


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions") or [{}]
    return actions[0] if isinstance(actions[0], dict) else {}


def _value(body: dict[str, Any]) -> str:
    action = _action(body)
    return str(action.get("value") or (action.get("selected_option") or {}).get("value") or "")


def metadata(view: dict[str, Any] | None) -> dict[str, Any]:
    try:
        data = json.loads((view or {}).get("private_metadata") or "{}")
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


async def _row(deps: Deps, model: Any, row_id: int) -> Any:
    async with deps.db.session() as db:
        row = await db.get(model, row_id)
    if row is None:
        raise NotFound("error.not_found")
    return row


async def _incident(deps: Deps, incident_id: int | None) -> Incident:
    if incident_id is None:
        raise NotFound("error.not_found")
    return await _row(deps, Incident, incident_id)


async def _here_or_key(deps: Deps, body: dict[str, Any], *, optional: bool) -> Incident | None:
    text = body.get("text") or ""
    async with deps.db.session() as db:
        here = await lookup.by_channel(db, body.get("channel_id") or "")
        if here is not None:
            return here
        key = key_in(text)
        if key is None:
            if optional:
                return None
            raise NoIncidentHere(command=deps.command)
        return await lookup.by_key(db, key)


def _message_channel(body: dict[str, Any]) -> str:
    event = body.get("event") or {}
    return str((event.get("item") or {}).get("channel") or (body.get("channel") or {}).get("id") or "")


async def find(deps: Deps, how: Find, body: dict[str, Any]) -> Found:
    """The incident a request is about, by its route; DomainError for a forged or stale payload."""
    if how is Find.NONE:
        return Found(None)
    if how in (Find.HERE_OR_KEY, Find.HERE_OR_KEY_IF_ANY):
        return Found(await _here_or_key(deps, body, optional=how is Find.HERE_OR_KEY_IF_ANY))
    if how is Find.CHANNEL:
        async with deps.db.session() as db:
            return Found(await lookup.by_channel(db, _message_channel(body)))
    if how in (Find.VALUE, Find.SETUP, Find.ACCESS_REQUEST):
        return Found(await _incident(deps, id_in(_value(body))))
    if how is Find.ITEM:
        item = await _row(deps, ChecklistItem, id_in(_value(body)))
        return Found(await _incident(deps, item.incident_id))
    if how is Find.REMINDER:
        reminder = await _row(deps, Reminder, id_in(_value(body)))
        return Found(await _incident(deps, reminder.incident_id))
    if how is Find.ACTION_ITEM:
        action = await _row(deps, ActionItem, id_in(_value(body)))
        return Found(await _incident(deps, action.incident_id), owner=action.owner)
    if how is Find.ACCESS_DECISION:
        request = await _row(deps, AccessRequest, id_in(_value(body)))
        return Found(await _incident(deps, request.incident_id))
    meta = metadata(body.get("view"))
    if meta.get("ref"):
        item = await _row(deps, ChecklistItem, id_in(meta["ref"]))
        return Found(await _incident(deps, item.incident_id))
    return Found(await _incident(deps, id_in(meta.get("incident", meta.get("incident_id")))))


async def allowed(client: AsyncWebClient, deps: Deps, how: Find, found: Found, user: str) -> bool:
    incident = found.incident
    if incident is None or how is Find.ACCESS_REQUEST:
        return True
    if how is Find.ACTION_ITEM and found.owner == user:
        return True  # the owner of a follow-up may close it; they are shown their own ones only
    if how is Find.SETUP and user == incident.declared_by and pending_setup(incident):
        return True
    return await may_see(client, deps, incident, user)


# Routes and the middleware ---------------------------------------------------------------------


def route_of(body: dict[str, Any]) -> tuple[str, str]:
    """(kind, id) of a request: ("command", "/breach"), ("action", id), ("view", callback id), ..."""
    if body.get("command"):
        return "command", str(body["command"])
    kind = body.get("type")
    if kind == "block_actions":
        return "action", str(_action(body).get("action_id") or "")
    if kind in ("view_submission", "view_closed"):
        return "view", str((body.get("view") or {}).get("callback_id") or "")
    if kind == "block_suggestion":
        return "options", str(body.get("action_id") or "")
    if kind in ("shortcut", "message_action"):
        return "shortcut", str(body.get("callback_id") or "")
    if kind == "event_callback":
        return "event", str((body.get("event") or {}).get("type") or "")
    return str(kind or ""), ""


def user_of(body: dict[str, Any]) -> str:
    event = body.get("event") or {}
    return str(body.get("user_id") or (body.get("user") or {}).get("id") or event.get("user") or "")


@dataclass
class Gate:
    """The routes of one Bolt app; commands ask `subcommand_routes` which subcommand needs what."""

    deps: Deps
    routes: dict[tuple[str, str], Find]
    subcommands: Callable[[str], Find]

    def add(self, kind: str, ident: str, how: Find) -> None:
        known = self.routes.get((kind, ident))
        if known is not None and known is not how:
            raise RuntimeError(f"{kind} {ident!r} registered with two ways to find its incident")
        self.routes[(kind, ident)] = how

    def how(self, body: dict[str, Any]) -> Find | None:
        kind, ident = route_of(body)
        how = self.routes.get((kind, ident))
        if how is not None and kind == "command":
            sub = (body.get("text") or "").strip().partition(" ")[0].lower() or "help"
            return self.subcommands(sub)
        return how

    async def middleware(
        self,
        body: dict[str, Any],
        context: Any,
        client: AsyncWebClient,
        ack: Any,
        respond: Any,
        next: Callable[[], Awaitable[None]],
    ) -> BoltResponse | None:
        # Bolt's own request verification ran before this: the error handler acts only past here.
        context[VERIFIED] = True
        how = self.how(body)
        if how is None:
            log.warning("refused a request no listener was registered for: %s %s", *route_of(body))
            return await self._refuse(body, client, ack, respond, None)
        user = user_of(body)
        try:
            found = await find(self.deps, how, body)
            if not await allowed(client, self.deps, how, found, user):
                raise NotFound("error.incident_not_found", key=found.incident.key if found.incident else "")
        except DomainError as exc:
            return await self._refuse(body, client, ack, respond, exc)
        context[INCIDENT] = found.incident
        await next()
        return None

    async def _refuse(
        self, body: dict[str, Any], client: AsyncWebClient, ack: Any, respond: Any, exc: DomainError | None
    ) -> BoltResponse:
        await ack()
        kind, _ = route_of(body)
        # Nobody is told about a refused event, or about a menu's options (a refusal is an empty menu).
        if exc is not None and kind not in ("event", "options", ""):
            if kind != "command" and exc.key == "error.incident_not_found":
                exc = NotFound("error.not_found")  # a button or form names no key to echo
            text = message_for(exc, self.deps.locale)

            async def say() -> None:
                try:
                    if kind == "command" and respond is not None:
                        await answer_privately(respond, client, body, text)
                    else:
                        await tell(client, body, text)
                except Exception:
                    log.exception("could not tell the user about a refusal")

            # After the ack, not before it: telling may fall back to a DM, which Slack rate-limits
            # per channel, and the answer to the request is due within 3 seconds.
            self.deps.tracker.spawn(say())
        return BoltResponse(status=200, body="")


# Registering listeners --------------------------------------------------------------------------


def gate_of(deps: Deps) -> Gate:
    gate = deps.extras.get("gate")
    if gate is None:
        raise RuntimeError("handlers.gate.install(app, deps) must run before listeners are registered")
    return gate


def install(app: Any, deps: Deps, subcommands: Callable[[str], Find]) -> Gate:
    gate = Gate(deps, {}, subcommands)
    deps.extras["gate"] = gate
    app.middleware(gate.middleware)
    return gate


Listener = Callable[..., Awaitable[Any]]


def answered_after_ack(deps: Deps, listener: Listener) -> Listener:
    """`listener`, whose failures after its ack are answered here rather than raised to Bolt.

    Bolt waits for the ack by looking every 10 ms; a listener that raises afterwards has its
    ack taken back by Bolt's runner (it sets the ack's response to None before calling the error
    handler). A refusal raised within those 10 ms (a domain check that fails at once) therefore
    left Bolt waiting out its full 3 seconds and answering late: the rare late ack of the suite.
    Failing before the ack still goes to Bolt's error path (handlers/errors.py), which answers.
    Either way the answer says nothing was changed only when the listener committed nothing."""

    @functools.wraps(listener)
    async def guarded(*args: Any, **kwargs: Any) -> Any:
        with watch_commits() as watch:
            try:
                return await listener(*args, **kwargs)
            except Exception as exc:
                ack, client = kwargs.get("ack"), kwargs.get("client")
                if getattr(ack, "response", None) is None or client is None:
                    if watch.committed:
                        setattr(exc, AFTER_COMMIT, True)
                    raise
                await reply_error(client, kwargs.get("body") or {}, exc, deps.locale)
                return None

    return guarded


def _register(app: Any, deps: Deps, kind: str, ident: str, how: Find) -> Callable[[Listener], Listener]:
    gate_of(deps).add(kind, ident, how)
    bolt = {
        "action": app.action,
        "view": app.view,
        "shortcut": app.shortcut,
        "event": app.event,
        "options": app.options,
    }[kind]

    def register(listener: Listener) -> Listener:
        bolt(ident)(answered_after_ack(deps, listener))
        return listener

    return register


def action(app: Any, deps: Deps, action_id: str, how: Find) -> Callable[[Listener], Listener]:
    return _register(app, deps, "action", str(action_id), how)


def view(app: Any, deps: Deps, callback_id: str, how: Find) -> Callable[[Listener], Listener]:
    return _register(app, deps, "view", str(callback_id), how)


def options(app: Any, deps: Deps, action_id: str, how: Find) -> Callable[[Listener], Listener]:
    """An external select's options, loaded as someone types (Slack's block_suggestion)."""
    return _register(app, deps, "options", str(action_id), how)


def shortcut(app: Any, deps: Deps, callback_id: str, how: Find) -> Callable[[Listener], Listener]:
    return _register(app, deps, "shortcut", str(callback_id), how)


def event(app: Any, deps: Deps, event_type: str, how: Find) -> Callable[[Listener], Listener]:
    return _register(app, deps, "event", event_type, how)


def command(app: Any, deps: Deps, name: str) -> Callable[[Listener], Listener]:
    """The slash command: each subcommand says how its incident is found (handlers/commands.py)."""
    gate_of(deps).add("command", name, Find.HERE_OR_KEY)

    def register(listener: Listener) -> Listener:
        app.command(name)(answered_after_ack(deps, listener))
        return listener

    return register
