"""Regulatory clocks: which breach-notification regimes apply to an incident, and by when.

The regimes themselves are data (``incident/data/regimes.yaml``) the firm can edit; this
module holds the fact vocabulary their conditions speak, the three-valued evaluation
of those conditions, and the deadline arithmetic.

Three-valued on purpose: early in an incident most facts are unknown, and a regime
whose decision hangs on an unknown fact must show up as *unknown* with the facts still
needed, never be silently dropped as "does not apply".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

from incident.errors import Invalid, NotFound
from incident.text import Text
from incident.yamlsource import Checker, YamlPath, load_with_lines, source_name

DEFAULT_REGIMES_PATH = Path(__file__).parent / "data" / "regimes.yaml"

Status = Literal["applies", "does_not_apply", "unknown"]
Role = Literal["controller", "processor"]
ClockStart = Literal["discovered_at", "aware_at", "materiality_decided_at"]
CacGrade = Literal["general", "larger", "major", "especially_major"]
ClockState = Literal["open", "met", "late", "overdue", "unscheduled"]
ChangeKind = Literal["started", "stopped", "status_changed", "deadline_changed"]

ROLES: tuple[Role, ...] = get_args(Role)
CLOCK_STARTS: tuple[ClockStart, ...] = get_args(ClockStart)
CAC_GRADES: tuple[CacGrade, ...] = get_args(CacGrade)
MISSED_STATES: frozenset[ClockState] = frozenset({"late", "overdue"})

CATEGORY_LABELS: Mapping[str, Text] = {
    "national_id": Text("身份证件号码（身份证 / SSN / TIN）", "national ID (ID card, SSN, TIN)"),
    "bank_account": Text("银行账户", "bank account"),
    "tax_return": Text("纳税申报资料", "tax return"),
    "payroll": Text("工资薪金资料", "payroll"),
    "ledger": Text("账簿", "ledger"),
    "credentials": Text("登录凭据", "login credentials"),
    "contact": Text("联系方式", "contact details"),
    "other": Text("其他", "other"),
}
CATEGORIES: frozenset[str] = frozenset(CATEGORY_LABELS)

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
    "materiality_decided_at": Text("重大性认定时间", "materiality decision time"),
}
STATUS_LABELS: Mapping[Status, Text] = {
    "applies": Text("适用", "applies"),
    "does_not_apply": Text("不适用", "does not apply"),
    "unknown": Text("待定", "unknown"),
}

# A clock start outside these years is a typing mistake, and would overflow the arithmetic.
_EARLIEST_YEAR, _LATEST_YEAR = 1970, 9000
_JURISDICTION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")


class InvalidFact(Invalid, ValueError):
    """A fact about an incident has a value no law could be evaluated against."""

    key = "error.invalid_fact"


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class Facts:
    """What is known about an incident. Every field may be None: not yet known.

    ``encrypted`` means encrypted with the key not compromised. ``jurisdictions`` holds
    codes like ``CN``, ``EU``, ``US``, ``US-CA``; a sub-code implies its country
    (``US-CA`` implies ``US``). Times are tz-aware and normalised to UTC.
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
    # The severity matrix needs these two; no regime does.
    systemic_compromise: bool | None = None  # systemic e-file / credential compromise
    filings_disrupted_near_deadline: bool | None = None  # e.g. ransomware on client filings
    discovered_at: datetime | None = None
    aware_at: datetime | None = None
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
            unknown = sorted(str(c) for c in categories - CATEGORIES)
            if unknown:
                raise InvalidFact(fact="data_categories", value=", ".join(unknown))
            object.__setattr__(self, "data_categories", categories)
        count = self.people_affected
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise InvalidFact(fact="people_affected", value=repr(count))
        if self.role is not None and self.role not in ROLES:
            raise InvalidFact(fact="role", value=repr(self.role))
        for name in _FLAG_FACTS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise InvalidFact(fact=name, value=repr(value))
        for name in CLOCK_STARTS:
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

    def value(self, fact: str) -> Any:
        """The value a condition on ``fact`` is evaluated against."""
        if fact == "jurisdictions":
            return self.all_jurisdictions
        return getattr(self, fact)


def _iterable(name: str, value: object) -> Iterable[Any]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidFact(fact=name, value=repr(value))
    return value


def _code(value: object) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if not _JURISDICTION.fullmatch(code):
        raise InvalidFact(fact="jurisdictions", value=repr(value))
    return code


def _utc(name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidFact(fact=name, value=repr(value))
    if not _EARLIEST_YEAR <= value.year <= _LATEST_YEAR:
        raise InvalidFact(fact=name, value=value.isoformat())
    return value.astimezone(UTC)


# --------------------------------------------------------------------------- durations

_DURATION = re.compile(r"(\d{1,5})(m|h|d|bd)")
DurationUnit = Literal["m", "h", "d", "bd"]
_UNIT_TEXT: Mapping[str, tuple[str, str]] = {
    "m": ("分钟", "min"),
    "h": ("小时", "h"),
    "d": ("天", "days"),
    "bd": ("个工作日", "business days"),
}


@dataclass(frozen=True, slots=True)
class Duration:
    """A deadline length: minutes, hours, calendar days, or business days (Mon–Fri)."""

    amount: int
    unit: DurationUnit

    @classmethod
    def parse(cls, value: str) -> Duration:
        match = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None or int(match.group(1)) == 0:
            raise ValueError(f"{value!r} is not a duration (use e.g. 30m, 24h, 72h, 30d, 4bd)")
        return cls(int(match.group(1)), match.group(2))  # type: ignore[arg-type]

    def after(self, start: datetime) -> datetime:
        """The moment this long after ``start``. Business days skip Saturday and Sunday (in UTC)."""
        if self.unit == "bd":
            return add_business_days(start, self.amount)
        unit = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}[self.unit]
        return start + self.amount * unit

    def text(self) -> Text:
        zh, en = _UNIT_TEXT[self.unit]
        return Text(f"{self.amount} {zh}", f"{self.amount} {en}")

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def add_business_days(start: datetime, days: int) -> datetime:
    """``days`` working days after ``start``, same time of day; weekends don't count.

    A start on a weekend counts from the next Monday: Saturday + 1 business day is Monday.
    Public holidays are not skipped, so the result can only be early, never late.
    """
    result, left = start, days
    while left > 0:
        result += timedelta(days=1)
        if result.weekday() < 5:
            left -= 1
    return result


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Outcome:
    """The three-valued result of a condition, with why and what is still unknown."""

    value: bool | None
    reasons: tuple[Text, ...] = ()
    missing: tuple[str, ...] = ()


FactKind = Literal["jurisdictions", "categories", "count", "flag", "choice"]


@dataclass(frozen=True)
class _FactSpec:
    kind: FactKind
    unknown: Text
    asks: str  # the Facts field a person must fill in when this fact is unknown
    yes: Text | None = None
    no: Text | None = None
    choices: Mapping[str, Text] = field(default_factory=dict)


def _flag(unknown: Text, yes: Text, no: Text) -> _FactSpec:
    return _FactSpec("flag", unknown, "", yes, no)


_FACT_SPECS: dict[str, _FactSpec] = {
    "jurisdictions": _FactSpec("jurisdictions", Text("涉及法域未知", "jurisdictions unknown"), ""),
    "data_categories": _FactSpec("categories", Text("数据类别未知", "data categories unknown"), ""),
    "people_affected": _FactSpec("count", Text("受影响人数未知", "number of people affected unknown"), ""),
    "cac_grade": _FactSpec(
        "choice",
        Text("受影响人数未知，无法分级", "CAC grade unknown (people affected unknown)"),
        "people_affected",
        choices=CAC_GRADE_LABELS,
    ),
    "role": _FactSpec(
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
_FLAG_FACTS = tuple(name for name, spec in _FACT_SPECS.items() if spec.kind == "flag")
FACT_NAMES: frozenset[str] = frozenset(_FACT_SPECS)

_OPERATORS: Mapping[FactKind, tuple[str, ...]] = {
    "jurisdictions": ("includes",),
    "categories": ("any_of", "none_of"),
    "count": ("at_least", "below"),
    "flag": ("is",),
    "choice": ("is", "in"),
}


class Condition:
    """A rule on the facts: ``AllOf``, ``AnyOf``, ``Not`` or a ``Leaf`` on one fact."""

    def evaluate(self, facts: Facts) -> Outcome:
        raise NotImplementedError

    def facts(self) -> frozenset[str]:
        """Every fact this condition reads."""
        raise NotImplementedError


@dataclass(frozen=True)
class AllOf(Condition):
    items: tuple[Condition, ...]

    def evaluate(self, facts: Facts) -> Outcome:
        outcomes = [item.evaluate(facts) for item in self.items]
        false = [o for o in outcomes if o.value is False]
        if false:
            return Outcome(False, _reasons(false))
        unknown = [o for o in outcomes if o.value is None]
        if unknown:
            return Outcome(None, _reasons(outcomes), _missing(unknown))
        return Outcome(True, _reasons(outcomes))

    def facts(self) -> frozenset[str]:
        return frozenset().union(*(item.facts() for item in self.items))


@dataclass(frozen=True)
class AnyOf(Condition):
    items: tuple[Condition, ...]

    def evaluate(self, facts: Facts) -> Outcome:
        outcomes = [item.evaluate(facts) for item in self.items]
        true = [o for o in outcomes if o.value is True]
        if true:
            return Outcome(True, _reasons(true))
        unknown = [o for o in outcomes if o.value is None]
        if unknown:
            return Outcome(None, _reasons(outcomes), _missing(unknown))
        return Outcome(False, _reasons(outcomes))

    def facts(self) -> frozenset[str]:
        return frozenset().union(*(item.facts() for item in self.items))


@dataclass(frozen=True)
class Not(Condition):
    item: Condition

    def evaluate(self, facts: Facts) -> Outcome:
        # Leaf reasons describe the facts, not the test, so they read right negated too.
        inner = self.item.evaluate(facts)
        return Outcome(None if inner.value is None else not inner.value, inner.reasons, inner.missing)

    def facts(self) -> frozenset[str]:
        return self.item.facts()


@dataclass(frozen=True)
class Leaf(Condition):
    fact: str
    op: str
    value: str | int | bool | tuple[str, ...]

    def evaluate(self, facts: Facts) -> Outcome:
        spec = _FACT_SPECS[self.fact]
        actual = facts.value(self.fact)
        if actual is None:
            return Outcome(None, (spec.unknown,), (spec.asks or self.fact,))
        if spec.kind == "jurisdictions":
            return self._jurisdictions(actual, facts)
        if spec.kind == "categories":
            return self._categories(actual)
        if spec.kind == "count":
            return self._count(actual)
        if spec.kind == "flag":
            assert spec.yes is not None and spec.no is not None
            return Outcome(actual == self.value, (spec.yes if actual else spec.no,))
        holds = actual == self.value if self.op == "is" else actual in self.value  # type: ignore[operator]
        label = spec.choices[actual]
        if self.fact == "cac_grade":
            label = Text(
                f"网络安全事件分级：{label.zh_CN}（{facts.people_affected:,} 人）",
                f"CAC incident grade: {label.en} ({facts.people_affected:,} people)",
            )
        return Outcome(holds, (label,))

    def facts(self) -> frozenset[str]:
        return frozenset({self.fact})

    def _jurisdictions(self, actual: frozenset[str], facts: Facts) -> Outcome:
        code = str(self.value)
        if code in actual:
            return Outcome(True, (Text(f"涉及法域包括 {code}", f"jurisdictions include {code}"),))
        given = sorted(facts.jurisdictions or ())
        return Outcome(
            False,
            (
                Text(
                    f"涉及法域（{'、'.join(given) or '无'}）不包括 {code}",
                    f"{code} is not among the jurisdictions ({', '.join(given) or 'none'})",
                ),
            ),
        )

    def _categories(self, actual: frozenset[str]) -> Outcome:
        wanted = tuple(self.value)  # type: ignore[arg-type]
        present = [c for c in wanted if c in actual]
        if present:
            reason = Text(f"数据包括{_join_zh(present)}", f"data includes {_join_en(present)}")
            return Outcome(self.op == "any_of", (reason,))
        held = sorted(actual)
        reason = Text(
            f"数据（{_join_zh(held) or '无'}）不含{_join_zh(wanted)}中的任何一类",
            f"data ({_join_en(held) or 'none'}) includes none of: {_join_en(wanted)}",
        )
        return Outcome(self.op == "none_of", (reason,))

    def _count(self, actual: int) -> Outcome:
        threshold = int(self.value)
        at_least = actual >= threshold
        if at_least:
            reason = Text(
                f"受影响人数 ≥{threshold:,}（{actual:,}）", f"≥{threshold:,} people affected ({actual:,})"
            )
        else:
            reason = Text(
                f"受影响人数不足 {threshold:,}（{actual:,}）",
                f"fewer than {threshold:,} people affected ({actual:,})",
            )
        return Outcome(at_least if self.op == "at_least" else not at_least, (reason,))


def _join_zh(keys: Iterable[str]) -> str:
    return "、".join(CATEGORY_LABELS[k].zh_CN for k in keys)


def _join_en(keys: Iterable[str]) -> str:
    return ", ".join(CATEGORY_LABELS[k].en for k in keys)


def _reasons(outcomes: Iterable[Outcome]) -> tuple[Text, ...]:
    return tuple(dict.fromkeys(r for o in outcomes for r in o.reasons))


def _missing(outcomes: Iterable[Outcome]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m for o in outcomes for m in o.missing))


def parse_condition(value: Any, path: YamlPath, check: Checker) -> Condition | None:
    """Read a condition from loaded YAML, adding a problem at its line for each mistake."""
    data = check.mapping(value, path, "a condition")
    if data is None:
        return None
    combinators = [key for key in ("all", "any", "not") if key in data]
    if "fact" in data or not combinators:
        if combinators or "fact" not in data:
            check.add(
                path, "a condition is one of all: [...], any: [...], not: {...} or {fact: ..., <test>: ...}"
            )
            return None
        return _parse_leaf(data, path, check)
    if len(data) != 1:
        check.add(path, f"a condition has exactly one of all / any / not, found: {', '.join(map(str, data))}")
        return None
    key = combinators[0]
    where = (*path, key)
    if key == "not":
        inner = parse_condition(data[key], where, check)
        return None if inner is None else Not(inner)
    items = check.sequence(data[key], where, key)
    if items is None:
        return None
    if not items:
        check.add(where, f"{key} needs at least one condition")
        return None
    parsed = [parse_condition(item, (*where, i), check) for i, item in enumerate(items)]
    if any(p is None for p in parsed):
        return None
    conditions = tuple(p for p in parsed if p is not None)
    return AllOf(conditions) if key == "all" else AnyOf(conditions)


def _parse_leaf(data: Mapping[str, Any], path: YamlPath, check: Checker) -> Leaf | None:
    fact = data["fact"]
    if fact not in _FACT_SPECS:
        check.add((*path, "fact"), f"unknown fact {fact!r} (known: {', '.join(sorted(_FACT_SPECS))})")
        return None
    spec = _FACT_SPECS[fact]
    allowed = _OPERATORS[spec.kind]
    tests = [key for key in data if key != "fact"]
    if len(tests) != 1 or tests[0] not in allowed:
        check.add(path, f"a condition on {fact} needs exactly one test of: {', '.join(allowed)}")
        return None
    op = tests[0]
    where = (*path, op)
    raw = data[op]
    if spec.kind == "jurisdictions":
        code = raw.strip().upper() if isinstance(raw, str) else ""
        if not _JURISDICTION.fullmatch(code):
            check.add(where, f"{raw!r} is not a jurisdiction code like CN, EU, US or US-CA")
            return None
        return Leaf(fact, op, code)
    if spec.kind == "categories":
        keys = check.sequence(raw, where, op)
        if keys is None:
            return None
        unknown = [k for k in keys if k not in CATEGORIES]
        if unknown or not keys:
            check.add(where, f"unknown data categories {unknown} (known: {', '.join(sorted(CATEGORIES))})")
            return None
        return Leaf(fact, op, tuple(keys))
    if spec.kind == "count":
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            check.add(where, f"{op} needs a whole number, not {raw!r}")
            return None
        return Leaf(fact, op, raw)
    if spec.kind == "flag":
        if not isinstance(raw, bool):
            check.add(where, f"is needs true or false, not {raw!r}")
            return None
        return Leaf(fact, op, raw)
    choices = list(spec.choices)
    values = raw if op == "in" else [raw]
    if not isinstance(values, list) or not values or any(v not in choices for v in values):
        check.add(where, f"{op} {raw!r}: use {'a list of ' if op == 'in' else ''}{' / '.join(choices)}")
        return None
    return Leaf(fact, op, tuple(values) if op == "in" else values[0])


# --------------------------------------------------------------------------- regimes


@dataclass(frozen=True)
class Recipient:
    key: str
    text: Text


@dataclass(frozen=True)
class NoticeItem:
    key: str
    text: Text


@dataclass(frozen=True)
class Source:
    cite: str
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class DeadlineOverride:
    when: Condition
    deadline: Duration


@dataclass(frozen=True)
class Regime:
    """One notification duty. No ``deadline`` (and no ``clock_start``): a register entry only."""

    id: str
    name: Text
    jurisdiction: str
    applies_when: Condition
    clock_start: ClockStart | None
    deadline: Duration | None
    notify: tuple[Recipient, ...]
    notice_contents: tuple[NoticeItem, ...]
    sources: tuple[Source, ...]
    deadline_overrides: tuple[DeadlineOverride, ...] = ()
    target_note: Text | None = None
    notes: tuple[Text, ...] = ()
    unverified: Text | None = None
    line: int | None = None

    @property
    def register_only(self) -> bool:
        return self.deadline is None


class Regimes:
    """The loaded regimes, in file order."""

    def __init__(self, regimes: Iterable[Regime], source: str = "") -> None:
        self._by_id = {r.id: r for r in regimes}
        self.source = source

    def get(self, regime_id: str) -> Regime:
        try:
            return self._by_id[regime_id]
        except KeyError:
            raise NotFound(regime=regime_id) from None

    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def __iter__(self) -> Iterator[Regime]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, regime_id: object) -> bool:
        return regime_id in self._by_id


_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_KEY = re.compile(r"[a-z][a-z0-9_]*")
_REGIME_JURISDICTION = re.compile(r"ANY|[A-Z]{2}(-[A-Z0-9]{1,3})?")
_URL = re.compile(r"https?://\S+")


def load_regimes(path: str | Path | None = None) -> Regimes:
    """Load and validate a regimes file (None: the packaged default).

    Raises ``ConfigError`` listing every mistake with its line: unknown facts, bad
    durations, missing translations, duplicate ids, and the like.
    """
    source = Path(path) if path is not None else DEFAULT_REGIMES_PATH
    name = source_name(source)
    data, lines = load_with_lines(source)
    check = Checker(name, lines)
    root = check.mapping(data, (), "the regimes file")
    regimes: list[Regime] = []
    if root is not None:
        check.fields(root, (), required=("regimes",), optional=("shared", "version"))
        entries = check.sequence(root.get("regimes", []), ("regimes",), "regimes") or []
        first_line: dict[str, int | None] = {}
        for index, entry in enumerate(entries):
            path_ = ("regimes", index)
            regime = _parse_regime(entry, path_, check)
            if regime is None:
                continue
            if regime.id in first_line:
                check.add(
                    (*path_, "id"), f"duplicate id {regime.id!r} (first on line {first_line[regime.id]})"
                )
                continue
            first_line[regime.id] = regime.line
            regimes.append(regime)
        if not entries:
            check.add(("regimes",), "no regimes defined")
    check.raise_if_any()
    return Regimes(regimes, name)


def _parse_regime(value: Any, path: YamlPath, check: Checker) -> Regime | None:
    data = check.mapping(value, path, "a regime")
    if data is None:
        return None
    before = len(check.problems)
    check.fields(
        data,
        path,
        required=("id", "name", "jurisdiction", "applies_when", "notify", "notice_contents", "sources"),
        optional=("clock_start", "deadline", "deadline_overrides", "target_note", "notes", "unverified"),
    )
    regime_id = check.string(data, path, "id", pattern=_ID, hint="lowercase letters, digits and '-'")
    name = check.text(data, path, "name")
    jurisdiction = check.string(
        data, path, "jurisdiction", pattern=_REGIME_JURISDICTION, hint="a code like CN, EU, US-CA, or ANY"
    )
    applies_when = parse_condition(data.get("applies_when"), (*path, "applies_when"), check)

    clock_start = data.get("clock_start")
    if clock_start is not None and clock_start not in CLOCK_STARTS:
        check.add(
            (*path, "clock_start"), f"clock_start {clock_start!r} is not one of: {', '.join(CLOCK_STARTS)}"
        )
    deadline = _parse_duration(data, path, "deadline", check)
    if (data.get("deadline") is None) != (clock_start is None):
        check.add(
            path,
            "a deadline needs a clock_start and a clock_start needs a deadline (omit both: register only)",
        )
    overrides = _parse_overrides(data, path, check)
    if overrides and data.get("deadline") is None:
        check.add((*path, "deadline_overrides"), "deadline_overrides need a deadline to override")

    notify = _parse_items(data, path, "notify", Recipient, check)
    contents = _parse_items(data, path, "notice_contents", NoticeItem, check)
    sources = _parse_sources(data, path, check)
    notes = _parse_notes(data, path, check)
    target_note = check.text(data, path, "target_note")
    unverified = check.text(data, path, "unverified")

    if len(check.problems) > before:
        return None
    assert regime_id and name and jurisdiction and applies_when is not None
    return Regime(
        id=regime_id,
        name=name,
        jurisdiction=jurisdiction,
        applies_when=applies_when,
        clock_start=clock_start,
        deadline=deadline,
        notify=notify,
        notice_contents=contents,
        sources=sources,
        deadline_overrides=overrides,
        target_note=target_note,
        notes=notes,
        unverified=unverified,
        line=check.lines(path),
    )


def _parse_duration(data: Mapping[str, Any], path: YamlPath, key: str, check: Checker) -> Duration | None:
    raw = data.get(key)
    if raw is None:
        return None
    try:
        return Duration.parse(raw)
    except ValueError as exc:
        check.add((*path, key), f"{key}: {exc}")
        return None


def _parse_overrides(data: Mapping[str, Any], path: YamlPath, check: Checker) -> tuple[DeadlineOverride, ...]:
    where = (*path, "deadline_overrides")
    entries = check.sequence(data.get("deadline_overrides", []), where, "deadline_overrides") or []
    overrides = []
    for i, entry in enumerate(entries):
        item = check.mapping(entry, (*where, i), "a deadline override")
        if item is None:
            continue
        check.fields(item, (*where, i), required=("when", "deadline"), optional=())
        when = parse_condition(item.get("when"), (*where, i, "when"), check) if "when" in item else None
        deadline = _parse_duration(item, (*where, i), "deadline", check)
        if when is not None and deadline is not None:
            overrides.append(DeadlineOverride(when, deadline))
    return tuple(overrides)


def _parse_items(
    data: Mapping[str, Any],
    path: YamlPath,
    key: str,
    kind: type[Recipient] | type[NoticeItem],
    check: Checker,
) -> tuple[Any, ...]:
    where = (*path, key)
    if key not in data:
        return ()
    entries = check.sequence(data[key], where, key)
    if entries is None:
        return ()
    if not entries:
        check.add(where, f"{key} needs at least one entry")
    items = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        item = check.mapping(entry, (*where, i), f"an entry of {key}")
        if item is None:
            continue
        check.fields(item, (*where, i), required=("key", "text"), optional=())
        item_key = check.string(
            item, (*where, i), "key", pattern=_KEY, hint="lowercase letters, digits and '_'"
        )
        text = check.text(item, (*where, i), "text")
        if item_key in seen:
            check.add((*where, i, "key"), f"{key} has {item_key!r} twice")
        elif item_key and text:
            seen.add(item_key)
            items.append(kind(item_key, text))
    return tuple(items)


def _parse_sources(data: Mapping[str, Any], path: YamlPath, check: Checker) -> tuple[Source, ...]:
    where = (*path, "sources")
    if "sources" not in data:
        return ()
    entries = check.sequence(data["sources"], where, "sources")
    if entries is None:
        return ()
    if not entries:
        check.add(where, "cite at least one source")
    sources = []
    for i, entry in enumerate(entries):
        item = check.mapping(entry, (*where, i), "a source")
        if item is None:
            continue
        check.fields(item, (*where, i), required=("cite",), optional=("url", "note"))
        cite = check.string(item, (*where, i), "cite")
        url = check.string(item, (*where, i), "url", pattern=_URL, hint="an http(s) address")
        note = check.string(item, (*where, i), "note")
        if cite:
            sources.append(Source(cite, url, note))
    return tuple(sources)


def _parse_notes(data: Mapping[str, Any], path: YamlPath, check: Checker) -> tuple[Text, ...]:
    where = (*path, "notes")
    entries = check.sequence(data.get("notes", []), where, "notes") or []
    # Checker.text reads a field of a mapping; the index is that field here.
    by_index = dict(enumerate(entries))
    notes = [check.text(by_index, where, i) for i in by_index]  # type: ignore[arg-type]
    return tuple(n for n in notes if n is not None)


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Applicability:
    """Whether one regime applies to the facts, why, and its deadline.

    ``missing_facts`` names the Facts fields still needed to decide whether the regime
    applies, to fix its deadline, or to start its clock. ``clock_start`` and
    ``deadline_at`` are filled for ``applies`` and ``unknown`` (a clock that may be
    running is shown), never for ``does_not_apply``; ``deadline`` is the length in force.
    """

    regime: Regime
    status: Status
    reasons: list[Text]
    missing_facts: list[str]
    clock_start: datetime | None
    deadline_at: datetime | None
    deadline: Duration | None = None
    # The legal start is not known: ``clock_start`` is the earliest known moment, assumed.
    start_assumed: bool = False

    @property
    def applies(self) -> bool:
        return self.status == "applies"


def evaluate(facts: Facts, regimes: Regimes) -> list[Applicability]:
    """Every regime, in file order, judged against the facts."""
    return [_judge(facts, regime) for regime in regimes]


def _judge(facts: Facts, regime: Regime) -> Applicability:
    outcome = regime.applies_when.evaluate(facts)
    status: Status = "applies" if outcome.value else "unknown" if outcome.value is None else "does_not_apply"
    reasons, missing = list(outcome.reasons), list(outcome.missing)
    if status == "does_not_apply" or regime.clock_start is None or regime.deadline is None:
        return Applicability(regime, status, reasons, missing, None, None, None)
    start = facts.clock(regime.clock_start)
    deadline = _deadline_in_force(regime, regime.deadline, facts, start, reasons, missing)
    if start is None:
        # A duty that applies or may apply never waits for someone to type its legal start: its
        # clock runs from the earliest known moment until the real one is recorded.
        label = CLOCK_START_LABELS[regime.clock_start]
        missing.append(regime.clock_start)
        assumed, source = (
            (facts.discovered_at, Text("发现时间", "discovery"))
            if facts.discovered_at is not None
            else (facts.declared_at, Text("启动响应时间", "the declaration"))
        )
        if assumed is None:
            reasons.append(
                Text(f"{label.zh_CN}未知，时钟尚未起算", f"{label.en} unknown, so the clock has not started")
            )
            return Applicability(regime, status, reasons, list(dict.fromkeys(missing)), None, None, deadline)
        deadline = _deadline_in_force(regime, regime.deadline, facts, assumed, [], [])
        reasons.append(
            Text(
                f"{label.zh_CN}未知：暂按{source.zh_CN}起算",
                f"{label.en} unknown: the clock runs from {source.en}, assumed",
            )
        )
        return Applicability(
            regime,
            status,
            reasons,
            list(dict.fromkeys(missing)),
            assumed,
            deadline.after(assumed),
            deadline,
            start_assumed=True,
        )
    return Applicability(
        regime, status, reasons, list(dict.fromkeys(missing)), start, deadline.after(start), deadline
    )


# Compares durations of different units (hours vs business days) when no clock start is known yet.
_REFERENCE_START = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday


def _deadline_in_force(
    regime: Regime,
    deadline: Duration,
    facts: Facts,
    start: datetime | None,
    reasons: list[Text],
    missing: list[str],
) -> Duration:
    """The first override that holds wins; an override still unknown that would be shorter
    is assumed, so a clock never runs late because a fact is missing."""
    reference = start or _REFERENCE_START
    undecided: list[tuple[DeadlineOverride, Outcome]] = []
    for override in regime.deadline_overrides:
        outcome = override.when.evaluate(facts)
        if outcome.value is True:
            deadline = override.deadline
            why = outcome.reasons
            reasons.append(
                Text(
                    f"时限 {deadline.text().zh_CN}：{'；'.join(r.zh_CN for r in why)}",
                    f"deadline {deadline.text().en}: {'; '.join(r.en for r in why)}",
                )
            )
            break
        if outcome.value is None:
            undecided.append((override, outcome))
    for override, outcome in undecided:
        if override.deadline.after(reference) < deadline.after(reference):
            deadline = override.deadline
            reasons.append(
                Text(
                    f"在确认之前按较短时限 {deadline.text().zh_CN} 计："
                    f"{'；'.join(r.zh_CN for r in outcome.reasons)}",
                    f"assuming the shorter {deadline.text().en} deadline until known: "
                    f"{'; '.join(r.en for r in outcome.reasons)}",
                )
            )
            missing.extend(outcome.missing)
    return deadline


# --------------------------------------------------------------------------- clocks


def clock_state(app: Applicability, notified_at: datetime | None, now: datetime) -> ClockState:
    """Where a regime's clock stands.

    - ``met``: notified at or before the deadline (or notified while no deadline is known);
    - ``late``: notified after the deadline;
    - ``overdue``: not notified and the deadline has passed;
    - ``open``: not notified, deadline still ahead (the deadline instant itself is still open);
    - ``unscheduled``: not notified and no deadline (register only, clock start unknown,
      or the regime does not apply).

    ``late`` and ``overdue`` are the two ways a deadline is missed (``MISSED_STATES``).
    """
    _require_aware("now", now)
    deadline = app.deadline_at
    if notified_at is not None:
        _require_aware("notified_at", notified_at)
        return "met" if deadline is None or notified_at <= deadline else "late"
    if deadline is None:
        return "unscheduled"
    return "overdue" if now > deadline else "open"


def is_missed(state: ClockState) -> bool:
    return state in MISSED_STATES


def time_left(deadline_at: datetime | None, now: datetime) -> timedelta | None:
    """Time until the deadline; negative once it has passed, None without a deadline."""
    return None if deadline_at is None else deadline_at - now


# Reminders before each regulatory deadline, and one at the deadline itself.
REMINDER_OFFSETS: tuple[tuple[str, timedelta], ...] = (
    ("T-24h", timedelta(hours=24)),
    ("T-4h", timedelta(hours=4)),
    ("T-1h", timedelta(hours=1)),
    ("overdue", timedelta(0)),
)


def reminder_times(deadline_at: datetime, now: datetime) -> list[tuple[str, datetime]]:
    """When to remind, as ``(label, at)``. Reminders already past are dropped, except
    ``overdue``: it is always returned (at the deadline), so a late schedule still fires it."""
    return [
        (label, deadline_at - offset)
        for label, offset in REMINDER_OFFSETS
        if label == "overdue" or deadline_at - offset >= now
    ]


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidFact(fact=name, value=repr(value))


# --------------------------------------------------------------------------- re-evaluation


@dataclass(frozen=True)
class Change:
    """How one regime's verdict changed when the facts did (for the incident timeline)."""

    regime: Regime
    kind: ChangeKind
    old_status: Status | None
    new_status: Status | None
    old_deadline_at: datetime | None
    new_deadline_at: datetime | None

    @property
    def regime_id(self) -> str:
        return self.regime.id

    def describe(self) -> Text:
        name = self.regime.name
        old, new = _status_label(self.old_status), _status_label(self.new_status)
        if self.kind == "deadline_changed":
            return Text(
                f"{name.zh_CN}：截止时间 {_when(self.old_deadline_at)} → {_when(self.new_deadline_at)}",
                f"{name.en}: deadline {_when(self.old_deadline_at)} → {_when(self.new_deadline_at)}",
            )
        due = Text(
            f"，截止 {_when(self.new_deadline_at)}" if self.new_deadline_at else "",
            f", due {_when(self.new_deadline_at)}" if self.new_deadline_at else "",
        )
        if self.kind == "started":
            return Text(
                f"{name.zh_CN}：现已适用（此前：{old.zh_CN}）{due.zh_CN}",
                f"{name.en} now applies (was: {old.en}){due.en}",
            )
        if self.kind == "stopped":
            return Text(
                f"{name.zh_CN}：不再适用（现为：{new.zh_CN}）", f"{name.en} no longer applies (now: {new.en})"
            )
        return Text(f"{name.zh_CN}：{old.zh_CN} → {new.zh_CN}", f"{name.en}: {old.en} → {new.en}")


def diff(old: list[Applicability], new: list[Applicability]) -> list[Change]:
    """What changed between two evaluations: regimes that started or stopped applying,
    other status moves (unknown ↔ does not apply), and moved deadlines."""
    before = {a.regime.id: a for a in old}
    after = {a.regime.id: a for a in new}
    changes: list[Change] = []
    for regime_id in dict.fromkeys([*after, *before]):
        was, now = before.get(regime_id), after.get(regime_id)
        regime = (now or was).regime  # type: ignore[union-attr]
        old_status, new_status = (was.status if was else None), (now.status if now else None)
        old_at, new_at = (was.deadline_at if was else None), (now.deadline_at if now else None)
        kind: ChangeKind | None = None
        if new_status == "applies" and old_status != "applies":
            kind = "started"
        elif old_status == "applies" and new_status != "applies":
            kind = "stopped"
        elif old_status != new_status:
            kind = "status_changed"
        elif old_at != new_at:
            kind = "deadline_changed"
        if kind is not None:
            changes.append(Change(regime, kind, old_status, new_status, old_at, new_at))
    return changes


def _status_label(status: Status | None) -> Text:
    return STATUS_LABELS[status] if status else Text("未评估", "not evaluated")


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"
