"""Slack's Web API, answered from the sandbox workspace.

Every call arrives as ``POST /api/<method>`` (or GET), with form, JSON or query
parameters, exactly as slack_sdk sends them. Answers use Slack's shapes and error
codes; HTTP 200 for errors, 429 with Retry-After for rate limits. Calls Slack would
reject because the caller got something wrong are also kept in
``workspace.violations`` so a test can assert there were none.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox import scopes, spec
from sandbox.blocks import MAX_MESSAGE_TEXT, MAX_UPDATE_TEXT, check_blocks, check_view
from sandbox.faults import retry_after_header
from sandbox.workspace import Call, Channel, OpenView, StoredFile, Violation

if TYPE_CHECKING:
    from sandbox.server import Sandbox

# Errors that are ordinary outcomes a well-behaved bot handles (retry with a suffix,
# treat as done), not mistakes: they are not recorded as violations.
EXPECTED_ERRORS = frozenset(
    {
        "name_taken",
        "already_in_channel",
        "already_pinned",
        "already_archived",
        "already_reacted",
        "users_not_found",
        "hash_conflict",
    }
)
# Errors that are ordinary for one method: Slack is the only one who knows, so asking is the
# bot's way to find out (a person not in the channel gets a DM instead of an ephemeral; a
# public channel the bot is not in is joined; a deleted bot message is posted again).
ORDINARY_FOR_METHOD: dict[str, frozenset[str]] = {
    "chat.postEphemeral": frozenset({"user_not_in_channel", "not_in_channel", "channel_not_found"}),
    "chat.postMessage": frozenset({"not_in_channel"}),
    "chat.update": frozenset({"message_not_found"}),
}
JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")
MISSING_PARAM_ERRORS = {
    "channel": "channel_not_found",
    "channel_id": "channel_not_found",
    "user": "user_not_found",
    "users": "no_user",
    "name": "invalid_name_required",
    "trigger_id": "invalid_trigger_id",
    "ts": "message_not_found",
    "user_id": "user_not_found",
    "usergroup": "no_such_subteam",
    "email": "users_not_found",
    "timestamp": "no_item_specified",
}
CHANNEL_NAME = re.compile(r"[a-z0-9_\-]+")
TRIGGER_TTL = 3.0
RESPONSE_URL_TTL = 30 * 60.0
RESPONSE_URL_USES = 5
MAX_VIEW_STACK = 3

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class SlackError(Exception):
    def __init__(self, code: str, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.messages = messages or []
        self.extra = extra


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(str(cursor)).decode().split(":", 1)[1])
    except (ValueError, IndexError) as exc:
        raise SlackError("invalid_cursor") from exc


def _page(items: list[Any], params: dict[str, Any], default_limit: int = 100) -> tuple[list[Any], str]:
    offset = _decode_cursor(params.get("cursor"))
    try:
        limit = int(params.get("limit") or default_limit)
    except ValueError as exc:
        raise SlackError("invalid_limit") from exc
    limit = max(1, min(limit, 1000))
    chunk = items[offset : offset + limit]
    next_cursor = _encode_cursor(offset + limit) if offset + limit < len(items) else ""
    return chunk, next_cursor


async def read_params(request: web.Request) -> dict[str, Any]:
    """Merge query, form and JSON parameters; decode the JSON-in-a-string fields."""
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            raw = await request.text()
            if raw.strip():
                body = json.loads(raw)
                if isinstance(body, dict):
                    params.update(body)
        else:
            form = await request.post()
            for key, field in form.items():
                params[key] = field if isinstance(field, str) else getattr(field, "filename", "")
    for key in JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise SlackError("invalid_json", [f"[ERROR] could not parse JSON in {key}"]) from exc
    return params


def _public_message(msg: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(msg))


class WebApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.ws = sandbox.workspace
        self._background: set[asyncio.Task[None]] = set()
        self.handlers: dict[str, Handler] = {
            "auth.test": self.auth_test,
            "conversations.create": self.conversations_create,
            "conversations.invite": self.conversations_invite,
            "conversations.kick": self.conversations_kick,
            "conversations.info": self.conversations_info,
            "conversations.list": self.conversations_list,
            "conversations.members": self.conversations_members,
            "conversations.setTopic": self.conversations_set_topic,
            "conversations.setPurpose": self.conversations_set_purpose,
            "conversations.archive": self.conversations_archive,
            "conversations.history": self.conversations_history,
            "conversations.replies": self.conversations_replies,
            "conversations.open": self.conversations_open,
            "conversations.join": self.conversations_join,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.getPermalink": self.chat_get_permalink,
            "pins.add": self.pins_add,
            "pins.remove": self.pins_remove,
            "pins.list": self.pins_list,
            "bookmarks.add": self.bookmarks_add,
            "bookmarks.list": self.bookmarks_list,
            "reactions.add": self.reactions_add,
            "reactions.remove": self.reactions_remove,
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
            "users.info": self.users_info,
            "users.lookupByEmail": self.users_lookup_by_email,
            "users.list": self.users_list,
            "usergroups.list": self.usergroups_list,
            "usergroups.users.list": self.usergroups_users_list,
            "files.getUploadURLExternal": self.files_get_upload_url_external,
            "files.completeUploadExternal": self.files_complete_upload_external,
            "files.info": self.files_info,
            "team.info": self.team_info,
            "apps.connections.open": self.apps_connections_open,
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.route("*", "/api/{method}", self.handle),
            web.post("/upload/{file_id}", self.upload),
            web.get("/files/{file_id}/{rest:.*}", self.download),
            web.post("/response/{rid}", self.respond),
        ]

    # -- the front door --------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        with self.sandbox.activity():
            response = await self._handle(request, method)
        # Slack names the token's scopes on every answer; `breachroom doctor` reads them.
        response.headers["x-oauth-scopes"] = scopes.header(self.sandbox.scopes)
        return response

    async def _handle(self, request: web.Request, method: str) -> web.StreamResponse:
        try:
            params = await read_params(request)
        except (SlackError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            code = exc.code if isinstance(exc, SlackError) else "invalid_json"
            return self._fail(method, {}, SlackError(code))
        token = params.pop("token", None)
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = header[len("Bearer ") :].strip()
        recorded = {k: v for k, v in params.items()}

        fault = self.sandbox.faults.take(method)
        if fault is not None:
            if fault.kind == "timeout":
                await asyncio.sleep(fault.delay)
            elif fault.kind == "ratelimited":
                scaled = fault.retry_after * self.sandbox.rate_limit_scale
                return self._ratelimited(method, recorded, scaled)
            elif fault.kind == "server_error":
                self._record(method, recorded, False, "server_error", fault.status)
                return web.Response(
                    status=fault.status,
                    text="<html><body>Internal Server Error</body></html>",
                    content_type="text/html",
                )
            else:
                error = fault.error_code or "fatal_error"
                self._record(method, recorded, False, error, 200)
                return web.json_response({"ok": False, "error": error})

        known = spec.check(method, params)
        if not known.known_method:
            return self._fail(method, recorded, SlackError("unknown_method"))
        auth_error = self._check_token(method, token)
        if auth_error:
            return self._fail(method, recorded, SlackError(auth_error))
        lacking = scopes.missing(method, self._conversation_kind(method, params), self.sandbox.scopes)
        if lacking is not None:
            refusal = SlackError("missing_scope", needed=lacking, provided=scopes.header(self.sandbox.scopes))
            return self._fail(method, recorded, refusal)
        if self.sandbox.rate_limits_enabled:
            channel = params.get("channel") or params.get("channel_id")
            wait = self.sandbox.rate_limiter.retry_after(method, str(channel) if channel else None)
            if wait is not None:
                return self._ratelimited(method, recorded, wait)
        if known.unknown_params:
            messages = [f"[ERROR] unknown parameter: {name}" for name in known.unknown_params]
            return self._fail(method, recorded, SlackError("invalid_arguments", messages))
        if known.bad_types:
            return self._fail(method, recorded, SlackError("invalid_arguments", known.bad_types))
        if known.missing_required:
            name = known.missing_required[0]
            code = MISSING_PARAM_ERRORS.get(name, "invalid_arguments")
            if method in ("chat.postMessage",) and name == "text":
                code = "no_text"
            return self._fail(method, recorded, SlackError(code, [f"[ERROR] missing required field: {name}"]))
        handler = self.handlers.get(method)
        if handler is None:
            return self._fail(
                method, recorded, SlackError("sandbox_not_implemented", [f"[ERROR] {method} is not emulated"])
            )
        try:
            result = await handler(params)
        except SlackError as exc:
            return self._fail(method, recorded, exc)
        self._record(method, recorded, True, None, 200)
        return web.json_response({"ok": True, **result})

    def _check_token(self, method: str, token: str | None) -> str | None:
        if not token:
            return "not_authed"
        if method == "apps.connections.open":
            if token.startswith("xapp-"):
                return None if token == self.sandbox.app_token else "invalid_auth"
            return "not_allowed_token_type"
        if token.startswith("xapp-"):
            return "not_allowed_token_type"
        return None if token == self.sandbox.bot_token else "invalid_auth"

    def _record(self, method: str, params: dict[str, Any], ok: bool, error: str | None, status: int) -> None:
        self.ws.calls.append(Call(method, params, ok, error, self.ws.clock.now(), status))

    def _fail(self, method: str, params: dict[str, Any], exc: SlackError) -> web.Response:
        self._record(method, params, False, exc.code, 200)
        if exc.code not in EXPECTED_ERRORS and exc.code not in ORDINARY_FOR_METHOD.get(method, frozenset()):
            self.ws.violations.append(Violation(method, params, exc.code, exc.messages, self.ws.clock.now()))
        body: dict[str, Any] = {"ok": False, "error": exc.code, **exc.extra}
        if exc.messages:
            body["response_metadata"] = {"messages": exc.messages}
        return web.json_response(body)

    def _ratelimited(self, method: str, params: dict[str, Any], retry_after: float) -> web.Response:
        self._record(method, params, False, "ratelimited", 429)
        return web.json_response(
            {"ok": False, "error": "ratelimited"},
            status=429,
            headers={"Retry-After": retry_after_header(retry_after)},
        )

    # -- shared checks ---------------------------------------------------------------

    def _conversation_kind(self, method: str, params: dict[str, Any]) -> str | None:
        """The kind of conversation a call acts on, which decides the scope it needs."""
        if method == "conversations.create":
            return "private" if as_bool(params.get("is_private")) else "public"
        if method == "conversations.open" and not params.get("channel"):
            users = [u for u in str(params.get("users") or "").split(",") if u.strip()]
            return "mpim" if len(users) > 1 else "im"
        ref = str(params.get("channel") or params.get("channel_id") or "")
        channel = self.ws.channel(ref) if ref else None
        if channel is None and ref.startswith(("U", "W")) and self.ws.user(ref):
            return "im"
        if channel is None:
            return None
        if channel.is_im:
            return "im"
        return "private" if channel.is_private else "public"

    def _bot_in(self, channel: Channel) -> bool:
        return self.ws.bot_user_id in channel.members

    def _visible_channel(self, ref: Any) -> Channel:
        """A channel the bot can see: public ones, private ones it is in, its DMs."""
        channel = self.ws.channel(str(ref or ""))
        if channel is None and str(ref or "").startswith(("U", "W")) and self.ws.user(str(ref)):
            channel = self.ws.dm(str(ref))
        if channel is None or (channel.is_private and not self._bot_in(channel)):
            raise SlackError("channel_not_found")
        return channel

    def _writable_channel(self, ref: Any) -> Channel:
        channel = self._visible_channel(ref)
        if channel.archived:
            raise SlackError("is_archived")
        if not self._bot_in(channel):
            raise SlackError("not_in_channel")
        return channel

    def _channel_json(self, channel: Channel, include_num_members: bool = False) -> dict[str, Any]:
        data = channel.to_slack(include_num_members)
        if not channel.is_im:
            data["is_member"] = self._bot_in(channel)
        return data

    def _check_message_content(self, params: dict[str, Any], max_text: int) -> None:
        text = params.get("text") or ""
        blocks = params.get("blocks")
        attachments = params.get("attachments")
        if not text and not blocks and not attachments and not params.get("markdown_text"):
            raise SlackError("no_text")
        if len(str(text)) > max_text:
            raise SlackError("msg_too_long", [f"[ERROR] text must be less than {max_text + 1} characters"])
        if blocks not in (None, ""):
            problems = check_blocks(blocks)
            if problems:
                raise SlackError("invalid_blocks", problems)
        if isinstance(attachments, list):
            for i, attachment in enumerate(attachments):
                if isinstance(attachment, dict) and attachment.get("blocks"):
                    problems = check_blocks(attachment["blocks"], pointer=f"/attachments/{i}/blocks")
                    if problems:
                        raise SlackError("invalid_attachments", problems)

    def _message(self, channel: Channel, ts: Any) -> dict[str, Any]:
        msg = channel.message(str(ts or ""))
        if msg is None:
            raise SlackError("message_not_found")
        return msg

    # -- auth, team, users ----------------------------------------------------------

    async def auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"https://{self.ws.team_domain}.slack.com/",
            "team": self.ws.team_name,
            "user": self.ws.users[self.ws.bot_user_id].name,
            "team_id": self.ws.team_id,
            "user_id": self.ws.bot_user_id,
            "bot_id": self.ws.bot_id,
            "app_id": self.ws.app_id,
            "is_enterprise_install": False,
        }

    async def team_info(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"team": {"id": self.ws.team_id, "name": self.ws.team_name, "domain": self.ws.team_domain}}

    async def users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        user = self.ws.users.get(str(p["user"]))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user.to_slack(self.ws.team_id, as_bool(p.get("include_locale", True)))}

    async def users_lookup_by_email(self, p: dict[str, Any]) -> dict[str, Any]:
        email = str(p["email"]).lower()
        for user in self.ws.users.values():
            if user.email.lower() == email and email:
                return {"user": user.to_slack(self.ws.team_id)}
        raise SlackError("users_not_found")

    async def users_list(self, p: dict[str, Any]) -> dict[str, Any]:
        everyone = [
            u.to_slack(self.ws.team_id, as_bool(p.get("include_locale"))) for u in self.ws.users.values()
        ]
        members, cursor = _page(everyone, p, default_limit=1000)
        return {
            "members": members,
            "cache_ts": int(self.ws.clock.now()),
            "response_metadata": {"next_cursor": cursor},
        }

    async def usergroups_list(self, p: dict[str, Any]) -> dict[str, Any]:
        include_users = as_bool(p.get("include_users"))
        return {
            "usergroups": [g.to_slack(self.ws.team_id, include_users) for g in self.ws.usergroups.values()]
        }

    async def usergroups_users_list(self, p: dict[str, Any]) -> dict[str, Any]:
        group = self.ws.usergroups.get(str(p["usergroup"]))
        if group is None:
            raise SlackError("no_such_subteam")
        return {"users": list(group.users)}

    # -- membership changes made in Slack's own UI, with the events Slack sends for them -------

    async def remove_from_channel(self, channel_id: str, user_id: str) -> None:
        """Someone leaves, or an admin removes them from, a channel: the bot hears
        member_left_channel (channel_left when it is the bot itself)."""
        channel = self.ws.require_channel(channel_id)
        if user_id in channel.members:
            channel.members.remove(user_id)
        await self._member_left(channel, user_id)

    async def set_group_members(self, usergroup: str, users: list[str]) -> None:
        """An admin edits a user group: the bot hears subteam_members_changed."""
        group = self.ws.usergroups[usergroup]
        before, group.users = list(group.users), list(users)
        now = int(self.ws.clock.now())
        added = [u for u in users if u not in before]
        removed = [u for u in before if u not in users]
        await self._event(
            {
                "type": "subteam_members_changed",
                "subteam_id": group.id,
                "team_id": self.ws.team_id,
                "date_previous_update": now,
                "date_update": now,
                "added_users": added,
                "added_users_count": str(len(added)),
                "removed_users": removed,
                "removed_users_count": str(len(removed)),
                "event_ts": f"{self.ws.clock.now():.6f}",
            }
        )

    async def _member_left(self, channel: Channel, user_id: str) -> None:
        stamp = f"{self.ws.clock.now():.6f}"
        if user_id == self.ws.bot_user_id:
            await self._event({"type": "channel_left", "channel": channel.id, "event_ts": stamp})
            return
        kind = "G" if channel.is_private else "C"
        event = {"type": "member_left_channel", "user": user_id, "channel": channel.id, "event_ts": stamp}
        await self._event({**event, "channel_type": kind, "team": self.ws.team_id})

    async def _event(self, event: dict[str, Any]) -> None:
        if not self.sandbox.bot_url and self.sandbox.transport != "socket":
            return  # no bot listening (the sandbox's own tests)
        # The envelope is the workspace's, whoever's Person builds it.
        envelope = self.sandbox.person(self.ws.bot_user_id).event_envelope(event)
        await self.sandbox.deliver("event", envelope)

    def _in_background(self, work: Awaitable[None]) -> None:
        """Send an event after answering the call that caused it, as Slack does."""

        async def run() -> None:
            with self.sandbox.activity():
                await work

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- conversations --------------------------------------------------------------

    async def conversations_create(self, p: dict[str, Any]) -> dict[str, Any]:
        name = str(p.get("name") or "")
        if not name:
            raise SlackError("invalid_name_required")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not CHANNEL_NAME.fullmatch(name):
            raise SlackError("invalid_name_specials")
        if not name.strip("-_"):
            raise SlackError("invalid_name_punctuation")
        if any(c.name == name for c in self.ws.channels.values() if not c.is_im):
            raise SlackError("name_taken")
        channel = Channel(
            id=self.ws.new_id("C"),
            name=name,
            is_private=as_bool(p.get("is_private")),
            members=[self.ws.bot_user_id],
            created=int(self.ws.clock.now()),
            creator=self.ws.bot_user_id,
        )
        self.ws.channels[channel.id] = channel
        return {"channel": self._channel_json(channel)}

    async def conversations_invite(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(p["channel"])
        if channel.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        if channel.archived:
            raise SlackError("is_archived")
        if not self._bot_in(channel):
            raise SlackError("not_in_channel")
        raw = p["users"]
        ids = [u.strip() for u in (raw if isinstance(raw, list) else str(raw).split(",")) if u.strip()]
        if not ids:
            raise SlackError("no_user")
        if len(ids) > 1000:
            raise SlackError("too_many_users")
        errors: list[dict[str, Any]] = []
        for user_id in ids:
            user = self.ws.users.get(user_id)
            if user is None:
                errors.append({"user": user_id, "ok": False, "error": "user_not_found"})
            elif user.deleted:
                errors.append({"user": user_id, "ok": False, "error": "user_is_deactivated"})
            elif user_id == self.ws.bot_user_id:
                errors.append({"user": user_id, "ok": False, "error": "cant_invite_self"})
            elif user_id in channel.members:
                errors.append({"user": user_id, "ok": False, "error": "already_in_channel"})
        if errors and not as_bool(p.get("force")):
            if len(ids) > 1:
                raise SlackError(errors[0]["error"], errors=errors)
            raise SlackError(errors[0]["error"])
        bad = {e["user"] for e in errors}
        for user_id in ids:
            if user_id not in bad and user_id not in channel.members:
                channel.members.append(user_id)
        result: dict[str, Any] = {"channel": self._channel_json(channel)}
        if errors:
            result["errors"] = errors
        return result

    async def conversations_kick(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._writable_channel(p["channel"])
        user = str(p.get("user") or "")
        if user == self.ws.bot_user_id:
            raise SlackError("cant_kick_self")
        if user not in channel.members:
            raise SlackError("not_in_channel")
        channel.members.remove(user)
        self._in_background(self._member_left(channel, user))
        return {}

    async def conversations_info(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(p["channel"])
        return {"channel": self._channel_json(channel, as_bool(p.get("include_num_members")))}

    async def conversations_list(self, p: dict[str, Any]) -> dict[str, Any]:
        types = str(p.get("types") or "public_channel").split(",")
        exclude_archived = as_bool(p.get("exclude_archived"))
        found = []
        for channel in self.ws.channels.values():
            kind = "im" if channel.is_im else "private_channel" if channel.is_private else "public_channel"
            if kind not in types or (exclude_archived and channel.archived):
                continue
            if channel.is_private and not self._bot_in(channel):
                continue
            found.append(self._channel_json(channel))
        chunk, cursor = _page(found, p)
        return {"channels": chunk, "response_metadata": {"next_cursor": cursor}}

    async def conversations_members(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(p["channel"])
        members, cursor = _page(list(channel.members), p)
        return {"members": members, "response_metadata": {"next_cursor": cursor}}

    async def _set_text_field(self, p: dict[str, Any], key: str, limit: int) -> dict[str, Any]:
        channel = self._writable_channel(p["channel"])
        value = str(p.get(key) or "")
        if len(value) > limit:
            raise SlackError("too_long")
        setattr(channel, key, value)
        subtype = f"channel_{key}"
        msg = self.ws.user_message(channel, self.ws.bot_user_id, f"set the channel {key}: {value}")
        msg["subtype"] = subtype
        msg[key] = value
        return {"channel": self._channel_json(channel)}

    async def conversations_set_topic(self, p: dict[str, Any]) -> dict[str, Any]:
        return await self._set_text_field(p, "topic", 250)

    async def conversations_set_purpose(self, p: dict[str, Any]) -> dict[str, Any]:
        return await self._set_text_field(p, "purpose", 250)

    async def conversations_archive(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(p["channel"])
        if channel.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        if channel.archived:
            raise SlackError("already_archived")
        if channel.id == "C0GENERAL1":
            raise SlackError("cant_archive_general")
        if not self._bot_in(channel):
            raise SlackError("not_in_channel")
        channel.archived = True
        return {}

    async def conversations_history(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(p["channel"])
        if not self._bot_in(channel):
            raise SlackError("not_in_channel")
        latest = float(p.get("latest") or "inf")
        oldest = float(p.get("oldest") or 0)
        inclusive = as_bool(p.get("inclusive"))
        picked = []
        for msg in reversed(channel.messages):
            ts = float(msg["ts"])
            if msg.get("thread_ts") not in (None, msg["ts"]) and msg.get("subtype") != "thread_broadcast":
                continue
            inside = oldest <= ts <= latest if inclusive else oldest < ts < latest
            if inside or (not p.get("oldest") and not p.get("latest")):
                picked.append(_public_message(msg))
        chunk, cursor = _page(picked, p)
        return {
            "messages": chunk,
            "has_more": bool(cursor),
            "pin_count": len(channel.pins),
            "response_metadata": {"next_cursor": cursor},
        }

    async def conversations_replies(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(p["channel"])
        if not self._bot_in(channel):
            raise SlackError("not_in_channel")
        parent = self._message(channel, p.get("ts"))
        thread = [m for m in channel.messages if m is parent or m.get("thread_ts") == parent["ts"]]
        chunk, cursor = _page([_public_message(m) for m in thread], p)
        return {"messages": chunk, "has_more": bool(cursor), "response_metadata": {"next_cursor": cursor}}

    async def conversations_open(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("channel"):
            channel = self._visible_channel(p["channel"])
        else:
            users = [u.strip() for u in str(p.get("users") or "").split(",") if u.strip()]
            if not users:
                raise SlackError("users_list_not_supplied")
            if len(users) > 1:
                raise SlackError("sandbox_not_implemented", ["[ERROR] group DMs are not emulated"])
            if users[0] not in self.ws.users:
                raise SlackError("user_not_found")
            channel = self.ws.dm(users[0])
        if as_bool(p.get("return_im")):
            return {"channel": self._channel_json(channel)}
        return {"channel": {"id": channel.id}}

    async def conversations_join(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(p["channel"])
        if channel.is_private or channel.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        if channel.archived:
            raise SlackError("is_archived")
        result: dict[str, Any] = {}
        if self._bot_in(channel):
            result["warning"] = "already_in_channel"
            result["response_metadata"] = {"warnings": ["already_in_channel"]}
        else:
            channel.members.append(self.ws.bot_user_id)
        result["channel"] = self._channel_json(channel)
        return result

    # -- chat -----------------------------------------------------------------------

    async def chat_post_message(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(p["channel"])
        if channel.is_im or channel.is_private or "chat:write.public" not in self.sandbox.scopes:
            channel = self._writable_channel(p["channel"])
        elif channel.archived:
            raise SlackError("is_archived")
        self._check_message_content(p, MAX_MESSAGE_TEXT)
        thread_ts = p.get("thread_ts") or None
        parent = channel.message(str(thread_ts)) if thread_ts else None
        fields = dict(p)
        if p.get("markdown_text") and not p.get("text"):
            fields["text"] = p["markdown_text"]
        msg = self.ws.bot_message(channel, fields)
        if parent is not None:
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
            parent["latest_reply"] = msg["ts"]
            users = parent.setdefault("reply_users", [])
            if self.ws.bot_user_id not in users:
                users.append(self.ws.bot_user_id)
            if as_bool(p.get("reply_broadcast")):
                msg["subtype"] = "thread_broadcast"
        return {"channel": channel.id, "ts": msg["ts"], "message": _public_message(msg)}

    async def chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(p["channel"])
        msg = self._message(channel, p["ts"])
        if msg.get("bot_id") != self.ws.bot_id:
            raise SlackError("cant_update_message")
        if channel.archived:
            raise SlackError("is_archived")
        if "text" not in p and msg.get("text"):
            p = {**p, "text": msg["text"]}
        self._check_message_content({**p, "blocks": p.get("blocks", msg.get("blocks"))}, MAX_UPDATE_TEXT)
        if "text" in p:
            msg["text"] = str(p["text"] or "")
        for key in ("blocks", "attachments", "metadata"):
            if key in p and p[key] is not None:
                if p[key] in ([], ""):
                    msg.pop(key, None)
                else:
                    msg[key] = p[key]
        msg["edited"] = {"user": self.ws.bot_user_id, "ts": self.ws.next_ts()}
        return {"channel": channel.id, "ts": msg["ts"], "text": msg["text"], "message": _public_message(msg)}

    async def chat_delete(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(p.get("channel"))
        msg = self._message(channel, p.get("ts"))
        if msg.get("bot_id") != self.ws.bot_id:
            raise SlackError("cant_delete_message")
        channel.messages.remove(msg)
        return {"channel": channel.id, "ts": msg["ts"]}

    async def chat_post_ephemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._writable_channel(p["channel"])
        user = str(p["user"])
        if user not in self.ws.users:
            raise SlackError("user_not_found")
        if user not in channel.members:
            raise SlackError("user_not_in_channel")
        self._check_message_content(p, MAX_MESSAGE_TEXT)
        ts = self.ws.next_ts()
        self.sandbox.add_ephemeral(channel.id, user, p, ts, "chat.postEphemeral")
        return {"message_ts": ts}

    async def chat_get_permalink(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(p["channel"])
        msg = self._message(channel, p["message_ts"])
        link = f"https://{self.ws.team_domain}.slack.com/archives/{channel.id}/p{msg['ts'].replace('.', '')}"
        return {"channel": channel.id, "permalink": link}

    # -- pins, bookmarks, reactions ---------------------------------------------------

    async def pins_add(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._writable_channel(p["channel"])
        if not p.get("timestamp"):
            raise SlackError("no_item_specified")
        msg = self._message(channel, p["timestamp"])
        if msg["ts"] in channel.pins:
            raise SlackError("already_pinned")
        channel.pins.append(msg["ts"])
        msg["pinned_to"] = [channel.id]
        return {}

    async def pins_remove(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._writable_channel(p["channel"])
        msg = self._message(channel, p.get("timestamp"))
        if msg["ts"] not in channel.pins:
            raise SlackError("no_pin")
        channel.pins.remove(msg["ts"])
        msg.pop("pinned_to", None)
        return {}

    async def pins_list(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(p["channel"])
        items = []
        for ts in channel.pins:
            msg = channel.message(ts)
            if msg is not None:
                items.append(
                    {
                        "type": "message",
                        "channel": channel.id,
                        "created_by": self.ws.bot_user_id,
                        "created": int(float(ts)),
                        "message": _public_message(msg),
                    }
                )
        return {"items": items}

    async def bookmarks_add(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._writable_channel(p["channel_id"])
        if p.get("type") != "link":
            raise SlackError("invalid_bookmark_type")
        link = str(p.get("link") or "")
        if not re.match(r"https?://", link):
            raise SlackError("invalid_link")
        now = int(self.ws.clock.now())
        bookmark = {
            "id": self.ws.new_id("Bk"),
            "channel_id": channel.id,
            "title": str(p["title"]),
            "link": link,
            "emoji": p.get("emoji"),
            "icon_url": None,
            "type": "link",
            "entity_id": p.get("entity_id"),
            "date_created": now,
            "date_updated": 0,
            "rank": "U",
            "last_updated_by_user_id": self.ws.bot_user_id,
            "last_updated_by_team_id": self.ws.team_id,
            "shortcut_id": None,
            "app_id": self.ws.app_id,
        }
        channel.bookmarks.append(bookmark)
        return {"bookmark": bookmark}

    async def bookmarks_list(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(p["channel_id"])
        return {"bookmarks": list(channel.bookmarks)}

    async def reactions_add(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._writable_channel(p["channel"])
        msg = self._message(channel, p["timestamp"])
        name = str(p["name"])
        if not name or ":" in name or " " in name:
            raise SlackError("invalid_name")
        if not self.ws.add_reaction(msg, name, self.ws.bot_user_id):
            raise SlackError("already_reacted")
        return {}

    async def reactions_remove(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self._writable_channel(p.get("channel"))
        msg = self._message(channel, p.get("timestamp"))
        if not self.ws.remove_reaction(msg, str(p["name"]), self.ws.bot_user_id):
            raise SlackError("no_reaction")
        return {}

    # -- views ----------------------------------------------------------------------

    def _use_trigger(self, trigger_id: str) -> str:
        trigger = self.ws.triggers.get(trigger_id)
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if self.ws.clock.now() - trigger.issued_at > TRIGGER_TTL:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger.user

    def _checked_view(self, view: Any, kind: str) -> dict[str, Any]:
        problems = check_view(view)
        if problems:
            raise SlackError("invalid_arguments", problems)
        assert isinstance(view, dict)
        if view.get("type") != kind:
            raise SlackError("invalid_arguments", [f"[ERROR] must be {kind} [json-pointer:/view/type]"])
        external_id = view.get("external_id")
        if external_id:
            for other in self.ws.views.values():
                if other.external_id == external_id and not other.closed:
                    raise SlackError("duplicate_external_id")
        return view

    def _view_json(
        self,
        view_id: str,
        user: str,
        view: dict[str, Any],
        root: str,
        previous: str | None,
        state: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], str]:
        view_hash = f"{self.ws.clock.now():.6f}.{secrets.token_hex(4)}"
        data: dict[str, Any] = {
            "id": view_id,
            "team_id": self.ws.team_id,
            "type": view.get("type"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": state if state is not None else {"values": {}},
            "hash": view_hash,
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": previous,
            "root_view_id": root,
            "app_id": self.ws.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.ws.team_id,
            "bot_id": self.ws.bot_id,
        }
        return data, view_hash

    def open_modal(self, user: str, view: dict[str, Any], push: bool) -> OpenView:
        stack = self.ws.modal_stacks.setdefault(user, [])
        if push and len(stack) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        if not push:
            self.ws.close_modals(user)
            stack = self.ws.modal_stacks.setdefault(user, [])
        view_id = self.ws.new_id("V")
        root = self.ws.views[stack[0]].root_view_id if stack else view_id
        previous = stack[-1] if stack else None
        data, view_hash = self._view_json(view_id, user, view, root, previous)
        opened = OpenView(view_id, user, data, view_hash, root, previous)
        self.ws.views[view_id] = opened
        stack.append(view_id)
        return opened

    def replace_view(self, current: OpenView, view: dict[str, Any]) -> OpenView:
        data, view_hash = self._view_json(
            current.id,
            current.user,
            view,
            current.root_view_id,
            current.previous_view_id,
            state=current.data.get("state"),
        )
        current.data, current.hash = data, view_hash
        return current

    async def views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        view = self._checked_view(p["view"], "modal")
        user = self._use_trigger(str(p["trigger_id"]))
        return {"view": self.open_modal(user, view, push=False).data}

    async def views_push(self, p: dict[str, Any]) -> dict[str, Any]:
        view = self._checked_view(p["view"], "modal")
        user = self._use_trigger(str(p["trigger_id"]))
        return {"view": self.open_modal(user, view, push=True).data}

    async def views_update(self, p: dict[str, Any]) -> dict[str, Any]:
        current: OpenView | None = None
        if p.get("view_id"):
            current = self.ws.views.get(str(p["view_id"]))
        elif p.get("external_id"):
            current = next((v for v in self.ws.views.values() if v.external_id == p["external_id"]), None)
        else:
            raise SlackError("invalid_arguments", ["[ERROR] either view_id or external_id is required"])
        if current is None or current.closed:
            raise SlackError("not_found")
        if p.get("hash") and p["hash"] != current.hash:
            raise SlackError("hash_conflict")
        view = p["view"]
        if isinstance(view, dict) and view.get("external_id") == current.external_id:
            view = {k: v for k, v in view.items() if k != "external_id"}
            problems = check_view(view)
            view["external_id"] = current.external_id
            if problems:
                raise SlackError("invalid_arguments", problems)
        else:
            view = self._checked_view(view, current.type)
        if view.get("type") != current.type:
            raise SlackError(
                "invalid_arguments", ["[ERROR] view type cannot change [json-pointer:/view/type]"]
            )
        return {"view": self.replace_view(current, view).data}

    async def views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        user = str(p["user_id"])
        if user not in self.ws.users:
            raise SlackError("user_not_found")
        view = p["view"]
        problems = check_view(view)
        if problems:
            raise SlackError("invalid_arguments", problems)
        if view.get("type") != "home":
            raise SlackError("invalid_arguments", ["[ERROR] must be home [json-pointer:/view/type]"])
        existing_id = self.ws.home_views.get(user)
        if existing_id:
            existing = self.ws.views[existing_id]
            if p.get("hash") and p["hash"] != existing.hash:
                raise SlackError("hash_conflict")
            return {"view": self.replace_view(existing, view).data}
        view_id = self.ws.new_id("V")
        data, view_hash = self._view_json(view_id, user, view, view_id, None)
        self.ws.views[view_id] = OpenView(view_id, user, data, view_hash, view_id)
        self.ws.home_views[user] = view_id
        return {"view": data}

    # -- files ----------------------------------------------------------------------

    async def files_get_upload_url_external(self, p: dict[str, Any]) -> dict[str, Any]:
        try:
            length = int(p["length"])
        except (TypeError, ValueError) as exc:
            raise SlackError("invalid_arguments", ["[ERROR] length must be an integer"]) from exc
        if length <= 0:
            raise SlackError("invalid_arguments", ["[ERROR] length must be positive"])
        stored = StoredFile(
            id=self.ws.new_id("F"),
            name=str(p["filename"]),
            length=length,
            user=self.ws.bot_user_id,
            created=int(self.ws.clock.now()),
            alt_txt=p.get("alt_txt"),
        )
        self.ws.files[stored.id] = stored
        return {"upload_url": f"{self.sandbox.url}/upload/{stored.id}", "file_id": stored.id}

    async def files_complete_upload_external(self, p: dict[str, Any]) -> dict[str, Any]:
        entries = p["files"]
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments", ["[ERROR] files must be a non-empty array"])
        stored: list[StoredFile] = []
        for entry in entries:
            if not isinstance(entry, dict) or "id" not in entry:
                raise SlackError("invalid_arguments", ["[ERROR] each file needs an id"])
            found = self.ws.files.get(str(entry["id"]))
            if found is None or found.content is None:
                raise SlackError("file_not_found")
            found.title = str(entry.get("title") or found.name)
            stored.append(found)
        targets: list[Channel] = []
        if p.get("channel_id"):
            targets.append(self._writable_channel(p["channel_id"]))
        for ref in str(p.get("channels") or "").split(","):
            if ref.strip():
                targets.append(self._writable_channel(ref.strip()))
        comment = str(p.get("initial_comment") or "")
        for channel in targets:
            for found in stored:
                if channel.id not in found.channels:
                    found.channels.append(channel.id)
            self.ws.bot_message(
                channel,
                {
                    "text": comment,
                    "thread_ts": p.get("thread_ts"),
                    "files": [f.to_slack(self.sandbox.url) for f in stored],
                },
            )["upload"] = True
        return {"files": [f.to_slack(self.sandbox.url) for f in stored]}

    async def files_info(self, p: dict[str, Any]) -> dict[str, Any]:
        found = self.ws.files.get(str(p.get("file") or ""))
        if found is None:
            raise SlackError("file_not_found")
        return {
            "file": found.to_slack(self.sandbox.url),
            "content": (found.content or b"").decode("utf-8", "replace"),
        }

    async def upload(self, request: web.Request) -> web.Response:
        with self.sandbox.activity():
            found = self.ws.files.get(request.match_info["file_id"])
            if found is None:
                return web.Response(status=404, text="file not found")
            if request.content_type == "multipart/form-data":
                reader = await request.multipart()
                part = await reader.next()
                data = await part.read() if part is not None and hasattr(part, "read") else b""
            else:
                data = await request.read()
            found.content = bytes(data)
            return web.Response(status=200, text=f"OK - {len(data)}")

    async def download(self, request: web.Request) -> web.Response:
        found = self.ws.files.get(request.match_info["file_id"])
        if found is None or found.content is None:
            return web.Response(status=404, text="file not found")
        return web.Response(body=found.content, content_type="application/octet-stream")

    # -- socket mode ------------------------------------------------------------------

    async def apps_connections_open(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.sandbox.socket_url()}

    # -- response_url ------------------------------------------------------------------

    async def respond(self, request: web.Request) -> web.Response:
        with self.sandbox.activity():
            entry = self.ws.response_urls.get(request.match_info["rid"])
            if entry is None:
                return web.json_response({"ok": False, "error": "invalid_url"}, status=404)
            if self.ws.clock.now() - entry.issued_at > RESPONSE_URL_TTL:
                return web.json_response({"ok": False, "error": "expired_url"}, status=404)
            if entry.uses >= RESPONSE_URL_USES:
                return web.json_response({"ok": False, "error": "used_url"}, status=404)
            entry.uses += 1
            try:
                body = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                return self._respond_fail(entry.id, {}, SlackError("invalid_json"))
            if not isinstance(body, dict):
                return self._respond_fail(entry.id, {}, SlackError("invalid_json"))
            try:
                self._apply_response(entry, body)
            except SlackError as exc:
                return self._respond_fail(entry.id, body, exc)
            self._record("response_url", body, True, None, 200)
            return web.json_response({"ok": True})

    def _respond_fail(self, rid: str, body: dict[str, Any], exc: SlackError) -> web.Response:
        response = self._fail("response_url", body, exc)
        response.set_status(400 if exc.code == "invalid_json" else 200)
        return response

    def _apply_response(self, entry: Any, body: dict[str, Any]) -> None:
        channel = self.ws.channel(entry.channel) or self.ws.dm(entry.user)
        if as_bool(body.get("delete_original")):
            if entry.is_ephemeral:
                self.ws.ephemerals = [
                    e for e in self.ws.ephemerals if not (e.user == entry.user and e.ts == entry.message_ts)
                ]
            elif entry.message_ts and (posted := channel.message(entry.message_ts)) is not None:
                channel.messages.remove(posted)
            return
        self._check_message_content(body, MAX_MESSAGE_TEXT)
        if as_bool(body.get("replace_original")) and entry.message_ts:
            if entry.is_ephemeral:
                for eph in self.ws.ephemerals:
                    if eph.user == entry.user and eph.ts == entry.message_ts:
                        eph.text = str(body.get("text") or "")
                        eph.blocks = list(body.get("blocks") or [])
                return
            msg = channel.message(entry.message_ts)
            if msg is None:
                raise SlackError("message_not_found")
            msg["text"] = str(body.get("text") or "")
            if "blocks" in body:
                msg["blocks"] = body["blocks"]
            msg["edited"] = {"user": self.ws.bot_user_id, "ts": self.ws.next_ts()}
            return
        if body.get("response_type") == "in_channel":
            self.ws.bot_message(channel, body)
            return
        self.sandbox.add_ephemeral(channel.id, entry.user, body, self.ws.next_ts(), "response_url")
