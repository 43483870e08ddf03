"""Scaled Slack time: the sandbox refuses the same bursts at any scale, and asks for scaled waits;
the bot's client waits what it is asked, a decimal too, and no whole second more."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from bot.slack_client import RateLimitRetryHandler, build_client
from sandbox.server import Sandbox


async def burst(client: AsyncWebClient, n: int) -> list[SlackApiError]:
    refused = []
    for i in range(n):
        try:
            await client.chat_postMessage(channel="C0GENERAL1", text=f"burst {i}")
        except SlackApiError as exc:
            refused.append(exc)
    return refused


async def test_a_scaled_limit_refuses_the_same_burst_and_asks_for_a_scaled_wait(
    sandbox: Sandbox, client: AsyncWebClient
) -> None:
    sandbox.rate_limits_enabled = True
    # Half-length seconds: the bucket refills one message per 0.5 s, far longer than the burst takes.
    sandbox.rate_limit_scale = 0.5
    refused = await burst(client, 4)
    assert len(refused) == 1  # Slack's burst of 3 a channel, as at Slack's own pace
    assert refused[0].response.status_code == 429
    assert refused[0].response.headers["Retry-After"] == "0.5"


async def test_an_injected_rate_limit_is_scaled_too(sandbox: Sandbox, client: AsyncWebClient) -> None:
    sandbox.rate_limit_scale = 0.05
    sandbox.faults.add(method="users.info", kind="ratelimited", retry_after=30)
    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="UALICE001")
    assert err.value.response.headers["Retry-After"] == "1.5"


async def test_at_slacks_own_pace_retry_after_stays_whole_seconds(
    sandbox: Sandbox, client: AsyncWebClient
) -> None:
    sandbox.rate_limits_enabled = True
    refused = await burst(client, 4)
    assert [e.response.headers["Retry-After"] for e in refused] == ["1"]


async def test_the_bot_waits_a_decimal_retry_after_and_gets_through(sandbox: Sandbox) -> None:
    sandbox.rate_limits_enabled = True
    sandbox.rate_limit_scale = 0.02
    bot = build_client(sandbox.bot_token, sandbox.api_url, Metrics())
    assert any(isinstance(h, RateLimitRetryHandler) for h in bot.retry_handlers)
    for i in range(8):
        await bot.chat_postMessage(channel="C0GENERAL1", text=f"burst {i}")
    posted = sandbox.calls("chat.postMessage")
    assert [c.ok for c in posted].count(True) == 8
    assert any(c.status == 429 for c in posted)  # the limit did bite; the client waited it out
    assert sandbox.violations == []


def test_the_back_off_after_a_server_error_doubles_with_a_jitter_in_proportion() -> None:
    from slack_sdk.http_retry.builtin_async_handlers import AsyncServerErrorRetryHandler

    def waits(scale: float) -> list[float]:
        bot = build_client("xoxb-t", "http://127.0.0.1:9/api/", Metrics(), backoff_scale=scale)
        [handler] = [h for h in bot.retry_handlers if isinstance(h, AsyncServerErrorRetryHandler)]
        return [handler.interval_calculator.calculate_sleep_duration(a) for a in range(3)]

    for scale in (1.0, 0.02):
        for attempt, wait in enumerate(waits(scale)):
            base = 0.5 * 2**attempt * scale  # slack_sdk's factor, never a whole second more
            assert base <= wait <= base * 1.1
