"""The breach register and the periodic security report, checked against what people did."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main as cli
from incident.register import rows
from incident.report import html, markdown
from incident.report.model import Period, build
from storage.models import Incident
from tests.harness import Slack, record_notice, submit_declaration, submit_form

HOUR = 3600
CLIENT = "Acme Trading"
PRIVILEGED = "Hold the insurer notice until counsel reviews coverage"
USER_ID = re.compile(r"\bU[A-Z0-9]{8}\b")
NAMES = ("Alice", "Heidi", "Dave", "Erin", "alice", "heidi", "dave", "erin")


async def real_incident(slack: Slack) -> Incident:
    discovered = int((slack.rt.clock.now() - timedelta(hours=2)).timestamp())
    fields = {
        "Severity": "SEV2",
        "Data categories": ["payroll", "national ID"],
        "Estimated people affected": "1200",
        "Affected clients": CLIENT,
        "Jurisdictions": ["China", "EU / EEA"],
        "Was the data encrypted (key safe)?": "No",
        "Our role for this data": "Controller (we decide why the data is processed)",
        "Discovered at": discovered,
    }
    incident = await submit_declaration(slack, fields, title=f"Payroll export of {CLIENT} leaked")
    channel = incident.channel_id
    # Legal records the GDPR notice to the lead authority (the Irish DPC, where the firm's EU main
    # establishment is); compliance decides, with reasons, not to notify under PIPL.
    sent_at = int(slack.rt.clock.now().timestamp()) - 60
    await record_notice(
        slack,
        "dave",
        channel,
        "eu-gdpr-33/lead_supervisory_authority",
        "Data Protection Commission",
        "DPC-2026-118",
        sent_at,
    )
    await submit_form(
        slack,
        "erin",
        "nonotify",
        channel,
        {"Obligation": "PIPL", "Rationale": "Only EU residents' records were taken"},
    )
    card = slack.channel(channel).pins[0]
    # The decision names one obligation: the authority's clock stops, the individuals' keeps running.
    lines = card.refreshed().all_text.splitlines()
    authority = next(line for line in lines if "PIPL Art. 57) → The authority" in line)
    individuals = next(line for line in lines if "PIPL Art. 57) → The affected individuals" in line)
    assert "decided not to notify" in authority and "decided not to notify" not in individuals
    privileged = {
        "Decision": PRIVILEGED,
        "Rationale": "Coverage position",
        "Approver": "heidi",
        "Legal privilege": ["Attorney-client privileged"],
    }
    await submit_form(slack, "dave", "decision", channel, privileged)
    due = (slack.rt.clock.now() + timedelta(days=14)).date().isoformat()
    follow_up = {
        "What needs doing": "Restrict portal exports to two approvers",
        "Owner": "erin",
        "Due date": due,
        "Category": "policy",
    }
    await submit_form(slack, "heidi", "action", channel, follow_up)
    await submit_form(slack, "heidi", "resolve", channel, {"Stage reached": "resolved"})
    await submit_form(
        slack, "heidi", "close", channel, {"Lessons learned": "Exports need a second approver."}
    )
    return await slack.incident(incident.key)


async def drill(slack: Slack) -> Incident:
    command = "drill Tabletop: client portal credential stuffing"
    await submit_form(slack, "heidi", command, "C0GENERAL1", {"Severity": "SEV3"})
    return await slack.incident()


async def logged(slack: Slack) -> Incident:
    entry = {
        "What happened": "Misdirected email with one client's invoice",
        "Severity": "SEV4",
        "Data categories": ["contact details"],
        "Estimated people affected": "1",
        "Why no one needs to be notified": "Recalled before it was opened; recipient confirmed deletion",
    }
    await submit_form(slack, "alice", "log", "C0GENERAL1", entry)
    return await slack.incident()


async def test_log_entry_needs_a_reason_and_gets_its_own_chain(slack: Slack) -> None:
    await slack.alice.command("log", channel="C0GENERAL1")
    await slack.settle()
    delivery = await slack.alice.submit({"What happened": "Wrong fax number", "Severity": "SEV4"})
    assert "reason" in delivery.errors["rationale"]
    await slack.settle()
    assert await slack.incidents() == []
    entry = await logged(slack)
    assert entry.kind == "log" and entry.channel_id is None and entry.status == "closed"
    assert "not_notified" in await slack.kinds(entry)
    assert entry.key in slack.alice.dms[-1].all_text
    assert not slack.sb.calls("conversations.create")
    # An entry has no channel: the admin group alone may read it, not even whoever logged it.
    await slack.heidi.command(f"verify {entry.key}", channel="C0GENERAL1")
    await slack.settle()
    assert "timeline verified: 2 events" in slack.heidi.ephemerals[-1].all_text
    await slack.alice.command(f"verify {entry.key}", channel="C0GENERAL1")
    await slack.settle()
    assert slack.alice.ephemerals[-1].all_text == f"There is no incident {entry.key}."


async def test_register_rows_match_what_was_done(
    slack: Slack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = await real_incident(slack)
    practice = await drill(slack)
    entry = await logged(slack)
    async with slack.db.session() as s:
        register = {r.key: r for r in await rows(s, slack.rt.deps.config, now=slack.rt.clock.now())}
    assert list(register) == [real.key, practice.key, entry.key]
    row = register[real.key]
    assert (row.severity, row.status, row.people_affected, row.drill) == ("SEV2", "closed", 1200, False)
    assert row.affected_clients == [CLIENT] and set(row.jurisdictions) == {"CN", "EU"}
    decisions = {d.obligation: d for d in row.decisions}
    gdpr = decisions["eu-gdpr-33/lead_supervisory_authority"]
    assert (gdpr.decision, gdpr.by, gdpr.detail, gdpr.clock) == (
        "notified",
        "UDAVE0001",
        "DPC-2026-118",
        "met",
    )
    pipl = decisions["cn-pipl-57/pi_authority"]
    assert (pipl.decision, pipl.by, pipl.clock) == ("not_notified", "UERIN0001", "declined")
    assert "EU residents" in pipl.detail
    assert decisions["cn-pipl-57/individuals"].decision == "pending"
    assert register[practice.key].drill
    assert register[entry.key].kind == "log" and "Recalled" in register[entry.key].not_notified_rationale

    # The CLI export carries the same rows.
    monkeypatch.setenv("DATABASE_URL", slack.rt.settings.database_url)
    out = tmp_path / "register.csv"
    assert await asyncio.to_thread(cli, ["register", "--format", "csv", "--out", str(out)]) == 0
    exported = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["key"] for r in exported] == [real.key, practice.key, entry.key]
    assert (
        "eu-gdpr-33/lead_supervisory_authority: notified" in exported[0]["decisions"]
        and exported[1]["drill"] == "yes"
    )


async def test_report_figures_and_the_client_version(slack: Slack) -> None:
    await real_incident(slack)
    await drill(slack)
    await logged(slack)
    now = slack.rt.clock.now()
    async with slack.db.session() as s:
        report = await build(s, slack.rt.deps.config, Period.containing(now, "quarterly"), now)
    figures = report.current
    assert figures.incidents == 2  # the drill is not a real incident
    assert figures.by_severity == {"SEV2": 1, "SEV4": 1}
    assert figures.clocks_met >= 1 and figures.clocks >= figures.clocks_met
    assert figures.to_declare.count == 2 and figures.to_declare.worst is not None
    assert 2 * HOUR - 120 <= figures.to_declare.worst <= 2 * HOUR + 600
    assert report.policy_changes == 1 and len(report.open_actions) == 1
    assert [d.key for d in report.drills] == [(await slack.incidents())[1].key]
    assert any("second approver" in text for _, text in report.lessons)

    internal = markdown.render(report, "en", "internal")
    assert PRIVILEGED in internal and CLIENT in internal and "UERIN0001" in internal
    assert "<@" not in internal  # a file is read as text: no Slack mention would render there
    named = markdown.render(report, "en", "internal", {"UERIN0001": "Erin Zhao"})
    assert "Erin Zhao (UERIN0001)" in named
    for locale in ("en", "zh-CN"):
        for client in (markdown.render(report, locale, "client"), html.render(report, locale, "client")):
            assert CLIENT not in client and PRIVILEGED not in client and "second approver" not in client
            assert not USER_ID.search(client), USER_ID.search(client)
            assert not any(name in client for name in NAMES)
    page = html.render(report, "en", "internal")
    assert "<svg" in page and not re.search(r"""(src|href)=["']?https?:""", page)  # no external assets
    assert f'data-figure="incidents">{figures.incidents}<' in page
    assert f'data-figure="clocks">{figures.clocks_met} / {figures.clocks}<' in page
    assert f"**{figures.clocks_met} / {figures.clocks}**" in internal
    assert "安全报告" in markdown.render(report, "zh-CN", "internal")


async def test_the_quarterly_report_is_posted_on_time_with_a_controlled_clock(db_url: str) -> None:
    from incident.report.model import Period
    from incident.report.schedule import due_at
    from tests.harness import fire_due, running_bot

    async with running_bot(db_url, report_channel="C0GENERAL1", report_schedule="quarterly") as slack:
        await logged(slack)
        period = Period.containing(slack.rt.clock.now(), "quarterly")
        general = slack.channel("general")

        def reports() -> list:
            return [m for m in general.bot_messages if "Security report" in m.all_text]

        slack.sb.clock.advance((due_at(period) - slack.rt.clock.now()).total_seconds() - 60)
        await fire_due(slack)
        assert reports() == []  # not a minute early
        slack.sb.clock.advance(61)
        await fire_due(slack)
        [posted] = reports()
        assert f"Security report {period.label}" in posted.all_text and "1 real incidents" in posted.all_text
        files = [f for f in slack.sb.workspace.files.values() if f.name.startswith("security-report-")]
        assert sorted(f.name for f in files) == [
            f"security-report-{period.label}.internal.en.md",
            f"security-report-{period.label}.internal.zh-CN.md",
        ]
        english = next(f for f in files if f.name.endswith(".en.md")).content.decode()
        assert f"# Security report (internal) · {period.label}" in english
        assert "Real incidents: **1**" in english
        assert "Alice Chen (UALICE001)" in english and "<@" not in english  # who decided, by name
        await fire_due(slack)  # nothing is posted twice
        assert len(reports()) == 1
        async with slack.db.session() as s:
            from sqlalchemy import select

            from storage.models import Reminder

            labels = [
                r.ref
                for r in (
                    await s.execute(select(Reminder).where(Reminder.kind == "security_report"))
                ).scalars()
            ]
        next_period = Period.containing(period.end, "quarterly")
        assert sorted(labels) == [period.label, next_period.label]


async def test_follow_ups_from_every_incident_in_one_list(slack: Slack) -> None:
    real = await real_incident(slack)
    await slack.heidi.command(f"action {real.key}", channel="C0GENERAL1")
    await slack.settle()
    delivery = await slack.heidi.submit(
        {
            "What needs doing": "Run a phishing training for payroll staff",
            "Owner": "bob",
            "Category": "training",
        }
    )
    assert not delivery.errors, delivery.errors
    await slack.settle()

    await slack.erin.command("actions", channel="C0GENERAL1")
    await slack.settle()
    mine = slack.erin.ephemerals[-1]
    assert "Restrict portal exports" in mine.all_text and real.key in mine.all_text
    assert "phishing training" not in mine.all_text

    await slack.heidi.command("actions", channel="C0GENERAL1")  # heidi is in the admin group
    await slack.settle()
    everyone = slack.heidi.ephemerals[-1].all_text
    assert "Restrict portal exports" in everyone and "phishing training" in everyone
    assert "2 open" in everyone and "1 policy changes and 1 training changes" in everyone

    await slack.mallory.command("actions", channel="C0GENERAL1")
    await slack.settle()
    assert "No open follow-up actions" in slack.mallory.ephemerals[-1].all_text

    await slack.erin.click(mine, "Done", near="Restrict portal exports")
    await slack.settle()
    assert "action_done" in await slack.kinds(real)


async def test_app_home_shows_recent_register_entries_to_admins_only(slack: Slack) -> None:
    entry = await logged(slack)
    await slack.heidi.open_home()  # heidi is in the admin group
    await slack.settle()
    home = str(slack.heidi.home)
    assert "Breach register" in home and entry.key in home and "logged (no channel)" in home
    assert "Misdirected email" not in home  # the register line carries no title
    await slack.alice.open_home()
    await slack.settle()
    assert "Breach register" not in str(slack.alice.home)
