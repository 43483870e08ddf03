"""HTTP mode: aiohttp serves Bolt at /slack/events, plus /healthz and /metrics."""

from __future__ import annotations

import time

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bot import links
from bot.metrics import request_kind
from bot.runtime import Runtime

RUNTIME = web.AppKey("runtime", Runtime)


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


async def metrics(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    return web.Response(body=rt.metrics.render(), headers={"Content-Type": rt.metrics.content_type})


def build_web_app(rt: Runtime) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[RUNTIME] = rt
    app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
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
    rt.deps.extras["own_base_url"] = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{bound}"
    return runner, bound
