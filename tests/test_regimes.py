"""Which notification duties an incident triggers, and when each clock runs out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident.errors import NotFound
from incident.regimes import (
    CLOCK_STARTS,
    REMINDER_OFFSETS,
    After,
    Applicability,
    Duration,
    Facts,
    InvalidFact,
    Regimes,
    clock_state,
    diff,
    evaluate,
    is_missed,
    load_regimes,
    reminder_times,
    time_left,
)
from incident.yamlsource import ConfigError

REGIMES = load_regimes()
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# A US tax client's data: the common case for the firms this bot serves. A tax preparer is a
# financial institution under the FTC Safeguards Rule (the FTC's own guidance says so).
US_TAX_BREACH = Facts(
    jurisdictions=frozenset({"US"}),
    data_categories=frozenset({"national_id", "tax_return"}),
    encrypted=False,
    role="controller",
    covered_financial_institution=True,
    discovered_at=MONDAY,
)


def verdict(facts: Facts, named: str, regimes: Regimes = REGIMES) -> Applicability:
    """The verdict on an obligation (``<regime id>/<key>``), or on a regime's first obligation."""
    return next(a for a in evaluate(facts, regimes) if named in (a.id, a.regime.id))


def with_(facts: Facts, **changes: object) -> Facts:
    from dataclasses import replace

    return replace(facts, **changes)


# --------------------------------------------------------------------------- the packaged file


def test_the_packaged_file_holds_every_regime_of_the_domain_table() -> None:
    assert set(REGIMES.ids()) == {
        "cn-pipl-57",
        "cn-cac-report",
        "eu-gdpr-33",
        "eu-gdpr-34",
        "eu-gdpr-33-5",
        "uk-gdpr-33",
        "uk-gdpr-34",
        "uk-gdpr-33-5",
        "processor-notify-controller",
        "us-ftc-safeguards",
        "us-irs-tax-pro",
        "us-hipaa-ba",
        "us-sec-8k-105",
        "us-state-ca",
        "us-state-co",
        "us-state-fl",
        "us-state-ny",
        "us-state-tx",
        "us-state-vt",
        "us-state-wa",
    }
    # Every obligation (one per recipient) with its clock start and deadline.
    expected: dict[str, tuple[object, str | None]] = {
        "cn-pipl-57/pi_authority": ("discovered_at", "24h"),
        "cn-pipl-57/individuals": ("discovered_at", "24h"),
        "cn-cac-report/provincial_cac": ("discovered_at", "4h"),
        "cn-cac-report/cii_protection_dept": ("discovered_at", "1h"),
        "cn-cac-report/police": ("discovered_at", "24h"),
        "eu-gdpr-33/every_supervisory_authority": ("aware_at", "72h"),
        "eu-gdpr-33/lead_supervisory_authority": ("aware_at", "72h"),
        "eu-gdpr-34/data_subjects": ("aware_at", "72h"),
        "eu-gdpr-33-5/breach_register": (None, None),
        "uk-gdpr-33/ico": ("aware_at", "72h"),
        "uk-gdpr-34/data_subjects": ("aware_at", "72h"),
        "uk-gdpr-33-5/breach_register": (None, None),
        "processor-notify-controller/controller": ("discovered_at", "24h"),
        "us-ftc-safeguards/ftc": ("discovered_at", "30d"),
        "us-irs-tax-pro/irs_stakeholder_liaison": ("discovered_at", "24h"),
        "us-irs-tax-pro/w2_dataloss": ("discovered_at", "24h"),
        "us-irs-tax-pro/state_tax_agencies": ("discovered_at", "24h"),
        "us-hipaa-ba/covered_entity": ("discovered_at", "60d"),
        "us-sec-8k-105/sec": ("materiality_decided_at", "4bd"),
        "us-state-ca/residents": ("discovered_at", "30d"),
        "us-state-ca/attorney_general": (After("residents"), "15d"),
        "us-state-co/residents": ("determined_at", "30d"),
        "us-state-co/attorney_general": ("determined_at", "30d"),
        "us-state-co/credit_bureaus": ("determined_at", "30d"),
        "us-state-fl/residents": ("determined_at", "30d"),
        "us-state-fl/attorney_general": ("determined_at", "30d"),
        "us-state-fl/credit_bureaus": ("determined_at", "30d"),
        "us-state-fl/data_owner": ("determined_at", "10d"),
        "us-state-ny/residents": ("discovered_at", "30d"),
        "us-state-ny/attorney_general": ("discovered_at", "30d"),
        "us-state-ny/department_of_state": ("discovered_at", "30d"),
        "us-state-ny/state_police": ("discovered_at", "30d"),
        "us-state-ny/credit_bureaus": ("discovered_at", "30d"),
        "us-state-ny/dfs": ("determined_at", "72h"),
        "us-state-tx/individuals": ("determined_at", "60d"),
        "us-state-tx/attorney_general": ("determined_at", "30d"),
        "us-state-tx/credit_bureaus": ("determined_at", "60d"),
        "us-state-vt/attorney_general": ("discovered_at", "14bd"),
        "us-state-vt/residents": ("discovered_at", "45d"),
        "us-state-vt/credit_bureaus": ("discovered_at", "45d"),
        "us-state-wa/residents": ("discovered_at", "30d"),
        "us-state-wa/attorney_general": ("discovered_at", "30d"),
    }
    found = {
        o.id: (o.clock_start, o.deadline and str(o.deadline))
        for regime in REGIMES
        for o in regime.obligations
    }
    assert found == expected


def test_every_regime_cites_a_source_and_what_is_not_checked_is_flagged_unverified() -> None:
    for regime in REGIMES:
        assert regime.sources, regime.id
        assert regime.obligations, regime.id
        assert any(o.notice_contents for o in regime.obligations), regime.id
    # The state laws were checked against the statutes; what is still taken from a secondary
    # source (a regulator's form or page, a secondary copy) says so, in both languages.
    flagged = {r.id for r in REGIMES if r.unverified} | {
        o.id for r in REGIMES for o in r.obligations if o.unverified
    }
    assert flagged == {
        "cn-cac-report",
        "us-state-co/attorney_general",
        "us-state-ny/dfs",
        "us-state-vt/credit_bureaus",
    }
    for regime in REGIMES:
        for text in (regime.unverified, *(o.unverified for o in regime.obligations)):
            assert text is None or (text.zh_CN and text.en), regime.id
    for regime_id in (
        "us-state-ca",
        "us-state-fl",
        "us-state-ny",
        "us-state-tx",
        "us-state-vt",
        "us-state-wa",
    ):
        regime = REGIMES.get(regime_id)
        guidance = [s for s in regime.sources if "AG" in s.cite or "Attorney General" in s.cite]
        assert guidance and all(s.note == "unverified" for s in guidance), regime_id


def test_laws_that_say_immediately_carry_an_editable_target_note() -> None:
    for regime_id in ("cn-pipl-57", "eu-gdpr-34", "us-irs-tax-pro", "processor-notify-controller"):
        for obligation in REGIMES.get(regime_id).obligations:
            note = obligation.target_note
            assert note is not None and note.zh_CN and note.en


# --------------------------------------------------------------------------- GDPR


def eu_breach(**changes: object) -> Facts:
    """Unencrypted payroll data of people in the EU, the firm its controller."""
    base = Facts(
        jurisdictions=frozenset({"EU"}),
        data_categories=frozenset({"payroll"}),
        encrypted=False,
        role="controller",
    )
    return with_(base, **changes)


def test_gdpr_gives_the_authority_72_hours_from_awareness_not_discovery() -> None:
    aware = MONDAY + timedelta(days=2)
    facts = eu_breach(eu_main_establishment=False, discovered_at=MONDAY, aware_at=aware)
    gdpr = verdict(facts, "eu-gdpr-33/every_supervisory_authority")
    assert gdpr.status == "applies"
    assert gdpr.clock_start == aware
    assert gdpr.deadline_at == aware + timedelta(hours=72)


def test_gdpr_clock_runs_from_discovery_until_awareness_is_known_and_asks_for_it() -> None:
    facts = eu_breach(eu_main_establishment=False, discovered_at=MONDAY)
    gdpr = verdict(facts, "eu-gdpr-33/every_supervisory_authority")
    assert gdpr.status == "applies"
    # Never "not started" for a duty that applies: 72 h from discovery, marked as assumed.
    assert gdpr.start_assumed and gdpr.clock_start == MONDAY
    assert gdpr.deadline_at == MONDAY + timedelta(hours=72)
    assert gdpr.missing_facts == ["aware_at"]
    assert any("runs from discovery, assumed" in r.en for r in gdpr.reasons)
    # Recording the real start moves the clock to it, no longer assumed.
    aware = verdict(
        replace(facts, aware_at=MONDAY + timedelta(hours=5)), "eu-gdpr-33/every_supervisory_authority"
    )
    assert not aware.start_assumed and aware.deadline_at == MONDAY + timedelta(hours=77)


def test_with_nothing_known_but_the_declaration_a_clock_runs_from_it() -> None:
    facts = eu_breach(eu_main_establishment=False, declared_at=MONDAY)
    gdpr = verdict(facts, "eu-gdpr-33/every_supervisory_authority")
    assert gdpr.start_assumed and gdpr.deadline_at == MONDAY + timedelta(hours=72)
    assert any("runs from the declaration" in r.en for r in gdpr.reasons)


def test_data_subjects_are_told_only_when_the_risk_is_high() -> None:
    facts = eu_breach(data_categories=frozenset({"bank_account"}), aware_at=MONDAY)
    assert verdict(facts, "eu-gdpr-34").status == "unknown"
    assert verdict(facts, "eu-gdpr-34").missing_facts == ["high_risk"]
    assert verdict(with_(facts, high_risk=True), "eu-gdpr-34").status == "applies"
    assert verdict(with_(facts, high_risk=False), "eu-gdpr-34").status == "does_not_apply"


def test_the_breach_register_has_no_clock() -> None:
    facts = eu_breach(data_categories=frozenset({"contact"}), encrypted=True, aware_at=MONDAY)
    register = verdict(facts, "eu-gdpr-33-5")
    assert register.status == "applies"
    assert register.regime.register_only
    assert register.deadline_at is None and register.clock_start is None
    # Encrypted with the key safe: no notice to the authority, but still a register entry.
    assert verdict(facts, "eu-gdpr-33").status == "does_not_apply"


# --------------------------------------------------------------------------- FTC Safeguards


def test_ftc_applies_at_500_unencrypted_consumers() -> None:
    ftc = verdict(with_(US_TAX_BREACH, people_affected=500), "us-ftc-safeguards")
    assert ftc.status == "applies"
    assert ftc.deadline_at == MONDAY + timedelta(days=30)
    assert any("≥500 people affected (500)" in r.en for r in ftc.reasons)
    assert any("受影响人数 ≥500（500）" in r.zh_CN for r in ftc.reasons)
    assert any(r.en == "data not encrypted" for r in ftc.reasons)


def test_ftc_does_not_apply_at_499_consumers() -> None:
    ftc = verdict(with_(US_TAX_BREACH, people_affected=499), "us-ftc-safeguards")
    assert ftc.status == "does_not_apply"
    assert [r.en for r in ftc.reasons] == ["fewer than 500 people affected (499)"]
    assert ftc.deadline_at is None


def test_ftc_does_not_apply_when_the_data_was_encrypted() -> None:
    ftc = verdict(with_(US_TAX_BREACH, people_affected=5000, encrypted=True), "us-ftc-safeguards")
    assert ftc.status == "does_not_apply"
    assert [r.en for r in ftc.reasons] == ["data encrypted, key safe"]


def test_ftc_is_unknown_while_the_count_is_unknown_and_says_what_to_find_out() -> None:
    ftc = verdict(US_TAX_BREACH, "us-ftc-safeguards")
    assert ftc.status == "unknown"
    assert ftc.missing_facts == ["people_affected"]
    # A possibly running clock is still shown.
    assert ftc.deadline_at == MONDAY + timedelta(days=30)


def test_a_state_code_implies_its_country() -> None:
    facts = with_(US_TAX_BREACH, jurisdictions=frozenset({"US-CA"}), people_affected=800)
    assert verdict(facts, "us-ftc-safeguards").status == "applies"
    assert verdict(facts, "us-state-ca").status == "applies"
    assert verdict(facts, "us-state-ny").status == "does_not_apply"


# --------------------------------------------------------------------------- China


def cn_breach(**changes: object) -> Facts:
    base = Facts(
        jurisdictions=frozenset({"CN"}),
        data_categories=frozenset({"contact"}),
        role="controller",
        discovered_at=MONDAY,
    )
    return with_(base, **changes)


def test_pipl_57_applies_to_any_personal_information_leak_in_china_whatever_its_size() -> None:
    for people in (1, 10, 5_000_000):
        pipl = verdict(cn_breach(people_affected=people), "cn-pipl-57")
        assert pipl.status == "applies"
        assert pipl.deadline_at == MONDAY + timedelta(hours=24)
    # "or possibly so": neither the count nor confirmed exfiltration is needed.
    pipl = verdict(cn_breach(exfiltration_confirmed=False), "cn-pipl-57")
    assert pipl.status == "applies" and pipl.missing_facts == []


def test_pipl_57_does_not_apply_without_personal_information() -> None:
    assert verdict(cn_breach(data_categories=frozenset({"ledger"})), "cn-pipl-57").status == "does_not_apply"


def test_cac_report_is_due_in_4_hours_from_a_million_people() -> None:
    cac = verdict(cn_breach(people_affected=1_000_000, critical_infrastructure=False), "cn-cac-report")
    assert cac.status == "applies"
    assert cac.deadline_at == MONDAY + timedelta(hours=4)
    assert any("较大" in r.zh_CN for r in cac.reasons)
    below = verdict(cn_breach(people_affected=999_999), "cn-cac-report")
    assert below.status == "does_not_apply"


def test_cac_report_is_due_in_1_hour_for_critical_infrastructure() -> None:
    facts = cn_breach(people_affected=2_000_000, critical_infrastructure=True)
    cac = verdict(facts, "cn-cac-report/cii_protection_dept")
    assert cac.status == "applies"
    assert cac.deadline_at == MONDAY + timedelta(hours=1)
    assert str(cac.deadline) == "1h"
    # The 1-hour report goes to the protection department instead of the provincial office.
    assert verdict(facts, "cn-cac-report/provincial_cac").status == "does_not_apply"


def test_cac_runs_the_1_hour_clock_too_while_critical_infrastructure_is_unknown() -> None:
    facts = cn_breach(people_affected=2_000_000)
    cii = verdict(facts, "cn-cac-report/cii_protection_dept")
    provincial = verdict(facts, "cn-cac-report/provincial_cac")
    # Either report may be due: both clocks run, so the shorter one is never missed unseen.
    assert cii.status == provincial.status == "unknown"
    assert cii.deadline_at == MONDAY + timedelta(hours=1)
    assert provincial.deadline_at == MONDAY + timedelta(hours=4)
    assert cii.missing_facts == provincial.missing_facts == ["critical_infrastructure"]


# --------------------------------------------------------------------------- processor


def test_a_processor_must_first_tell_its_client_and_files_no_controller_notices() -> None:
    facts = Facts(
        jurisdictions=frozenset({"EU", "CN"}),
        data_categories=frozenset({"payroll"}),
        encrypted=False,
        role="processor",
        discovered_at=MONDAY,
        aware_at=MONDAY,
    )
    tell_client = verdict(facts, "processor-notify-controller")
    assert tell_client.status == "applies"
    assert tell_client.deadline_at == MONDAY + timedelta(hours=24)
    assert any("processor" in r.en for r in tell_client.reasons)
    assert any("(GDPR) Art. 33(2)" in s.cite for s in tell_client.regime.sources)
    assert verdict(facts, "eu-gdpr-33").status == "does_not_apply"
    assert verdict(facts, "cn-pipl-57").status == "does_not_apply"


def test_an_unknown_role_leaves_controller_duties_unknown() -> None:
    facts = with_(US_TAX_BREACH, role=None, jurisdictions=frozenset({"US-TX"}))
    tx = verdict(facts, "us-state-tx/individuals")
    # Texas also counts from the determination, not yet recorded.
    assert tx.status == "unknown" and tx.missing_facts == ["role", "determined_at"]
    assert verdict(facts, "processor-notify-controller").status == "unknown"


# --------------------------------------------------------------------------- US states


def test_texas_attorney_general_is_told_from_250_residents() -> None:
    texas = with_(US_TAX_BREACH, jurisdictions=frozenset({"US-TX"}))
    at_250 = verdict(with_(texas, people_affected=250), "us-state-tx/attorney_general")
    assert at_250.status == "applies"
    # Texas counts from the determination; until it is recorded, from discovery, assumed.
    assert at_250.start_assumed and at_250.deadline_at == MONDAY + timedelta(days=30)
    assert verdict(with_(texas, people_affected=249), "us-state-tx/attorney_general").status == (
        "does_not_apply"
    )
    individuals = verdict(with_(texas, people_affected=249), "us-state-tx/individuals")
    assert individuals.status == "applies"
    assert individuals.deadline_at == MONDAY + timedelta(days=60)


def test_vermont_gives_the_attorney_general_14_business_days() -> None:
    facts = with_(US_TAX_BREACH, jurisdictions=frozenset({"US-VT"}))
    vt = verdict(facts, "us-state-vt/attorney_general")
    # Monday 2 March + 14 business days skips two weekends: Friday 20 March.
    assert vt.deadline_at == datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    assert verdict(facts, "us-state-vt/residents").deadline_at == MONDAY + timedelta(days=45)


# --------------------------------------------------------------------------- SEC and business days


def test_sec_8k_counts_four_business_days_over_a_weekend() -> None:
    friday = datetime(2026, 3, 6, 15, 30, tzinfo=UTC)
    facts = Facts(
        jurisdictions=frozenset({"US"}),
        public_company_client=True,
        public_company_material=True,
        materiality_decided_at=friday,
        discovered_at=MONDAY,
    )
    sec = verdict(facts, "us-sec-8k-105")
    assert sec.status == "applies"
    assert sec.clock_start == friday
    assert sec.deadline_at == datetime(2026, 3, 12, 15, 30, tzinfo=UTC)  # Thursday


def test_business_days_from_a_weekend_start_count_from_monday() -> None:
    saturday = datetime(2026, 3, 7, 8, 0, tzinfo=UTC)
    assert Duration.parse("1bd").after(saturday) == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    assert Duration.parse("5bd").after(MONDAY) == MONDAY + timedelta(days=7)


def test_clock_starts_are_normalised_to_utc() -> None:
    from zoneinfo import ZoneInfo

    shanghai = datetime(2026, 3, 2, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    facts = cn_breach(discovered_at=shanghai)
    assert facts.discovered_at == MONDAY
    assert facts.discovered_at.tzinfo is UTC


def test_naive_times_and_malformed_categories_are_refused() -> None:
    with pytest.raises(InvalidFact):
        Facts(discovered_at=datetime(2026, 3, 2, 9, 0))
    with pytest.raises(InvalidFact):
        Facts(data_categories=frozenset({"SSN!"}))
    with pytest.raises(InvalidFact):
        Facts(people_affected=-1)


# --------------------------------------------------------------------------- re-evaluation


def test_diff_reports_ftc_starting_to_apply_when_the_count_rises_past_500() -> None:
    before = evaluate(with_(US_TAX_BREACH, people_affected=400), REGIMES)
    after = evaluate(with_(US_TAX_BREACH, people_affected=1200), REGIMES)
    changes = diff(before, after)
    assert [(c.regime_id, c.kind) for c in changes] == [("us-ftc-safeguards", "started")]
    (change,) = changes
    assert change.old_status == "does_not_apply" and change.new_status == "applies"
    assert change.new_deadline_at == MONDAY + timedelta(days=30)
    assert "now applies" in change.describe().en
    assert "现已适用" in change.describe().zh_CN
    assert diff(after, after) == []


def test_diff_reports_a_moved_deadline_and_a_regime_that_stops_applying() -> None:
    before = evaluate(cn_breach(people_affected=2_000_000), REGIMES)
    after = evaluate(cn_breach(people_affected=2_000_000, critical_infrastructure=False), REGIMES)
    moves = {c.obligation_id: c for c in diff(before, after)}
    # Not critical infrastructure: the 4-hour report to the province, not the 1-hour one.
    assert sorted((k, c.kind) for k, c in moves.items()) == [
        ("cn-cac-report/cii_protection_dept", "status_changed"),
        ("cn-cac-report/provincial_cac", "started"),
    ]
    assert moves["cn-cac-report/provincial_cac"].new_deadline_at == MONDAY + timedelta(hours=4)
    assert "CAC" in moves["cn-cac-report/provincial_cac"].describe().en
    assert "provincial CAC office" in moves["cn-cac-report/provincial_cac"].describe().en
    assert moves["cn-cac-report/cii_protection_dept"].new_deadline_at is None
    gone = diff(after, evaluate(cn_breach(people_affected=10), REGIMES))
    assert ("cn-cac-report/provincial_cac", "stopped") in [(c.obligation_id, c.kind) for c in gone]
    # Recording Texas's determination two days after discovery moves its clocks by two days.
    texas = with_(US_TAX_BREACH, jurisdictions=frozenset({"US-TX"}), people_affected=300)
    determined = MONDAY + timedelta(days=2)
    moved = {
        c.obligation_id: c
        for c in diff(evaluate(texas, REGIMES), evaluate(with_(texas, determined_at=determined), REGIMES))
    }
    assert {k: c.kind for k, c in moved.items()} == {
        "us-state-tx/individuals": "deadline_changed",
        "us-state-tx/attorney_general": "deadline_changed",
    }
    ag = moved["us-state-tx/attorney_general"]
    assert ag.old_deadline_at == MONDAY + timedelta(days=30)
    assert ag.new_deadline_at == determined + timedelta(days=30)
    assert "deadline 2026-04-01 09:00 UTC → 2026-04-03 09:00 UTC" in ag.describe().en


# --------------------------------------------------------------------------- clock state and reminders


def test_clock_states() -> None:
    ftc = verdict(with_(US_TAX_BREACH, people_affected=1200), "us-ftc-safeguards")
    deadline = ftc.deadline_at
    assert deadline is not None
    before, after = deadline - timedelta(hours=1), deadline + timedelta(hours=1)
    assert clock_state(ftc, None, before) == "open"
    assert clock_state(ftc, None, deadline) == "open"
    assert clock_state(ftc, None, after) == "overdue"
    assert clock_state(ftc, deadline, after) == "met"
    assert clock_state(ftc, before, after) == "met"
    assert clock_state(ftc, after, after) == "late"
    assert is_missed("late") and is_missed("overdue") and not is_missed("met")
    register = verdict(
        Facts(jurisdictions=frozenset({"EU"}), data_categories=frozenset({"contact"}), role="controller"),
        "eu-gdpr-33-5",
    )
    assert clock_state(register, None, after) == "unscheduled"


def test_time_left_goes_negative_after_the_deadline() -> None:
    deadline = MONDAY + timedelta(hours=72)
    assert time_left(deadline, MONDAY) == timedelta(hours=72)
    assert time_left(deadline, deadline + timedelta(minutes=5)) == timedelta(minutes=-5)
    assert time_left(None, MONDAY) is None


def test_reminders_skip_what_is_past_but_always_keep_overdue() -> None:
    deadline = MONDAY + timedelta(hours=72)
    assert [label for label, _ in REMINDER_OFFSETS] == ["T-24h", "T-4h", "T-1h", "overdue"]
    assert reminder_times(deadline, MONDAY) == [
        ("T-24h", deadline - timedelta(hours=24)),
        ("T-4h", deadline - timedelta(hours=4)),
        ("T-1h", deadline - timedelta(hours=1)),
        ("overdue", deadline),
    ]
    assert reminder_times(deadline, deadline - timedelta(hours=2)) == [
        ("T-1h", deadline - timedelta(hours=1)),
        ("overdue", deadline),
    ]
    assert reminder_times(deadline, deadline + timedelta(days=1)) == [("overdue", deadline)]


# --------------------------------------------------------------------------- property


def _optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


_times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9000, 12, 31), timezones=st.just(UTC)
)
_codes = st.sampled_from(["CN", "EU", "US", "US-CA", "US-CO", "US-WA", "US-NY", "US-TX", "US-VT", "GB", "DE"])

facts_strategy = st.builds(
    Facts,
    jurisdictions=_optional(st.frozensets(_codes)),
    people_affected=_optional(st.integers(min_value=0, max_value=10**10)),
    data_categories=_optional(st.frozensets(st.sampled_from(sorted(REGIMES.category_keys())))),
    encrypted=_optional(st.booleans()),
    exfiltration_confirmed=_optional(st.booleans()),
    role=_optional(st.sampled_from(["controller", "processor"])),
    critical_infrastructure=_optional(st.booleans()),
    high_risk=_optional(st.booleans()),
    crime_suspected=_optional(st.booleans()),
    public_company_material=_optional(st.booleans()),
    systemic_compromise=_optional(st.booleans()),
    filings_disrupted_near_deadline=_optional(st.booleans()),
    discovered_at=_optional(_times),
    aware_at=_optional(_times),
    determined_at=_optional(_times),
    materiality_decided_at=_optional(_times),
    declared_at=_optional(_times),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(facts_strategy)
def test_evaluate_never_raises_and_every_running_clock_has_a_deadline(facts: Facts) -> None:
    results = evaluate(facts, REGIMES)
    assert [a.id for a in results] == [o.id for o in REGIMES.obligations()]
    for a in results:
        assert a.status in ("applies", "does_not_apply", "unknown")
        assert a.reasons, a.regime.id
        assert all(r.zh_CN and r.en for r in a.reasons)
        if a.status == "unknown":
            assert a.missing_facts, a.regime.id
        if a.status == "does_not_apply":
            assert a.deadline_at is None
        if a.status == "applies" and a.clock_start is not None:
            assert a.register_only or a.deadline_at is not None
            assert a.deadline_at is None or a.deadline_at > a.clock_start
        if a.status == "applies" and not a.register_only and a.clock_start is None:
            start = a.obligation.clock_start
            if isinstance(start, After):
                # Runs after another notice whose own clock has not started: what starts that one.
                assert any(name in CLOCK_STARTS for name in a.missing_facts), a.id
            else:
                assert start in a.missing_facts
        for name in a.missing_facts:
            assert name in Facts.__dataclass_fields__
            assert getattr(facts, name) is None


# --------------------------------------------------------------------------- loader


GOOD_REGIME = """\
version: 2
jurisdictions:
  - group: {zh-CN: 美国, en: United States}
    codes:
      - {code: US, name: {zh-CN: 美国, en: United States}}
categories:
  - {key: national_id, name: {zh-CN: 身份证件号码, en: national ID}}
regimes:
  - id: test-regime
    name: {zh-CN: 测试, en: Test}
    jurisdiction: US
    applies_when: {fact: people_affected, at_least: 10}
    sources:
      - cite: Some Act s. 1
    obligations:
      - key: someone
        recipient: {zh-CN: 某人, en: Someone}
        recipient_kind: authority
        clock_start: discovered_at
        deadline: 72h
        notice_contents:
          - key: what
            text: {zh-CN: 内容, en: What}
            fill: people_affected
            ask: forensics
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "regimes.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(ConfigError) as caught:
        load_regimes(write(tmp_path, text))
    return [(p.line, p.message) for p in caught.value.problems]


def test_a_minimal_file_loads(tmp_path: Path) -> None:
    regimes = load_regimes(write(tmp_path, GOOD_REGIME))
    assert regimes.ids() == ("test-regime",)
    (obligation,) = regimes.get("test-regime").obligations
    assert obligation.id == "test-regime/someone" and str(obligation.deadline) == "72h"
    assert obligation.languages == ("en",) and obligation.recipient_kind == "authority"
    assert obligation.notice_contents[0].fill == "people_affected"
    assert regimes.jurisdiction_codes() == ("US",) and regimes.category_keys() == ("national_id",)
    assert regimes.jurisdictions[0].name.en == "United States"
    assert regimes.category_name("national_id").zh_CN == "身份证件号码"


def test_loader_rejects_a_bad_duration_naming_its_line(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, GOOD_REGIME.replace("deadline: 72h", "deadline: 3 days"))
    assert len(problems) == 1
    line, message = problems[0]
    assert line == 20
    assert "'3 days' is not a duration" in message
    with pytest.raises(ConfigError) as caught:
        load_regimes(write(tmp_path, GOOD_REGIME.replace("deadline: 72h", "deadline: 3 days")))
    assert "regimes.yaml:20:" in str(caught.value)


@pytest.mark.parametrize(
    ("start", "says"),
    [
        ("noticed_at", "clock_start must be one of discovered_at, aware_at"),
        ("{after: nobody}", "after: 'nobody' is not an obligation of this regime"),
        ("{after: someone}", "'someone' cannot start after itself"),
        ("{before: someone}", "{after: <obligation key>}"),
    ],
)
def test_loader_rejects_a_malformed_clock_naming_its_line(tmp_path: Path, start: str, says: str) -> None:
    ((line, message),) = problems_of(
        tmp_path, GOOD_REGIME.replace("clock_start: discovered_at", f"clock_start: {start}")
    )
    assert line == 19 and says in message


def test_loader_rejects_clocks_that_start_after_each_other_in_a_circle(tmp_path: Path) -> None:
    text = GOOD_REGIME.replace("clock_start: discovered_at", "clock_start: {after: other}") + (
        "      - key: other\n"
        "        recipient: {zh-CN: 另一人, en: Another}\n"
        "        recipient_kind: individuals\n"
        "        clock_start: {after: someone}\n"
        "        deadline: 30d\n"
    )
    problems = problems_of(tmp_path, text)
    assert [line for line, _ in problems] == [19, 29]
    assert all("circle" in message for _, message in problems)


def test_an_after_clock_loads_and_names_its_predecessor(tmp_path: Path) -> None:
    text = GOOD_REGIME + (
        "      - key: attorney_general\n"
        "        recipient: {zh-CN: 总检察长, en: The Attorney General}\n"
        "        recipient_kind: attorney_general\n"
        "        clock_start: {after: someone}\n"
        "        deadline: 15d\n"
    )
    obligation = load_regimes(write(tmp_path, text)).obligation("test-regime/attorney_general")
    assert obligation.clock_start == After("someone")


def test_loader_rejects_an_unknown_fact_naming_its_line(tmp_path: Path) -> None:
    text = GOOD_REGIME.replace("{fact: people_affected, at_least: 10}", "{fact: victims, at_least: 10}")
    ((line, message),) = problems_of(tmp_path, text)
    assert line == 12 and "unknown fact 'victims'" in message


def test_loader_rejects_unlisted_jurisdictions_and_categories(tmp_path: Path) -> None:
    text = GOOD_REGIME.replace("jurisdiction: US", "jurisdiction: US-FL").replace(
        "{fact: people_affected, at_least: 10}",
        "{all: [{fact: jurisdictions, includes: CN}, {fact: data_categories, any_of: [health]}]}",
    )
    problems = problems_of(tmp_path, text)
    assert [line for line, _ in problems] == [11, 12, 12]
    messages = " | ".join(m for _, m in problems)
    assert "unknown jurisdiction 'US-FL' (known: US, ANY)" in messages
    assert (
        "CN is not listed under jurisdictions" in messages
        and "unknown data categories ['health']" in messages
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "says"),
    [
        ("fill: people_affected", "fill: shoe_size", 24, "fill must be one of title, summary"),
        ("ask: forensics", "ask: astrologer", 25, "unknown role 'astrologer' (known: comms"),
        (
            "recipient_kind: authority",
            "recipient_kind: regulator",
            18,
            "recipient_kind must be one of authority, individuals",
        ),
        ("version: 2", "version: 1", 1, "version must be 2, not 1"),
        ("recipient_kind: authority", "recipient_kind: authority\n        languages: [fr]", 19, "not 'fr'"),
        (
            "        deadline: 72h\n",
            "        deadline: 72h\n        deadlines: 72h\n",
            21,
            "unknown field 'deadlines'",
        ),
        (
            "ask: forensics",
            "ask: forensics\n          - {key: what, text: {zh-CN: 内容, en: What}}",
            26,
            "duplicate notice_contents key 'what' (first on line 22)",
        ),
    ],
)
def test_loader_checks_the_v2_vocabularies(tmp_path: Path, old: str, new: str, line: int, says: str) -> None:
    ((found, message),) = problems_of(tmp_path, GOOD_REGIME.replace(old, new))
    assert found == line and says in message


def test_loader_rejects_a_missing_translation(tmp_path: Path) -> None:
    ((line, message),) = problems_of(
        tmp_path, GOOD_REGIME.replace("{zh-CN: 某人, en: Someone}", "{en: Someone}")
    )
    assert line == 17 and "missing the zh-CN translation" in message


def test_loader_rejects_a_duplicate_id(tmp_path: Path) -> None:
    body = GOOD_REGIME.split("regimes:\n", 1)[1]
    ((line, message),) = problems_of(tmp_path, GOOD_REGIME + body)
    assert line == 26 and "duplicate id 'test-regime' (first on line 9)" in message


def test_loader_reports_every_problem_at_once(tmp_path: Path) -> None:
    text = (
        GOOD_REGIME.replace("deadline: 72h", "deadline: soon")
        .replace("clock_start: discovered_at", "clock_start: noticed_at")
        .replace("at_least: 10", "at_least: many")
    )
    lines = sorted(line for line, _ in problems_of(tmp_path, text))
    assert lines == [12, 19, 20]


def test_loader_rejects_a_clock_start_without_a_deadline(tmp_path: Path) -> None:
    ((line, message),) = problems_of(tmp_path, GOOD_REGIME.replace("        deadline: 72h\n", ""))
    assert line == 16 and "a clock_start needs a deadline" in message


def test_asking_for_an_unknown_regime_is_a_domain_error() -> None:
    with pytest.raises(NotFound):
        REGIMES.get("us-state-zz")
    with pytest.raises(NotFound):
        REGIMES.obligation("eu-gdpr-33/nobody")
    assert "eu-gdpr-33" in REGIMES and len(REGIMES) == len(REGIMES.ids())


def test_every_clock_start_named_in_the_file_is_a_facts_field_or_an_obligation() -> None:
    for regime in REGIMES:
        keys = {o.key for o in regime.obligations}
        for obligation in regime.obligations:
            start = obligation.clock_start
            assert start is None or start in CLOCK_STARTS or (isinstance(start, After) and start.key in keys)
