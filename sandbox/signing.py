"""Slack's request signing (v0): what the bot's SignatureVerifier checks."""

from __future__ import annotations

import hashlib
import hmac
import time


def signature(signing_secret: str, timestamp: str, body: str | bytes) -> str:
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    base = f"v0:{timestamp}:{raw}".encode()
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(signing_secret: str, body: str | bytes, timestamp: int | None = None) -> dict[str, str]:
    """X-Slack-Request-Timestamp and X-Slack-Signature for `body`, as Slack sends them.

    The timestamp is real wall-clock time: the bot rejects requests older than five
    minutes, so advancing the sandbox clock must not age the signature.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature(signing_secret, ts, body)}
