"""Regulatory clocks of one incident: its facts judged against the regimes, and what was notified."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from incident.regimes import Applicability, ClockState, Facts, Regimes, clock_state, evaluate
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
# A decision not to notify under a regime (kept with its rationale for the breach register).
NO_NOTIFY = "no_notify"


def facts_of(incident: Incident) -> Facts:
    """The incident's record as the facts the regimes are evaluated against (None = not known)."""
    extra = incident.facts or {}
    return Facts(
        jurisdictions=frozenset(incident.jurisdictions) if incident.jurisdictions else None,
        people_affected=incident.people_affected,
        data_categories=frozenset(incident.data_categories) if incident.data_categories else None,
        encrypted=incident.encrypted,
        exfiltration_confirmed=incident.exfiltration_confirmed,
        role=incident.processor_role,  # type: ignore[arg-type]
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
    applicability: Applicability
    state: ClockState | str  # a regime state, or "declined"
    notified_at: datetime | None
    reference: str | None

    @property
    def regime_id(self) -> str:
        return self.applicability.regime.id

    @property
    def deadline_at(self) -> datetime | None:
        return self.applicability.deadline_at


def first_notifications(notifications: Iterable[Notification]) -> dict[str, Notification]:
    """The earliest notification recorded per regime: that one satisfies the clock."""
    first: dict[str, Notification] = {}
    for n in sorted(notifications, key=lambda n: n.sent_at):
        first.setdefault(n.regime, n)
    return first


DECLINED = "declined"


def clocks(
    incident: Incident,
    notifications: Iterable[Notification],
    regimes: Regimes,
    now: datetime,
    declined: Iterable[Decision] = (),
) -> list[ClockView]:
    """Clocks that apply or may apply (unknown facts), with deadline, state and what satisfied them.

    A recorded decision not to notify under a regime (with its rationale, for the register) stops
    that clock as `declined` unless a notification was sent after all.
    """
    sent = first_notifications(notifications)
    waived = {d.regime for d in declined if d.regime and d.kind == NO_NOTIFY}
    views: list[ClockView] = []
    for app in evaluate(facts_of(incident), regimes):
        if app.status == "does_not_apply" or app.regime.register_only:
            continue
        n = sent.get(app.regime.id)
        state: str = clock_state(app, n.sent_at if n else None, now)
        if n is None and app.regime.id in waived:
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
