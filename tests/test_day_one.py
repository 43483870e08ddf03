"""Day one in a real workspace: the packaged configuration names nobody, and a declaration
still opens the channel, the card and the checklists; defaults that can't be used are said,
never fatal; the declarer commands when no one else can."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import yaml

from incident.roles_config import DEFAULT_ROLES_PATH
from tests.harness import Slack, running_bot

TITLE = "Client portal export downloaded"


def roles_file(
    tmp_path: Path, announcement: str | None = None, admins: str | None = None, **defaults: list[str]
) -> Path:
    """The packaged roles file with some default holders, an announcement channel, an admin group."""
    data = yaml.safe_load(DEFAULT_ROLES_PATH.read_text(encoding="utf-8"))
    for role in data["roles"]:
        if role["key"] in defaults:
            role["defaults"] = defaults[role["key"]]
    if announcement:
        data["announcement_channel"] = announcement
    if admins:
        data["admin_usergroup"] = admins
    path = tmp_path / "roles.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@asynccontextmanager
async def workspace(db_url: str, roles: Path = DEFAULT_ROLES_PATH, **env: str) -> AsyncIterator[Slack]:
    async with running_bot(db_url, roles_file=roles, **env) as slack:
        yield slack


async def declare(slack: Slack, person: str = "alice", **values: object) -> None:
    who = slack.person(person)
    await who.command(f"declare {TITLE}", channel="C0GENERAL1")
    await slack.settle()
    delivery = await who.submit({"severity": "SEV3", **values})
    assert not delivery.errors, delivery.errors
    await slack.settle()


async def test_a_fresh_install_declares_with_the_declarer_in_command(db_url: str) -> None:
    async with workspace(db_url) as slack:
        await declare(slack)
        incident = await slack.incident()
        channel = slack.channel(incident.channel_id)
        assert channel.is_private
        assert set(channel.members) == {"UBREACHBOT", "UALICE001"}
        card = channel.pins[0]
        assert "Incident commander: <@UALICE001>" in card.all_text
        assert "<@UALICE001>, who declared, commands this incident" in card.all_text
        assert "Not done yet" not in card.all_text and "Retry" not in card.buttons
        assert "Set-up skipped" not in card.all_text
        assert "Regulatory clocks" in card.all_text
        # The checklists are out, with their buttons.
        assert channel.message_with_button("Done")
        told = slack.alice.ephemerals[-1].all_text
        assert incident.channel_id in told and "you command" in told
        kinds = await slack.kinds(incident)
        assert kinds.count("role_assigned") == 1 and "declarer_commands" in kinds
        assert "setup_skipped" not in kinds
        # Nothing is announced anywhere: no announcement channel is configured.
        assert not slack.channel("security-announce").bot_messages
        # Commanding is real: she changes the severity and hands command over.
        await slack.alice.command("severity SEV2", channel=incident.channel_id)
        await slack.settle()
        assert (await slack.incident()).severity == "SEV2"
        await slack.alice.command("role incident_commander <@UHEIDI001|heidi>", channel=incident.channel_id)
        await slack.settle()
        card = channel.refreshed(card)
        assert "Incident commander: <@UHEIDI001>" in card.all_text
        assert "who declared, commands" not in card.all_text
        assert "UHEIDI001" in channel.members
        assert not slack.violations()


async def test_a_deactivated_holder_and_a_deleted_group_are_skipped_and_said(
    db_url: str, tmp_path: Path
) -> None:
    roles = roles_file(
        tmp_path,
        incident_commander=["UHEIDI001"],
        legal=["S0LEGAL001"],
        compliance=["UERIN0001"],
    )
    async with workspace(db_url, roles) as slack:
        slack.sb.workspace.deactivate("heidi")
        slack.sb.workspace.delete_usergroup("S0LEGAL001")
        slack.expect_rejected("usergroups.users.list", "no_such_subteam")  # the bot reads it, is told
        await declare(slack)
        incident = await slack.incident()
        channel = slack.channel(incident.channel_id)
        assert set(channel.members) == {"UBREACHBOT", "UALICE001", "UERIN0001"}
        card = channel.pins[0]
        text = card.all_text
        assert "Incident commander: <@UALICE001>" in text and "Compliance officer: <@UERIN0001>" in text
        assert (
            "Incident commander: default holder <@UHEIDI001> could not be invited: account deactivated"
            in text
        )
        assert (
            "Legal counsel: default user group <!subteam^S0LEGAL001> could not be used: "
            "the user group no longer exists" in text
        )
        assert "Not done yet" not in text and "Retry" not in card.buttons
        assert channel.message_with_button("Done")
        skipped = [e for e in await slack.timeline(incident) if e.kind == "setup_skipped"]
        assert [(e.data["what"], e.data["target"], e.data["reason"], e.data["role"]) for e in skipped] == [
            ("holder", "UHEIDI001", "deactivated", "incident_commander"),
            ("usergroup", "S0LEGAL001", "no_such_subteam", "legal"),
        ]
        assert "declarer_commands" in await slack.kinds(incident)
        # Heidi gets no duties by DM, Dave (of the deleted group) is not brought in.
        assert not slack.heidi.dms and "UDAVE0001" not in channel.members
        # The only calls Slack refused are the reads of the deleted group.
        assert {(v.method, v.error) for v in slack.violations()} == {
            ("usergroups.users.list", "no_such_subteam")
        }


async def test_the_skipped_defaults_are_said_in_chinese_too(db_url: str, tmp_path: Path) -> None:
    roles = roles_file(tmp_path, incident_commander=["UHEIDI001"], legal=["S0LEGAL001"])
    async with workspace(db_url, roles, locale="zh-CN") as slack:
        slack.sb.workspace.deactivate("heidi")
        slack.sb.workspace.delete_usergroup("S0LEGAL001")
        slack.expect_rejected("usergroups.users.list", "no_such_subteam")  # the bot reads it, is told
        await declare(slack)
        incident = await slack.incident()
        text = slack.channel(incident.channel_id).pins[0].all_text
        assert "事件指挥官：默认负责人 <@UHEIDI001> 无法邀请：账号已停用" in text
        assert "法律顾问：默认用户组 <!subteam^S0LEGAL001> 无法使用：该用户组已不存在" in text
        assert "由启动事件响应的 <@UALICE001> 担任事件指挥官" in text
        assert "deactivated" not in text and "no_such_subteam" not in text


async def test_a_usable_default_commander_is_not_replaced_by_the_declarer(
    db_url: str, tmp_path: Path
) -> None:
    # Heidi's account is gone, Ivan (listed second) is there: he commands, not the declarer.
    roles = roles_file(tmp_path, incident_commander=["UHEIDI001", "UIVAN0001"])
    async with workspace(db_url, roles) as slack:
        slack.sb.workspace.deactivate("heidi")
        await declare(slack)
        incident = await slack.incident()
        text = slack.channel(incident.channel_id).pins[0].all_text
        assert "Incident commander: <@UIVAN0001>" in text
        assert "who declared, commands" not in text
        assert "declarer_commands" not in await slack.kinds(incident)
        assert "you command" not in slack.alice.ephemerals[-1].all_text


async def test_an_archived_announcement_channel_is_skipped_not_retried(db_url: str, tmp_path: Path) -> None:
    roles = roles_file(tmp_path, announcement="C0SECURITY")
    async with workspace(db_url, roles) as slack:
        slack.sb.workspace.require_channel("C0SECURITY").archived = True
        slack.expect_rejected("chat.postMessage", "is_archived")
        await declare(slack)
        incident = await slack.incident()
        card = slack.channel(incident.channel_id).pins[0]
        assert "No announcement in <#C0SECURITY>: the channel is archived" in card.all_text
        assert "Not done yet" not in card.all_text and "Retry" not in card.buttons
        assert (await slack.incident()).setup["announcement"] is True
        events = [e for e in await slack.timeline(incident) if e.kind == "setup_skipped"]
        assert [e.data["reason"] for e in events] == ["is_archived"]
        # The reconcile pass has nothing left to do for it.
        calls = len(slack.sb.calls("chat.postMessage"))
        await slack.alice.click(card, "Refresh")
        await slack.settle()
        assert not [
            c for c in slack.sb.calls("chat.postMessage")[calls:] if c.params.get("channel") == "C0SECURITY"
        ]


async def test_an_announcement_channel_that_does_not_exist_is_said(db_url: str, tmp_path: Path) -> None:
    roles = roles_file(tmp_path, announcement="C0NOWHERE1")
    async with workspace(db_url, roles) as slack:
        slack.expect_rejected("chat.postMessage", "channel_not_found")
        await declare(slack)
        incident = await slack.incident()
        card = slack.channel(incident.channel_id).pins[0]
        assert "No announcement in <#C0NOWHERE1>: the channel does not exist" in card.all_text
        assert "Retry" not in card.buttons


async def test_one_refused_invite_lets_everyone_else_in(db_url: str, tmp_path: Path) -> None:
    roles = roles_file(tmp_path, incident_commander=["UHEIDI001"], tech_lead=["UBOB00001"])
    async with workspace(db_url, roles) as slack:
        # Slack refuses the invite for one account (a guest, say) after users.info said it was fine:
        # the whole multi-person invite fails, then that one person's own invite.
        slack.sb.faults.add(method="conversations.invite", kind="error:cant_invite", times=2)
        await declare(slack)
        incident = await slack.incident()
        channel = slack.channel(incident.channel_id)
        card = channel.pins[0]
        refused = [e.data for e in await slack.timeline(incident) if e.kind == "setup_skipped"]
        assert len(refused) == 1 and refused[0]["what"] == "invite" and refused[0]["reason"] == "cant_invite"
        others = {"UALICE001", "UHEIDI001", "UBOB00001"} - {refused[0]["target"]}
        assert others <= set(channel.members) and refused[0]["target"] not in channel.members
        assert (
            "could not be invited to the channel: Slack does not allow inviting this account" in card.all_text
        )
        assert "Not done yet" not in card.all_text


async def test_a_deleted_admin_group_leaves_the_commander_in_charge(db_url: str, tmp_path: Path) -> None:
    roles = roles_file(tmp_path, admins="S0ADMINS01")
    async with workspace(db_url, roles) as slack:
        slack.sb.workspace.delete_usergroup("S0ADMINS01")
        slack.expect_rejected("usergroups.users.list", "no_such_subteam")
        await declare(slack)
        incident = await slack.incident()
        await slack.alice.command("severity SEV1", channel=incident.channel_id)
        await slack.settle()
        assert (await slack.incident()).severity == "SEV1"
        assert "changed from SEV3 to SEV1" in slack.alice.ephemerals[-1].all_text
        # Nobody is an admin now: Ivan, who was, may not manage.
        await slack.alice.command("role tech_lead <@UIVAN0001|ivan>", channel=incident.channel_id)
        await slack.settle()
        await slack.ivan.command("severity SEV2", channel=incident.channel_id)
        await slack.settle()
        assert "Only the incident commander" in slack.ivan.ephemerals[-1].all_text
        assert (await slack.incident()).severity == "SEV1"


@pytest.mark.processes
async def test_breachroom_serve_on_the_packaged_roles_declares(db_url: str, tmp_path: Path) -> None:
    """The real `breachroom serve` process, nothing configured: the declarer commands."""
    from tests.test_fault_restart import declare as declare_as_alice
    from tests.test_fault_restart import start_serve, stop, until
    from tests.test_fault_restart import workspace as bare_workspace

    async with bare_workspace(db_url) as (sb, database):
        serve = await start_serve(sb, db_url, tmp_path / "serve.log", roles=None)
        try:
            incident = await declare_as_alice(sb, database, due_in=3600)
            channel = sb.channel(incident.channel_id)  # type: ignore[arg-type]
            assert set(channel.members) == {"UBREACHBOT", "UALICE001"}
            card = await until(lambda: _pinned(sb, incident.channel_id), "the pinned card")
            assert "Incident commander: <@UALICE001>" in card.all_text
            assert "who declared, commands this incident" in card.all_text
            assert channel.message_with_button("Done")
            assert not (incident.setup or {}).get("failed")
            assert not sb.violations
        finally:
            await stop(serve)


async def _pinned(sb, channel: str | None):  # type: ignore[no-untyped-def]
    pins = sb.channel(channel).pins
    return pins[0] if pins and "Incident commander" in pins[0].all_text else None
