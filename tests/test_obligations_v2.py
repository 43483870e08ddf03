"""Obligations per recipient: one clock per recipient, each from its own (or an assumed, labelled)
start; a notice stops only the clock of the obligation it names; `{after:}` clocks; a regime added
to a copy of the regimes file produces its clocks; `breachroom check` names a malformed clock's line.

The test regime lives in a copy of the packaged file this module writes, for a made-up state
(US-ZZ, "Zedland") no real regimes file lists, so these tests hold whatever the law content of
the packaged file becomes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from handlers.ids import ActionId
from incident.clocks import clocks, judged
from incident.regimes import DEFAULT_REGIMES_PATH, Facts, evaluate, load_regimes
from storage.models import Incident, Notification
from tests.harness import Slack, fire_due, running_bot, submit_form, unsaved_leak, unsaved_notification

HOUR = 3600
DAY = 24 * HOUR

ZEDLAND_CODE = "      - {code: US-ZZ, name: {zh-CN: 泽德兰州（测试）, en: Zedland (test state)}}\n"
ZEDLAND = """
  - id: test-us-state-zz
    name: {zh-CN: 泽德兰州数据泄露通知, en: Zedland breach notice}
    jurisdiction: US-ZZ
    applies_when:
      all:
        - {fact: jurisdictions, includes: US-ZZ}
        - {fact: data_categories, any_of: [national_id, bank_account]}
        - {fact: role, is: controller}
    sources:
      - cite: Zedland Breach Act § 1 (made up for these tests)
    obligations:
      - key: residents
        recipient: {zh-CN: 受影响的泽德兰州居民, en: Affected Zedland residents}
        recipient_kind: individuals
        clock_start: discovered_at
        deadline: 30d
      - key: attorney_general
        recipient: {zh-CN: 泽德兰州总检察长, en: The Zedland Attorney General}
        recipient_kind: attorney_general
        applies_when: {fact: people_affected, at_least: 500}
        clock_start: {after: residents}
        deadline: 15d
"""


def zedland_file(tmp_path: Path, regime: str = ZEDLAND) -> Path:
    """The packaged regimes plus Zedland: its code listed, its regime at the end."""
    text = DEFAULT_REGIMES_PATH.read_text(encoding="utf-8")
    anchor = "      - {code: US-CA,"
    assert anchor in text and "US-ZZ" not in text
    text = text.replace(anchor, ZEDLAND_CODE + anchor, 1).rstrip("\n") + "\n" + regime
    path = tmp_path / "regimes.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def declare(slack: Slack, jurisdictions: list[str]) -> Incident:
    await slack.alice.command("declare Client portal data taken")
    await slack.settle()
    delivery = await slack.alice.submit(
        {
            "Severity": "SEV2",
            "Data categories": ["national ID", "payroll"],
            "Jurisdictions": jurisdictions,
            "Was the data encrypted (key safe)?": "No",
            "Our role for this data": "Controller (we decide why the data is processed)",
        }
    )
    assert not delivery.errors, delivery.errors
    await slack.settle()
    return await slack.incident()


async def set_facts(slack: Slack, incident: Incident, **values: object) -> None:
    """The facts form, as the commander fills it in (it offers every code the file lists)."""
    await submit_form(slack, "heidi", "facts", incident.channel_id, values)


def line(text: str, fragment: str) -> str:
    found = [row for row in text.splitlines() if fragment in row]
    assert found, f"no line with {fragment!r} in:\n{text}"
    return found[0]


async def obligations_of(slack: Slack, incident: Incident) -> dict[str, str]:
    """``/breach obligations``, one entry per obligation shown: its first line → its whole section."""
    await slack.heidi.command("obligations", channel=incident.channel_id)
    await slack.settle()
    reply = slack.heidi.ephemerals[-1]
    sections = [
        reply.text_of(row) for row in reply.all_text.splitlines() if row.startswith("*") and "→" in row
    ]
    return {section.splitlines()[0]: section for section in sections}


def section(sections: dict[str, str], fragment: str) -> str:
    found = [text for first, text in sections.items() if fragment in first]
    assert found, f"no obligation {fragment!r} in {list(sections)}"
    return found[0]


async def notify(slack: Slack, incident: Incident, obligation: str, recipient: str, sent_at: int) -> None:
    values = {"recipient": recipient, "sent_at": sent_at}
    await submit_form(slack, "dave", f"notify {obligation}", incident.channel_id, values)


# --------------------------------------------------------------------------- through the front door


async def test_an_eu_china_california_florida_zedland_incident_shows_one_clock_per_recipient(
    db_url: str, tmp_path: Path
) -> None:
    async with running_bot(db_url, regimes_file=zedland_file(tmp_path)) as slack:
        incident = await declare(slack, ["China", "EU / EEA", "California"])
        declared = incident.declared_at
        # No EU main establishment: every member state's authority is told (no one-stop shop).
        await set_facts(
            slack,
            incident,
            jurisdictions=["China", "EU / EEA", "California", "Florida", "Zedland (test state)"],
            people_affected="1200",
            eu_main_establishment="No",
        )
        card = slack.channel(incident.channel_id).pins[0].refreshed().all_text
        said = await obligations_of(slack, incident)
        for find in (lambda fragment: line(card, fragment), lambda fragment: section(said, fragment)):
            # PIPL: the authority and the individuals, each its own clock (24 h from discovery).
            assert "due" in find("PIPL Art. 57) → The authority")
            assert "due" in find("PIPL Art. 57) → The affected individuals")
            # GDPR Art. 33 runs from awareness, not known yet: from the declaration, labelled.
            assert "assumed start" in find("GDPR Art. 33) → The supervisory authority of every member state")
            # California and Zedland: residents and attorney general apart.
            assert "due" in find("California breach notice → Affected California residents")
            assert "due" in find("Zedland breach notice → Affected Zedland residents")
            # Florida runs from the determination that a breach occurred, not known yet: assumed.
            # Residents, the AG (500 or more) and the credit bureaus (over 1,000), each its own.
            for recipient in (
                "Affected Florida residents",
                "The Florida Department of Legal Affairs",
                "The nationwide consumer reporting agencies",
            ):
                assert "assumed start" in find(f"Florida breach notice (§ 501.171) → {recipient}")
            zedland_ag = find("Zedland breach notice → The Zedland Attorney General")
            assert "assumed start" in zedland_ag and "Affected Zedland residents" in zedland_ag
        # The deadlines: PIPL 24 h, Zedland residents 30 days, the AG 15 days after those.
        views = {v.id: v for v in await clock_views(slack, incident)}
        assert views["cn-pipl-57/individuals"].deadline_at == declared + timedelta(hours=24)
        assert views["test-us-state-zz/residents"].deadline_at == declared + timedelta(days=30)
        assert views["test-us-state-zz/attorney_general"].deadline_at == declared + timedelta(days=45)
        assert views["eu-gdpr-33/every_supervisory_authority"].applicability.start_assumed
        for key in ("residents", "attorney_general", "credit_bureaus"):
            florida = views[f"us-state-fl/{key}"]
            assert florida.applicability.start_assumed
            assert florida.deadline_at == florida.applicability.clock_start + timedelta(days=30)
        assert "us-state-fl/data_owner" not in views  # a third party's duty; the firm is the controller
        assert "eu-gdpr-33/lead_supervisory_authority" not in views
        assert not views["cn-pipl-57/individuals"].applicability.start_assumed
        # The timeline speaks obligations when the facts moved them.
        moved = [e for e in await slack.timeline(incident) if e.kind == "clocks_reevaluated"][-1]
        assert "test-us-state-zz/residents" in [c["obligation"] for c in moved.data["changes"]]
        assert "Zedland breach notice — Affected Zedland residents now applies" in moved.summary


async def clock_views(slack: Slack, incident: Incident) -> list:  # type: ignore[type-arg]
    async with slack.db.session() as s:
        row = await s.get(Incident, incident.id)
        sent = list(
            (await s.execute(select(Notification).where(Notification.incident_id == incident.id))).scalars()
        )
    assert row is not None
    return clocks(row, sent, slack.rt.deps.config.regimes, slack.rt.clock.now())


async def test_a_pipl_authority_notice_leaves_the_individuals_clock_open(slack: Slack) -> None:
    incident = await declare(slack, ["China"])
    now = int(slack.rt.clock.now().timestamp())
    await notify(slack, incident, "cn-pipl-57/pi_authority", "Shanghai CAC office", now - 60)
    card = slack.channel(incident.channel_id).pins[0].refreshed().all_text
    assert "notified" in line(card, "PIPL Art. 57) → The authority")
    individuals = line(card, "PIPL Art. 57) → The affected individuals")
    assert "notified" not in individuals and "due" in individuals
    said = await obligations_of(slack, incident)
    assert "met" in section(said, "PIPL Art. 57) → The authority")
    assert "left" in section(said, "PIPL Art. 57) → The affected individuals")
    async with slack.db.session() as s:
        (row,) = (await s.execute(select(Notification))).scalars()
    assert (row.regime, row.obligation, row.recipient_kind) == ("cn-pipl-57", "pi_authority", "authority")
    announced = slack.channel(incident.channel_id).message_with_text("Notification recorded").all_text
    assert "PIPL Art. 57) → The authority" in announced
    # The individuals' clock still reminds: at its deadline the channel hears it is overdue.
    slack.sb.clock.advance(25 * HOUR)
    await fire_due(slack)
    said = [
        m.all_text
        for m in slack.channel(incident.channel_id).messages
        if "Regulatory clocks" not in m.all_text
    ]
    overdue = [text for text in said if "overdue" in text]
    assert any("affected individuals" in m for m in overdue)
    assert not any("The authority responsible" in m for m in overdue)


async def test_a_clock_after_another_runs_from_its_notice_once_recorded(db_url: str, tmp_path: Path) -> None:
    async with running_bot(db_url, regimes_file=zedland_file(tmp_path)) as slack:
        incident = await declare(slack, ["California"])
        await set_facts(slack, incident, jurisdictions=["Zedland (test state)"], people_affected="800")
        before = {v.id: v for v in await clock_views(slack, incident)}["test-us-state-zz/attorney_general"]
        assert before.applicability.start_assumed and before.applicability.after is not None
        slack.sb.clock.advance(3 * DAY)
        told = int(slack.rt.clock.now().timestamp()) - 60
        await notify(slack, incident, "test-us-state-zz/residents", "Letters to 800 residents", told)
        after = {v.id: v for v in await clock_views(slack, incident)}["test-us-state-zz/attorney_general"]
        assert not after.applicability.start_assumed
        assert after.deadline_at == datetime.fromtimestamp(told, tz=UTC) + timedelta(days=15)
        assert after.state == "open"
        ag = line(slack.channel(incident.channel_id).pins[0].refreshed().all_text, "Zedland Attorney General")
        assert "assumed start" not in ag


async def test_a_decision_not_to_notify_names_one_obligation(slack: Slack) -> None:
    incident = await declare(slack, ["China"])
    await slack.erin.command("nonotify", channel=incident.channel_id)
    await slack.settle()
    delivery = await slack.erin.submit(
        {"Obligation": "→ The affected individuals", "Rationale": "Harm avoided: key revoked"}
    )
    assert not delivery.errors, delivery.errors
    await slack.settle()
    card = slack.channel(incident.channel_id).pins[0].refreshed().all_text
    assert "decided not to notify" in line(card, "PIPL Art. 57) → The affected individuals")
    assert "decided not to notify" not in line(card, "PIPL Art. 57) → The authority")


# --------------------------------------------------------------------------- breachroom check


def test_check_rejects_a_regime_with_a_malformed_clock_and_names_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = zedland_file(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        "clock_start: {after: residents}", "clock_start: {after: nobody}"
    )
    path.write_text(text, encoding="utf-8")
    number = next(i for i, row in enumerate(text.splitlines(), 1) if "{after: nobody}" in row)
    assert main(["check", "--regimes", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{number}: after: 'nobody' is not an obligation of this regime" in err


def test_check_counts_the_obligations_of_a_valid_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = zedland_file(tmp_path)
    assert main(["check", "--regimes", str(path)]) == 0
    regimes = load_regimes(path)
    count = sum(1 for _ in regimes.obligations())
    assert f"{len(regimes)} regimes, {count} obligations" in capsys.readouterr().out


# --------------------------------------------------------------------------- pure parts


MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_an_after_clock_is_assumed_from_its_predecessors_deadline_until_met(tmp_path: Path) -> None:
    regimes = load_regimes(zedland_file(tmp_path))
    facts = Facts(
        jurisdictions=frozenset({"US-ZZ"}),
        data_categories=frozenset({"national_id"}),
        role="controller",
        people_affected=600,
        discovered_at=MONDAY,
    )
    ag = next(a for a in evaluate(facts, regimes) if a.id == "test-us-state-zz/attorney_general")
    assert ag.start_assumed and ag.clock_start == MONDAY + timedelta(days=30)
    assert ag.deadline_at == MONDAY + timedelta(days=45)
    told = MONDAY + timedelta(days=2)
    met = {"test-us-state-zz/residents": told}
    ag = next(a for a in evaluate(facts, regimes, met) if a.id == "test-us-state-zz/attorney_general")
    assert not ag.start_assumed and ag.deadline_at == told + timedelta(days=15)
    # Under the threshold the AG is not owed at all; the residents still are.
    fewer = Facts(**{**facts.__dict__, "people_affected": 100})
    verdicts = {a.id: a.status for a in evaluate(fewer, regimes)}
    assert verdicts["test-us-state-zz/attorney_general"] == "does_not_apply"
    assert verdicts["test-us-state-zz/residents"] == "applies"


def test_determination_is_a_clock_start_that_moves_an_assumed_clock(tmp_path: Path) -> None:
    residents_clock = (
        "        clock_start: discovered_at\n        deadline: 30d\n      - key: attorney_general"
    )
    assert ZEDLAND.count(residents_clock) == 1
    regimes = load_regimes(
        zedland_file(
            tmp_path, ZEDLAND.replace(residents_clock, residents_clock.replace("discovered", "determined"))
        )
    )
    facts = Facts(
        jurisdictions=frozenset({"US-ZZ"}),
        data_categories=frozenset({"national_id"}),
        role="controller",
        discovered_at=MONDAY,
    )
    residents = next(a for a in evaluate(facts, regimes) if a.id == "test-us-state-zz/residents")
    assert residents.start_assumed and residents.clock_start == MONDAY
    assert "determined_at" in residents.missing_facts
    determined = Facts(**{**facts.__dict__, "determined_at": MONDAY + timedelta(days=5)})
    residents = next(a for a in evaluate(determined, regimes) if a.id == "test-us-state-zz/residents")
    assert not residents.start_assumed and residents.deadline_at == MONDAY + timedelta(days=35)


def test_a_notice_written_before_obligations_stands_for_its_whole_regime() -> None:
    regimes = load_regimes()
    incident = unsaved_leak(MONDAY, ["CN"], ["national_id"])
    # Recorded before notices named an obligation, to a "regulator" (the old recipient kind).
    old = unsaved_notification(
        "cn-pipl-57",
        None,
        MONDAY + timedelta(hours=2),
        recipient_kind="regulator",
        recipient="CAC",
        recorded_at=MONDAY + timedelta(hours=2),
    )
    views = {v.id: v for v in clocks(incident, [old], regimes, MONDAY + timedelta(hours=3))}
    assert views["cn-pipl-57/pi_authority"].state == "met"
    assert views["cn-pipl-57/individuals"].state == "met"
    assert [a.id for a in judged(incident, [old], regimes)] == [o.id for o in regimes.obligations()]


def test_obligations_past_what_one_message_holds_are_all_listed_none_dropped() -> None:
    """An incident in every listed place: each obligation that applies or may is listed with its
    Draft button while Slack's 50 blocks allow; past that, the rest as packed lines, and the facts
    footer still last. Doubled here, so the list is sure to overflow whatever the file holds."""
    from handlers.render.common import MESSAGE_BLOCKS_MAX
    from handlers.render.notify import obligations

    regimes = load_regimes(DEFAULT_REGIMES_PATH)
    now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    incident = unsaved_leak(
        now - timedelta(hours=5), list(regimes.jurisdiction_codes()), list(regimes.category_keys()), id=7
    )
    views = clocks(incident, [], regimes, now)
    evaluated = judged(incident, [], regimes)
    listed = [a for a in evaluated if a.status != "does_not_apply" and not a.register_only]
    assert len(listed) > 20

    def rendered(apps: list) -> tuple[list[dict], str]:
        blocks = obligations(incident, views, apps, "en", now, "/breach")
        return blocks, "\n".join(json.dumps(b, ensure_ascii=False) for b in blocks)

    def drafts(blocks: list[dict]) -> list[dict]:
        return [b for b in blocks if b.get("accessory", {}).get("action_id") == ActionId.NOTICE_DRAFT]

    few = listed[:10]  # well within one message, whatever the file holds
    blocks, text = rendered(few)
    assert len(drafts(blocks)) == len(few), "each listed obligation has its Draft button"
    blocks, text = rendered(evaluated + evaluated)
    assert len(blocks) <= MESSAGE_BLOCKS_MAX
    for app in listed:
        assert text.count(f"notify {app.id}`") == 2, app.id  # both copies, none dropped
    assert drafts(blocks), "the first ones keep their Draft button"
    assert blocks[-2]["type"] == "divider" and "facts" in json.dumps(blocks[-1])
