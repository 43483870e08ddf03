"""The sandbox workspace in a browser: the page at `/` and the small JSON API it talks to.

The page only reads what a person could see (`/ui/api/state`) and acts through the
sandbox driver (`sandbox.driver.Person`), so every click, pick, submission, reaction and
slash command reaches the bot as the signed request Slack would send. `/ui/api/events`
is a server-sent event stream that says "something changed" whenever the workspace does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.observe import MessageView
from sandbox.workspace import Channel, OpenView, User

if TYPE_CHECKING:
    from sandbox.driver import Person
    from sandbox.server import Delivery, Sandbox

STATIC = Path(__file__).resolve().parent / "static"
KEEPALIVE_SECONDS = 15.0
COALESCE_SECONDS = 0.05


class BadRequest(Exception):
    """A UI request the page should not have sent; answered 400 with `error`."""

    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


# As strict as the post-mortem page's (bot/links.py), plus what this page needs: its own
# scripts, stylesheet and event stream. No inline script or style, no other origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def _cross_site(request: web.Request) -> web.Response | None:
    """Refuse an action another site's page could have sent.

    A cross-site form or `fetch` may send `text/plain` without a CORS preflight, so only
    `application/json` is accepted (which a foreign page cannot send without asking first),
    and an `Origin`, when the browser names one, must be this page's own.
    """
    if request.content_type != "application/json":
        return web.json_response({"ok": False, "error": "content_type_must_be_json"}, status=415)
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return web.json_response({"ok": False, "error": "cross_origin_refused"}, status=403)
    return None


@web.middleware
async def _guard(request: web.Request, handler: Any) -> web.StreamResponse:
    is_ui = request.path == "/" or request.path.startswith("/ui/")
    if is_ui and request.method == "POST":
        refused = _cross_site(request)
        if refused is not None:
            return refused
    response: web.StreamResponse = await handler(request)
    if is_ui and not response.prepared:
        response.headers.update(PAGE_HEADERS)
    return response


def install(app: web.Application, sandbox: Sandbox) -> None:
    """Serve the browser UI from the sandbox server: `/`, `/ui/static/*` and `/ui/api/*`."""
    ui = UiApi(sandbox)
    app.middlewares.append(_guard)
    app.router.add_get("/", ui.index)
    app.router.add_static("/ui/static/", STATIC, append_version=False)
    app.router.add_get("/ui/api/state", ui.state)
    app.router.add_get("/ui/api/events", ui.events)
    for name, handler in (
        ("command", ui.command),
        ("say", ui.say),
        ("click", ui.click),
        ("select", ui.select),
        ("submit", ui.submit),
        ("close", ui.close),
        ("react", ui.react),
        ("home", ui.home),
    ):
        app.router.add_post(f"/ui/api/{name}", handler)
    app.on_shutdown.append(ui.shutdown)


class UiApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.ws = sandbox.workspace
        # Field errors the bot returned for a view (view id -> block id -> message).
        self.view_errors: dict[str, dict[str, str]] = {}
        self._closing = asyncio.Event()
        self._streams: set[asyncio.Event] = set()

    # -- pages --------------------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    # -- what a person sees -------------------------------------------------------------------------

    def _person(self, ref: Any) -> Person:
        user = self.ws.user(str(ref or ""))
        if user is None or user.is_bot:
            raise BadRequest("unknown_person")
        return self.sandbox.person(user.id)

    def _sees(self, user: User, channel: Channel) -> bool:
        if channel.is_im:
            return user.id in channel.members
        return not channel.is_private or user.id in channel.members

    def _channel_for(self, user: User, ref: Any) -> Channel:
        channel = self.ws.channel(str(ref or ""))
        if channel is None or not self._sees(user, channel):
            # Exactly what an outsider learns about a private channel: nothing.
            raise BadRequest("channel_not_found", 404)
        return channel

    def _user_json(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "name": user.name,
            "real_name": user.real_name,
            "department": user.department,
            "tz": user.tz,
            "locale": user.locale,
            "is_bot": user.is_bot,
        }

    def _channel_summary(self, user: User, channel: Channel) -> dict[str, Any]:
        top = [m for m in channel.messages if not m.get("thread_ts") or m.get("thread_ts") == m["ts"]]
        latest = max(
            [float(m["ts"]) for m in top]
            + [float(e.ts) for e in self.ws.ephemerals if e.user == user.id and e.channel == channel.id],
            default=0.0,
        )
        return {
            "id": channel.id,
            "name": channel.name,
            "is_private": channel.is_private,
            "is_im": channel.is_im,
            "is_member": user.id in channel.members,
            "archived": channel.archived,
            "topic": channel.topic,
            "purpose": channel.purpose,
            "latest": f"{latest:.6f}",
        }

    def _message_json(self, msg: dict[str, Any], channel: Channel, ephemeral: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ts": msg["ts"],
            "user": msg.get("user"),
            "bot": bool(msg.get("bot_id")),
            "text": msg.get("text") or "",
            "blocks": msg.get("blocks") or [],
            "attachments": msg.get("attachments") or [],
            "reactions": msg.get("reactions") or [],
            "edited": "edited" in msg,
            "pinned": msg["ts"] in channel.pins,
            "thread_ts": msg.get("thread_ts"),
            "reply_count": msg.get("reply_count", 0),
            "subtype": msg.get("subtype"),
            "ephemeral": ephemeral,
            "files": [
                {
                    "id": f.get("id"),
                    "name": f.get("name"),
                    "title": f.get("title") or f.get("name"),
                    "size": f.get("size"),
                    "url": f"/files/{f.get('id')}/{f.get('name')}",
                }
                for f in msg.get("files") or []
            ],
        }
        return out

    def _view_json(self, view: OpenView | None) -> dict[str, Any] | None:
        if view is None:
            return None
        return {**view.data, "errors": self.view_errors.get(view.id, {})}

    async def state(self, request: web.Request) -> web.StreamResponse:
        """Everything the page draws for one person: `?as=<user>&channel=<id>|home`."""
        query = request.query
        return await self._json(lambda: self._state(query.get("as"), query.get("channel")), mutates=False)

    def _state(self, who: Any, channel_ref: str | None) -> dict[str, Any]:
        person = self._person(who)
        user = person.user
        self.ws.dm(user.id)  # the app's Messages tab exists for everyone
        visible = [c for c in self.ws.channels.values() if self._sees(user, c)]
        visible.sort(key=lambda c: (c.is_im, c.is_private, c.name))
        current: dict[str, Any] | None = None
        if channel_ref and channel_ref != "home":
            channel = self._channel_for(user, channel_ref)
            messages = [self._message_json(m, channel) for m in channel.messages]
            messages += [
                self._message_json(
                    e.as_message()
                    | {"thread_ts": e.thread_ts, "user": self.ws.bot_user_id, "bot_id": self.ws.bot_id},
                    channel,
                    ephemeral=True,
                )
                for e in self.ws.ephemerals
                if e.user == user.id and e.channel == channel.id
            ]
            messages.sort(key=lambda m: float(m["ts"]))
            current = {
                **self._channel_summary(user, channel),
                "members": list(channel.members),
                "pins": [ts for ts in channel.pins if channel.message(ts) is not None],
                "bookmarks": channel.bookmarks,
                "messages": messages,
            }
        stack = self.ws.modal_stacks.get(user.id) or []
        home_id = self.ws.home_views.get(user.id)
        return {
            "version": self.ws.version,
            "now": self.ws.clock.now(),
            "team": {"id": self.ws.team_id, "name": self.ws.team_name},
            "bot": self._user_json(self.ws.users[self.ws.bot_user_id]),
            "me": self._user_json(user),
            "people": [self._user_json(u) for u in self.ws.users.values()],
            "usergroups": {g.id: g.handle for g in self.ws.usergroups.values()},
            "channels": [self._channel_summary(user, c) for c in visible],
            "dm": self.ws.dm(user.id).id,
            "channel": current,
            "modal": self._view_json(self.ws.top_modal(user.id)),
            "modal_depth": len(stack),
            "home": self.ws.views[home_id].data if home_id else None,
        }

    # -- live updates -----------------------------------------------------------------------------

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: `change` with the workspace version whenever it moves."""
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        wake = asyncio.Event()
        self._streams.add(wake)
        self.ws.watchers.add(wake.set)
        sent = -1
        try:
            await response.write(b"retry: 1000\n\n")
            while not self._closing.is_set():
                if self.ws.version != sent:
                    await asyncio.sleep(COALESCE_SECONDS)  # one message for a burst of changes
                    wake.clear()
                    sent = self.ws.version
                    await response.write(f"event: change\ndata: {json.dumps({'version': sent})}\n\n".encode())
                    continue
                try:
                    await asyncio.wait_for(wake.wait(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.ws.watchers.discard(wake.set)
            self._streams.discard(wake)
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await response.write_eof()
        return response

    async def shutdown(self, app: web.Application) -> None:
        """Let open event streams end so stopping the sandbox does not wait for browsers."""
        self._closing.set()
        for wake in list(self._streams):
            wake.set()

    # -- acting as a person -------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadRequest("invalid_json") from exc
        if not isinstance(body, dict):
            raise BadRequest("invalid_json")
        return body

    async def _json(self, work: Any, mutates: bool = True) -> web.Response:
        """Run one UI request; after an action, wake the event streams (a read must not)."""
        try:
            result = work()
            if asyncio.iscoroutine(result):
                result = await result
        except BadRequest as exc:
            return web.json_response({"ok": False, "error": exc.error}, status=exc.status)
        except (LookupError, PermissionError, ValueError, TypeError) as exc:
            return web.json_response({"ok": False, "error": str(exc).strip("'\"")}, status=400)
        finally:
            if mutates:
                self.ws.changed()
        return web.json_response(result)

    @staticmethod
    def _delivered(result: Delivery | None) -> dict[str, Any]:
        if result is None:
            return {"ok": True, "delivered": False}
        answer: dict[str, Any] = {"ok": result.ok, "status": result.status}
        if not result.ok:
            answer["error"] = (
                "the bot did not answer in time"
                if result.status == 0
                else f"the bot answered {result.status}"
            )
        if result.response_action:
            answer["response_action"] = result.response_action
        if result.errors:
            answer["errors"] = result.errors
        return answer

    def _target(self, person: Person, body: dict[str, Any]) -> MessageView | OpenView:
        """The message (or view) the page acted on, as this person can see it."""
        view_id = body.get("view_id")
        if view_id:
            view = self.ws.views.get(str(view_id))
            if view is None or view.user != person.id or view.closed:
                raise BadRequest("view_not_found", 404)
            return view
        channel = self._channel_for(person.user, body.get("channel"))
        ts = str(body.get("ts") or "")
        if body.get("ephemeral"):
            for eph in self.ws.ephemerals:
                if eph.user == person.id and eph.channel == channel.id and eph.ts == ts:
                    return MessageView(self.ws, channel.id, eph.as_message(), ephemeral=True)
            raise BadRequest("message_not_found", 404)
        msg = channel.message(ts)
        if msg is None:
            raise BadRequest("message_not_found", 404)
        return MessageView(self.ws, channel.id, msg)

    @staticmethod
    def _position(body: dict[str, Any]) -> tuple[int, int | None]:
        try:
            block = int(body["block"])
            element = body.get("element")
            return block, None if element in (None, "", "accessory") else int(element)
        except (KeyError, TypeError, ValueError) as exc:
            raise BadRequest("block and element are required") from exc

    async def command(self, request: web.Request) -> web.Response:
        """`{"as", "channel", "text": "/breach declare X"}`: type a slash command."""
        body = await self._body(request)

        async def run() -> dict[str, Any]:
            person = self._person(body.get("as"))
            channel = self._channel_for(person.user, body.get("channel"))
            line = str(body.get("text") or "").strip()
            if not line.startswith("/") or len(line) < 2:
                raise BadRequest("a slash command starts with /")
            command, _, text = line.partition(" ")
            return self._delivered(await person.command(text.strip(), channel=channel.id, command=command))

        return await self._json(run)

    async def say(self, request: web.Request) -> web.Response:
        """`{"as", "channel", "text", "thread_ts"?}`: post a message as this person."""
        body = await self._body(request)

        async def run() -> dict[str, Any]:
            person = self._person(body.get("as"))
            channel = self._channel_for(person.user, body.get("channel"))
            text = str(body.get("text") or "")
            if not text.strip():
                raise BadRequest("nothing to send")
            if person.id not in channel.members:
                raise BadRequest(f"you are not in #{channel.name}", 403)
            return self._delivered(await person.say(channel.id, text, body.get("thread_ts") or None))

        return await self._json(run)

    async def click(self, request: web.Request) -> web.Response:
        """`{"as", "channel", "ts", "ephemeral"? | "view_id", "block", "element"}`: press a button."""
        body = await self._body(request)

        async def run() -> dict[str, Any]:
            person = self._person(body.get("as"))
            target = self._target(person, body)
            block, element = self._position(body)
            return self._delivered(await person.act(target, block, element))

        return await self._json(run)

    async def select(self, request: web.Request) -> web.Response:
        """Like click, plus `"choice"`: an option value, user id, date, ... (a list for multi)."""
        body = await self._body(request)

        async def run() -> dict[str, Any]:
            person = self._person(body.get("as"))
            target = self._target(person, body)
            block, element = self._position(body)
            return self._delivered(await person.act(target, block, element, body.get("choice")))

        return await self._json(run)

    async def submit(self, request: web.Request) -> web.Response:
        """`{"as", "view_id", "values": {block_id: choice}}`: press the modal's submit button."""
        body = await self._body(request)

        async def run() -> dict[str, Any]:
            person = self._person(body.get("as"))
            view = self._target(person, {"view_id": body.get("view_id")})
            assert isinstance(view, OpenView)
            values = body.get("values") or {}
            if not isinstance(values, dict):
                raise BadRequest("values must be an object")
            result = await person.submit(values, view=view)
            self.view_errors[view.id] = result.errors
            return self._delivered(result)

        return await self._json(run)

    async def close(self, request: web.Request) -> web.Response:
        """`{"as", "view_id"}`: press the modal's close button (goes back one view in a stack)."""
        body = await self._body(request)

        async def run() -> dict[str, Any]:
            person = self._person(body.get("as"))
            view = self._target(person, {"view_id": body.get("view_id")})
            assert isinstance(view, OpenView)
            self.view_errors.pop(view.id, None)
            return self._delivered(await person.close_modal(view))

        return await self._json(run)

    async def react(self, request: web.Request) -> web.Response:
        """`{"as", "channel", "ts", "name", "remove"?}`: add (or take back) a reaction."""
        body = await self._body(request)

        async def run() -> dict[str, Any]:
            person = self._person(body.get("as"))
            channel = self._channel_for(person.user, body.get("channel"))
            name = str(body.get("name") or "").strip(":")
            if not name:
                raise BadRequest("which reaction?")
            ts = str(body.get("ts") or "")
            if body.get("remove"):
                return self._delivered(await person.unreact(channel.id, ts, name))
            return self._delivered(await person.react(channel.id, ts, name))

        return await self._json(run)

    async def home(self, request: web.Request) -> web.Response:
        """`{"as"}`: open the app's Home tab (the bot hears app_home_opened)."""
        body = await self._body(request)

        async def run() -> dict[str, Any]:
            person = self._person(body.get("as"))
            return self._delivered(await person.open_home())

        return await self._json(run)
