"""Sensitive-data guard: national ID numbers, SSNs and bank card numbers never reach the record.

An incident record is read by many people and handed to regulators; a number pasted into a
note would spread the breach further. Each detector checks the number's own structure (check
digit, reserved ranges) so ordinary figures such as amounts, ticket numbers or dates pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["cn_id", "ssn", "bank_card"]

CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CN_ID_CHECK = "10X98765432"

_CN_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_SSN = re.compile(r"(?<![0-9-])(\d{3})-(\d{2})-(\d{4})(?![0-9-])")
# Contiguous digits, or the usual groupings (4-4-4-4, 4-6-5, 4-4-4-4-3) with one kind of separator.
_CARD = re.compile(r"(?<![0-9-])(?:\d{13,19}|\d{4}([ -])\d{4,6}(?:\1\d{3,5}){1,3})(?![0-9-])")

LABELS: dict[Kind, str] = {"cn_id": "CN resident ID", "ssn": "SSN", "bank_card": "bank card"}


def cn_id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID."""
    total = sum(int(d) * w for d, w in zip(first17, CN_ID_WEIGHTS, strict=True))
    return CN_ID_CHECK[total % 11]


def is_cn_resident_id(text: str) -> bool:
    """18 characters: 17 digits and the MOD 11-2 check character (a digit or X)."""
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] in "Xx"):
        return False
    return cn_id_check_digit(text[:17]) == text[17].upper()


def is_ssn(text: str) -> bool:
    """AAA-GG-SSSS with an area, group and serial the SSA can issue."""
    match = re.fullmatch(r"(\d{3})-(\d{2})-(\d{4})", text)
    if match is None:
        return False
    area, group, serial = match.groups()
    if area in ("000", "666") or area.startswith("9"):
        return False
    return group != "00" and serial != "0000"


def luhn_ok(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_bank_card(text: str) -> bool:
    """13 to 19 digits (spaces or dashes between groups allowed) with a valid Luhn check digit."""
    digits = re.sub(r"[ -]", "", text)
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


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


def redact(text: str) -> Redacted:
    """The text with every detected number replaced by a marker that keeps only its last 4 digits."""
    findings: list[Finding] = []

    def replacer(kind: Kind, check: Callable[[str], bool]) -> Callable[[re.Match[str]], str]:
        def sub(match: re.Match[str]) -> str:
            raw = match.group(0)
            if not check(raw):
                return raw
            digits = re.sub(r"[^0-9Xx]", "", raw).upper()
            finding = Finding(kind, digits[-4:])
            findings.append(finding)
            return finding.marker

        return sub

    # ID numbers first: an 18-digit resident ID may also pass Luhn, and should be named as what it is.
    out = _CN_ID.sub(replacer("cn_id", is_cn_resident_id), text)
    out = _SSN.sub(replacer("ssn", is_ssn), out)
    out = _CARD.sub(replacer("bank_card", is_bank_card), out)
    return Redacted(out, tuple(findings))


def guard(text: str, enabled: bool) -> Redacted:
    """`redact` when the guard is on (BREACHROOM_REDACT_SENSITIVE), the text untouched otherwise."""
    return redact(text) if enabled else Redacted(text)


def merge(*parts: Redacted) -> tuple[Finding, ...]:
    return tuple(f for part in parts for f in part.findings)
