"""The packaged regimes file says what the law says: who is told, from when, by when.

Each test loads the DEFAULT file and judges an incident's facts, so a wrong threshold, clock
start or recipient in `incident/data/regimes.yaml` fails here, not in a firm's incident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from incident.regimes import Applicability, Duration, Facts, Obligation, Regimes, evaluate, load_regimes

REGIMES: Regimes = load_regimes()
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FRIDAY = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)


def judged(facts: Facts, met: Mapping[str, datetime] | None = None) -> dict[str, Applicability]:
    return {app.id: app for app in evaluate(facts, REGIMES, met)}


def statuses(facts: Facts, regime_id: str) -> dict[str, str]:
    """The status of every obligation of one regime, by key."""
    return {app.obligation.key: app.status for app in evaluate(facts, REGIMES) if app.regime.id == regime_id}


def state_breach(code: str, people: int, **more: object) -> Facts:
    """A client's SSNs taken from the firm, which owns the data, in one US state (or, as "US", in
    the country)."""
    fields: dict[str, object] = {
        "jurisdictions": frozenset({code}),
        "data_categories": frozenset({"national_id", "tax_return"}),
        "encrypted": False,
        "role": "controller",
        "people_affected": people,
        "discovered_at": MONDAY,
    }
    fields.update(more)
    return Facts(**fields)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Florida


def test_florida_700_residents_tells_residents_and_the_attorney_general_in_30_days_but_no_bureaus() -> None:
    apps = judged(state_breach("US-FL", 700, determined_at=MONDAY + timedelta(days=2)))
    residents, ag = apps["us-state-fl/residents"], apps["us-state-fl/attorney_general"]
    assert residents.status == ag.status == "applies"
    determined = MONDAY + timedelta(days=2)
    assert residents.clock_start == ag.clock_start == determined
    assert residents.deadline_at == ag.deadline_at == determined + timedelta(days=30)
    assert not residents.start_assumed
    assert ag.obligation.recipient_kind == "attorney_general"
    assert apps["us-state-fl/credit_bureaus"].status == "does_not_apply"
    assert apps["us-state-fl/data_owner"].status == "does_not_apply"


def test_florida_counts_from_discovery_until_the_determination_is_recorded() -> None:
    residents = judged(state_breach("US-FL", 700))["us-state-fl/residents"]
    assert residents.status == "applies"
    assert residents.start_assumed
    assert residents.clock_start == MONDAY
    assert residents.deadline_at == MONDAY + timedelta(days=30)
    assert "determined_at" in residents.missing_facts


def test_florida_tells_the_credit_bureaus_above_1000_and_not_at_1000() -> None:
    assert statuses(state_breach("US-FL", 1001), "us-state-fl")["credit_bureaus"] == "applies"
    assert statuses(state_breach("US-FL", 1000), "us-state-fl")["credit_bureaus"] == "does_not_apply"
    assert statuses(state_breach("US-FL", 499), "us-state-fl")["attorney_general"] == "does_not_apply"


def test_a_florida_third_party_agent_tells_the_owner_in_10_days_and_files_nothing_else() -> None:
    facts = state_breach("US-FL", 700, role="processor", determined_at=MONDAY)
    apps = judged(facts)
    owner = apps["us-state-fl/data_owner"]
    assert owner.status == "applies"
    assert owner.obligation.recipient_kind == "controller"
    assert owner.deadline_at == MONDAY + timedelta(days=10)
    for key in ("residents", "attorney_general", "credit_bureaus"):
        assert apps[f"us-state-fl/{key}"].status == "does_not_apply"


# --------------------------------------------------------------------------- New York


def test_new_york_6000_residents_adds_the_credit_bureaus_to_the_three_agencies() -> None:
    apps = judged(state_breach("US-NY", 6000, dfs_covered_entity=False))
    for key in ("residents", "attorney_general", "department_of_state", "state_police", "credit_bureaus"):
        app = apps[f"us-state-ny/{key}"]
        assert app.status == "applies", key
        assert app.clock_start == MONDAY and app.deadline_at == MONDAY + timedelta(days=30), key
    assert apps["us-state-ny/credit_bureaus"].obligation.recipient_kind == "credit_bureaus"
    assert apps["us-state-ny/state_police"].obligation.recipient_kind == "law_enforcement"


def test_new_york_tells_the_three_agencies_on_every_notice_but_the_bureaus_only_above_5000() -> None:
    small = statuses(state_breach("US-NY", 3, dfs_covered_entity=False), "us-state-ny")
    assert small["attorney_general"] == small["department_of_state"] == small["state_police"] == "applies"
    assert small["credit_bureaus"] == "does_not_apply"
    assert statuses(state_breach("US-NY", 5000), "us-state-ny")["credit_bureaus"] == "does_not_apply"


def test_new_york_dfs_is_told_only_by_a_dfs_covered_entity() -> None:
    assert statuses(state_breach("US-NY", 50, dfs_covered_entity=False), "us-state-ny")["dfs"] == (
        "does_not_apply"
    )
    unknown = judged(state_breach("US-NY", 50))["us-state-ny/dfs"]
    assert unknown.status == "unknown"
    assert "dfs_covered_entity" in unknown.missing_facts
    # While it may apply its 72 hours already run, from discovery until the determination is known.
    assert unknown.start_assumed and unknown.deadline_at == MONDAY + timedelta(hours=72)
    covered = judged(
        state_breach("US-NY", 50, dfs_covered_entity=True, determined_at=MONDAY + timedelta(hours=5))
    )["us-state-ny/dfs"]
    assert covered.status == "applies"
    assert covered.deadline_at == MONDAY + timedelta(hours=77)


def test_a_dfs_covered_processor_still_tells_dfs_but_leaves_the_residents_to_the_owner() -> None:
    facts = state_breach("US-NY", 6000, role="processor", dfs_covered_entity=True, determined_at=MONDAY)
    found = statuses(facts, "us-state-ny")
    assert found.pop("dfs") == "applies"
    assert set(found.values()) == {"does_not_apply"}
    assert judged(facts)["processor-notify-controller/controller"].status == "applies"


# --------------------------------------------------------------------------- California


def test_california_600_residents_starts_the_attorney_general_clock_after_the_residents_notice() -> None:
    before = judged(state_breach("US-CA", 600))
    residents, ag = before["us-state-ca/residents"], before["us-state-ca/attorney_general"]
    assert residents.status == ag.status == "applies"
    assert residents.deadline_at == MONDAY + timedelta(days=30)
    # Residents not yet told: the AG clock runs from the residents' deadline, labelled assumed.
    assert ag.start_assumed
    assert ag.clock_start == residents.deadline_at
    assert ag.deadline_at == MONDAY + timedelta(days=45)
    assert ag.after is not None and ag.after.key == "residents"

    told = MONDAY + timedelta(days=9)
    after = judged(state_breach("US-CA", 600), met={"us-state-ca/residents": told})
    ag = after["us-state-ca/attorney_general"]
    assert not ag.start_assumed
    assert ag.clock_start == told
    assert ag.deadline_at == told + timedelta(days=15)


def test_california_sends_the_attorney_general_a_sample_only_above_500_residents() -> None:
    assert statuses(state_breach("US-CA", 500), "us-state-ca")["attorney_general"] == "does_not_apply"
    assert statuses(state_breach("US-CA", 501), "us-state-ca")["attorney_general"] == "applies"


# --------------------------------------------------------------------------- Texas and Colorado


def test_texas_counts_from_determination_60_days_for_individuals_and_30_for_the_attorney_general() -> None:
    determined = MONDAY + timedelta(days=3)
    apps = judged(state_breach("US-TX", 300, determined_at=determined))
    assert apps["us-state-tx/individuals"].deadline_at == determined + timedelta(days=60)
    assert apps["us-state-tx/attorney_general"].deadline_at == determined + timedelta(days=30)
    assert apps["us-state-tx/credit_bureaus"].status == "does_not_apply"
    assert statuses(state_breach("US-TX", 249), "us-state-tx")["attorney_general"] == "does_not_apply"


def test_texas_attorney_general_is_asked_whether_law_enforcement_is_investigating() -> None:
    ag = REGIMES.obligation("us-state-tx/attorney_general")
    fills = {item.fill for item in ag.notice_contents}
    assert "law_enforcement_investigating" in fills
    assert {"people_affected", "measures_taken", "measures_planned", "individuals_notified"} <= fills


def test_texas_tells_the_bureaus_above_10000_and_colorado_above_1000() -> None:
    assert statuses(state_breach("US-TX", 10_000), "us-state-tx")["credit_bureaus"] == "does_not_apply"
    assert statuses(state_breach("US-TX", 10_001), "us-state-tx")["credit_bureaus"] == "applies"
    assert statuses(state_breach("US-CO", 1000), "us-state-co")["credit_bureaus"] == "does_not_apply"
    assert statuses(state_breach("US-CO", 1001), "us-state-co")["credit_bureaus"] == "applies"


def test_colorado_starts_at_determination_assumed_from_discovery_until_known() -> None:
    assumed = judged(state_breach("US-CO", 600))["us-state-co/attorney_general"]
    assert assumed.status == "applies" and assumed.start_assumed
    assert assumed.deadline_at == MONDAY + timedelta(days=30)
    determined = MONDAY + timedelta(days=4)
    known = judged(state_breach("US-CO", 600, determined_at=determined))["us-state-co/attorney_general"]
    assert not known.start_assumed and known.deadline_at == determined + timedelta(days=30)


# --------------------------------------------------------------------------- Vermont and Washington


def test_vermont_gives_the_attorney_general_14_business_days_and_residents_45_days() -> None:
    apps = judged(state_breach("US-VT", 20, discovered_at=FRIDAY))
    ag, residents = apps["us-state-vt/attorney_general"], apps["us-state-vt/residents"]
    assert ag.deadline == Duration(14, "bd")
    # Friday + 14 business days skips three weekends: the Thursday 20 calendar days later.
    assert ag.deadline_at == FRIDAY + timedelta(days=20)
    assert residents.deadline_at == FRIDAY + timedelta(days=45)
    assert apps["us-state-vt/credit_bureaus"].status == "does_not_apply"


def test_washington_tells_the_attorney_general_above_500_residents() -> None:
    assert statuses(state_breach("US-WA", 500), "us-state-wa")["attorney_general"] == "does_not_apply"
    apps = judged(state_breach("US-WA", 501))
    assert apps["us-state-wa/attorney_general"].deadline_at == MONDAY + timedelta(days=30)


def test_encrypted_data_with_the_key_safe_triggers_no_state_notice() -> None:
    for code, regime_id in (("US-FL", "us-state-fl"), ("US-NY", "us-state-ny"), ("US-CA", "us-state-ca")):
        assert set(statuses(state_breach(code, 9000, encrypted=True), regime_id).values()) == {
            "does_not_apply"
        }


# --------------------------------------------------------------------------- Europe and the UK

EU_BREACH = Facts(
    jurisdictions=frozenset({"EU"}),
    data_categories=frozenset({"bank_account", "contact"}),
    encrypted=False,
    role="controller",
    people_affected=40,
    discovered_at=MONDAY,
    aware_at=MONDAY + timedelta(hours=6),
)


def test_gdpr_without_an_eu_main_establishment_notifies_every_authority_where_people_live() -> None:
    apps = judged(replace(EU_BREACH, eu_main_establishment=False))
    every, lead = (
        apps["eu-gdpr-33/every_supervisory_authority"],
        apps["eu-gdpr-33/lead_supervisory_authority"],
    )
    assert every.status == "applies"
    assert lead.status == "does_not_apply"
    assert every.deadline_at == MONDAY + timedelta(hours=78)
    assert "every member state" in every.obligation.recipient.en
    assert any("para. 73" in source.cite for source in every.regime.sources)


def test_gdpr_with_a_main_establishment_notifies_the_lead_authority_only() -> None:
    found = statuses(replace(EU_BREACH, eu_main_establishment=True), "eu-gdpr-33")
    assert found == {"lead_supervisory_authority": "applies", "every_supervisory_authority": "does_not_apply"}
    # Unknown: both may apply, and both clocks run.
    unknown = judged(EU_BREACH)
    for key in ("lead_supervisory_authority", "every_supervisory_authority"):
        app = unknown[f"eu-gdpr-33/{key}"]
        assert app.status == "unknown" and "eu_main_establishment" in app.missing_facts
        assert app.deadline_at == MONDAY + timedelta(hours=78)


def test_gdpr_notice_carries_each_article_33_3_item_filled_from_the_record_or_asked() -> None:
    items = {
        item.key: item
        for item in REGIMES.obligation("eu-gdpr-33/every_supervisory_authority").notice_contents
    }
    assert items["categories"].fill == "categories"
    assert items["people"].fill == "people_affected"
    assert items["contact"].fill == "dpo_contact"
    assert items["consequences"].fill is None and items["consequences"].ask == "forensics"
    assert items["measures_taken"].fill == "measures_taken"
    assert items["measures_proposed"].fill == "measures_planned"


def test_uk_residents_mean_the_ico_in_72_hours_from_awareness_and_no_eu_authority() -> None:
    facts = replace(EU_BREACH, jurisdictions=frozenset({"UK"}))
    apps = judged(facts)
    ico = apps["uk-gdpr-33/ico"]
    assert ico.status == "applies"
    assert ico.clock_start == MONDAY + timedelta(hours=6)
    assert ico.deadline_at == MONDAY + timedelta(hours=78)
    assert ico.obligation.languages == ("en",)
    assert set(statuses(facts, "eu-gdpr-33").values()) == {"does_not_apply"}
    assert apps["uk-gdpr-33-5/breach_register"].status == "applies"
    assert apps["uk-gdpr-33-5/breach_register"].deadline_at is None


def test_uk_data_subjects_are_told_when_the_risk_is_high() -> None:
    facts = replace(EU_BREACH, jurisdictions=frozenset({"UK"}), high_risk=True)
    assert judged(facts)["uk-gdpr-34/data_subjects"].status == "applies"
    assert statuses(replace(facts, high_risk=False), "uk-gdpr-34") == {"data_subjects": "does_not_apply"}


# --------------------------------------------------------------------------- China

CN_BREACH = Facts(
    jurisdictions=frozenset({"CN"}),
    data_categories=frozenset({"national_id", "bank_account"}),
    role="controller",
    people_affected=1_200_000,
    critical_infrastructure=False,
    crime_suspected=False,
    discovered_at=MONDAY,
)


def test_pipl_authority_and_individuals_are_separate_obligations_in_chinese() -> None:
    apps = judged(CN_BREACH)
    authority, individuals = apps["cn-pipl-57/pi_authority"], apps["cn-pipl-57/individuals"]
    assert authority.status == individuals.status == "applies"
    assert authority.obligation.recipient_kind == "authority"
    assert individuals.obligation.recipient_kind == "individuals"
    assert authority.obligation.languages == individuals.obligation.languages == ("zh-CN",)
    # Telling the authority leaves the individuals' clock where it was.
    after = judged(CN_BREACH, met={"cn-pipl-57/pi_authority": MONDAY + timedelta(hours=2)})
    assert after["cn-pipl-57/individuals"].deadline_at == individuals.deadline_at


def test_cac_report_goes_to_the_provincial_office_in_4_hours_with_the_measures_contents() -> None:
    apps = judged(CN_BREACH)
    provincial = apps["cn-cac-report/provincial_cac"]
    assert provincial.status == "applies"
    assert provincial.deadline_at == MONDAY + timedelta(hours=4)
    assert provincial.obligation.languages == ("zh-CN",)
    assert apps["cn-cac-report/cii_protection_dept"].status == "does_not_apply"
    assert apps["cn-cac-report/police"].status == "does_not_apply"
    texts = " ".join(item.text.zh_CN for item in provincial.obligation.notice_contents)
    for phrase in ("事态发展趋势", "溯源", "请求支援", "现场保护情况"):
        assert phrase in texts


def test_cac_critical_infrastructure_reports_to_its_protection_department_in_1_hour() -> None:
    apps = judged(replace(CN_BREACH, critical_infrastructure=True, crime_suspected=True))
    assert apps["cn-cac-report/cii_protection_dept"].deadline_at == MONDAY + timedelta(hours=1)
    assert apps["cn-cac-report/provincial_cac"].status == "does_not_apply"
    assert apps["cn-cac-report/police"].status == "applies"


def test_below_a_million_people_no_cac_report_but_pipl_still_applies() -> None:
    facts = replace(CN_BREACH, people_affected=3)
    assert set(statuses(facts, "cn-cac-report").values()) == {"does_not_apply"}
    assert set(statuses(facts, "cn-pipl-57").values()) == {"applies"}


# --------------------------------------------------------------------------- US federal

US_TAX = state_breach("US", 800)


def test_ftc_safeguards_applies_only_to_a_covered_financial_institution() -> None:
    assert statuses(replace(US_TAX, covered_financial_institution=False), "us-ftc-safeguards") == {
        "ftc": "does_not_apply"
    }
    unknown = judged(US_TAX)["us-ftc-safeguards/ftc"]
    assert unknown.status == "unknown" and "covered_financial_institution" in unknown.missing_facts
    covered = judged(replace(US_TAX, covered_financial_institution=True))["us-ftc-safeguards/ftc"]
    assert covered.status == "applies"
    assert covered.deadline_at == MONDAY + timedelta(days=30)
    few = replace(US_TAX, covered_financial_institution=True, people_affected=499)
    assert statuses(few, "us-ftc-safeguards") == {"ftc": "does_not_apply"}


def test_sec_8k_applies_only_to_a_public_company_client() -> None:
    material = replace(US_TAX, public_company_material=True, materiality_decided_at=FRIDAY)
    assert statuses(replace(material, public_company_client=False), "us-sec-8k-105") == {
        "sec": "does_not_apply"
    }
    sec = judged(replace(material, public_company_client=True))["us-sec-8k-105/sec"]
    assert sec.status == "applies"
    # Four business days from a Friday decision: the next Thursday.
    assert sec.deadline_at == FRIDAY + timedelta(days=6)


def test_us_federal_duties_of_unknown_firm_facts_stay_out_of_an_incident_that_does_not_touch_the_us() -> None:
    """A China-only incident at a firm that answered nothing: the 8-K and HIPAA do not hang over
    it as may-apply clocks (with reminders for days); they do once the US is among its places."""
    china = Facts(
        jurisdictions=frozenset({"CN"}),
        data_categories=frozenset({"health", "payroll"}),
        encrypted=False,
        discovered_at=MONDAY,
    )
    for regime in ("us-sec-8k-105", "us-hipaa-ba"):
        assert set(statuses(china, regime).values()) == {"does_not_apply"}, regime
        us = replace(china, jurisdictions=frozenset({"CN", "US-NY"}))
        assert set(statuses(us, regime).values()) == {"unknown"}, regime


def test_irs_stolen_tax_data_means_the_liaison_and_the_states_and_payroll_adds_the_w2_mailbox() -> None:
    found = statuses(US_TAX, "us-irs-tax-pro")
    assert found == {
        "irs_stakeholder_liaison": "applies",
        "w2_dataloss": "does_not_apply",
        "state_tax_agencies": "applies",
    }
    payroll = replace(US_TAX, data_categories=frozenset({"payroll"}))
    assert statuses(payroll, "us-irs-tax-pro")["w2_dataloss"] == "applies"
    assert "dataloss@irs.gov" in REGIMES.obligation("us-irs-tax-pro/w2_dataloss").recipient.en


def test_irs_is_told_of_stolen_e_file_credentials_even_without_tax_data() -> None:
    facts = replace(US_TAX, data_categories=frozenset({"credentials"}), efile_credentials_stolen=True)
    assert statuses(facts, "us-irs-tax-pro")["irs_stakeholder_liaison"] == "applies"
    nothing = replace(facts, efile_credentials_stolen=False)
    assert set(statuses(nothing, "us-irs-tax-pro").values()) == {"does_not_apply"}


def test_a_hipaa_business_associate_tells_the_covered_entity_of_health_data_within_60_days() -> None:
    health = replace(US_TAX, data_categories=frozenset({"health"}), hipaa_business_associate=True)
    app = judged(health)["us-hipaa-ba/covered_entity"]
    assert app.status == "applies"
    assert app.obligation.recipient_kind == "controller"
    assert app.deadline_at == MONDAY + timedelta(days=60)
    assert statuses(replace(health, hipaa_business_associate=False), "us-hipaa-ba") == {
        "covered_entity": "does_not_apply"
    }
    assert statuses(replace(health, data_categories=frozenset({"tax_return"})), "us-hipaa-ba") == {
        "covered_entity": "does_not_apply"
    }


# --------------------------------------------------------------------------- the file as a whole


def test_the_forms_offer_every_us_state_and_an_other_not_sure_choice() -> None:
    codes = set(REGIMES.jurisdiction_codes())
    states = {code for code in codes if code.startswith("US-")}
    assert len(states - {"US-DC"}) == 50
    assert {"CN", "EU", "UK", "US", "XX"} <= codes
    other = [group for group in REGIMES.jurisdictions if group.name.en == "Other"]
    assert [j.code for j in other[0].codes] == ["XX"]


@pytest.mark.parametrize("obligation", list(REGIMES.obligations()), ids=lambda o: o.id)
def test_chinese_law_is_drafted_in_chinese_and_the_rest_in_english(obligation: Obligation) -> None:
    if obligation.regime_id.startswith("cn-"):
        assert obligation.languages == ("zh-CN",)
    elif obligation.regime_id == "processor-notify-controller":
        # The client may be in China or anywhere else: the firm drafts in both.
        assert obligation.languages == ("zh-CN", "en")
    else:
        assert obligation.languages == ("en",)


def test_every_regime_cites_a_statute_and_every_clock_has_a_deadline() -> None:
    for regime in REGIMES:
        assert regime.sources and all(source.cite for source in regime.sources), regime.id
        for obligation in regime.obligations:
            assert (obligation.clock_start is None) == (obligation.deadline is None), obligation.id
            assert obligation.notice_contents, obligation.id
