"""The sensitive-data guard: real ID, SSN and card numbers are caught by their check digits;
ordinary figures with the same shape are left alone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from incident.redact import (
    CN_ID_CHECK,
    cn_id_check_digit,
    guard,
    is_bank_card,
    is_cn_resident_id,
    is_ssn,
    luhn_ok,
    redact,
)

# Published test numbers: a sample ID from GB 11643's worked example, Visa and Amex test cards.
CN_ID = "11010519491231002X"
VISA = "4111111111111111"
AMEX = "378282246310005"


def luhn_complete(body: str) -> str:
    """The body with the check digit that makes it Luhn-valid."""
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError("unreachable")


def test_known_numbers_are_recognised() -> None:
    assert is_cn_resident_id(CN_ID) and is_cn_resident_id(CN_ID.lower())
    assert is_ssn("123-45-6789")
    assert is_bank_card(VISA) and is_bank_card(AMEX) and is_bank_card("4111 1111 1111 1111")


def test_wrong_check_digits_are_not() -> None:
    assert not is_cn_resident_id("110105194912310021")
    assert not is_bank_card("4111111111111112")
    assert not is_bank_card("411111111111")  # 12 digits: too short for a card


def test_reserved_ssn_ranges_are_not_ssns() -> None:
    for bad in ("000-12-3456", "666-12-3456", "900-12-3456", "999-12-3456", "123-00-4567", "123-45-0000"):
        assert not is_ssn(bad), bad


def test_redaction_keeps_the_last_four_and_names_what_it_was() -> None:
    text = f"Client 张三 ID {CN_ID}, SSN 123-45-6789, card {VISA}, paid 1,234.56 on 2026-11-28 ref 20261128"
    result = redact(text)
    assert CN_ID not in result.text and "123-45-6789" not in result.text and VISA not in result.text
    assert "[redacted: CN resident ID ****002X]" in result.text
    assert "[redacted: SSN ****6789]" in result.text
    assert "[redacted: bank card ****1111]" in result.text
    assert "1,234.56 on 2026-11-28 ref 20261128" in result.text
    assert [f.kind for f in result.findings] == ["cn_id", "ssn", "bank_card"]


def test_the_guard_can_be_turned_off() -> None:
    off = guard(f"card {VISA}", enabled=False)
    assert off.text == f"card {VISA}" and not off.changed


def test_an_id_number_is_not_also_reported_as_a_card() -> None:
    result = redact(f"身份证 {CN_ID}。")
    assert [f.kind for f in result.findings] == ["cn_id"]


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_every_id_with_its_mod_11_2_check_digit_is_caught(body: str) -> None:
    number = body + cn_id_check_digit(body)
    assert is_cn_resident_id(number)
    result = redact(f"号码：{number} 已泄露")
    assert number not in result.text and result.findings[0].kind == "cn_id"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.sampled_from(CN_ID_CHECK))
def test_an_id_with_any_other_check_digit_is_not_an_id(body: str, check: str) -> None:
    if check == cn_id_check_digit(body):
        return
    assert not is_cn_resident_id(body + check)
    assert all(f.kind != "cn_id" for f in redact(body + check).findings)


@given(st.text(alphabet="0123456789", min_size=12, max_size=18))
def test_every_luhn_valid_card_is_caught_and_every_off_by_one_is_not(body: str) -> None:
    card = luhn_complete(body)
    assert is_bank_card(card)
    result = redact(f"card {card} end")
    assert card not in result.text and result.findings[-1].last4 == card[-4:]
    wrong = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert not is_bank_card(wrong)
    assert all(f.kind != "bank_card" for f in redact(f"card {wrong} end").findings)


@given(
    st.integers(1, 899).filter(lambda a: a != 666),
    st.integers(1, 99),
    st.integers(1, 9999),
)
def test_every_issuable_ssn_is_caught(area: int, group: int, serial: int) -> None:
    ssn = f"{area:03d}-{group:02d}-{serial:04d}"
    assert is_ssn(ssn)
    assert redact(f"SSN: {ssn}.").text == f"SSN: [redacted: SSN ****{serial:04d}]."


@given(st.integers(900, 999) | st.just(666) | st.just(0), st.integers(0, 99), st.integers(0, 9999))
def test_unissuable_areas_are_never_ssns(area: int, group: int, serial: int) -> None:
    assert not is_ssn(f"{area:03d}-{group:02d}-{serial:04d}")
