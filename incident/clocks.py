"""Regulatory clocks of one incident, one per obligation: its facts judged against the regimes,
and which notices were recorded."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from incident import firm_facts
from incident.firm_facts import FirmFacts
from incident.regimes import (
    Applicability,
    ClockState,
    Facts,
    Obligation,
    Regimes,
    clock_state,
    evaluate,
    obligation_id,
)
from incident.text import Text
from storage.models import Decision, Incident, Notification

# Facts kept in the incident's `facts` JSON rather than in a column of their own (the facts form
# edits them; ``public_company_material`` is read from there too, set by no form yet).
EXTRA_FACTS = (
    "high_risk",
    "critical_infrastructure",
    "crime_suspected",
    "eu_main_establishment",
    "dfs_covered_entity",
    "covered_financial_institution",
    "hipaa_business_associate",
    "public_company_client",
    "law_enforcement_investigating",
    "efile_credentials_stolen",
)
# A decision not to notify under an obligation (kept with its rationale for the breach register).
NO_NOTIFY = "no_notify"


def facts_of(incident: Incident, firm: FirmFacts | None = None) -> Facts:
    """The incident's record as the facts the regimes are evaluated against (None = not known).

    ``firm``: the firm's own answers (App Home's Settings); an incident's fact about the firm that
    it has not answered itself takes the firm's answer."""
    extra = {**(incident.facts or {}), **firm_facts.from_firm(incident, firm)}
    return Facts(
        jurisdictions=frozenset(incident.jurisdictions) if incident.jurisdictions else None,
        people_affected=incident.people_affected,
        data_categories=frozenset(incident.data_categories) if incident.data_categories else None,
        encrypted=incident.encrypted,
        exfiltration_confirmed=incident.exfiltration_confirmed,
        role=incident.processor_role,  # type: ignore[arg-type]  # a Role: the forms validate it (incident/facts.py)
        public_company_material=extra.get("public_company_material"),
        **{name: extra.get(name) for name in EXTRA_FACTS},
        discovered_at=incident.discovered_at,
        aware_at=incident.aware_at,
        determined_at=incident.determined_at,
        materiality_decided_at=incident.materiality_decided_at,
        declared_at=incident.declared_at,
    )


@dataclass(frozen=True)
class ClockView:
    """One obligation's clock: its verdict, where it stands, and the notice that satisfied it."""

    applicability: Applicability
    state: ClockState | str  # a clock state, or "declined"
    notified_at: datetime | None
    reference: str | None

    @property
    def id(self) -> str:
        """The obligation's id, ``<regime id>/<key>``."""
        return self.applicability.id

    @property
    def regime_id(self) -> str:
        return self.applicability.regime.id

    @property
    def obligation(self) -> Obligation:
        return self.applicability.obligation

    @property
    def name(self) -> Text:
        """The regime's name and the obligation's recipient, in both languages."""
        return self.applicability.name

    @property
    def deadline_at(self) -> datetime | None:
        return self.applicability.deadline_at


def named_obligations(regime_id: str | None, key: str | None, regimes: Regimes) -> list[str]:
    """The obligation ids a notice or decision names. A row written before obligations existed names
    only its regime, and stood for all of that regime's obligations."""
    if not regime_id:
        return []
    if key:
        return [obligation_id(regime_id, key)]
    if regime_id not in regimes:
        return []
    return [o.id for o in regimes.get(regime_id).obligations]


def first_notifications(notifications: Iterable[Notification], regimes: Regimes) -> dict[str, Notification]:
    """The earliest notification recorded per obligation: that one satisfies its clock."""
    first: dict[str, Notification] = {}
    for n in sorted(notifications, key=lambda n: n.sent_at):
        for oid in named_obligations(n.regime, n.obligation, regimes):
            first.setdefault(oid, n)
    return first


DECLINED = "declined"


def clocks(
    incident: Incident,
    notifications: Iterable[Notification],
    regimes: Regimes,
    now: datetime,
    declined: Iterable[Decision] = (),
    firm: FirmFacts | None = None,
) -> list[ClockView]:
    """One clock per obligation that applies or may apply (unknown facts), with its deadline, state
    and the notice that satisfied it. Register-only obligations have no clock.

    A recorded decision not to notify under an obligation (with its rationale, for the register)
    stops that clock as ``declined`` unless a notification was sent after all.
    """
    sent = first_notifications(notifications, regimes)
    waived = {
        oid
        for d in declined
        if d.kind == NO_NOTIFY
        for oid in named_obligations(d.regime, d.obligation, regimes)
    }
    met = {oid: n.sent_at for oid, n in sent.items()}
    views: list[ClockView] = []
    for app in evaluate(facts_of(incident, firm), regimes, met):
        if app.status == "does_not_apply" or app.register_only:
            continue
        n = sent.get(app.id)
        state: str = clock_state(app, n.sent_at if n else None, now)
        if n is None and app.id in waived:
            state = DECLINED
        views.append(
            ClockView(
                applicability=app,
                state=state,
                notified_at=n.sent_at if n else None,
                reference=n.reference if n else None,
            )
        )
    return views


def judged(
    incident: Incident,
    notifications: Iterable[Notification],
    regimes: Regimes,
    firm: FirmFacts | None = None,
) -> list[Applicability]:
    """Every obligation judged against the incident's facts, ``{after:}`` clocks from the notices sent."""
    sent = first_notifications(notifications, regimes)
    return evaluate(facts_of(incident, firm), regimes, {oid: n.sent_at for oid, n in sent.items()})
