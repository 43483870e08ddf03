"""What is known about an incident, and the vocabulary of facts the regimes' conditions speak.

Every fact may be None: not yet known. A condition on an unknown fact is *unknown*, never
false, so a duty that hangs on it is shown with the fact still needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from incident.errors import Invalid
from incident.i18n import Key, both
from incident.text import Text

Role = Literal["controller", "processor"]
ClockStart = Literal["discovered_at", "aware_at", "determined_at", "materiality_decided_at"]
CacGrade = Literal["general", "larger", "major", "especially_major"]

ROLES: tuple[Role, ...] = get_args(Role)
CLOCK_STARTS: tuple[ClockStart, ...] = get_args(ClockStart)
CAC_GRADES: tuple[CacGrade, ...] = get_args(CacGrade)

# People affected at which a personal-data incident reaches each CAC grade (《网络安全事件分级指南》).
CAC_GRADE_THRESHOLDS: tuple[tuple[int, CacGrade], ...] = (
    (100_000_000, "especially_major"),
    (10_000_000, "major"),
    (1_000_000, "larger"),
)
# The labels' message keys (handlers/messages/regime_facts.yaml), read when a label is shown.
CAC_GRADE_KEYS: Mapping[CacGrade, Key] = {
    "general": Key("facts.cac_grade.general"),
    "larger": Key("facts.cac_grade.larger"),
    "major": Key("facts.cac_grade.major"),
    "especially_major": Key("facts.cac_grade.especially_major"),
}
CLOCK_START_KEYS: Mapping[ClockStart, Key] = {
    "discovered_at": Key("clock_start.discovered_at"),
    "aware_at": Key("clock_start.aware_at"),
    "determined_at": Key("clock_start.determined_at"),
    "materiality_decided_at": Key("clock_start.materiality_decided_at"),
}


def cac_grade_label(grade: CacGrade) -> Text:
    return both(CAC_GRADE_KEYS[grade])


def clock_start_label(start: ClockStart) -> Text:
    """How a clock's legal start reads (``aware_at`` → "awareness time")."""
    return both(CLOCK_START_KEYS[start])


# A clock start outside these years is a typing mistake, and would overflow the arithmetic.
_EARLIEST_YEAR, _LATEST_YEAR = 1970, 9000
JURISDICTION_CODE = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")


class InvalidFact(Invalid, ValueError):
    """A fact about an incident has a value no law could be evaluated against."""

    key = "error.invalid_fact"


@dataclass(frozen=True)
class Facts:
    """What is known about an incident. Every field may be None: not yet known.

    ``encrypted`` means encrypted with the key not compromised. ``jurisdictions`` holds
    codes like ``CN``, ``EU``, ``US``, ``US-CA``; a sub-code implies its country
    (``US-CA`` implies ``US``). ``data_categories`` are keys of the regimes file's
    ``categories`` (checked where they are entered). Times are tz-aware and normalised to UTC.
    """

    jurisdictions: frozenset[str] | None = None
    people_affected: int | None = None
    data_categories: frozenset[str] | None = None
    encrypted: bool | None = None
    exfiltration_confirmed: bool | None = None
    role: Role | None = None
    critical_infrastructure: bool | None = None
    high_risk: bool | None = None
    crime_suspected: bool | None = None
    public_company_material: bool | None = None
    eu_main_establishment: bool | None = None  # a main establishment in the EU: one-stop shop
    dfs_covered_entity: bool | None = None  # a NY DFS-regulated covered entity (23 NYCRR 500.1)
    covered_financial_institution: bool | None = None  # covered by the FTC Safeguards Rule
    hipaa_business_associate: bool | None = None  # serves medical practices as a business associate
    public_company_client: bool | None = None  # the affected client is a US public company
    law_enforcement_investigating: bool | None = None
    efile_credentials_stolen: bool | None = None  # e-file / tax-software credentials or EFIN stolen
    # The severity matrix needs these two; no regime does.
    systemic_compromise: bool | None = None  # systemic e-file / credential compromise
    filings_disrupted_near_deadline: bool | None = None  # e.g. ransomware on client filings
    discovered_at: datetime | None = None
    aware_at: datetime | None = None
    determined_at: datetime | None = None  # when the firm determined that a breach occurred
    materiality_decided_at: datetime | None = None
    # When the incident was declared: a clock whose legal start is unknown runs from the earliest
    # known moment (discovery, else this), marked as assumed.
    declared_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.jurisdictions is not None:
            codes = frozenset(_code(c) for c in _iterable("jurisdictions", self.jurisdictions))
            object.__setattr__(self, "jurisdictions", codes)
        if self.data_categories is not None:
            categories = frozenset(_iterable("data_categories", self.data_categories))
            bad = sorted(
                repr(c) for c in categories if not isinstance(c, str) or not CATEGORY_KEY.fullmatch(c)
            )
            if bad:
                raise InvalidFact(fact="data_categories", value=", ".join(bad))
            object.__setattr__(self, "data_categories", categories)
        count = self.people_affected
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise InvalidFact(fact="people_affected", value=repr(count))
        if self.role is not None and self.role not in ROLES:
            raise InvalidFact(fact="role", value=repr(self.role))
        for name in FLAG_FACTS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise InvalidFact(fact=name, value=repr(value))
        for name in (*CLOCK_STARTS, "declared_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _utc(name, value))

    @property
    def cac_grade(self) -> CacGrade | None:
        """The CAC incident grade a personal-data incident of this size reaches."""
        if self.people_affected is None:
            return None
        for threshold, grade in CAC_GRADE_THRESHOLDS:
            if self.people_affected >= threshold:
                return grade
        return "general"

    @property
    def all_jurisdictions(self) -> frozenset[str] | None:
        """The jurisdictions with every implied parent added (``US-CA`` → also ``US``)."""
        if self.jurisdictions is None:
            return None
        return self.jurisdictions | {code.split("-", 1)[0] for code in self.jurisdictions}

    def clock(self, start: ClockStart) -> datetime | None:
        return getattr(self, start)

    @property
    def earliest_known(self) -> tuple[datetime, Text] | None:
        """The moment a clock whose legal start is unknown runs from, and how it reads."""
        if self.discovered_at is not None:
            return self.discovered_at, both("clock_start.assumed.discovered_at")
        if self.declared_at is not None:
            return self.declared_at, both("clock_start.assumed.declared_at")
        return None

    def value(self, fact: str) -> Any:
        """The value a condition on ``fact`` is evaluated against."""
        if fact == "jurisdictions":
            return self.all_jurisdictions
        return getattr(self, fact)


CATEGORY_KEY = re.compile(r"[a-z][a-z0-9_]*")


def _iterable(name: str, value: object) -> Iterable[Any]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidFact(fact=name, value=repr(value))
    return value


def _code(value: object) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if not JURISDICTION_CODE.fullmatch(code):
        raise InvalidFact(fact="jurisdictions", value=repr(value))
    return code


def _utc(name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidFact(fact=name, value=repr(value))
    if not _EARLIEST_YEAR <= value.year <= _LATEST_YEAR:
        raise InvalidFact(fact=name, value=value.isoformat())
    return value.astimezone(UTC)


# --------------------------------------------------------------------------- the vocabulary

FactKind = Literal["jurisdictions", "categories", "count", "flag", "choice"]


@dataclass(frozen=True)
class FactSpec:
    """How conditions test one fact, and how it reads when it is unknown, true or false.

    The readings are message keys (handlers/messages/regime_facts.yaml), read when a verdict is given.
    """

    kind: FactKind
    unknown_key: Key
    asks: str  # the Facts field a person must fill in when this fact is unknown ("": the fact itself)
    yes_key: Key | None = None
    no_key: Key | None = None
    choices: Mapping[Any, Key] = field(default_factory=dict)  # a Literal choice type → its label's key

    @property
    def unknown(self) -> Text:
        return both(self.unknown_key)

    def flag(self, value: bool) -> Text:
        """How a yes/no fact reads when it is known."""
        key = self.yes_key if value else self.no_key
        assert key is not None, "only a flag fact reads as yes or no"
        return both(key)

    def choice(self, value: Any) -> Text:
        """How a choice fact reads when it is known."""
        return both(self.choices[value])


def _flag(unknown: Key, yes: Key, no: Key) -> FactSpec:
    return FactSpec("flag", unknown, "", yes, no)


FACT_SPECS: Mapping[str, FactSpec] = {
    "jurisdictions": FactSpec("jurisdictions", Key("facts.jurisdictions.unknown"), ""),
    "data_categories": FactSpec("categories", Key("facts.data_categories.unknown"), ""),
    "people_affected": FactSpec("count", Key("facts.people_affected.unknown"), ""),
    "cac_grade": FactSpec(
        "choice", Key("facts.cac_grade.unknown"), "people_affected", choices=CAC_GRADE_KEYS
    ),
    "role": FactSpec(
        "choice",
        Key("facts.role.unknown"),
        "",
        choices={"controller": Key("facts.role.controller"), "processor": Key("facts.role.processor")},
    ),
    "encrypted": _flag(Key("facts.encrypted.unknown"), Key("facts.encrypted.yes"), Key("facts.encrypted.no")),
    "exfiltration_confirmed": _flag(
        Key("facts.exfiltration_confirmed.unknown"),
        Key("facts.exfiltration_confirmed.yes"),
        Key("facts.exfiltration_confirmed.no"),
    ),
    "critical_infrastructure": _flag(
        Key("facts.critical_infrastructure.unknown"),
        Key("facts.critical_infrastructure.yes"),
        Key("facts.critical_infrastructure.no"),
    ),
    "high_risk": _flag(Key("facts.high_risk.unknown"), Key("facts.high_risk.yes"), Key("facts.high_risk.no")),
    "crime_suspected": _flag(
        Key("facts.crime_suspected.unknown"),
        Key("facts.crime_suspected.yes"),
        Key("facts.crime_suspected.no"),
    ),
    "public_company_material": _flag(
        Key("facts.public_company_material.unknown"),
        Key("facts.public_company_material.yes"),
        Key("facts.public_company_material.no"),
    ),
    "eu_main_establishment": _flag(
        Key("facts.eu_main_establishment.unknown"),
        Key("facts.eu_main_establishment.yes"),
        Key("facts.eu_main_establishment.no"),
    ),
    "dfs_covered_entity": _flag(
        Key("facts.dfs_covered_entity.unknown"),
        Key("facts.dfs_covered_entity.yes"),
        Key("facts.dfs_covered_entity.no"),
    ),
    "covered_financial_institution": _flag(
        Key("facts.covered_financial_institution.unknown"),
        Key("facts.covered_financial_institution.yes"),
        Key("facts.covered_financial_institution.no"),
    ),
    "hipaa_business_associate": _flag(
        Key("facts.hipaa_business_associate.unknown"),
        Key("facts.hipaa_business_associate.yes"),
        Key("facts.hipaa_business_associate.no"),
    ),
    "public_company_client": _flag(
        Key("facts.public_company_client.unknown"),
        Key("facts.public_company_client.yes"),
        Key("facts.public_company_client.no"),
    ),
    "law_enforcement_investigating": _flag(
        Key("facts.law_enforcement_investigating.unknown"),
        Key("facts.law_enforcement_investigating.yes"),
        Key("facts.law_enforcement_investigating.no"),
    ),
    "efile_credentials_stolen": _flag(
        Key("facts.efile_credentials_stolen.unknown"),
        Key("facts.efile_credentials_stolen.yes"),
        Key("facts.efile_credentials_stolen.no"),
    ),
    "systemic_compromise": _flag(
        Key("facts.systemic_compromise.unknown"),
        Key("facts.systemic_compromise.yes"),
        Key("facts.systemic_compromise.no"),
    ),
    "filings_disrupted_near_deadline": _flag(
        Key("facts.filings_disrupted_near_deadline.unknown"),
        Key("facts.filings_disrupted_near_deadline.yes"),
        Key("facts.filings_disrupted_near_deadline.no"),
    ),
}
FLAG_FACTS: tuple[str, ...] = tuple(name for name, spec in FACT_SPECS.items() if spec.kind == "flag")
FACT_NAMES: frozenset[str] = frozenset(FACT_SPECS)
