"""`breachroom doctor` and `/healthz?deep=1`: the operator learns what is wrong before a breach does."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
import yaml

from bot.cli_commands.doctor import REQUIRED_SCOPES
from incident import workspace_settings
from sandbox.workspace import Channel
from tests.harness import Slack, running_bot
from tests.test_settings import bare_roles

ROOT = Path(__file__).resolve().parents[1]


def base_url(slack: Slack) -> str:
    return slack.bot_url.removesuffix("/slack/events")


async def doctor(slack: Slack, monkeypatch: pytest.MonkeyPatch, roles: Path, capsys) -> tuple[int, str]:
    """Run `breachroom doctor` as an operator would, against this workspace, database and bot."""
    from bot.cli import main

    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.rt.settings.slack_bot_token or "")
    monkeypatch.setenv("SLACK_API_URL", slack.sb.api_url)
    monkeypatch.setenv("DATABASE_URL", slack.rt.settings.database_url)
    monkeypatch.setenv("BREACHROOM_ROLES_FILE", str(roles))
    monkeypatch.setenv("PUBLIC_BASE_URL", base_url(slack))
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["doctor"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


async def configure(slack: Slack, **values: object) -> None:
    await workspace_settings.change(slack.db, values, actor="UHEIDI001", now=slack.rt.clock.now())


@pytest.fixture
def roles(tmp_path: Path) -> Path:
    return bare_roles(tmp_path)


async def test_a_healthy_install_passes_every_check(db_url: str, roles: Path, monkeypatch, capsys) -> None:
    async with running_bot(db_url, roles_file=roles) as slack:
        await configure(
            slack,
            admin_usergroup="S0ADMINS01",
            announcement_channel="C0SECURITY",
            report_channel="C0GENERAL1",
            **{"role_defaults.legal": ["UDAVE0001", "S0LEGAL001"]},
        )
        code, out = await doctor(slack, monkeypatch, roles, capsys)
        assert code == 0, out
        assert "\nerror " not in out and "\nwarning " not in out
        for line in (
            "ok      token: valid",
            "ok      scopes: all",
            "ok      clock:",
            "ok      database: reachable, schema current",
            "ok      user UDAVE0001: @dave (legal)",
            "ok      group S0ADMINS01: @breach-admins (the admin group)",
            "ok      announcement channel: #security-announce, the bot is a member",
            "ok      report channel: #general, the bot is a member",
            "ok      PUBLIC_BASE_URL:",
        ):
            assert line in out, out
        assert "0 error(s)" in out
        assert not slack.sb.unexpected_rejections()


async def test_doctor_reports_a_missing_scope_and_an_unreachable_channel(
    db_url: str, roles: Path, monkeypatch, capsys
) -> None:
    async with running_bot(db_url, roles_file=roles) as slack:
        slack.sb.workspace.channels["G0EXEC0001"] = Channel(
            id="G0EXEC0001", name="exec-room", is_private=True, members=["UHEIDI001"]
        )
        await configure(
            slack,
            announcement_channel="G0EXEC0001",
            admin_usergroup="S0GONE0001",
            report_channel="C0NOWHERE1",
        )
        slack.sb.scopes.discard("usergroups:read")

        code, out = await doctor(slack, monkeypatch, roles, capsys)

        assert code == 1
        assert "error   scopes: missing scope(s): usergroups:read" in out
        assert "reinstall the app" in out
        assert "error   announcement channel: G0EXEC0001 cannot be reached (channel_not_found)" in out
        assert "/invite @Breachroom" in out
        assert "error   user groups: cannot list them (missing_scope)" in out
        assert "error   report channel: C0NOWHERE1 cannot be reached (channel_not_found)" in out

        slack.sb.scopes.add("usergroups:read")
        code, out = await doctor(slack, monkeypatch, roles, capsys)
        assert code == 1
        assert "scopes: all" in out
        assert "error   group S0GONE0001: not found (the admin group)" in out
        slack.sb.expect_rejected("usergroups.list", "missing_scope")
        slack.sb.expect_rejected("conversations.info", "channel_not_found")
        assert not slack.sb.unexpected_rejections()


async def test_healthz_deep_returns_the_checks_as_json_and_plain_healthz_stays_cheap(
    db_url: str, roles: Path
) -> None:
    async with running_bot(db_url, roles_file=roles) as slack, aiohttp.ClientSession() as http:
        calls = len(slack.sb.calls())
        async with http.get(f"{base_url(slack)}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"ok": True, "database": "up"}
        assert len(slack.sb.calls()) == calls  # no Slack call behind the plain probe

        slack.sb.scopes.discard("pins:write")
        async with http.get(f"{base_url(slack)}/healthz?deep=1") as response:
            assert response.status == 503
            report = await response.json()
        assert report["ok"] is False
        by_name = {c["name"]: c for c in report["checks"]}
        assert by_name["scopes"]["status"] == "error" and "pins:write" in by_name["scopes"]["detail"]
        assert by_name["token"]["status"] == "ok" and by_name["database"]["status"] == "ok"
        assert by_name["announcement channel"]["status"] == "warning"  # none set yet

        slack.sb.scopes.add("pins:write")
        async with http.get(f"{base_url(slack)}/healthz?deep=1") as response:
            assert (await response.json())["ok"] is True
            assert response.status == 200


def test_doctor_asks_for_exactly_the_scopes_of_the_manifest() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert set(REQUIRED_SCOPES) == set(manifest["oauth_config"]["scopes"]["bot"])
