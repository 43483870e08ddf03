"""The suggested severity, its help text and the status-update cadence it sets."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings

from incident.regimes import Facts
from incident.severity import (
    HELP_LIMIT,
    SEVERITIES,
    cadence,
    load_severity,
    severity_help,
    suggest_severity,
)
from incident.yamlsource import ConfigError
from tests.test_regimes import facts_strategy

# Everything that could push a small incident up is known to be absent.
QUIET = Facts(
    critical_infrastructure=False,
    systemic_compromise=False,
    filings_disrupted_near_deadline=False,
    encrypted=False,
)


def quiet(**changes: object) -> Facts:
    from dataclasses import replace

    return replace(QUIET, **changes)


def test_a_million_people_is_sev1() -> None:
    severity, reasons = suggest_severity(quiet(people_affected=1_000_000))
    assert severity == "SEV1"
    assert reasons[0].en == "SEV1: ≥1,000,000 people affected (1,000,000)"
    assert reasons[0].zh_CN.startswith("SEV1：")


def test_critical_infrastructure_or_a_systemic_efile_compromise_is_sev1() -> None:
    assert suggest_severity(quiet(people_affected=3, critical_infrastructure=True))[0] == "SEV1"
    assert suggest_severity(quiet(people_affected=3, systemic_compromise=True))[0] == "SEV1"


def test_unencrypted_ssn_with_tax_returns_is_sev2_even_for_one_person() -> None:
    facts = quiet(people_affected=1, data_categories=frozenset({"national_id", "tax_return"}))
    severity, reasons = suggest_severity(facts)
    assert severity == "SEV2"
    assert "data not encrypted" in reasons[0].en
    assert len(reasons) == 1  # nothing unknown could raise it


def test_500_people_is_sev2_and_499_is_not() -> None:
    contact = frozenset({"contact"})
    assert suggest_severity(quiet(people_affected=500, data_categories=contact))[0] == "SEV2"
    assert suggest_severity(quiet(people_affected=499, data_categories=contact))[0] == "SEV3"


def test_300_stolen_tax_returns_are_sev2_because_a_return_carries_the_ssn() -> None:
    facts = quiet(people_affected=300, data_categories=frozenset({"tax_return"}), exfiltration_confirmed=True)
    severity, reasons = suggest_severity(facts)
    assert severity == "SEV2"
    assert "tax return" in reasons[0].en and "data not encrypted" in reasons[0].en


def test_300_tax_returns_encrypted_with_the_key_safe_are_sev4() -> None:
    facts = quiet(people_affected=300, data_categories=frozenset({"tax_return"}), encrypted=True)
    assert suggest_severity(facts)[0] == "SEV4"


def test_500_people_encrypted_with_the_key_safe_is_not_sev2() -> None:
    for categories in ({"contact"}, {"national_id", "bank_account"}):
        facts = quiet(people_affected=500, data_categories=frozenset(categories), encrypted=True)
        severity, reasons = suggest_severity(facts)
        assert severity == "SEV4", categories
        assert "encrypted, key safe" in reasons[0].en


def test_500_people_with_encryption_unknown_is_still_sev2() -> None:
    facts = quiet(people_affected=500, data_categories=frozenset({"contact"}), encrypted=None)
    assert suggest_severity(facts)[0] == "SEV2"


def test_ransomware_on_filings_near_a_deadline_is_sev2() -> None:
    facts = quiet(
        people_affected=20, data_categories=frozenset({"ledger"}), filings_disrupted_near_deadline=True
    )
    assert suggest_severity(facts)[0] == "SEV2"


def test_encrypted_with_the_key_safe_or_no_personal_data_is_sev4() -> None:
    assert suggest_severity(quiet(people_affected=40, encrypted=True))[0] == "SEV4"
    severity, reasons = suggest_severity(quiet(people_affected=40, data_categories=frozenset({"ledger"})))
    assert severity == "SEV4"
    assert "includes none of" in reasons[0].en


def test_a_few_people_unencrypted_contact_details_is_sev3() -> None:
    severity, _ = suggest_severity(quiet(people_affected=12, data_categories=frozenset({"contact"})))
    assert severity == "SEV3"


def test_with_nothing_known_the_suggestion_is_sev2_and_says_it_could_be_sev1() -> None:
    severity, reasons = suggest_severity(Facts())
    assert severity == "SEV2"
    assert reasons[0].en.startswith("not enough facts")
    assert any(r.en.startswith("could be SEV1") and "people affected unknown" in r.en for r in reasons)


def test_an_unknown_that_could_raise_the_level_is_named() -> None:
    facts = Facts(people_affected=12, data_categories=frozenset({"contact"}), encrypted=False)
    severity, reasons = suggest_severity(facts)
    assert severity == "SEV3"
    assert [r.en.split(":")[0] for r in reasons[1:]] == ["could be SEV1", "could be SEV2"]
    assert "critical infrastructure" in reasons[1].en


def test_cadence_defaults() -> None:
    assert cadence("SEV1") == timedelta(minutes=30)
    assert cadence("SEV2") == timedelta(hours=1)
    assert cadence("SEV3") == timedelta(hours=4)
    assert cadence("SEV4") == timedelta(hours=24)
    with pytest.raises(ValueError):
        cadence("SEV5")


def test_help_fits_a_modal_in_both_languages_and_lists_every_level() -> None:
    for locale in ("en", "zh-CN"):
        text = severity_help(locale)
        assert len(text) <= HELP_LIMIT
        for severity in SEVERITIES:
            assert severity in text
    assert "30 min" in severity_help("en")
    assert "特别严重" in severity_help("zh_CN")


@settings(max_examples=200)
@given(facts_strategy)
def test_a_suggestion_is_always_given_with_a_reason(facts: Facts) -> None:
    severity, reasons = suggest_severity(facts)
    assert severity in SEVERITIES
    assert reasons and all(r.en and r.zh_CN for r in reasons)


# --------------------------------------------------------------------------- loader

PACKAGED = Path(__file__).parent.parent / "incident" / "data" / "severity.yaml"


def test_loader_rejects_a_bad_cadence_naming_its_line(tmp_path: Path) -> None:
    text = PACKAGED.read_text(encoding="utf-8").replace("cadence: 4h", "cadence: often")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "cadence: often" in row)
    path = tmp_path / "severity.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_severity(path)
    assert [(p.line, "'often' is not a duration" in p.message) for p in caught.value.problems] == [
        (line, True)
    ]


def test_loader_rejects_a_rule_for_an_unknown_severity_and_an_unknown_fact(tmp_path: Path) -> None:
    text = PACKAGED.read_text(encoding="utf-8").replace(
        "- severity: SEV1\n    when: {fact: critical_infrastructure",
        "- severity: SEV0\n    when: {fact: critical_infra",
    )
    path = tmp_path / "severity.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_severity(path)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "severity: SEV0" in row)
    assert [(p.line, p.message.split(" (known: ")[0]) for p in caught.value.problems] == [
        (line, "severity must be SEV1, SEV2, SEV3 or SEV4, not 'SEV0'"),
        (line + 1, "unknown fact 'critical_infra'"),
    ]
