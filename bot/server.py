"""HTTP mode: aiohttp serves Bolt at /slack/events, plus /healthz, /metrics (behind a token) and
the signed report links.

Every route has a body-size limit: Slack's own payloads are small, so a larger body is refused
with 413 before anything reads or acts on it.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bot import links
from bot.metrics import request_kind
from bot.runtime import Runtime
from storage import outbox

RUNTIME = web.AppKey("runtime", Runtime)
KIB = 1024
# Per route (by path prefix): Slack's events, commands and interactions are far below 128 KiB;
# the GET routes take no body at all. aiohttp's client_max_size caps bodies sent without a length.
BODY_LIMITS: tuple[tuple[str, int], ...] = (("/slack/events", 128 * KIB),)
DEFAULT_BODY_LIMIT = 0
MAX_BODY = max(limit for _, limit in BODY_LIMITS)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def body_limit(path: str) -> int:
    return next((limit for prefix, limit in BODY_LIMITS if path.startswith(prefix)), DEFAULT_BODY_LIMIT)


@web.middleware
async def limit_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    """413 on a body over the route's limit, before the handler (or Bolt) sees any of it."""
    limit = body_limit(request.path)
    declared = request.content_length
    # A body sent without a length: over a route's limit when it takes none, else capped on read.
    unsized = declared is None and request.body_exists and limit == 0
    if unsized or (declared is not None and declared > limit):
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=declared or 0)
    return await handler(request)


async def slack_events(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    started = time.perf_counter()
    try:
        bolt_request = await to_bolt_request(request)
    except ValueError:
        # A body Bolt cannot parse never reaches verification or a listener: nothing is done.
        return web.Response(status=400)
    kind = request_kind(request.content_type or "", bolt_request.raw_body)
    rt.metrics.requests.labels(kind).inc()
    bolt_response = await rt.app.async_dispatch(bolt_request)
    response = await to_aiohttp_response(bolt_response)
    rt.metrics.ack_latency.labels(kind).observe(time.perf_counter() - started)
    return response


async def healthz(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    if request.query.get("deep") == "1":  # on demand only: it calls Slack and the public URL
        from bot.cli_commands.doctor import as_json, run_checks
        from handlers.workspace import refresh, report_target

        await refresh(rt.deps)
        channel = report_target(rt.deps)[0]
        report = as_json(await run_checks(rt.settings, rt.client, rt.deps.config, report_channel=channel))
        return web.json_response(report, status=200 if report["ok"] else 503)
    if await rt.db.ping():
        return web.json_response({"ok": True, "database": "up"})
    return web.json_response({"ok": False, "database": "down"}, status=503)


def bearer_ok(request: web.Request, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


async def metrics(request: web.Request) -> web.Response:
    """Request counts and latencies reveal activity: only a scraper holding the token reads them."""
    rt = request.app[RUNTIME]
    token = rt.settings.metrics_token
    if not token or not bearer_ok(request, token):
        raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    backlog = await outbox.backlog(rt.db)
    rt.metrics.effects.labels("pending").set(backlog.pending)
    rt.metrics.effects.labels("dead").set(backlog.dead)
    return web.Response(body=rt.metrics.render(), headers={"Content-Type": rt.metrics.content_type})


def build_web_app(rt: Runtime) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY, middlewares=[limit_bodies])
    app[RUNTIME] = rt
    app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    if rt.settings.metrics_token:  # without a token, /metrics is not served at all
        app.router.add_get("/metrics", metrics)
    links.add_routes(app, rt.deps, rt.client)
    return app


async def start_http(rt: Runtime, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner and the bound port (port 0 picks a free one)."""
    runner = web.AppRunner(build_web_app(rt), shutdown_timeout=10.0, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    # Signed report links point here unless PUBLIC_BASE_URL says where the bot is reachable.
    rt.deps.own_base_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{bound}"
    return runner, bound
