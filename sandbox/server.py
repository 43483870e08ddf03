"""The sandbox Slack: one aiohttp server holding the workspace, the Web API and the driver."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from sandbox import scopes as oauth_scopes
from sandbox.blocks import check_options_answer
from sandbox.clock import Clock
from sandbox.faults import Faults, RateLimiter
from sandbox.observe import ChannelView
from sandbox.signing import signed_headers
from sandbox.socket_mode import SocketHub
from sandbox.ui.routes import install as install_ui
from sandbox.webapi import WebApi
from sandbox.workspace import SEED, Call, Ephemeral, Violation, Workspace

if TYPE_CHECKING:
    from sandbox.driver import Person

DEFAULT_SIGNING_SECRET = "sandbox-signing-secret"
DEFAULT_BOT_TOKEN = "xoxb-sandbox-bot-token"
DEFAULT_APP_TOKEN = "xapp-1-sandbox-app-token"
VERIFICATION_TOKEN = "sandboxverificationtoken"
# Slack waits 3 s for the answer to a request; an event left unanswered is sent again, with
# X-Slack-Retry-Num 1, 2, 3 (Slack spaces them out; the sandbox sends them at once).
ACK_DEADLINE = 3.0
EVENT_RETRIES = 3


@dataclass
class Delivery:
    """What happened when the sandbox delivered one request to the bot.

    status: the bot's HTTP status (200 for a Socket Mode ack, 0 if nothing answered in time).
    body: the raw response text; json: it parsed (None when empty or not JSON).
    """

    kind: str
    status: int
    body: str
    json: dict[str, Any] | None
    request_body: str
    content_type: str
    payload: dict[str, Any]
    retry_num: int = 0  # which of Slack's retries this answer came from (0: the first delivery)

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def response_action(self) -> str | None:
        return (self.json or {}).get("response_action")

    @property
    def errors(self) -> dict[str, str]:
        """Field errors from a view_submission ack with response_action=errors."""
        if self.response_action == "errors":
            return dict((self.json or {}).get("errors") or {})
        return {}


class Sandbox:
    """A local Slack workspace the bot talks to instead of slack.com."""

    def __init__(
        self,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        bot_token: str = DEFAULT_BOT_TOKEN,
        app_token: str = DEFAULT_APP_TOKEN,
        seed: Path = SEED,
        clock: Clock | None = None,
        scopes: Iterable[str] | None = None,
    ) -> None:
        self.clock = clock or Clock()
        # The bot token's scopes: the manifest's unless a test grants others. Mutable, so a
        # test can take one away and watch the feature that needs it fail with missing_scope.
        self.scopes: set[str] = set(oauth_scopes.default_grant() if scopes is None else scopes)
        self.workspace = Workspace.from_seed(seed, self.clock)
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.app_token = app_token
        self.faults = Faults()
        self.rate_limits_enabled = False
        self.rate_limiter = RateLimiter(self.clock)
        self.transport = "http"
        self.bot_url: str | None = None
        self.bot_timeout = 10.0
        self.ack_deadline = ACK_DEADLINE
        self._expected: list[tuple[str, str]] = []
        self._late: set[asyncio.Future[tuple[int, str]]] = set()
        self.idle_probe: Callable[[], Awaitable[Any]] | None = None
        self.url = ""
        self.socket = SocketHub(self.workspace.app_id)
        self.webapi = WebApi(self)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._in_flight = 0
        self._last_activity = 0.0
        self._people: dict[str, Person] = {}

    @property
    def rate_limit_scale(self) -> float:
        """Real seconds per Slack second in the rate limits and in the Retry-After they send
        (injected `ratelimited` faults included): 1.0 is Slack's own pace; tests use a small one."""
        return self.rate_limiter.scale

    @rate_limit_scale.setter
    def rate_limit_scale(self, value: float) -> None:
        self.rate_limiter.scale = value

    # -- lifecycle ----------------------------------------------------------------------

    @classmethod
    async def start(cls, host: str = "127.0.0.1", port: int = 0, **settings: Any) -> Sandbox:
        """A sandbox made with `settings` (the keywords `Sandbox(...)` takes), serving on host:port."""
        sandbox = cls(**settings)
        await sandbox._serve(host, port)
        return sandbox

    async def _serve(self, host: str, port: int) -> None:
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.add_routes(self.webapi.routes())
        app.add_routes(self.socket.routes())
        install_ui(app, self)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.url = f"http://{host}:{bound}"
        self.socket.base_url = self.url
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        for late in list(self._late):
            late.cancel()
        await self.socket.close()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Sandbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """What to pass as AsyncWebClient(base_url=...)."""
        return f"{self.url}/api/"

    def socket_url(self) -> str:
        return self.socket.issue_url()

    # -- reading ------------------------------------------------------------------------

    def channel(self, id_or_name: str) -> ChannelView:
        return ChannelView(self.workspace, self.workspace.require_channel(id_or_name))

    def calls(self, method: str | None = None) -> list[Call]:
        return [c for c in self.workspace.calls if method is None or c.method == method]

    @property
    def violations(self) -> list[Violation]:
        return list(self.workspace.violations)

    def expect_rejected(self, method: str, error: str) -> None:
        """Declare that this test makes Slack refuse `method` calls with `error` (any number)."""
        self._expected.append((method, error))

    def unexpected_rejections(self) -> list[str]:
        """What went wrong beyond what the test declared: rejected calls it did not expect, and
        expectations nothing met (a stale one would otherwise hide the next real rejection)."""
        problems = [
            f"{v.method} -> {v.error} {' '.join(v.detail)}".rstrip()
            for v in self.workspace.violations
            if (v.method, v.error) not in self._expected
        ]
        seen = {(v.method, v.error) for v in self.workspace.violations}
        problems += [f"expected {m} -> {e}, never happened" for m, e in self._expected if (m, e) not in seen]
        return problems

    def person(self, name_or_id: str) -> Person:
        from sandbox.driver import Person

        user = self.workspace.require_user(name_or_id)
        if user.id not in self._people:
            self._people[user.id] = Person(self, user)
        return self._people[user.id]

    def add_ephemeral(
        self, channel: str, user: str, fields: dict[str, Any], ts: str, source: str
    ) -> Ephemeral:
        eph = Ephemeral(
            channel=channel,
            user=user,
            text=str(fields.get("text") or ""),
            blocks=list(fields.get("blocks") or []),
            ts=ts,
            thread_ts=fields.get("thread_ts"),
            source=source,
        )
        self.workspace.ephemerals.append(eph)
        self.workspace.changed()
        return eph

    # -- settling -----------------------------------------------------------------------

    @contextlib.contextmanager
    def activity(self) -> Iterator[None]:
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._last_activity = asyncio.get_running_loop().time()
            self.workspace.changed()

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the bot has finished its background work.

        With `idle_probe` set (an async callable such as the bot's in-flight tracker) it
        is awaited first, then the Web API must be quiet for 10 ms; without it, 200 ms. The
        short window only has to cover an event the sandbox is about to send in the background
        (its task starts on the loop's next turn): whatever the bot starts after the probe
        shows up as activity, and the probe is asked again.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        quiet = 0.01 if self.idle_probe is not None else 0.2
        while True:
            probed_at = loop.time()
            if self.idle_probe is not None:
                await asyncio.wait_for(self.idle_probe(), max(0.01, deadline - probed_at))
                probed_at = loop.time()
            while True:
                now = loop.time()
                if self._in_flight == 0 and now - self._last_activity >= quiet:
                    break
                if now >= deadline:
                    raise TimeoutError(f"sandbox did not settle within {timeout}s")
                await asyncio.sleep(min(quiet, 0.02 + max(0.0, quiet - (now - self._last_activity))))
            # Something answered after the bot looked idle (a late answer to a request the
            # sandbox had given up on, say): what it started may still be running, so ask again.
            if self.idle_probe is None or self._last_activity <= probed_at:
                return

    # -- delivering to the bot ------------------------------------------------------------

    async def deliver(
        self, kind: str, payload: dict[str, Any], retry_num: int = 0, retry_reason: str = ""
    ) -> Delivery:
        """Send one request to the bot the way Slack would.

        kind: "command" (form fields), "interactive" (payload=<json>), or "event" (JSON).
        """
        self.workspace.changed()
        try:
            return await self._deliver(kind, payload, retry_num, retry_reason)
        finally:
            self.workspace.changed()

    async def suggest(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Ask the bot for an external select's options (a `block_suggestion`), as Slack does
        while someone types in the menu; the options it offered, flattened out of their groups.

        Slack sends these to the app's Options Load URL (`message_menu_options_url` in the
        manifest; the sandbox posts to the bot's one URL) and shows the person an error and no
        options when the answer breaks its rules: that is a violation here, and no options.
        """
        delivery = await self.deliver("interactive", payload)
        problems = ["[ERROR] the app did not answer"] if delivery.status != 200 else []
        answer: Any = delivery.json
        if not problems and answer is None:
            # An empty 200 (Bolt's bare ack) is "no options": Slack shows an empty menu.
            answer = {"options": []} if not delivery.body.strip() else delivery.body
        problems = problems or check_options_answer(answer)
        if problems:
            self.workspace.violations.append(
                Violation(
                    "ack:block_suggestion",
                    {"action_id": payload.get("action_id"), "value": payload.get("value")},
                    "invalid_options",
                    problems,
                    self.clock.now(),
                )
            )
            return []
        assert isinstance(answer, dict)
        if answer.get("options") is not None:
            return list(answer["options"])
        return [o for group in answer["option_groups"] for o in group.get("options") or []]

    async def _post(self, body: str, headers: dict[str, str]) -> tuple[int, str]:
        """POST one request to the bot: (status, text), or (0, "") if it never answered."""
        assert self._session is not None and self.bot_url is not None
        with self.activity():
            try:
                async with self._session.post(
                    self.bot_url,
                    data=body.encode(),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.bot_timeout),
                ) as resp:
                    return resp.status, await resp.text()
            except (TimeoutError, aiohttp.ClientError):
                return 0, ""

    async def _deliver(
        self, kind: str, payload: dict[str, Any], retry_num: int, retry_reason: str
    ) -> Delivery:
        if kind == "command":
            body = urlencode(payload)
            content_type = "application/x-www-form-urlencoded"
        elif kind == "interactive":
            body = urlencode({"payload": json.dumps(payload)})
            content_type = "application/x-www-form-urlencoded"
        elif kind == "event":
            body = json.dumps(payload)
            content_type = "application/json"
        else:
            raise ValueError(f"unknown delivery kind {kind!r}")
        if self.transport == "socket":
            envelope_type = {
                "command": "slash_commands",
                "interactive": "interactive",
                "event": "events_api",
            }[kind]
            ack = await self.socket.deliver(envelope_type, payload, retry_num, retry_reason)
            ack_payload = (ack or {}).get("payload")
            text = json.dumps(ack_payload) if ack_payload else ""
            return Delivery(
                kind, 200 if ack is not None else 0, text, ack_payload or None, body, content_type, payload
            )
        if not self.bot_url:
            raise RuntimeError("set sandbox.bot_url to the bot's /slack/events URL first")
        assert self._session is not None
        headers = {"Content-Type": content_type, **signed_headers(self.signing_secret, body)}
        if retry_num:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        loop = asyncio.get_running_loop()
        started = loop.time()
        # An event is given up on at the deadline and sent again; a command or a click is
        # waited for (the test still sees the answer) but a late one is a violation, since
        # Slack has shown the person an error by then. The given-up request is left to finish
        # (and counts as activity, so settle() waits for it): the bot then handles the same
        # event twice at once, the hard case for its once-only handling.
        post = asyncio.ensure_future(self._post(body, headers))
        try:
            status, text = await asyncio.wait_for(
                asyncio.shield(post), self.ack_deadline if kind == "event" else None
            )
        except TimeoutError:
            if kind == "event" and retry_num < EVENT_RETRIES:
                self._late.add(post)
                post.add_done_callback(self._late.discard)
                return await self._deliver(kind, payload, retry_num + 1, "http_timeout")
            post.cancel()
            return Delivery(kind, 0, "", None, body, content_type, payload, retry_num)
        if status == 0:
            return Delivery(kind, 0, "", None, body, content_type, payload, retry_num)
        elapsed = loop.time() - started
        if kind != "event" and elapsed > self.ack_deadline:
            self.workspace.violations.append(
                Violation(
                    f"ack:{kind}",
                    {"type": payload.get("type") or payload.get("command")},
                    "ack_timeout",
                    [f"[ERROR] answered after {elapsed:.1f}s; Slack gives up after {self.ack_deadline:.0f}s"],
                    self.clock.now(),
                )
            )
        parsed: dict[str, Any] | None = None
        if text.strip().startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                parsed = json.loads(text)
        return Delivery(kind, status, text, parsed, body, content_type, payload, retry_num)
