"""The condition language of the regimes file, and its three-valued evaluation.

``all: [c, ...] | any: [c, ...] | not: c | {fact: <name>, <test>: <value>}``. Three-valued
on purpose: early in an incident most facts are unknown, and a duty whose decision hangs on
an unknown fact must show up as *unknown* with the facts still needed, never be silently
dropped as "does not apply".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import Field, PlainValidator, ValidationInfo
from pydantic.dataclasses import dataclass as model

from incident.i18n import both, joined
from incident.regimes.facts import FACT_SPECS, JURISDICTION_CODE, FactKind, Facts
from incident.text import Text
from incident.yamlmodel import STRICT, adapter, known, report
from incident.yamlsource import kind_of

ANY = "ANY"

_OPERATORS: Mapping[FactKind, tuple[str, ...]] = {
    "jurisdictions": ("includes",),
    "categories": ("any_of", "none_of"),
    "count": ("at_least", "below"),
    "flag": ("is",),
    "choice": ("is", "in"),
}


@dataclass(frozen=True)
class Vocabulary:
    """What conditions may name: the data categories (key → name) and the jurisdiction codes.

    ``codes`` None accepts any well-formed code (a file with no ``jurisdictions`` list of its own).
    """

    categories: Mapping[str, Text]
    codes: frozenset[str] | None = None


@dataclass(frozen=True)
class Outcome:
    """The three-valued result of a condition, with why and what is still unknown."""

    value: bool | None
    reasons: tuple[Text, ...] = ()
    missing: tuple[str, ...] = ()


class Condition:
    """A rule on the facts: ``AllOf``, ``AnyOf``, ``Not`` or a ``Leaf`` on one fact."""

    def evaluate(self, facts: Facts) -> Outcome:
        raise NotImplementedError

    def facts(self) -> frozenset[str]:
        """Every fact this condition reads."""
        raise NotImplementedError


@dataclass(frozen=True)
class _Junction(Condition):
    """``all`` or ``any`` of the items: one item whose value is ``decides`` settles it; otherwise
    an unknown item leaves it unknown, and with none it is the opposite of ``decides``."""

    items: tuple[Condition, ...]
    decides: ClassVar[bool]

    def evaluate(self, facts: Facts) -> Outcome:
        outcomes = [item.evaluate(facts) for item in self.items]
        deciding = [o for o in outcomes if o.value is self.decides]
        if deciding:
            return Outcome(self.decides, _reasons(deciding))
        unknown = [o for o in outcomes if o.value is None]
        if unknown:
            return Outcome(None, _reasons(outcomes), _missing(unknown))
        return Outcome(not self.decides, _reasons(outcomes))

    def facts(self) -> frozenset[str]:
        return frozenset().union(*(item.facts() for item in self.items))


@dataclass(frozen=True)
class AllOf(_Junction):
    decides: ClassVar[bool] = False  # one false item makes it false


@dataclass(frozen=True)
class AnyOf(_Junction):
    decides: ClassVar[bool] = True  # one true item makes it true


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
    # The names of the categories ``value`` lists (a test on data_categories), in the same order.
    labels: tuple[Text, ...] = ()

    def evaluate(self, facts: Facts) -> Outcome:
        spec = FACT_SPECS[self.fact]
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
            return Outcome(actual == self.value, (spec.flag(actual),))
        holds = actual == self.value if self.op == "is" else actual in self.value  # type: ignore[operator]  # "in" holds a tuple
        label = spec.choice(actual)
        if self.fact == "cac_grade":
            label = both("facts.cac_grade.reason", grade=label, people=facts.people_affected)
        return Outcome(holds, (label,))

    def facts(self) -> frozenset[str]:
        return frozenset({self.fact})

    def _jurisdictions(self, actual: frozenset[str], facts: Facts) -> Outcome:
        code = str(self.value)
        given = sorted(facts.jurisdictions or ())
        codes = (
            joined(given, both("regime.reason.list_separator"))
            if given
            else both("regime.reason.no_jurisdictions")
        )
        if code == ANY and given:
            return Outcome(True, (both("regime.reason.jurisdictions", codes=codes),))
        if code in actual:
            return Outcome(True, (both("regime.reason.jurisdiction_included", code=code),))
        return Outcome(False, (both("regime.reason.jurisdiction_excluded", codes=codes, code=code),))

    def _categories(self, actual: frozenset[str]) -> Outcome:
        wanted = tuple(self.value)  # type: ignore[arg-type]  # a categories test holds a tuple of keys
        named = dict(zip(wanted, self.labels, strict=True))
        present = [named[c] for c in wanted if c in actual]
        separator = both("regime.reason.list_separator")
        if present:
            reason = both("regime.reason.categories_present", categories=joined(present, separator))
            return Outcome(self.op == "any_of", (reason,))
        reason = both("regime.reason.categories_absent", categories=joined(self.labels, separator))
        return Outcome(self.op == "none_of", (reason,))

    def _count(self, actual: int) -> Outcome:
        assert isinstance(self.value, int)  # the parser gives count operators a whole number
        threshold = self.value
        at_least = actual >= threshold
        if at_least:
            reason = both("regime.reason.people_at_least", threshold=threshold, actual=actual)
        else:
            reason = both("regime.reason.people_below", threshold=threshold, actual=actual)
        return Outcome(at_least if self.op == "at_least" else not at_least, (reason,))


def _reasons(outcomes: Iterable[Outcome]) -> tuple[Text, ...]:
    return tuple(dict.fromkeys(r for o in outcomes for r in o.reasons))


def _missing(outcomes: Iterable[Outcome]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m for o in outcomes for m in o.missing))


def _condition(value: Any, info: ValidationInfo) -> Condition:
    """A condition read from YAML; the categories and codes it may name are the validation
    context's ``vocabulary`` (none: the packaged regimes file's)."""
    if isinstance(value, Condition):
        return value
    if not isinstance(value, dict):
        raise ValueError(f"a condition must be a mapping, not {kind_of(value)}")
    combinators = [key for key in ("all", "any", "not") if key in value]
    if "fact" in value and not combinators:
        return _leaf(value, known(info, "vocabulary") or _default_vocabulary())
    if len(combinators) != 1 or len(value) != 1:
        raise ValueError(
            "a condition is one of all: [...], any: [...], not: {...} or {fact: ..., <test>: ...}"
        )
    return adapter(_COMBINATORS[combinators[0]]).validate_python(value, context=info.context).condition


ConditionField = Annotated[Condition, PlainValidator(_condition)]
"""A field holding a condition: ``all: [...] | any: [...] | not: ... | {fact: ..., <test>: ...}``."""


Items = Annotated[tuple[ConditionField, ...], Field(min_length=1)]


@model(frozen=True, config=STRICT)
class _AllOrAny:
    """``all: [...]`` or ``any: [...]``: ``_condition`` lets exactly one of the two through."""

    all: Items = ()
    any: Items = ()

    @property
    def condition(self) -> Condition:
        return AllOf(self.all) if self.all else AnyOf(self.any)


@model(frozen=True, config=STRICT)
class _Not:
    item: ConditionField = Field(alias="not")

    @property
    def condition(self) -> Condition:
        return Not(self.item)


_COMBINATORS: Mapping[str, Any] = {"all": _AllOrAny, "any": _AllOrAny, "not": _Not}


def _default_vocabulary() -> Vocabulary:
    from incident.regimes.loading import default_vocabulary  # loading reads conditions itself

    return default_vocabulary()


def _leaf(data: Mapping[str, Any], vocabulary: Vocabulary) -> Leaf:
    fact = data["fact"]
    if not isinstance(fact, str) or fact not in FACT_SPECS:
        report((("fact",), f"unknown fact {fact!r} (known: {', '.join(sorted(FACT_SPECS))})"))
    spec = FACT_SPECS[fact]
    allowed = _OPERATORS[spec.kind]
    tests = [key for key in data if key != "fact"]
    if len(tests) != 1 or tests[0] not in allowed:
        raise ValueError(f"a condition on {fact} needs exactly one test of: {', '.join(allowed)}")
    op = tests[0]
    try:
        return _test(fact, op, data[op], vocabulary)
    except ValueError as exc:
        report(((op,), str(exc)))  # the mistake is on the test's line
        raise


def _test(fact: str, op: str, raw: Any, vocabulary: Vocabulary) -> Leaf:
    spec = FACT_SPECS[fact]
    if spec.kind == "jurisdictions":
        code = raw.strip().upper() if isinstance(raw, str) else ""
        if code != ANY and not JURISDICTION_CODE.fullmatch(code):
            raise ValueError(f"{raw!r} is not a jurisdiction code like CN, EU, US or US-CA")
        if code != ANY and vocabulary.codes is not None and code not in vocabulary.codes:
            raise ValueError(f"{code} is not listed under jurisdictions (add it there, or use ANY)")
        return Leaf(fact, op, code)
    if spec.kind == "categories":
        if not isinstance(raw, list):
            raise ValueError(f"{op} must be a list, not {kind_of(raw)}")
        unknown = [k for k in raw if k not in vocabulary.categories]
        if unknown or not raw:
            raise ValueError(f"unknown data categories {unknown} (known: {', '.join(vocabulary.categories)})")
        return Leaf(fact, op, tuple(raw), tuple(vocabulary.categories[k] for k in raw))
    if spec.kind == "count":
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise ValueError(f"{op} needs a whole number, not {raw!r}")
        return Leaf(fact, op, raw)
    if spec.kind == "flag":
        if not isinstance(raw, bool):
            raise ValueError(f"is needs true or false, not {raw!r}")
        return Leaf(fact, op, raw)
    choices = list(spec.choices)
    values = raw if op == "in" else [raw]
    if not isinstance(values, list) or not values or any(v not in choices for v in values):
        raise ValueError(f"{op} {raw!r}: use {'a list of ' if op == 'in' else ''}{' / '.join(choices)}")
    return Leaf(fact, op, tuple(values) if op == "in" else values[0])
