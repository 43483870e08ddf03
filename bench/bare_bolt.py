"""The framework's own ceiling: a bare Bolt AsyncApp with no-op listeners, served the same way."""

from __future__ import annotations

import argparse
import asyncio
import re

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from bench.procs import until_terminated


async def main(port: int, secret: str) -> None:
    async def authorize(enterprise_id, team_id, user_id):
        # What Bolt caches after its first auth.test; there is no Slack to ask here.
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token="xoxb-bench",
            bot_user_id="UBENCHBOT",
            bot_id="BBENCH",
        )

    app = AsyncApp(
        client=AsyncWebClient(),
        signing_secret=secret,
        authorize=authorize,
        process_before_response=False,
    )

    @app.command("/breach")
    async def command(ack) -> None:
        await ack()

    @app.action(re.compile(".*"))
    async def action(ack) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await until_terminated()
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    asyncio.run(main(args.port, args.secret))
