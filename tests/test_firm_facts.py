"""Clocks that may apply remind too; facts about the firm are answered once in App Home; a place no
regime covers is said out loud (issue 15: "a clock always runs when a duty may apply")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from handlers.render.firm_facts import uncovered_line
from incident import firm_facts
from incident.clocks import ClockView, clocks
from incident.config import load_config
from incident.coverage import uncovered, uncovered_names
from incident.reminders import clock_subjects
from storage.models import Reminder, SettingChange
from tests.harness import Slack, fire_due, unsaved_leak, unsaved_notification
from tests.test_clocks import declare, obligations, set_facts
from tests.test_settings import edit_settings, home_text, open_home

HOUR = 3600
GDPR = "(GDPR Art. 33)"
EVERY = "The supervisory authority of every member state where affected people live"
LEAD = "The lead supervisory authority"


async def declare_eu(slack: Slack) -> None:
    """An EU controller's incident, exfiltration confirmed, discovered two hours ago."""
    discovered = int(slack.rt.clock.now().timestamp()) - 2 * HOUR
    await declare(slack, **{"Exfiltration confirmed?": "Yes", "discovered_at": discovered})


def gdpr_reminders(person) -> list[str]:
    return [m.all_text for m in person.dms if GDPR in m.all_text and "Snooze" in str(m.blocks)]


async def views(slack: Slack) -> dict[str, ClockView]:
    incident = await slack.incident()
    async with slack.db.session() as db:
        firm = await firm_facts.load(db)
    found = clocks(incident, [], slack.rt.deps.config.regimes, slack.rt.clock.now(), firm=firm)
    return {v.id: v for v in found}


async def test_gdpr_reminds_while_the_main_establishment_is_unknown_then_follows_the_answer(
    slack: Slack,
) -> None:
    await declare_eu(slack)
    clocks_now = await views(slack)
    every, lead = (
        clocks_now["eu-gdpr-33/every_supervisory_authority"],
        clocks_now["eu-gdpr-33/lead_supervisory_authority"],
    )
    assert every.applicability.status == lead.applicability.status == "unknown"
    assert every.applicability.start_assumed and every.deadline_at == lead.deadline_at
    # Nobody answers: the 72 h clock from discovery reminds 24 h before its deadline (46 h from now).
    slack.sb.clock.advance(45 * HOUR)
    await fire_due(slack)
    assert gdpr_reminders(slack.dave) == []
    slack.sb.clock.advance(1 * HOUR + 1)
    await fire_due(slack)
    [reminder] = gdpr_reminders(slack.dave)  # one for the two alternatives, not two
    assert "may apply" in reminder and "left" in reminder
    assert "whether the firm has a main establishment in the EU" in reminder
    assert "awareness time" in reminder and "/breach facts" in reminder
    assert EVERY in reminder and LEAD in reminder and "depending on the answer" in reminder
    incident = await slack.incident()
    channel = slack.channel(incident.channel_id)
    assert sum(GDPR in m.all_text and "may apply" in m.all_text for m in channel.bot_messages) == 1
    # The firm has no EU establishment: the reminders follow "every authority"; the lead's stop.
    await set_facts(slack, eu_main_establishment="no")
    slack.sb.clock.advance(20 * HOUR + 1)  # T-4h
    await fire_due(slack)
    latest = gdpr_reminders(slack.dave)[-1]
    assert "may apply" not in latest and EVERY in latest and LEAD not in latest
    async with slack.db.session() as db:
        rows = (await db.execute(select(Reminder).where(Reminder.kind == "clock"))).scalars().all()
    maybe = [r for r in rows if r.payload.get("may_apply") and r.ref.startswith("eu-gdpr-33/")]
    assert maybe and all(r.status in ("sent", "cancelled") for r in maybe)
    assert not [r for r in rows if r.ref == "eu-gdpr-33/lead_supervisory_authority" and r.status == "pending"]
    assert not slack.violations()


async def test_the_firm_answers_once_in_app_home_and_the_next_incident_knows(slack: Slack) -> None:
    await edit_settings(slack, "heidi", {"Main establishment in the EU": "No"})
    await open_home(slack, "heidi")
    home = home_text(slack, "heidi")
    assert "Main establishment in the EU: no" in home and "HIPAA business associate: not sure" in home
    assert "<@UHEIDI001> changed Main establishment in the EU" in home
    async with slack.db.session() as db:
        [change] = (await db.execute(select(SettingChange))).scalars().all()
    assert (change.key, change.before, change.after, change.changed_by) == (
        "firm.eu_main_establishment",
        None,
        False,
        "UHEIDI001",
    )
    await declare_eu(slack)
    incident = await slack.incident()
    card = slack.channel(incident.channel_id).pins[0].all_text
    assert EVERY in card and LEAD not in card
    text = await obligations(slack)
    applying, not_applying = text.split("Does not apply:")
    assert EVERY in applying and LEAD not in applying and LEAD in not_applying
    assert "From the firm's settings" in text and "main establishment in the EU: no" in text
    assert "whether the firm has a main establishment in the EU" not in text.split("Facts still unknown")[-1]
    # No may-apply alternative reminds: only the obligation that applies.
    slack.sb.clock.advance(46 * HOUR + 1)
    await fire_due(slack)
    [reminder] = gdpr_reminders(slack.dave)
    assert "may apply" not in reminder and EVERY in reminder and LEAD not in reminder
    # One incident may differ: /breach facts overrides the firm's answer for it alone.
    await set_facts(slack, eu_main_establishment="yes")
    applying, not_applying = (await obligations(slack)).split("Does not apply:")
    assert LEAD in applying and EVERY not in applying and EVERY in not_applying
    assert "From the firm's settings" not in applying


async def test_changing_the_firm_answer_moves_open_incidents(slack: Slack) -> None:
    await declare_eu(slack)
    incident = await slack.incident()
    channel = slack.channel(incident.channel_id)
    card = channel.pins[0].all_text  # both may apply: folded into the "may apply" line
    assert LEAD not in card and EVERY not in card and "main establishment in the EU" in card
    await edit_settings(slack, "heidi", {"Main establishment in the EU": "Yes"})
    card = channel.pins[0].refreshed().all_text
    assert LEAD in card and EVERY not in card
    await edit_settings(slack, "heidi", {"Main establishment in the EU": "Not known yet"})
    async with slack.db.session() as db:
        assert await firm_facts.load(db) == {}


async def test_a_place_no_regime_covers_is_said_not_left_silent(slack: Slack) -> None:
    await declare(slack, "Client files exposed", **{"Jurisdictions": ["EU / EEA", "Other"]})
    incident = await slack.incident()
    card = slack.channel(incident.channel_id).pins[0].all_text
    warning = "No regime in the regimes file covers Other / not sure: check its breach-notification law"
    assert warning in card and "or add it to the regimes file" in card
    text = await obligations(slack)
    assert warning in text
    # The EU is covered: the clocks are there and the EU is not in the warning.
    assert GDPR in text and "covers EU" not in text and "EU / EEA:" not in text


async def test_a_covered_incident_has_no_warning(slack: Slack) -> None:
    await declare(slack)
    incident = await slack.incident()
    assert "No regime in the regimes file" not in slack.channel(incident.channel_id).pins[0].all_text
    assert "No regime in the regimes file" not in await obligations(slack)


def test_the_warning_names_each_place_in_both_languages() -> None:
    regimes = load_config().regimes
    names = uncovered_names(["US-OR", "US-CA", "XX"], regimes)
    assert uncovered_line(names[:1], "en") == (
        "⚠️ No regime in the regimes file covers Oregon: check its breach-notification law, "
        "or add it to the regimes file."
    )
    assert uncovered_line(names[:1], "zh-CN") == (
        "⚠️ 法规文件中没有任何法规涵盖俄勒冈州：请核查当地的数据泄露通知法律，或将其加入法规文件。"
    )
    both = uncovered_line(names, "en")
    assert both is not None and "covers Oregon, Other / not sure: check their" in both
    assert uncovered_line([], "en") is None


def test_coverage_names_jurisdiction_and_includes_codes() -> None:
    regimes = load_config().regimes
    assert uncovered(["EU", "US", "US-CA", "US-FL", "CN", "UK"], regimes) == []
    assert uncovered(["US-OR", "XX", "EU", "US-OR"], regimes) == ["US-OR", "XX"]
    assert uncovered(None, regimes) == []


def test_may_apply_alternatives_remind_once_per_regime_and_deadline() -> None:
    from incident.clocks import facts_of
    from incident.regimes import evaluate

    regimes = load_config().regimes
    found = datetime(2026, 3, 2, 9, tzinfo=UTC)
    incident = unsaved_leak(found, ["EU"], ["payroll"], exfiltration_confirmed=True)
    unknown = clocks(incident, [], regimes, found + timedelta(hours=1))
    subjects = [s for s in clock_subjects(unknown) if s.key.startswith("eu-gdpr-33")]
    [maybe] = [s for s in subjects if s.may_apply]
    assert maybe.key == "eu-gdpr-33:may" and set(maybe.ids) == {
        "eu-gdpr-33/every_supervisory_authority",
        "eu-gdpr-33/lead_supervisory_authority",
    }
    assert maybe.deciding[0] == "eu_main_establishment" and "aware_at" in maybe.deciding
    firm = {"eu_main_establishment": True}
    assert facts_of(incident, firm).eu_main_establishment is True
    known = clocks(incident, [], regimes, found + timedelta(hours=1), firm=firm)
    ids = [s.ids for s in clock_subjects(known) if s.key.startswith("eu-gdpr-33")]
    assert ("eu-gdpr-33/lead_supervisory_authority",) in ids
    assert all("eu-gdpr-33/every_supervisory_authority" not in i for i in ids)
    # The incident's own answer wins over the firm's.
    incident.facts = {"eu_main_establishment": False}
    assert facts_of(incident, firm).eu_main_establishment is False
    assert [a for a in evaluate(facts_of(incident, firm), regimes) if a.id.startswith("eu-gdpr-33/")]


def test_an_alternative_already_notified_silences_its_may_apply_siblings() -> None:
    regimes = load_config().regimes
    found = datetime(2026, 3, 2, 9, tzinfo=UTC)
    incident = unsaved_leak(found, ["EU"], ["payroll"])
    told = unsaved_notification(
        "eu-gdpr-33", "every_supervisory_authority", found + timedelta(hours=5), recipient="DPC"
    )
    now = found + timedelta(hours=6)
    before = [s.key for s in clock_subjects(clocks(incident, [], regimes, now))]
    after = [s.key for s in clock_subjects(clocks(incident, [told], regimes, now))]
    assert "eu-gdpr-33:may" in before and "eu-gdpr-33:may" not in after
