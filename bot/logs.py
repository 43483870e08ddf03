"""Log hygiene: what the libraries under the bot would log about a breach, withheld at the source.

The libraries log request bodies, Web API arguments, query parameters and result rows at DEBUG
(and Bolt logs the whole body of a request whose signature failed at INFO). Those carry incident
titles, notes and identity numbers, or a forged request's contents. The filters here sit on the
loggers that emit those records, so they apply whatever handler, level or format an operator (or
a test) configures. They are attached by name: a logging filter applies only to records made on
its own logger, not to those propagated from its children.
"""

from __future__ import annotations

import logging
import re

WITHHELD = "(withheld)"
# slack_sdk's Web API traces: keep the method and URL, or the status, never arguments or bodies.
SDK_REQUEST = re.compile(r"^(Sending a request - url: \S+ \S+)")
SDK_RESPONSE = re.compile(r"^(Received the following response - status: \d+)")
# Bolt and Socket Mode traces that end in a payload: keep what comes before it.
PAYLOAD_MARKERS = (" body:", "(body:", "message:", "payload:", " raw_message", "request (")


def _cut(text: str) -> str:
    cut = min((i for i in (text.find(m) for m in PAYLOAD_MARKERS) if i >= 0), default=-1)
    return text if cut < 0 else f"{text[:cut].rstrip(' (,:')} {WITHHELD}"


def _rewrite(record: logging.LogRecord, message: str) -> None:
    record.msg, record.args = message, ()


class SignatureFailure(logging.Filter):
    """Bolt says a request failed verification with its signature, timestamp and whole body."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Invalid request signature detected"):
            _rewrite(record, f"Invalid request signature detected: request refused, body {WITHHELD}")
        return True


class BoltPayloads(logging.Filter):
    """Bolt's app logger (also Socket Mode's): responses and received messages without payloads."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cut = _cut(message)
        if cut != message:
            _rewrite(record, cut)
        return True


class WebApiTraces(logging.Filter):
    """slack_sdk's request and response traces hold every argument and the whole response."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for pattern in (SDK_REQUEST, SDK_RESPONSE):
            found = pattern.match(message)
            if found:
                _rewrite(record, f"{found.group(1)} {WITHHELD}")
        return True


class ResultRows(logging.Filter):
    """SQLAlchemy logs each fetched row at DEBUG; parameters are hidden by the engine itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(("Row ", "Col ")))


class DriverCalls(logging.Filter):
    """aiosqlite traces every call it makes with its SQL parameters."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


FILTERS: dict[str, type[logging.Filter]] = {
    "slack_bolt.RequestVerification": SignatureFailure,
    "slack_bolt.AsyncApp": BoltPayloads,
    "slack_bolt.App": BoltPayloads,
    "slack_sdk.web.async_base_client": WebApiTraces,
    "slack_sdk.web.base_client": WebApiTraces,
    "sqlalchemy.engine.Engine": ResultRows,
    "aiosqlite": DriverCalls,
}


def install() -> None:
    """Attach each filter to its logger once (loggers are process-wide; so is this)."""
    for name, kind in FILTERS.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())
