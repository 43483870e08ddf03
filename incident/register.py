"""The breach register (GDPR Art. 33(5)): every incident, notified or not, drills marked as such.

One row per incident or `/breach log` entry, with the notify / don't-notify decision per obligation and
who made it, the clocks met or missed, and the status — all read from the database.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from incident import firm_facts
from incident.clocks import NO_NOTIFY, clocks, first_notifications, named_obligations
from incident.config import IncidentConfig
from incident.firm_facts import FirmFacts
from incident.i18n import t
from incident.notice_draft.drafts import ApprovedNotice, approved_notices, drafts_of
from incident.regimes import obligation_title
from incident.text import Text
from storage.models import Decision, Incident, Notification


@dataclass(frozen=True)
class RegimeDecision:
    """What was decided about one obligation: told its recipient, decided not to, or pending."""

    regime: str
    obligation: str  # <regime id>/<key>
    name: Text  # the regime's name and the obligation's recipient
    decision: str  # notified | not_notified | pending
    at: datetime | None
    by: str | None
    detail: str  # the reference of the notice, or the rationale for not notifying
    clock: str  # met | late | overdue | open | unscheduled | declined


@dataclass(frozen=True)
class RegisterRow:
    key: str
    kind: str
    drill: bool
    title: str
    severity: str
    status: str
    discovered_at: datetime | None
    declared_at: datetime
    contained_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    data_categories: list[str]
    people_affected: int | None
    affected_clients: list[str]
    jurisdictions: list[str]
    decisions: list[RegimeDecision] = field(default_factory=list)
    not_notified_rationale: str = ""
    # Notices drafted from the record and approved by legal: the text and its SHA-256.
    approved_notices: list[ApprovedNotice] = field(default_factory=list)

    @property
    def clocks_met(self) -> int:
        return sum(1 for d in self.decisions if d.clock == "met")

    @property
    def clocks_missed(self) -> int:
        return sum(1 for d in self.decisions if d.clock in ("late", "overdue"))


def decisions_for(
    incident: Incident,
    notifications: list[Notification],
    declined: list[Decision],
    config: IncidentConfig,
    now: datetime,
    firm: FirmFacts | None = None,
) -> list[RegimeDecision]:
    """Per obligation that applies (or may): notified, explicitly not notified (with why), or pending."""
    regimes = config.regimes
    out: list[RegimeDecision] = []
    sent = first_notifications(notifications, regimes)
    declined_by_id: dict[str, Decision] = {}
    for d in sorted(declined, key=lambda d: d.decided_at):
        for oid in named_obligations(d.regime, d.obligation, regimes):
            declined_by_id.setdefault(oid, d)
    seen: set[str] = set()
    for view in clocks(incident, notifications, regimes, now, declined, firm):
        regime = view.applicability.regime
        seen.add(view.id)
        name = view.name
        first, no = sent.get(view.id), declined_by_id.get(view.id)
        if first is not None:
            out.append(
                RegimeDecision(
                    regime.id,
                    view.id,
                    name,
                    "notified",
                    first.sent_at,
                    first.sent_by,
                    first.reference,
                    view.state,
                )
            )
        elif no is not None:
            out.append(
                RegimeDecision(
                    regime.id,
                    view.id,
                    name,
                    "not_notified",
                    no.decided_at,
                    no.decided_by,
                    no.rationale,
                    "declined",
                )
            )
        else:
            out.append(RegimeDecision(regime.id, view.id, name, "pending", None, None, "", view.state))
    # A decision about an obligation the facts no longer show still belongs on record.
    for oid, no in declined_by_id.items():
        if oid in seen or not regimes.has_obligation(oid):
            continue
        obligation = regimes.obligation(oid)
        name = obligation_title(regimes.get(obligation.regime_id), obligation)
        out.append(
            RegimeDecision(
                obligation.regime_id,
                oid,
                name,
                "not_notified",
                no.decided_at,
                no.decided_by,
                no.rationale,
                "declined",
            )
        )
    return out


async def rows(
    db: AsyncSession,
    config: IncidentConfig,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime,
) -> list[RegisterRow]:
    """Register rows for incidents declared in [start, end), oldest first."""
    stmt = select(Incident).order_by(col(Incident.declared_at), col(Incident.id))
    if start is not None:
        stmt = stmt.where(Incident.declared_at >= start)
    if end is not None:
        stmt = stmt.where(Incident.declared_at < end)
    incidents = list((await db.execute(stmt)).scalars())
    ids = [i.id for i in incidents]
    notifications: dict[int, list[Notification]] = {i: [] for i in ids if i is not None}
    declined: dict[int, list[Decision]] = {i: [] for i in ids if i is not None}
    if ids:
        for n in (
            await db.execute(select(Notification).where(col(Notification.incident_id).in_(ids)))
        ).scalars():
            notifications[n.incident_id].append(n)
        stmt_d = select(Decision).where(col(Decision.incident_id).in_(ids), Decision.kind == NO_NOTIFY)
        for d in (await db.execute(stmt_d)).scalars():
            declined[d.incident_id].append(d)
    drafted = await drafts_of(db, [i for i in ids if i is not None])
    firm = await firm_facts.load(db)
    out = []
    for inc in incidents:
        assert inc.id is not None
        out.append(
            RegisterRow(
                key=inc.key,
                kind=inc.kind,
                drill=inc.is_drill,
                title=inc.title,
                severity=inc.severity,
                status=inc.status,
                discovered_at=inc.discovered_at,
                declared_at=inc.declared_at,
                contained_at=inc.contained_at,
                resolved_at=inc.resolved_at,
                closed_at=inc.closed_at,
                data_categories=list(inc.data_categories or []),
                people_affected=inc.people_affected,
                affected_clients=list(inc.affected_clients or []),
                jurisdictions=list(inc.jurisdictions or []),
                decisions=decisions_for(inc, notifications[inc.id], declined[inc.id], config, now, firm),
                not_notified_rationale=inc.not_notified_rationale,
                approved_notices=approved_notices(drafted[inc.id]),
            )
        )
    return out


# Exports ----------------------------------------------------------------------------------------

COLUMNS = (
    "key",
    "kind",
    "drill",
    "severity",
    "status",
    "title",
    "discovered_at",
    "declared_at",
    "contained_at",
    "resolved_at",
    "closed_at",
    "data_categories",
    "people_affected",
    "affected_clients",
    "jurisdictions",
    "decisions",
    "clocks_met",
    "clocks_missed",
    "not_notified_rationale",
    "approved_notices",
)


def _iso(at: datetime | None) -> str:
    return at.isoformat(timespec="minutes") if at else ""


def _decision_text(d: RegimeDecision, locale: str) -> str:
    who = f" by {d.by}" if d.by else ""
    when = f" {_iso(d.at)}" if d.at else ""
    detail = f" ({d.detail})" if d.detail else ""
    return f"{d.obligation}: {d.decision}{when}{who}{detail} [{d.clock}]"


def flat(row: RegisterRow, locale: str = "en") -> dict[str, str]:
    return {
        "key": row.key,
        "kind": row.kind,
        "drill": "yes" if row.drill else "no",
        "severity": row.severity,
        "status": row.status,
        "title": row.title,
        "discovered_at": _iso(row.discovered_at),
        "declared_at": _iso(row.declared_at),
        "contained_at": _iso(row.contained_at),
        "resolved_at": _iso(row.resolved_at),
        "closed_at": _iso(row.closed_at),
        "data_categories": ", ".join(row.data_categories),
        "people_affected": "" if row.people_affected is None else str(row.people_affected),
        "affected_clients": ", ".join(row.affected_clients),
        "jurisdictions": ", ".join(row.jurisdictions),
        "decisions": "; ".join(_decision_text(d, locale) for d in row.decisions),
        "clocks_met": str(row.clocks_met),
        "clocks_missed": str(row.clocks_missed),
        "not_notified_rationale": row.not_notified_rationale,
        "approved_notices": "; ".join(n.line for n in row.approved_notices),
    }


def to_csv(register: list[RegisterRow]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in register:
        writer.writerow(flat(row))
    return out.getvalue()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


MD_COLUMNS = ("key", "drill", "severity", "status", "declared", "categories", "people", "decisions", "clocks")


def to_markdown(register: list[RegisterRow], locale: str = "en") -> str:
    headers = [t(f"register.md.{column}", locale) for column in MD_COLUMNS]
    title = f"# {t('register.md.title', locale)}"
    lines = [title, "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in register:
        f = flat(row, locale)
        lines.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    f["key"],
                    f["drill"],
                    f["severity"],
                    f["status"],
                    f["declared_at"],
                    f["data_categories"],
                    f["people_affected"],
                    f["decisions"] or row.not_notified_rationale,
                    f"{row.clocks_met}/{row.clocks_missed}",
                )
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def to_json(register: list[RegisterRow]) -> str:
    def encode(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, Text):
            return value.to_dict()
        raise TypeError(type(value).__name__)

    data = [{**asdict(r), "clocks_met": r.clocks_met, "clocks_missed": r.clocks_missed} for r in register]
    return json.dumps(data, default=encode, ensure_ascii=False, indent=2)


FORMATS = {"csv": to_csv, "md": to_markdown, "json": to_json}
__all__ = ["FORMATS", "NO_NOTIFY", "RegimeDecision", "RegisterRow", "rows"]
