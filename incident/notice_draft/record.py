"""The incident's record as a notice draft reads it (``DraftRecord``), in one read session."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from incident import roster
from incident.clocks import facts_of
from incident.config import IncidentConfig
from incident.errors import NotFound
from incident.i18n import both
from incident.notice_draft.fills import Contact, DraftRecord
from incident.overview import playbook_of
from incident.regimes import cac_grade_label
from incident.roles_config import COMMANDER
from incident.severity import default_matrix
from incident.text import Text
from storage.models import ActionItem, ChecklistItem, Incident, Notification

# Whom a notice names as the data protection contact: the DPO, else compliance (spec: dpo_contact).
DPO_ROLES = ("dpo", "compliance")
INDIVIDUALS = "individuals"
# Recipient kinds a notification recorded before obligations existed used for individuals.
LEGACY_INDIVIDUAL = "individual"


def contact_ids(holders: Mapping[str, str]) -> set[str]:
    """The people a draft may name (its contacts): their names are looked up before composing."""
    return {holders[role] for role in (*DPO_ROLES, COMMANDER) if role in holders}


def _severity(code: str) -> Text:
    with suppress(ValueError):
        name = default_matrix().level(code).name
        return both("drafts.fill.severity", code=code, name=name)
    return Text(code, code)


def _contact(
    holders: Mapping[str, str], roles: tuple[str, ...], config: IncidentConfig, names: Mapping[str, str]
) -> Contact | None:
    for role in roles:
        user = holders.get(role)
        if user:
            definition = config.roles.get(role)
            return Contact(names.get(user, user), definition.name if definition else Text(role, role))
    return None


def _to_individuals(n: Notification, config: IncidentConfig) -> bool:
    if n.obligation is None:
        return n.recipient_kind in (INDIVIDUALS, LEGACY_INDIVIDUAL)
    obligation_id = f"{n.regime}/{n.obligation}"
    if not config.regimes.has_obligation(obligation_id):
        return False
    return config.regimes.obligation(obligation_id).recipient_kind == INDIVIDUALS


async def read(
    db: AsyncSession, incident: Incident, config: IncidentConfig, names: Mapping[str, str]
) -> DraftRecord:
    """Everything a fill may take: the incident and its facts, the checklist's done items and the
    follow-up actions (measures taken and planned), the role holders, the notifications sent."""
    if incident.id is None:
        raise NotFound("error.not_found")
    iid = incident.id
    holders = await roster.current(db, iid)
    done_items = (
        await db.execute(
            select(ChecklistItem.item_key)
            .where(ChecklistItem.incident_id == iid, ChecklistItem.state == "done")
            .order_by(col(ChecklistItem.done_at), col(ChecklistItem.position))
        )
    ).scalars()
    actions = list(
        (
            await db.execute(
                select(ActionItem).where(ActionItem.incident_id == iid).order_by(col(ActionItem.id))
            )
        ).scalars()
    )
    sent = (await db.execute(select(Notification).where(Notification.incident_id == iid))).scalars()
    playbook = playbook_of(incident)
    known_items = set(playbook.item_keys())
    taken = [playbook.item(key).title for key in done_items if key in known_items]
    taken += [Text(a.text, a.text) for a in actions if a.status == "done"]
    planned = tuple(Text(a.text, a.text) for a in actions if a.status != "done")
    facts = facts_of(incident)
    grade = facts.cac_grade
    return DraftRecord(
        key=incident.key,
        title=incident.title,
        summary=incident.summary,
        drill=incident.is_drill,
        severity=_severity(incident.severity),
        categories=tuple(config.regimes.category_name(c) for c in incident.data_categories or ()),
        people_affected=incident.people_affected,
        jurisdictions=tuple(config.regimes.jurisdiction_name(c) for c in incident.jurisdictions or ()),
        times={
            "discovered_at": incident.discovered_at,
            "aware_at": incident.aware_at,
            "determined_at": incident.determined_at,
            "declared_at": incident.declared_at,
        },
        cac_grade=cac_grade_label(grade) if grade is not None else None,
        incident_type=playbook.title,
        measures_taken=tuple(taken),
        measures_planned=planned,
        dpo_contact=_contact(holders, DPO_ROLES, config, names),
        firm_contact=_contact(holders, (COMMANDER,), config, names),
        flags={
            "crime_suspected": facts.crime_suspected,
            "law_enforcement_investigating": facts.law_enforcement_investigating,
            "encrypted": facts.encrypted,
        },
        individuals_notified=tuple(sorted(n.sent_at for n in sent if _to_individuals(n, config))),
    )
