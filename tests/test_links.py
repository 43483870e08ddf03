"""Signed report links: only the person who asked gets one, it works for 24 hours, and an altered
or expired link is refused without revealing anything about the incident."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from incident.postmortem.access import LinkExpired, LinkRefused, make_token, read_token
from tests.harness import Slack
from tests.test_records import declare

SECRET = b"k" * 32
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def flip(text: str, index: int) -> str:
    swapped = "A" if text[index] != "A" else "B"
    return text[:index] + swapped + text[index + 1 :]


def test_a_genuine_token_names_its_incident_until_it_expires() -> None:
    token = make_token(42, NOW + timedelta(hours=24), SECRET)
    assert read_token(token, SECRET, NOW) == 42
    assert read_token(token, SECRET, NOW + timedelta(hours=23, minutes=59)) == 42
    with pytest.raises(LinkExpired):
        read_token(token, SECRET, NOW + timedelta(hours=24))


@pytest.mark.parametrize("where", ["payload", "signature"])
def test_any_altered_character_is_refused(where: str) -> None:
    token = make_token(42, NOW + timedelta(hours=24), SECRET)
    payload, signature = token.split(".")
    for i in range(len(payload if where == "payload" else signature)):
        bad = f"{flip(payload, i)}.{signature}" if where == "payload" else f"{payload}.{flip(signature, i)}"
        if bad == token:
            continue
        with pytest.raises(LinkRefused) as refused:
            read_token(bad, SECRET, NOW)
        assert not isinstance(refused.value, LinkExpired)


def test_a_token_for_another_incident_or_key_or_expiry_is_refused() -> None:
    mine = make_token(42, NOW + timedelta(hours=24), SECRET)
    theirs = make_token(43, NOW + timedelta(days=365), SECRET)
    # Splicing another token's payload onto my signature (to reach incident 43, or live longer).
    with pytest.raises(LinkRefused):
        read_token(f"{theirs.split('.')[0]}.{mine.split('.')[1]}", SECRET, NOW)
    with pytest.raises(LinkRefused):
        read_token(mine, b"another secret", NOW)
    for garbage in ("", ".", "abc", "a.b.c", "!!!.???"):
        with pytest.raises(LinkRefused):
            read_token(garbage, SECRET, NOW)


async def fetch(url: str) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text(), dict(response.headers)


async def test_the_link_is_private_works_for_a_day_and_then_is_gone(slack: Slack) -> None:
    incident = await declare(slack, "Acme Trading payroll leaked")
    await slack.heidi.command("postmortem", channel=incident.channel_id)
    await slack.settle()
    answer = slack.heidi.ephemerals[-1].all_text
    found = re.search(r"(http://127\.0\.0\.1:\d+)/r/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)", answer)
    assert found, answer
    base, token = found.groups()
    # Only the person who asked was given the link.
    everyone_else = [m.all_text for m in slack.channel(incident.channel_id).messages]
    assert all(token not in text for text in everyone_else)

    status, body, headers = await fetch(f"{base}/r/{token}")
    assert status == 200 and incident.key in body and "Acme Trading payroll leaked" in body
    assert (
        headers["Cache-Control"] == "no-store" and "default-src 'none'" in headers["Content-Security-Policy"]
    )

    payload, signature = token.split(".")
    for altered in (f"{flip(payload, 0)}.{signature}", f"{payload}.{flip(signature, 3)}", "nonsense"):
        status, body, _ = await fetch(f"{base}/r/{altered}")
        assert status == 403
        assert incident.key not in body and "Acme" not in body

    slack.sb.clock.advance(24 * 3600 + 60)
    status, body, _ = await fetch(f"{base}/r/{token}")
    assert status == 410 and incident.key not in body and "Acme" not in body
