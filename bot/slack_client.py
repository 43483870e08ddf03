"""The Web API client: slack_sdk's, with Slack's retry advice followed and errors counted."""

from __future__ import annotations

import asyncio
import math
import random
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.metrics import Metrics

# Without a Retry-After (Slack always sends one), wait this long; the jitter is this share of the wait.
DEFAULT_RETRY_AFTER = 1.0
JITTER = 0.1
# After a 5xx or a dropped connection, wait this long, doubled at each attempt (slack_sdk's factor).
BACKOFF_FACTOR = 0.5


def retry_after_seconds(response: HttpResponse) -> float:
    """Slack's Retry-After, read as a number of seconds (a decimal one too)."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                seconds = float(values[0])
            except ValueError:
                break
            if math.isfinite(seconds) and seconds >= 0:
                return seconds
            break
    return DEFAULT_RETRY_AFTER


class RateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """On a 429, wait what Slack asked for, plus a little jitter in proportion, and try again.

    slack_sdk's own handler parses Retry-After with int() (a decimal one fails) and adds up to a
    whole second of random jitter to every wait. Slack's answer is whole seconds, where a second
    more is noise; a sandbox counting scaled seconds asks for tens of milliseconds, where a second
    more is all the time the test spends. Which responses are retried stays slack_sdk's rule.
    """

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("a rate-limit retry without a response")
        state.next_attempt_requested = True
        wait = retry_after_seconds(response)
        await asyncio.sleep(wait * (1.0 + JITTER * random.random()))
        state.increment_current_attempt()


class ProportionalJitter(Jitter):
    """A wait plus up to `JITTER` of itself: slack_sdk's own jitter adds up to a whole second to
    every back-off, however short (see `RateLimitRetryHandler`)."""

    def recalculate(self, duration: float) -> float:
        return duration * (1.0 + JITTER * random.random())


class CountingWebClient(AsyncWebClient):
    """Counts failed calls by method for /metrics; behaviour is otherwise slack_sdk's own."""

    metrics: Metrics | None = None

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            if self.metrics is not None:
                self.metrics.slack_errors.labels(api_method, str(exc.response.get("error", "unknown"))).inc()
            raise
        except Exception as exc:
            if self.metrics is not None:
                self.metrics.slack_errors.labels(api_method, type(exc).__name__).inc()
            raise


def open_session(client: AsyncWebClient) -> aiohttp.ClientSession:
    """One HTTP session (one pool of kept-alive connections) for every Web API call of `client`
    and of the per-request clients Bolt makes from it: without one, slack_sdk opens a session and
    a new TCP connection for each call. The caller closes it. slack_sdk applies its timeout only
    to the sessions it makes itself, so this one carries it. Must run inside the event loop."""
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=client.timeout))
    client.session = session
    return session


def build_client(
    token: str, base_url: str, metrics: Metrics, *, timeout: int = 10, backoff_scale: float = 1.0
) -> CountingWebClient:
    """`backoff_scale`: real seconds per second of back-off after a 5xx or a dropped connection;
    below 1 only against the sandbox, whose seconds are scaled (its Retry-After already is)."""
    client = CountingWebClient(token=token, base_url=base_url, timeout=timeout)
    client.metrics = metrics
    backoff = BackoffRetryIntervalCalculator(BACKOFF_FACTOR * backoff_scale, ProportionalJitter())
    # 429 → wait Retry-After and try again; 5xx and dropped connections → back off and retry.
    client.retry_handlers.extend(
        [
            RateLimitRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=3, interval_calculator=backoff),
            AsyncConnectionErrorRetryHandler(max_retry_count=3, interval_calculator=backoff),
        ]
    )
    return client
