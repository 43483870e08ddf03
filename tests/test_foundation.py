"""The front door: signed requests in, help out, forged or stale requests refused, health honest."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import aiohttp
import pytest

from sandbox.signing import signed_headers
from storage.db import Database
from tests.harness import SIGNING_SECRET, Slack, running_bot


async def test_help_answers_in_english_by_default(slack: Slack) -> None:
    delivery = await slack.alice.command("help")
    await slack.settle()
    assert delivery.status == 200
    text = slack.alice.ephemerals[-1].all_text
    assert "/breach declare" in text and "Declare" not in text[:0]
    assert "declare a breach" in text
    assert not slack.violations()


async def test_help_answers_in_chinese_when_configured(db_url: str) -> None:
    async with running_bot(db_url, locale="zh-CN") as slack:
        await slack.alice.command("")
        await slack.settle()
        text = slack.alice.ephemerals[-1].all_text
    assert "启动泄露事件响应" in text
    assert "declare a breach" not in text


async def test_unknown_subcommand_says_how_to_get_help(slack: Slack) -> None:
    await slack.alice.command("frobnicate now")
    await slack.settle()
    text = slack.alice.ephemerals[-1].all_text
    assert "frobnicate" in text and "/breach help" in text


def _command_body(text: str = "declare leak") -> str:
    return urlencode(
        {
            "command": "/breach",
            "text": text,
            "user_id": "UMALLORY1",
            "channel_id": "C0GENERAL1",
            "team_id": "T0SANDBOX1",
            "trigger_id": "1.2.3",
            "response_url": "http://127.0.0.1:9/x",
        }
    )


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(
            lambda body: {
                "X-Slack-Request-Timestamp": str(int(time.time())),
                "X-Slack-Signature": "v0=" + "0" * 64,
            },
            id="bad-signature",
        ),
        pytest.param(lambda body: signed_headers("not-the-secret", body), id="wrong-secret"),
        pytest.param(
            lambda body: signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) - 600),
            id="stale-timestamp",
        ),
        pytest.param(lambda body: {}, id="unsigned"),
    ],
)
async def test_forged_or_stale_requests_are_refused_and_change_nothing(slack: Slack, headers) -> None:
    body = _command_body()
    calls_before = len(slack.sb.calls())
    async with aiohttp.ClientSession() as http:
        async with http.post(
            slack.bot_url,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers(body)},
        ) as resp:
            assert resp.status == 401
    await slack.settle()
    assert await slack.incidents() == []
    assert len(slack.sb.calls()) == calls_before  # no modal opened, nothing posted


async def test_healthz_reports_the_database(slack: Slack) -> None:
    base = slack.bot_url.removesuffix("/slack/events")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as resp:
            assert resp.status == 200
            assert (await resp.json())["database"] == "up"
        # Point the running bot at a database that does not answer.
        healthy_db = slack.rt.db
        slack.rt.db = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
        try:
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 503
                assert (await resp.json())["database"] == "down"
        finally:
            await slack.rt.db.dispose()
            slack.rt.db = healthy_db


async def test_help_names_every_subcommand_in_both_languages(slack: Slack) -> None:
    from handlers.commands import SUBCOMMANDS
    from handlers.i18n import t

    by_handler: dict[object, list[str]] = {}
    for name, handler in SUBCOMMANDS.items():
        by_handler.setdefault(handler, []).append(name)
    for locale in ("en", "zh-CN"):
        text = t("help.text", locale, command="/breach")
        missing = [names for names in by_handler.values() if not any(f"/breach {n}" in text for n in names)]
        assert not missing, f"{locale} help does not mention {missing}"
