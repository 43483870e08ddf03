"""/metrics: not served without BREACHROOM_METRICS_TOKEN; with it, only to a Bearer holding it."""

from __future__ import annotations

import aiohttp

from tests.harness import Slack, running_bot

TOKEN = "scrape-me-4f9d0c2b7a1e6d3c8b5a"


def base_of(slack: Slack) -> str:
    return slack.bot_url.removesuffix("/slack/events")


async def get(url: str, token: str | None = None) -> tuple[int, str, dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        return resp.status, await resp.text(), dict(resp.headers)


async def test_without_a_token_metrics_are_not_served(slack: Slack) -> None:
    await slack.alice.command("help")
    await slack.settle()
    status, text, _ = await get(f"{base_of(slack)}/metrics")
    assert status == 404 and "breachroom_" not in text
    status, text, _ = await get(f"{base_of(slack)}/metrics", "anything-at-all-0123456789")
    assert status == 404 and "breachroom_" not in text


async def test_metrics_answer_only_the_bearer_of_the_token(db_url: str) -> None:
    async with running_bot(db_url, metrics_token=TOKEN) as slack:
        await slack.alice.command("help")
        await slack.settle()
        url = f"{base_of(slack)}/metrics"
        status, text, headers = await get(url)
        assert status == 401 and headers.get("WWW-Authenticate", "").startswith("Bearer")
        assert "breachroom_" not in text
        for wrong in (TOKEN[:-1], TOKEN + "x", "Basic " + TOKEN):
            status, text, _ = await get(url, wrong)
            assert status == 401 and "breachroom_" not in text
        status, text, _ = await get(url, TOKEN)
        assert status == 200
        assert 'breachroom_requests_total{kind="command"} 1.0' in text
        assert 'breachroom_ack_seconds_count{kind="command"} 1.0' in text
