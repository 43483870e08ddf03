"""Prometheus metrics, one registry per running bot (so tests can run several in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "breachroom_requests", "Requests from Slack by kind", ["kind"], registry=self.registry
        )
        self.ack_latency = Histogram(
            "breachroom_ack_seconds",
            "Time from receiving a Slack request to answering it",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.slack_errors = Counter(
            "breachroom_slack_api_errors",
            "Slack Web API errors by method",
            ["method", "error"],
            registry=self.registry,
        )
        self.effects = Gauge(
            "breachroom_effects",
            "Effects in the outbox by state (pending: not yet in Slack; dead: gave up)",
            ["state"],
            registry=self.registry,
        )
        self.reminders_sent = Counter(
            "breachroom_reminders_sent", "Reminders delivered", ["kind"], registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


def request_kind(content_type: str, body: str) -> str:
    """Name a Slack request cheaply, without parsing it twice."""
    if content_type.startswith("application/json"):
        if '"url_verification"' in body:
            return "url_verification"
        return "event"
    if body.startswith("payload=") or "&payload=" in body:
        return "interactive"
    if "command=" in body:
        return "command"
    return "other"
