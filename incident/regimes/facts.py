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
CAC_GRADE_LABELS: Mapping[CacGrade, Text] = {
    "general": Text("一般或以下", "general or below"),
    "larger": Text("较大", "larger (较大)"),
    "major": Text("重大", "major (重大)"),
    "especially_major": Text("特别重大", "especially major (特别重大)"),
}
CLOCK_START_LABELS: Mapping[ClockStart, Text] = {
    "discovered_at": Text("发现时间", "discovery time"),
    "aware_at": Text("确认知悉时间", "awareness time"),
    "determined_at": Text("认定发生泄露的时间", "time the breach was determined"),
    "materiality_decided_at": Text("重大性认定时间", "materiality decision time"),
}

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
            return self.discovered_at, Text("发现时间", "discovery")
        if self.declared_at is not None:
            return self.declared_at, Text("启动响应时间", "the declaration")
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
    """How conditions test one fact, and how it reads when it is unknown, true or false."""

    kind: FactKind
    unknown: Text
    asks: str  # the Facts field a person must fill in when this fact is unknown ("": the fact itself)
    yes: Text | None = None
    no: Text | None = None
    choices: Mapping[Any, Text] = field(default_factory=dict)  # a Literal choice type → its label


def _flag(unknown: Text, yes: Text, no: Text) -> FactSpec:
    return FactSpec("flag", unknown, "", yes, no)


FACT_SPECS: Mapping[str, FactSpec] = {
    "jurisdictions": FactSpec("jurisdictions", Text("涉及法域未知", "jurisdictions unknown"), ""),
    "data_categories": FactSpec("categories", Text("数据类别未知", "data categories unknown"), ""),
    "people_affected": FactSpec("count", Text("受影响人数未知", "number of people affected unknown"), ""),
    "cac_grade": FactSpec(
        "choice",
        Text("受影响人数未知，无法分级", "CAC grade unknown (people affected unknown)"),
        "people_affected",
        choices=CAC_GRADE_LABELS,
    ),
    "role": FactSpec(
        "choice",
        Text("本所是控制者还是受托方未知", "whether the firm is controller or processor is unknown"),
        "",
        choices={
            "controller": Text("本所为控制者（个人信息处理者）", "the firm is the controller"),
            "processor": Text("本所为受托方（代客户处理）", "the firm is a processor (acting for a client)"),
        },
    ),
    "encrypted": _flag(
        Text("是否加密未知", "whether the data was encrypted is unknown"),
        Text("数据已加密且密钥安全", "data encrypted, key safe"),
        Text("数据未加密", "data not encrypted"),
    ),
    "exfiltration_confirmed": _flag(
        Text("是否外泄未知", "whether data was taken is unknown"),
        Text("已确认数据外泄", "exfiltration confirmed"),
        Text("无证据表明数据被获取", "no evidence the data was taken"),
    ),
    "critical_infrastructure": _flag(
        Text("是否关键信息基础设施未知", "whether critical infrastructure is involved is unknown"),
        Text("涉及关键信息基础设施", "critical infrastructure involved"),
        Text("不涉及关键信息基础设施", "no critical infrastructure involved"),
    ),
    "high_risk": _flag(
        Text("对个人的风险高低未知", "whether people face a high risk is unknown"),
        Text("可能对个人造成高风险", "likely high risk to people"),
        Text("不太可能对个人造成高风险", "high risk to people unlikely"),
    ),
    "crime_suspected": _flag(
        Text("是否涉嫌犯罪未知", "whether a crime is suspected is unknown"),
        Text("涉嫌犯罪", "crime suspected"),
        Text("未发现犯罪嫌疑", "no crime suspected"),
    ),
    "public_company_material": _flag(
        Text(
            "是否上市公司客户的重大事件未知", "whether it is material to a public-company client is unknown"
        ),
        Text("上市公司客户认定事件重大", "material incident at a public-company client"),
        Text("非上市公司客户的重大事件", "not material to a public-company client"),
    ),
    "eu_main_establishment": _flag(
        Text(
            "本所在欧盟是否设有主要营业机构未知",
            "whether the firm has a main establishment in the EU is unknown",
        ),
        Text(
            "本所在欧盟设有主要营业机构（一站式机制）",
            "the firm has a main establishment in the EU (one-stop shop)",
        ),
        Text("本所在欧盟没有主要营业机构", "the firm has no main establishment in the EU"),
    ),
    "dfs_covered_entity": _flag(
        Text("本所是否受纽约州金融服务部监管未知", "whether the firm is a NY DFS covered entity is unknown"),
        Text("本所是纽约州金融服务部监管的受监管实体", "the firm is a NY DFS covered entity"),
        Text("本所不受纽约州金融服务部监管", "the firm is not a NY DFS covered entity"),
    ),
    "covered_financial_institution": _flag(
        Text(
            "本所是否属于 FTC 保障规则下的金融机构未知",
            "whether the firm is a financial institution under the FTC Safeguards Rule is unknown",
        ),
        Text("本所属于 FTC 保障规则下的金融机构", "the firm is covered by the FTC Safeguards Rule"),
        Text("本所不属于 FTC 保障规则下的金融机构", "the firm is not covered by the FTC Safeguards Rule"),
    ),
    "hipaa_business_associate": _flag(
        Text(
            "本所是否为医疗机构的 HIPAA 业务伙伴未知",
            "whether the firm is a HIPAA business associate of a medical practice is unknown",
        ),
        Text("本所是医疗机构的 HIPAA 业务伙伴", "the firm is a HIPAA business associate"),
        Text("本所不是 HIPAA 业务伙伴", "the firm is not a HIPAA business associate"),
    ),
    "public_company_client": _flag(
        Text(
            "受影响客户是否为美国上市公司未知",
            "whether the affected client is a US public company is unknown",
        ),
        Text("受影响客户是美国上市公司", "the affected client is a US public company"),
        Text("受影响客户不是美国上市公司", "the affected client is not a US public company"),
    ),
    "law_enforcement_investigating": _flag(
        Text("执法机关是否在调查未知", "whether law enforcement is investigating is unknown"),
        Text("执法机关正在调查", "law enforcement is investigating"),
        Text("执法机关未在调查", "law enforcement is not investigating"),
    ),
    "efile_credentials_stolen": _flag(
        Text(
            "电子申报 / 报税软件凭据或 EFIN 是否失窃未知",
            "whether e-file / tax-software credentials or the EFIN were stolen is unknown",
        ),
        Text("电子申报 / 报税软件凭据或 EFIN 失窃", "e-file / tax-software credentials or EFIN stolen"),
        Text("电子申报 / 报税软件凭据未失窃", "no e-file / tax-software credentials stolen"),
    ),
    "systemic_compromise": _flag(
        Text(
            "是否系统性的电子申报 / 凭据失陷未知",
            "whether e-file / credentials are compromised systemically is unknown",
        ),
        Text("电子申报 / 凭据系统性失陷", "systemic e-file / credential compromise"),
        Text("无系统性电子申报 / 凭据失陷", "no systemic e-file / credential compromise"),
    ),
    "filings_disrupted_near_deadline": _flag(
        Text("申报截止前客户申报是否受影响未知", "whether client filings near a deadline are hit is unknown"),
        Text(
            "申报截止前客户申报受影响（如勒索软件）",
            "client filings hit near a filing deadline (e.g. ransomware)",
        ),
        Text("客户申报未受影响", "client filings not disrupted"),
    ),
}
FLAG_FACTS: tuple[str, ...] = tuple(name for name, spec in FACT_SPECS.items() if spec.kind == "flag")
FACT_NAMES: frozenset[str] = frozenset(FACT_SPECS)
