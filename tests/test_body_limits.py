"""Every HTTP route has a body-size limit: a larger body gets 413 and the bot does nothing with it."""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp

from sandbox.signing import signed_headers
from tests.harness import SIGNING_SECRET, Slack

EVENTS_LIMIT = 128 * 1024  # Slack's payloads are far smaller


def base_of(slack: Slack) -> str:
    return slack.bot_url.removesuffix("/slack/events")


async def test_a_slash_command_over_the_limit_gets_413_and_does_nothing(slack: Slack) -> None:
    calls = len(slack.sb.calls())
    oversized = await slack.alice.command("declare " + "Payroll export leaked " * 7000)
    await slack.settle()
    assert len(oversized.request_body) > EVENTS_LIMIT
    assert oversized.status == 413
    assert len(slack.sb.calls()) == calls, "no Web API call for a refused body"
    assert await slack.incidents() == []
    # Under the limit, the same command works.
    fine = await slack.alice.command("help")
    await slack.settle()
    assert fine.status == 200 and "/breach declare" in slack.alice.ephemerals[-1].all_text


async def test_a_signed_body_without_a_length_is_capped_too(slack: Slack) -> None:
    body = urlencode({"command": "/breach", "text": "note " + "x" * EVENTS_LIMIT, "user_id": "UALICE001"})
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(SIGNING_SECRET, body)}

    async def chunks():  # type: ignore[no-untyped-def]
        data = body.encode()
        for i in range(0, len(data), 16 * 1024):
            yield data[i : i + 16 * 1024]

    async with aiohttp.ClientSession() as http:
        async with http.post(slack.bot_url, data=chunks(), headers=headers) as resp:
            assert resp.status == 413
    await slack.settle()
    assert b'kind="command"' not in slack.rt.metrics.render(), "the body never reached Bolt"
    assert await slack.incidents() == [] and not slack.sb.calls("chat.postMessage")


async def test_routes_that_take_no_body_refuse_one(slack: Slack) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/healthz", "/r/anything"):
            async with http.get(f"{base_of(slack)}{path}", data=b"x" * 10) as resp:
                assert resp.status == 413, path
        async with http.get(f"{base_of(slack)}/healthz") as resp:
            assert resp.status == 200
