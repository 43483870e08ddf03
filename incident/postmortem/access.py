"""Signed, expiring access to one incident's post-mortem page: `/r/<token>`.

The token carries the incident id and the expiry, signed with HMAC-SHA256; nothing is stored,
so a link cannot be listed, and an altered or expired one is refused without saying which
incident it was for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

LINK_TTL = timedelta(hours=24)
_PURPOSE = b"postmortem:"


class LinkRefused(Exception):
    """Altered, malformed or signed with another key."""


class LinkExpired(LinkRefused):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(payload: bytes, secret: bytes) -> bytes:
    return hmac.new(secret, _PURPOSE + payload, hashlib.sha256).digest()


def make_token(incident_id: int, expires_at: datetime, secret: bytes, user: str | None = None) -> str:
    """`user`, the person the link is issued to, is signed in: the page opens only while that
    person may still see the incident (bot/links.py)."""
    if not secret:
        raise ValueError("no link secret configured")
    if user is not None and not (user.isascii() and user.isalnum()):
        raise ValueError("a Slack user id is letters and digits")
    fields = [str(incident_id), str(int(expires_at.timestamp())), *([user] if user else [])]
    payload = ".".join(fields).encode("ascii")
    return f"{_b64(payload)}.{_b64(_sign(payload, secret))}"


def read_token(token: str, secret: bytes, now: datetime) -> int:
    """The incident id of a genuine, unexpired token; LinkExpired / LinkRefused otherwise."""
    return read_link(token, secret, now)[0]


def read_link(token: str, secret: bytes, now: datetime) -> tuple[int, str | None]:
    """The incident id and the person it was issued to (None for a link naming nobody) of a
    genuine, unexpired token; LinkExpired / LinkRefused otherwise.

    The signature is checked before anything in the payload is trusted, and compared in
    constant time.
    """
    if not secret:
        raise LinkRefused("no secret")
    try:
        payload_part, signature_part = token.split(".")
        payload, signature = _unb64(payload_part), _unb64(signature_part)
    except (ValueError, TypeError) as exc:
        raise LinkRefused("malformed") from exc
    # Only the one spelling we issue: base64 would otherwise ignore stray or low-bit-flipped characters.
    if _b64(payload) != payload_part or _b64(signature) != signature_part:
        raise LinkRefused("not canonical")
    if not hmac.compare_digest(signature, _sign(payload, secret)):
        raise LinkRefused("signature")
    try:
        incident_text, expires_text, *rest = payload.decode("ascii").split(".")
        incident_id, expires = int(incident_text), int(expires_text)
    except ValueError as exc:
        raise LinkRefused("payload") from exc
    if len(rest) > 1:
        raise LinkRefused("payload")
    if now.timestamp() >= expires:
        raise LinkExpired("expired")
    return incident_id, (rest[0] if rest else None)


def link_for(
    base_url: str, incident_id: int, now: datetime, secret: bytes, user: str | None = None
) -> tuple[str, datetime]:
    expires = now + LINK_TTL
    return f"{base_url.rstrip('/')}/r/{make_token(incident_id, expires, secret, user)}", expires
