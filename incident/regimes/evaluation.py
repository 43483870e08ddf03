"""Judging an incident's facts: for every obligation, whether it applies, why, and its deadline.

A regime's ``applies_when`` and an obligation's own threshold are both three-valued; the
obligation applies when both hold, may apply while either is unknown. A duty that applies or
may apply never waits for someone to type its legal start: its clock runs from the earliest
known moment (discovery, else the declaration), marked *assumed*, until the real one is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from incident.i18n import Key, both, joined
from incident.regimes.conditions import Outcome
from incident.regimes.durations import Duration
from incident.regimes.facts import CLOCK_STARTS, Facts, clock_start_label
from incident.regimes.model import After, DeadlineOverride, Obligation, Regime, Regimes, obligation_title
from incident.text import Text

Status = Literal["applies", "does_not_apply", "unknown"]
STATUS_KEYS: Mapping[Status, Key] = {
    "applies": Key("regime.status.applies"),
    "does_not_apply": Key("regime.status.does_not_apply"),
    "unknown": Key("regime.status.unknown"),
}


def status_label(status: Status) -> Text:
    return both(STATUS_KEYS[status])


@dataclass(frozen=True)
class Applicability:
    """Whether one obligation applies to the facts, why, and its deadline.

    ``missing_facts`` names the Facts fields still needed to decide whether it applies, to fix
    its deadline, or to start its clock. ``clock_start`` and ``deadline_at`` are filled for
    ``applies`` and ``unknown`` (a clock that may be running is shown), never for
    ``does_not_apply`` or a register-only obligation; ``deadline`` is the length in force.
    """

    regime: Regime
    obligation: Obligation
    status: Status
    reasons: list[Text]
    missing_facts: list[str]
    clock_start: datetime | None
    deadline_at: datetime | None
    deadline: Duration | None = None
    # The legal start is not known: ``clock_start`` is the earliest known moment, assumed, or (for a
    # clock that starts after another obligation) that obligation's deadline.
    start_assumed: bool = False
    # ``{after: key}``: the obligation whose notice starts this clock.
    after: Obligation | None = None

    @property
    def id(self) -> str:
        return self.obligation.id

    @property
    def applies(self) -> bool:
        return self.status == "applies"

    @property
    def name(self) -> Text:
        """The regime's name and the obligation's recipient, in both languages."""
        return obligation_title(self.regime, self.obligation)

    @property
    def register_only(self) -> bool:
        return self.obligation.register_only


def evaluate(
    facts: Facts, regimes: Regimes, met: Mapping[str, datetime] | None = None
) -> list[Applicability]:
    """Every obligation of every regime, in file order, judged against the facts.

    ``met``: obligation id → when its notice was sent; a clock that starts ``{after: key}``
    runs from that moment once the named obligation is met.
    """
    met = met or {}
    judged: list[Applicability] = []
    for regime in regimes:
        outcome = regime.applies_when.evaluate(facts)
        done: dict[str, Applicability] = {}
        for obligation in regime.obligations:
            judged.append(_judge(facts, regime, obligation, outcome, done, met))
    return judged


def _judge(
    facts: Facts,
    regime: Regime,
    obligation: Obligation,
    regime_outcome: Outcome,
    done: dict[str, Applicability],
    met: Mapping[str, datetime],
) -> Applicability:
    if obligation.key in done:
        return done[obligation.key]
    outcome = regime_outcome
    if obligation.applies_when is not None:
        outcome = _both(regime_outcome, obligation.applies_when.evaluate(facts))
    status: Status = "applies" if outcome.value else "unknown" if outcome.value is None else "does_not_apply"
    judging = _Judging(facts, regime, obligation, status, list(outcome.reasons), list(outcome.missing))
    start_rule, length = obligation.clock_start, obligation.deadline
    if status == "does_not_apply" or start_rule is None or length is None:
        result = judging.stopped(None)
    elif isinstance(start_rule, After):
        prior = _judge(facts, regime, regime.obligation(start_rule.key), regime_outcome, done, met)
        result = _after(judging, prior, met.get(prior.id))
    else:
        start = facts.clock(start_rule)
        if start is not None:
            result = judging.running(start)
        else:
            judging.missing.append(start_rule)
            result = _assumed(judging, clock_start_label(start_rule))
    done[obligation.key] = result
    return result


@dataclass(frozen=True)
class _Judging:
    """One obligation being judged: its ``reasons`` and ``missing`` facts grow as the clock is worked out."""

    facts: Facts
    regime: Regime
    obligation: Obligation
    status: Status
    reasons: list[Text]
    missing: list[str]

    def deadline_from(self, start: datetime | None) -> Duration:
        """The length in force for a clock from ``start`` (None: not known yet), its reasons given."""
        return _deadline_in_force(self.obligation, self.facts, start, self.reasons, self.missing)

    def stopped(self, deadline: Duration | None) -> Applicability:
        """No clock running: it does not apply, is register only, or its start is not known."""
        return self._verdict(None, None, deadline)

    def running(
        self,
        start: datetime,
        deadline: Duration | None = None,
        *,
        start_assumed: bool = False,
        after: Obligation | None = None,
    ) -> Applicability:
        """A clock running from ``start`` for the length in force from then (``deadline``: already judged)."""
        if deadline is None:
            deadline = self.deadline_from(start)
        return self._verdict(start, deadline.after(start), deadline, start_assumed=start_assumed, after=after)

    def _verdict(
        self,
        start: datetime | None,
        deadline_at: datetime | None,
        deadline: Duration | None,
        *,
        start_assumed: bool = False,
        after: Obligation | None = None,
    ) -> Applicability:
        return Applicability(
            self.regime,
            self.obligation,
            self.status,
            self.reasons,
            _unique(self.missing),
            start,
            deadline_at,
            deadline,
            start_assumed=start_assumed,
            after=after,
        )


def _after(judging: _Judging, prior: Applicability, prior_met: datetime | None) -> Applicability:
    """A clock that starts when ``prior`` is met: from its notice, else assumed from its deadline."""
    who = prior.obligation.recipient
    if prior_met is not None:
        judging.reasons.append(both("regime.reason.from_notice", who=who))
        return judging.running(prior_met, after=prior.obligation)
    if prior.deadline_at is None:
        # The predecessor's own clock has not started either: what would start it is missing here too.
        judging.missing.extend(name for name in prior.missing_facts if name in CLOCK_STARTS)
        label = both("clock_start.after_notice", who=who)
        return replace(_assumed(judging, label), after=prior.obligation)
    judging.reasons.append(both("regime.reason.until_notified", who=who))
    return judging.running(prior.deadline_at, start_assumed=True, after=prior.obligation)


def _assumed(judging: _Judging, label: Text) -> Applicability:
    """The legal start (``label``) is unknown: run from the earliest known moment, assumed."""
    earliest = judging.facts.earliest_known
    deadline = judging.deadline_from(None)
    if earliest is None:
        judging.reasons.append(both("regime.reason.not_started", start=label))
        return judging.stopped(deadline)
    at, source = earliest
    judging.reasons.append(both("regime.reason.assumed_start", start=label, source=source))
    # Its reasons are already given above: only the length, judged from this start, is new.
    deadline = _deadline_in_force(judging.obligation, judging.facts, at, [], [])
    return judging.running(at, deadline, start_assumed=True)


def _both(first: Outcome, second: Outcome) -> Outcome:
    """Both conditions hold (three-valued AND), reasons and missing facts of both."""
    if first.value is False or second.value is False:
        return Outcome(
            False, tuple(dict.fromkeys(r for o in (first, second) if o.value is False for r in o.reasons))
        )
    reasons = tuple(dict.fromkeys((*first.reasons, *second.reasons)))
    if first.value is None or second.value is None:
        return Outcome(None, reasons, tuple(dict.fromkeys((*first.missing, *second.missing))))
    return Outcome(True, reasons)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# Compares durations of different units (hours vs business days) when no clock start is known yet.
_REFERENCE_START = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday


def _deadline_in_force(
    obligation: Obligation,
    facts: Facts,
    start: datetime | None,
    reasons: list[Text],
    missing: list[str],
) -> Duration:
    """The first override that holds wins; an override still unknown that would be shorter
    is assumed, so a clock never runs late because a fact is missing."""
    assert obligation.deadline is not None
    deadline = obligation.deadline
    reference = start or _REFERENCE_START
    undecided: list[tuple[DeadlineOverride, Outcome]] = []
    for override in obligation.deadline_overrides:
        outcome = override.when.evaluate(facts)
        if outcome.value is True:
            deadline = override.deadline
            why = joined(outcome.reasons, both("regime.reason.separator"))
            reasons.append(both("regime.reason.deadline", deadline=deadline.text(), reasons=why))
            break
        if outcome.value is None:
            undecided.append((override, outcome))
    for override, outcome in undecided:
        if override.deadline.after(reference) < deadline.after(reference):
            deadline = override.deadline
            why = joined(outcome.reasons, both("regime.reason.separator"))
            reasons.append(both("regime.reason.shorter_deadline", deadline=deadline.text(), reasons=why))
            missing.extend(outcome.missing)
    return deadline
