"""The Web API client: slack_sdk's, with Slack's retry advice followed and errors counted."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.metrics import Metrics


class CountingWebClient(AsyncWebClient):
    """Counts failed calls by method for /metrics; behaviour is otherwise slack_sdk's own."""

    metrics: Metrics | None = None

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:  # type: ignore[override]
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


def build_client(token: str, base_url: str, metrics: Metrics, *, timeout: int = 10) -> CountingWebClient:
    client = CountingWebClient(token=token, base_url=base_url, timeout=timeout)
    client.metrics = metrics
    # 429 → wait Retry-After and try again; 5xx and dropped connections → back off and retry.
    client.retry_handlers.extend(
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=3),
            AsyncConnectionErrorRetryHandler(max_retry_count=3),
        ]
    )
    return client
