"""Set up in Slack, not in YAML ids: App Home Settings, stored with who and when, used by the next incident"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from incident import workspace_settings
from incident.roles_config import DEFAULT_ROLES_PATH
from sandbox.observe import block_texts
from sandbox.workspace import Channel
from storage.models import Reminder, SettingChange
from tests.harness import Slack, restarted, running_bot
from tests.test_declare import declare


def bare_roles(tmp_path: Path) -> Path:
    """The packaged roles with nobody named: no default holders, no admin group, no announcement channel."""
    data = yaml.safe_load(DEFAULT_ROLES_PATH.read_text(encoding="utf-8"))
    data.pop("admin_usergroup", None)
    data.pop("announcement_channel", None)
    for role in data["roles"]:
        role.pop("defaults", None)
    path = tmp_path / "roles.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def home_of(slack: Slack, person: str) -> Any:
    """The person's App Home as an OpenView the driver can click in."""
    ws = slack.sb.workspace
    return ws.views[ws.home_views[slack.person(person).id]]


def home_text(slack: Slack, person: str) -> str:
    view = slack.person(person).home
    assert view is not None, f"{person} has no home view"
    return "\n".join(t for block in view["blocks"] for t in block_texts(block))


async def open_home(slack: Slack, person: str) -> None:
    await slack.person(person).open_home()
    await slack.settle()


async def edit_settings(slack: Slack, person: str, values: dict[str, Any]) -> Any:
    """Open App Home, click Edit settings, fill the form and save, as an admin would."""
    await open_home(slack, person)
    who = slack.person(person)
    await who.click(home_of(slack, person), "Edit settings")
    await slack.settle()
    assert who.modal().data["callback_id"] == "settings"
    delivery = await who.submit(values)
    await slack.settle()
    return delivery


@pytest.fixture
async def fresh(db_url: str, tmp_path: Path):
    """The bot on a workspace whose configuration names nobody (a fresh install)."""
    async with running_bot(db_url, roles_file=bare_roles(tmp_path)) as s:
        yield s


async def test_the_workspace_owner_sets_up_a_fresh_install_and_the_next_incident_invites_them(
    fresh: Slack,
) -> None:
    slack = fresh
    await open_home(slack, "alice")
    assert "Edit settings" not in home_text(slack, "alice")  # not an admin: no Settings at all
    await open_home(slack, "heidi")
    assert "Edit settings" in home_text(slack, "heidi")  # the workspace owner, while no admin group exists

    delivery = await edit_settings(
        slack,
        "heidi",
        {
            "settings_users.incident_commander": ["heidi"],
            "settings_users.legal": ["carol"],
            "settings_groups.forensics": ["@it-security"],
            "settings_admin": "@breach-admins",
        },
    )
    assert not delivery.errors, delivery.errors
    home = home_text(slack, "heidi")
    assert "<@UHEIDI001> changed default holders of Legal counsel" in home
    assert "Admin group:* <!subteam^S0ADMINS01>" in home
    assert "Settings saved (4 change(s))" in slack.heidi.dms[-1].all_text

    await declare(slack)
    incident = await slack.incident()
    members = set(slack.channel(incident.channel_id).members)
    assert {"UHEIDI001", "UCAROL001", "UBOB00001", "UIVAN0001"} <= members  # @it-security is bob and ivan
    assert "UDAVE0001" not in members and "UMALLORY1" not in members
    assert "Incident commander: <@UHEIDI001>" in slack.channel(incident.channel_id).pins[0].all_text

    async with slack.db.session() as s:
        changes = (await s.execute(select(SettingChange))).scalars().all()
    assert {c.key for c in changes} == {
        "role_defaults.incident_commander",
        "role_defaults.legal",
        "role_defaults.forensics",
        "admin_usergroup",
    }
    assert all(c.changed_by == "UHEIDI001" for c in changes)
    assert not slack.violations()


async def test_settings_survive_a_restart(fresh: Slack) -> None:
    slack = fresh
    await edit_settings(slack, "heidi", {"settings_users.legal": ["erin"]})
    async with restarted(slack):
        await declare(slack)
        incident = await slack.incident()
        assert "UERIN0001" in slack.channel(incident.channel_id).members
        assert not slack.sb.unexpected_rejections()
        await open_home(slack, "heidi")
        assert "Legal counsel: <@UERIN0001>" in home_text(slack, "heidi")


async def test_once_an_admin_group_is_set_only_its_members_see_and_change_settings(fresh: Slack) -> None:
    slack = fresh
    await edit_settings(slack, "heidi", {"settings_admin": "@legal"})
    await open_home(slack, "heidi")
    assert "Edit settings" not in home_text(slack, "heidi")  # owner, but not in the admin group
    await open_home(slack, "dave")
    assert "Edit settings" in home_text(slack, "dave")

    # A forged click from someone else's App Home opens nothing and changes nothing.
    await slack.mallory.click(home_of(slack, "dave"), "Edit settings")
    await slack.settle()
    with pytest.raises(LookupError):
        slack.mallory.modal()
    assert "Only members of the admin group" in slack.mallory.dms[-1].all_text
    # Nor does submitting dave's form as mallory: the submission is authorized again.
    await slack.dave.click(home_of(slack, "dave"), "Edit settings")
    await slack.settle()
    form = slack.dave.modal()
    await slack.mallory.submit(
        {"settings_users.legal": ["mallory"], "settings_admin": "@it-security"}, view=form
    )
    await slack.settle()
    assert len(slack.mallory.dms) == 2 and "Only members" in slack.mallory.dms[-1].all_text
    async with slack.db.session() as s:
        assert len((await s.execute(select(SettingChange))).scalars().all()) == 1
    assert not slack.violations()


async def test_saved_settings_are_not_called_unchanged_when_app_home_cannot_be_redrawn(fresh: Slack) -> None:
    """The settings are committed, then App Home is redrawn: when Slack refuses that, the admin is
    not told that nothing was changed."""
    slack = fresh
    await open_home(slack, "heidi")
    await slack.heidi.click(home_of(slack, "heidi"), "Edit settings")
    await slack.settle()
    slack.sb.faults.add(method="views.publish", kind="error:internal_error", times=1)
    await slack.heidi.submit({"settings_cadence.SEV2": "45m"})
    await slack.settle()

    told = [m.all_text for m in slack.heidi.dms]
    assert any("Settings saved" in text for text in told)
    assert not any("nothing was changed" in text for text in told)
    assert "may already be recorded" in told[-1]
    async with slack.db.session() as s:
        assert len((await s.execute(select(SettingChange))).scalars().all()) == 1


async def test_a_bad_cadence_is_refused_on_its_field_and_a_good_one_drives_the_status_reminder(
    fresh: Slack,
) -> None:
    slack = fresh
    delivery = await edit_settings(slack, "heidi", {"settings_cadence.SEV2": "soon"})
    assert "settings_cadence.SEV2" in delivery.errors
    await slack.heidi.submit({"settings_cadence.SEV2": "45m"})
    await slack.settle()
    await declare(slack)  # SEV2
    incident = await slack.incident()
    async with slack.db.session() as s:
        rows = (
            (
                await s.execute(
                    select(Reminder).where(
                        Reminder.incident_id == incident.id, Reminder.kind == "status_update"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert [r.due_at - incident.declared_at for r in rows] == [timedelta(minutes=45)]
    assert not slack.sb.unexpected_rejections()


async def test_the_bot_joins_a_public_announcement_channel_and_says_why_it_cannot_join_a_private_one(
    fresh: Slack,
) -> None:
    slack = fresh
    assert "UBREACHBOT" not in slack.channel("C0ACCOUNT1").members
    await edit_settings(slack, "heidi", {"settings_announce": "accounting"})
    assert "UBREACHBOT" in slack.channel("C0ACCOUNT1").members

    slack.sb.workspace.channels["G0EXEC0001"] = Channel(
        id="G0EXEC0001", name="exec-room", is_private=True, members=["UHEIDI001"]
    )
    await edit_settings(slack, "heidi", {"settings_announce": "G0EXEC0001"})
    assert "/invite @Breachroom" in "\n".join(m.all_text for m in slack.heidi.dms)
    assert "UBREACHBOT" not in slack.channel("G0EXEC0001").members
    slack.sb.expect_rejected("conversations.join", "channel_not_found")  # the bot cannot see it
    slack.sb.expect_rejected("conversations.info", "channel_not_found")
    assert not slack.sb.unexpected_rejections()


async def test_a_value_from_the_environment_wins_and_the_settings_say_so(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BREACHROOM_CADENCE_SEV1", "20m")
    async with running_bot(db_url, roles_file=bare_roles(tmp_path), locale="en") as slack:
        await open_home(slack, "heidi")
        home = home_text(slack, "heidi")
        assert "SEV1: every 20m (set by the environment variable `BREACHROOM_CADENCE_SEV1`" in home
        assert "BREACHROOM_LOCALE" in home
        await slack.heidi.click(home_of(slack, "heidi"), "Edit settings")
        await slack.settle()
        form = slack.heidi.modal().data
        block_ids = {b.get("block_id") for b in form["blocks"]}
        assert "settings_cadence.SEV1" not in block_ids and "settings_locale" not in block_ids
        assert "settings_cadence.SEV2" in block_ids
        assert slack.rt.deps.cadences["SEV1"] == timedelta(minutes=20)


async def test_a_change_made_by_another_replica_applies_to_the_next_declaration(fresh: Slack) -> None:
    # Another replica stored it: this process has not refreshed since.
    await workspace_settings.change(
        fresh.db, {"role_defaults.scribe": ["UJUDY0001"]}, actor="UHEIDI001", now=fresh.rt.clock.now()
    )
    await declare(fresh)
    incident = await fresh.incident()
    assert "UJUDY0001" in fresh.channel(incident.channel_id).members


def cli_env(monkeypatch: pytest.MonkeyPatch, slack: Slack, roles: Path) -> None:
    """`breachroom` run by an operator against this workspace and database."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.rt.settings.slack_bot_token or "")
    monkeypatch.setenv("SLACK_API_URL", slack.sb.api_url)
    monkeypatch.setenv("DATABASE_URL", slack.rt.settings.database_url)
    monkeypatch.setenv("BREACHROOM_ROLES_FILE", str(roles))


async def breachroom(*argv: str) -> int:
    from bot.cli import main

    return await asyncio.to_thread(main, list(argv))


async def test_settings_round_trip_through_export_and_import_with_names(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    roles = bare_roles(tmp_path)
    async with running_bot(db_url, roles_file=roles) as slack:
        await edit_settings(
            slack,
            "heidi",
            {
                "settings_users.legal": ["dave"],
                "settings_groups.legal": ["@legal"],
                "settings_announce": "security-announce",
                "settings_admin": "@breach-admins",
                "settings_cadence.SEV1": "20m",
                "settings_report_channel": "general",
                "settings_report_schedule": "monthly",
            },
        )
        before = await workspace_settings.load(slack.db)
        cli_env(monkeypatch, slack, roles)
        exported = tmp_path / "settings.yaml"
        assert await breachroom("config", "export", "--output", str(exported)) == 0
        text = exported.read_text(encoding="utf-8")
        for name in ("'@dave'", "'@legal'", "'#security-announce'", "'@breach-admins'", "'#general'"):
            assert name in text
        assert "UDAVE0001" not in text and "C0SECURITY" not in text  # names, not ids

        empty = tmp_path / "empty.yaml"
        empty.write_text("{}\n", encoding="utf-8")
        assert await breachroom("config", "import", str(empty)) == 0  # wipe
        assert await workspace_settings.load(slack.db) == {}

        assert await breachroom("config", "import", str(exported)) == 0
        assert await workspace_settings.load(slack.db) == before
        await declare(slack)
        incident = await slack.incident()
        assert "UDAVE0001" in slack.channel(incident.channel_id).members

        bad = tmp_path / "bad.yaml"
        bad.write_text(text.replace("'@dave'", "'@nobody'"), encoding="utf-8")
        capsys.readouterr()
        assert await breachroom("config", "import", str(bad)) == 1
        line = next(i for i, row in enumerate(text.splitlines(), 1) if "'@dave'" in row)
        assert f"{bad}:{line}: '@nobody': Slack knows no such person or user group" in capsys.readouterr().err
        assert await workspace_settings.load(slack.db) == before  # nothing half-imported
        assert not slack.sb.unexpected_rejections()


def test_only_a_variable_with_a_value_wins_over_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import load_settings
    from handlers.workspace import pinned_by_environment

    monkeypatch.delenv("BREACHROOM_LOCALE", raising=False)
    monkeypatch.setenv("BREACHROOM_REPORT_CHANNEL", "")  # copied from .env.example, left empty
    assert pinned_by_environment(load_settings(), environ={"BREACHROOM_CADENCE_SEV2": ""}) == {}
    monkeypatch.setenv("BREACHROOM_REPORT_CHANNEL", "C0GENERAL1")
    monkeypatch.setenv("BREACHROOM_LOCALE", "zh-CN")
    assert pinned_by_environment(load_settings(), environ={"BREACHROOM_CADENCE_SEV2": "2h"}) == {
        "report_channel": "BREACHROOM_REPORT_CHANNEL",
        "locale": "BREACHROOM_LOCALE",
        "cadence.SEV2": "BREACHROOM_CADENCE_SEV2",
    }


def test_a_configured_group_stays_pickable_in_a_workspace_with_more_groups_than_a_select_holds() -> None:
    from bot.embedded import SANDBOX_ROLES
    from handlers.render.settings import Effective, Group, settings_modal
    from incident.roles_config import load_roles

    roles = load_roles(SANDBOX_ROLES)  # legal's default is the group S0LEGAL001
    cadences = {s: timedelta(hours=1) for s in ("SEV1", "SEV2", "SEV3", "SEV4")}
    effective = Effective(
        roles=roles, locale="en", cadences=cadences, report_channel=None, report_schedule="off"
    )
    groups = [Group(f"S0MANY{i:04d}", f"team-{i}") for i in range(150)] + [Group("S0LEGAL001", "legal")]
    form = settings_modal(effective, groups, "en")
    legal = next(b for b in form["blocks"] if b.get("block_id") == "settings_groups.legal")["element"]
    assert len(legal["options"]) == 100
    assert [o["value"] for o in legal["initial_options"]] == ["S0LEGAL001"]


def test_an_imported_settings_file_names_every_mistake_with_its_line() -> None:
    from incident.yamlsource import ConfigError

    known = {"@dave": "UDAVE0001", "#general": "C0GENERAL1"}
    text = (
        "language: fr\n"  # 1
        "colour: red\n"  # 2
        "default_holders:\n"  # 3
        "  hacker: ['@dave']\n"  # 4
        "  legal: ['@dave', '@nobody']\n"  # 5
        "status_update_every: {SEV1: 2bd, SEV2: soon}\n"  # 6
        "report: {channel: '#general', schedule: weekly}\n"  # 7
        "announcement_channel: '@dave'\n"  # 8
    )
    with pytest.raises(ConfigError) as caught:
        workspace_settings.parse_import(text, ["legal"], lambda kind, ref: known.get(ref), name="s.yaml")
    found = [(p.line, p.message) for p in caught.value.problems]
    assert [line for line, _ in found] == [1, 2, 4, 5, 6, 6, 7, 8]
    said = " | ".join(message for _, message in found)
    for part in (
        "language must be one of zh-CN, en, not 'fr'",
        "unknown field 'colour'",
        "unknown role 'hacker' (known: legal)",
        "'@nobody': Slack knows no such person or user group",
        "not business days",
        "'soon' is not a duration",
        "schedule must be one of monthly, quarterly, off",
        "'@dave': Slack knows no such channel",
    ):
        assert part in said

    good = (
        "default_holders: {legal: ['@dave']}\nstatus_update_every: {SEV1: 20m}\nreport: {channel: '#general'}"
    )
    assert workspace_settings.parse_import(good, ["legal"], lambda kind, ref: known.get(ref)) == {
        "role_defaults.legal": ["UDAVE0001"],
        "cadence.SEV1": "20m",
        "report_channel": "C0GENERAL1",
    }
    assert workspace_settings.parse_import("", ["legal"], lambda kind, ref: None) == {}
