"""The sensitive-data guard: real ID, SSN and card numbers are caught by their check digits, in the
spellings people type them; ordinary figures with the same shape are left alone."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric

from incident.errors import Invalid
from incident.limits import LIMITS, Field
from incident.redact import counts, guard, is_bank_card, is_cn_resident_id, is_ssn, redact, scrub

# Published test numbers: a sample ID from GB 11643's worked example, Visa and Amex test cards.
CN_ID = "11010519491231002X"
VISA = "4111111111111111"
AMEX = "378282246310005"


def cn_id(region: str, born: date, serial: str) -> str:
    """A resident ID with its MOD 11-2 check character, computed by stdnum."""
    body = f"{region}{born:%Y%m%d}{serial}"
    return body + ric.calc_check_digit(body + "?")


def card(body: str) -> str:
    return body + luhn.calc_check_digit(body)


def test_known_numbers_are_recognised() -> None:
    assert is_cn_resident_id(CN_ID) and is_cn_resident_id(CN_ID.lower())
    assert is_ssn("123-45-6789") and is_ssn("123 45 6789") and is_ssn("123456789")
    assert is_bank_card(VISA) and is_bank_card(AMEX) and is_bank_card("4111 1111 1111 1111")
    assert is_bank_card("4111.1111.1111.1111")


def test_wrong_check_digits_and_impossible_birth_dates_are_not() -> None:
    assert not is_cn_resident_id("110105194912310021")
    assert not is_cn_resident_id(cn_id("110105", date(1949, 12, 31), "002")[:10] + "1332" + "002X")
    assert not is_bank_card("4111111111111112")
    assert not is_bank_card("411111111111")  # 12 digits: too short for a card


def test_reserved_ssn_ranges_and_published_samples_are_not_ssns() -> None:
    for bad in ("000-12-3456", "666-12-3456", "900-12-3456", "999-12-3456", "123-00-4567", "123-45-0000"):
        assert not is_ssn(bad), bad
    assert not is_ssn("078-05-1120")  # the Woolworth wallet card, printed on millions of cards


def test_redaction_keeps_the_last_four_and_names_what_it_was() -> None:
    text = f"Client 张三 ID {CN_ID}, SSN 123-45-6789, card {VISA}, paid 1,234.56 on 2026-11-28 ref 20261128"
    result = redact(text)
    assert CN_ID not in result.text and "123-45-6789" not in result.text and VISA not in result.text
    assert "[redacted: CN resident ID ****002X]" in result.text
    assert "[redacted: SSN ****6789]" in result.text
    assert "[redacted: bank card ****1111]" in result.text
    assert "1,234.56 on 2026-11-28 ref 20261128" in result.text
    assert [f.kind for f in result.findings] == ["cn_id", "ssn", "bank_card"]
    assert counts(result) == {"bank_card": 1, "cn_id": 1, "ssn": 1}


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("123 45 6789", "ssn"),
        ("123456789", "ssn"),
        ("123.45.6789", "ssn"),
        ("4111.1111.1111.1111", "bank_card"),
        ("4111-1111 1111.1111", "bank_card"),
        ("4111 1111-1111 1111", "bank_card"),
        ("3782 822463 10005", "bank_card"),
        ("110105 19491231 002X", "cn_id"),
        ("110105 1949 1231 002X", "cn_id"),
        ("11010519491231002Ｘ", "cn_id"),
        ("１１０１０５１９４９１２３１００２Ｘ", "cn_id"),
        ("110105\u00a019491231\u00a0002x", "cn_id"),
        ("４１１１　１１１１　１１１１　１１１１", "bank_card"),
    ],
)
def test_common_spellings_are_caught_and_the_text_around_them_kept_as_typed(typed: str, kind: str) -> None:
    result = redact(f"「泄露」：{typed}；Ｆｕｌｌ-width text stays")
    assert [f.kind for f in result.findings] == [kind]
    assert result.text.startswith("「泄露」：[redacted: ") and result.text.endswith(
        "]；Ｆｕｌｌ-width text stays"
    )


@pytest.mark.parametrize(
    "text",
    [
        "paid $123456789 on Monday",
        "¥123456789 refunded",
        "123456789元",
        "RMB 123456789",
        "total 123456789.50",
        "invoice INV123456789",
        "ticket #123456789",
        "12.3456789%",
        "growth 123456789%",
        "call +123456789",
        "account 1,234,567,890",
        "order 2026-11-28-123456789",
        "version 1.2.3 build 45",
        "phone 212-555-0100",
    ],
)
def test_amounts_and_reference_numbers_of_the_same_length_are_not_ssns(text: str) -> None:
    assert redact(text).text == text


def test_the_guard_can_be_turned_off() -> None:
    off = guard(f"card {VISA}", enabled=False)
    assert off.text == f"card {VISA}" and not off.changed


def test_an_id_number_is_not_also_reported_as_a_card() -> None:
    result = redact(f"身份证 {CN_ID}。")
    assert [f.kind for f in result.findings] == ["cn_id"]


def test_two_numbers_in_a_row_are_both_caught() -> None:
    result = redact(f"123-45-6789 {VISA} {CN_ID}")
    assert [f.kind for f in result.findings] == ["ssn", "bank_card", "cn_id"]


def test_scrub_refuses_past_the_limit_and_trims_within_it() -> None:
    with pytest.raises(Invalid) as refused:
        scrub(Field.STATUS_UPDATE, "x" * (LIMITS[Field.STATUS_UPDATE] + 1))
    assert refused.value.key == "redact.error.too_long"
    assert refused.value.params == {"limit": LIMITS[Field.STATUS_UPDATE]}
    assert scrub(Field.NOTE, f"  card {VISA} \n").text == "card [redacted: bank card ****1111]"
    assert scrub(Field.NOTE, f"card {VISA}", enabled=False).text == f"card {VISA}"


def test_a_field_full_of_numbers_still_fits_its_column_once_redacted() -> None:
    typed = " ".join(["4111-1111-1111-1111"] * 3)  # 59 characters, under the channel's 64
    kept = scrub(Field.CHANNEL, typed)
    assert len(kept.text) == LIMITS[Field.CHANNEL] and kept.text.endswith("…")
    assert "4111-1111-1111-1111" not in kept.text and len(kept.findings) == 3


# Property tests: every number a generator with correct check digits can make is caught, in every
# spelling; the same shape with a wrong check digit never is.

births = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
regions = st.text(alphabet="0123456789", min_size=6, max_size=6).filter(lambda r: r[0] != "0")
serials = st.text(alphabet="0123456789", min_size=3, max_size=3)
ids = st.builds(cn_id, regions, births, serials)
ssns = (
    st.tuples(st.integers(1, 899).filter(lambda a: a != 666), st.integers(1, 99), st.integers(1, 9999))
    .map(lambda p: f"{p[0]:03d}{p[1]:02d}{p[2]:04d}")
    .filter(is_ssn)
)
cards = st.text(alphabet="0123456789", min_size=12, max_size=18).map(card)
seps = st.sampled_from([" ", "-", ".", "\u3000", " - ", "\u00a0"])
fullwidth = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def spelled(number: str, groups: list[int], sep: str, wide: bool) -> str:
    parts, at = [], 0
    for size in groups:
        parts.append(number[at : at + size])
        at += size
    if at < len(number):
        parts.append(number[at:])
    typed = sep.join(p for p in parts if p)
    return typed.translate(fullwidth) if wide else typed


@st.composite
def numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(the number's canonical digits, the number as someone might type it)."""
    kind = draw(st.sampled_from(["cn_id", "ssn", "bank_card"]))
    sep, wide = draw(seps), draw(st.booleans())
    if kind == "cn_id":
        number = draw(ids)
        groups = draw(st.sampled_from([[18], [6, 8, 4], [6, 4, 4, 4]]))
    elif kind == "ssn":
        number = draw(ssns)
        groups = draw(st.sampled_from([[3, 2, 4], [9]]))
    else:
        number = draw(cards)
        amex = [4, 6, 5] if len(number) == 15 else fours(len(number))
        groups = draw(st.sampled_from([[len(number)], fours(len(number)), amex]))
    return number, spelled(number, groups, sep, wide)


def fours(length: int) -> list[int]:
    """Groups of four as printed on a card; a remainder too short to stand alone joins the last group."""
    groups = [4] * (length // 4)
    rest = length % 4
    if rest >= 3:
        groups.append(rest)
    elif rest:
        groups[-1] += rest
    return groups


prose = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Nd", "No", "Nl")), max_size=40)


@settings(max_examples=200)
@given(st.lists(st.tuples(prose, numbers()), min_size=1, max_size=4), prose)
def test_every_number_in_every_spelling_is_caught_and_the_prose_kept(
    pieces: list[tuple[str, tuple[str, str]]], tail: str
) -> None:
    # A label before each number: a bare nine-digit one right after "$" is money (see incident/redact.py).
    text = "".join(f"{words} ID: {typed}, " for words, (_, typed) in pieces) + tail
    result = redact(text)
    for words, (number, typed) in pieces:
        assert typed not in result.text
        assert number not in result.text
        assert words in result.text
    assert len(result.findings) == len(pieces)


@given(ids, st.sampled_from("0123456789X"))
def test_an_id_with_any_other_check_digit_is_not_an_id(number: str, check: str) -> None:
    if check == number[-1]:
        return
    assert not is_cn_resident_id(number[:-1] + check)
    assert all(f.kind != "cn_id" for f in redact(number[:-1] + check).findings)


@given(cards)
def test_every_off_by_one_card_is_not_a_card(number: str) -> None:
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not is_bank_card(wrong)
    assert all(f.kind != "bank_card" for f in redact(f"card {wrong} end").findings)


@given(st.integers(900, 999) | st.just(666) | st.just(0), st.integers(0, 99), st.integers(0, 9999))
def test_unissuable_areas_are_never_ssns(area: int, group: int, serial: int) -> None:
    assert not is_ssn(f"{area:03d}-{group:02d}-{serial:04d}")
    assert not redact(f"SSN {area:03d}-{group:02d}-{serial:04d}").findings
