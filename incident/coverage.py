"""Which of an incident's jurisdictions no regime of the loaded file covers.

A regime covers a code it names: its ``jurisdiction``, or an ``includes:`` in any of its
conditions (the regime's, an obligation's, a deadline override's). A code nobody names (a US state
the file has no law for, ``XX`` "other / not sure") produces no clock, so it is said out loud
rather than left silent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from incident.regimes import ANY, AllOf, AnyOf, Condition, Leaf, Not, Regimes
from incident.text import Text


def _named(condition: Condition | None) -> Iterator[str]:
    if isinstance(condition, Leaf):
        if condition.fact == "jurisdictions" and condition.op == "includes":
            yield str(condition.value)
    elif isinstance(condition, (AllOf, AnyOf)):
        for item in condition.items:
            yield from _named(item)
    elif isinstance(condition, Not):
        yield from _named(condition.item)


def covered_codes(regimes: Regimes) -> frozenset[str]:
    """Every jurisdiction code some regime names (ANY is not a place and covers nothing)."""
    codes: set[str] = set()
    for regime in regimes:
        codes.add(regime.jurisdiction)
        codes.update(_named(regime.applies_when))
        for obligation in regime.obligations:
            codes.update(_named(obligation.applies_when))
            for override in obligation.deadline_overrides:
                codes.update(_named(override.when))
    codes.discard(ANY)
    return frozenset(codes)


def uncovered(jurisdictions: Iterable[str] | None, regimes: Regimes) -> list[str]:
    """The incident's codes no regime names, in the order given."""
    covered = covered_codes(regimes)
    return [code for code in dict.fromkeys(jurisdictions or ()) if code not in covered]


def uncovered_names(jurisdictions: Iterable[str] | None, regimes: Regimes) -> list[Text]:
    """The names (both languages) of the incident's codes no regime names."""
    return [regimes.jurisdiction_name(code) for code in uncovered(jurisdictions, regimes)]
