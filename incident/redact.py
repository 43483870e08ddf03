"""Sensitive-data guard: national ID numbers, SSNs and bank card numbers never reach the record.

An incident record is read by many people and handed to regulators, and its timeline is
hash-chained, so a number pasted into any free-text field would spread the breach further and
could never be taken out again. Every free-text field passes through `scrub` (its length limit,
then this guard) before it is stored, posted or hashed.

The check digits and issuing rules come from python-stdnum (`stdnum.cn.ric`, `stdnum.us.ssn`,
`stdnum.luhn`), so ordinary figures with the same shape (amounts, ticket numbers, dates) pass.

Detection reads an NFKC-normalised copy of the text (full-width digits, a full-width ``Ｘ`` or
space, non-breaking spaces become their plain forms) and maps what it finds back onto the text
as typed, so everything around a number is kept exactly as the person wrote it. A number may be
written in groups separated by spaces, hyphens or dots, in any mix (``4111.1111-1111 1111``).

Unseparated SSNs are the hard case: nine digits are also amounts, invoice and QQ numbers. A bare
nine-digit number is redacted only when it is a valid SSN (issuable area, group and serial, not a
published sample) and nothing marks it as something else: a currency sign or code before it, a
unit or currency after it (``元``, ``USD``, ``%``), a ``#`` or letters stuck to it
(``INV123456789``), or a decimal or dashed continuation (``123456789.50``). What remains is
redacted on purpose: a nine-digit figure typed bare, with no currency, loses all but its last four
digits. Over-redacting a figure costs a re-type; keeping an SSN costs a breach.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from stdnum import luhn
from stdnum.cn import ric
from stdnum.exceptions import ValidationError
from stdnum.us import ssn

from incident.errors import Invalid
from incident.limits import Field, limit, require_within, too_long

Kind = Literal["cn_id", "ssn", "bank_card"]

LABELS: dict[Kind, str] = {"cn_id": "CN resident ID", "ssn": "SSN", "bank_card": "bank card"}

# Between two groups of digits: one or two spaces, or a hyphen or dot with a space either side at most.
_SEP = r"(?:[ \t]{1,2}|[ \t]?[-.\u2010-\u2015][ \t]?)"
# A group: digits, and an ``X`` closing a resident ID (not the start of a word).
_GROUP = r"[0-9]+(?:[Xx](?![A-Za-z]))?"
_CHAIN = re.compile(rf"(?<![0-9]){_GROUP}(?:{_SEP}{_GROUP})*")
_GROUPS = re.compile(_GROUP)
_MAX_DIGITS = 19  # the longest number we look for (a card)

# What marks a bare nine-digit figure as money or a reference rather than an SSN.
_MONEY_BEFORE = re.compile(r"(?:[$¥€£#№]|USD|RMB|CNY|EUR|HKD|US\$|No\.?)\s?$", re.IGNORECASE)
_MONEY_AFTER = re.compile(r"^\s?(?:[元円%‰]|万|亿|yuan|usd|rmb|cny|eur|dollars?)", re.IGNORECASE)
_CONTINUED = frozenset(".,-/:\u2010\u2011\u2012\u2013\u2014\u2015")


def is_cn_resident_id(text: str) -> bool:
    """18 characters: 17 digits with a valid birth date and the MOD 11-2 check character (a digit or X).

    Not ``ric.is_valid``: it also looks the birth place up in stdnum's table of region codes, and a
    real number from a code missing there (renamed and merged counties) must still be caught.
    """
    number = text.upper()
    if len(number) != 18 or not number[:17].isdigit() or not number.isascii():
        return False
    try:
        ric.get_birth_date(number)
    except ValidationError:
        return False
    return ric.calc_check_digit(number) == number[17]


def is_ssn(text: str) -> bool:
    """Nine digits (``AAA-GG-SSSS``, spaced or bare) the SSA can issue, and not a published sample."""
    digits = re.sub(r"[ -]", "", text)
    return len(digits) == 9 and digits.isascii() and digits.isdigit() and ssn.is_valid(digits)


def is_bank_card(text: str) -> bool:
    """13 to 19 digits (spaces, dashes or dots between groups allowed) with a valid Luhn check digit."""
    digits = re.sub(r"[ .-]", "", text)
    return (
        13 <= len(digits) <= _MAX_DIGITS and digits.isascii() and digits.isdigit() and luhn.is_valid(digits)
    )


@dataclass(frozen=True)
class Finding:
    kind: Kind
    last4: str

    @property
    def marker(self) -> str:
        return f"[redacted: {LABELS[self.kind]} ****{self.last4}]"


@dataclass(frozen=True)
class Redacted:
    text: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        return bool(self.findings)


@dataclass(frozen=True)
class _Group:
    start: int
    end: int
    digits: str
    sep_after: str  # the separator between this group and the next one ("" for the last)


def _normalised(text: str) -> tuple[str, list[int]]:
    """NFKC per character, with each normalised character's index in the original text."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        norm = unicodedata.normalize("NFKC", ch) if not ch.isascii() else ch
        out.append(norm)
        origin.extend([i] * len(norm))
    origin.append(len(text))
    return "".join(out), origin


def _bare_ssn_stands_alone(norm: str, group: _Group, before: _Group | None) -> bool:
    """A bare nine-digit number is not obviously something else (see the module docstring)."""
    prev = norm[group.start - 1] if group.start else ""
    nxt = norm[group.end] if group.end < len(norm) else ""
    if prev.isalpha() or nxt.isalpha() or prev == "+":
        return False
    if (before is not None and before.sep_after.strip()) or group.sep_after.strip():
        return False  # part of a dotted or dashed number
    before_prev = norm[group.start - 2] if group.start > 1 else ""
    if (prev in _CONTINUED and before_prev.isdigit()) or (
        nxt in _CONTINUED and norm[group.end + 1 : group.end + 2].isdigit()
    ):
        return False
    return not (
        _MONEY_BEFORE.search(norm[max(0, group.start - 6) : group.start])
        or _MONEY_AFTER.match(norm[group.end :])
    )


def _classify(norm: str, groups: list[_Group], i: int, j: int) -> Kind | None:
    parts = [g.digits for g in groups[i : j + 1]]
    joined = "".join(parts).upper()
    sizes = [len(p) for p in parts]
    if len(joined) == 18 and is_cn_resident_id(joined):
        return "cn_id"
    if "X" in joined:
        return None
    if len(joined) == 9 and ssn.is_valid(joined):
        if sizes == [3, 2, 4]:
            return "ssn"
        if sizes == [9] and _bare_ssn_stands_alone(norm, groups[i], groups[i - 1] if i else None):
            return "ssn"
    if 13 <= len(joined) <= _MAX_DIGITS and (len(parts) == 1 or all(3 <= s <= 6 for s in sizes)):
        if luhn.is_valid(joined):
            return "bank_card"
    return None


def _groups(norm: str, chain: re.Match[str]) -> list[_Group]:
    found = list(_GROUPS.finditer(norm, chain.start(), chain.end()))
    return [
        _Group(
            m.start(), m.end(), m.group(0), norm[m.end() : found[k + 1].start()] if k + 1 < len(found) else ""
        )
        for k, m in enumerate(found)
    ]


def _spans(norm: str) -> list[tuple[int, int, Kind, str]]:
    """(start, end, kind, digits) of each number found, left to right, longest first at each start."""
    spans: list[tuple[int, int, Kind, str]] = []
    for chain in _CHAIN.finditer(norm):
        groups = _groups(norm, chain)
        i = 0
        while i < len(groups):
            # The longest run of groups from here that is a number; runs past 19 digits never are.
            ends: list[int] = []
            total = 0
            for j in range(i, len(groups)):
                total += len(groups[j].digits)
                # No number we look for is written with a lone digit before its last group; stopping
                # there keeps a long run of "1 2 3 ..." linear.
                if total > _MAX_DIGITS or (j > i and len(groups[j - 1].digits) < 2):
                    break
                if total == 9 or total >= 13:
                    ends.append(j)
            for j in reversed(ends):
                kind = _classify(norm, groups, i, j)
                if kind is not None:
                    digits = "".join(g.digits for g in groups[i : j + 1]).upper()
                    spans.append((groups[i].start, groups[j].end, kind, digits))
                    i = j + 1
                    break
            else:
                i += 1
    return spans


def redact(text: str) -> Redacted:
    """The text with every detected number replaced by a marker that keeps only its last 4 digits."""
    norm, origin = _normalised(text)
    spans = _spans(norm)
    if not spans:
        return Redacted(text)
    out: list[str] = []
    findings: list[Finding] = []
    cursor = 0
    for start, end, kind, digits in spans:
        first, last = origin[start], origin[end - 1] + 1
        finding = Finding(kind, digits[-4:])
        findings.append(finding)
        out.append(text[cursor:first])
        out.append(finding.marker)
        cursor = last
    out.append(text[cursor:])
    return Redacted("".join(out), tuple(findings))


def guard(text: str, enabled: bool) -> Redacted:
    """`redact` when the guard is on (BREACHROOM_REDACT_SENSITIVE), the text untouched otherwise."""
    return redact(text) if enabled else Redacted(text)


def scrub(field: Field, value: str | None, *, enabled: bool = True) -> Redacted:
    """The one way free text enters the record: refused past its field's limit, trimmed, guarded.

    Raises ``Invalid("redact.error.too_long", limit=...)`` before anything is stored.
    """
    raw = value or ""
    require_within(field, raw)
    clean = guard(raw.strip(), enabled)
    # A marker is longer than the number it replaces; the stored text still fits the field (and
    # its column: a notice's reference and channel are bounded VARCHARs).
    if len(clean.text) > limit(field):
        return Redacted(clean.text[: limit(field) - 1] + "…", clean.findings)
    return clean


def scrub_required(
    field: Field, value: str | None, empty_key: str, *, enabled: bool = True, too_long_key: str | None = None
) -> Redacted:
    """`scrub` for text a person must give: ``Invalid(empty_key)`` when nothing is left of it.

    ``too_long_key``: the feature's own message for a value past its field's limit (given the
    ``limit``), in place of ``redact.error.too_long``.
    """
    if too_long_key is not None and too_long(field, value):
        raise Invalid(too_long_key, limit=limit(field))
    clean = scrub(field, value, enabled=enabled)
    if not clean.text:
        raise Invalid(empty_key)
    return clean


def scrub_lines(field: Field, values: Iterable[str], *, enabled: bool = True) -> list[Redacted]:
    """`scrub` for a list typed one a line (affected clients): the limit is on the whole list."""
    items = [v.strip() for v in values if v and v.strip()]
    require_within(field, "\n".join(items))
    return [guard(v, enabled) for v in items]


def merge(*parts: Redacted) -> tuple[Finding, ...]:
    return tuple(f for part in parts for f in part.findings)


def counts(*parts: Redacted) -> dict[str, int]:
    """How many numbers of each kind were taken out: what a timeline event may say about them."""
    return dict(sorted(Counter(f.kind for f in merge(*parts)).items()))


def with_counts(data: dict[str, object], *parts: Redacted) -> dict[str, object]:
    """The event data, with ``redacted`` (kind → count) added when anything was taken out."""
    found = counts(*parts)
    return {**data, "redacted": found} if found else data
