"""Drafting a notice for one obligation, and legal's approval of the text: each one transaction.

A draft is a new version (one row per language) with the text the record gives and its SHA-256,
logged as ``notice_drafted`` (without the text: the channel never sees a draft). Approval is a
decision (``decision`` on the timeline, announced as one line with the hash) and stores the text
as approved, scrubbed of sensitive numbers, with its SHA-256. Nothing is sent anywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from incident import lookup, roster
from incident.clocks import facts_of
from incident.config import IncidentConfig
from incident.errors import Conflict, NotAllowed, NotFound, Person, refuse_first
from incident.firm_facts import FirmFacts
from incident.i18n import t
from incident.limits import Field, limit, too_long
from incident.notice_draft.compose import Composed, compose
from incident.notice_draft.record import contact_ids, read
from incident.records import write_decision
from incident.redact import Finding, Redacted, scrub
from incident.regimes import Obligation, Regimes, evaluate
from incident.roles_config import COMMANDER, RolesConfig
from storage import timeline
from storage.db import Database
from storage.models import Incident, NoticeDraft

LEGAL = "legal"
# The decision kind an approval is recorded as (the register tells it from a person's decision).
APPROVED = "notice_approved"
# Names of people (Slack ids → their names): the draft's contacts are named, not left as ids.
NameLookup = Callable[[Iterable[str]], Awaitable[Mapping[str, str]]]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def obligation_named(regimes: Regimes, value: str) -> Obligation:
    """The obligation ``<regime>/<key>``, or a regime's only one when the regime alone is named."""
    value = (value or "").strip()
    if regimes.has_obligation(value):
        return regimes.obligation(value)
    if value in regimes and len(regimes.get(value).obligations) == 1:
        return regimes.get(value).obligations[0]
    raise NotFound("drafts.error.unknown_obligation", obligation=value[:80])


def draftable(incident: Incident, regimes: Regimes, firm: FirmFacts | None = None) -> list[Obligation]:
    """The obligations that apply or may apply (facts unknown) and have a notice to write; ``firm``:
    the firm's answers to facts about itself (incident/firm_facts.py)."""
    return [
        app.obligation
        for app in evaluate(facts_of(incident, firm), regimes)
        if app.status != "does_not_apply" and not app.register_only
    ]


# Who may approve -------------------------------------------------------------------------------


def may_approve(holders: Mapping[str, str], user: str, roles: RolesConfig, *, is_admin: bool) -> bool:
    """Legal approves what is sent in the firm's name; the commander, the deputy and admins may too."""
    return holders.get(LEGAL) == user or roster.may_manage(holders, user, roles, is_admin=is_admin)


def require_approve(holders: Mapping[str, str], user: str, roles: RolesConfig, *, is_admin: bool) -> None:
    if not may_approve(holders, user, roles, is_admin=is_admin):
        legal, commander = holders.get(LEGAL), holders.get(COMMANDER)
        raise NotAllowed(
            "drafts.error.approve_only",
            legal=Person(legal),
            commander=Person(commander),
        )


@dataclass(frozen=True)
class Approver:
    """Whether a person may approve this incident's notices, and who holds legal (to name them)."""

    may: bool
    legal: str | None
    commander: str | None


async def approver(
    database: Database, incident_id: int, user: str, roles: RolesConfig, *, is_admin: bool
) -> Approver:
    async with database.session() as db:
        holders = await roster.current(db, incident_id)
    return Approver(
        may_approve(holders, user, roles, is_admin=is_admin), holders.get(LEGAL), holders.get(COMMANDER)
    )


# Drafting --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    incident_id: int
    obligation: Obligation
    version: int
    composed: tuple[Composed, ...]
    hashes: Mapping[str, str]


async def draft(
    database: Database,
    config: IncidentConfig,
    incident_id: int,
    obligation: Obligation,
    *,
    actor: str,
    now: datetime,
    names: NameLookup,
) -> Draft:
    """Write the obligation's notice from the record in each of its languages, as a new version."""
    async with database.session() as db:
        await lookup.row(db, Incident, incident_id)
        wanted = contact_ids(await roster.current(db, incident_id))
    known = await names(wanted)
    async with database.session() as db:
        incident = await db.get(Incident, incident_id)
        assert incident is not None
        record = await read(db, incident, config, known)
    regime_name = config.regimes.get(obligation.regime_id).name
    role_names = {role.key: role.name for role in config.roles}
    composed = tuple(
        compose(obligation, regime_name, record, language, role_names) for language in obligation.languages
    )
    hashes = {c.language: sha256(c.text) for c in composed}
    async with database.transaction() as db:
        await timeline.lock_incident(db, incident_id)
        version = (await _latest_version(db, incident_id, obligation.id)) + 1
        for c in composed:
            db.add(
                NoticeDraft(
                    incident_id=incident_id,
                    obligation=obligation.id,
                    language=c.language,
                    version=version,
                    text=c.text,
                    sha256=hashes[c.language],
                    drafted_by=actor,
                    drafted_at=now,
                )
            )
        gaps = sorted({gap for c in composed for gap in c.gaps})
        await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="notice_drafted",
            summary=f"{obligation.id} draft v{version} ({', '.join(hashes)}): {len(gaps)} gap(s)",
            data={
                "obligation": obligation.id,
                "version": version,
                "languages": list(hashes),
                "sha256": hashes,
                "gaps": gaps,
            },
            at=now,
        )
    return Draft(incident_id, obligation, version, composed, hashes)


async def _latest_version(db: AsyncSession, incident_id: int, obligation_id: str) -> int:
    latest = await db.execute(
        select(func.max(NoticeDraft.version)).where(
            NoticeDraft.incident_id == incident_id, NoticeDraft.obligation == obligation_id
        )
    )
    return int(latest.scalar() or 0)


# Approving -------------------------------------------------------------------------------------


def validate_texts(texts: Mapping[str, str]) -> dict[str, str]:
    """Language → message key for the form."""
    errors: dict[str, str] = {}
    for language, text in texts.items():
        if not (text or "").strip():
            errors[language] = "drafts.error.empty"
        elif too_long(Field.NOTICE, text):
            errors[language] = "drafts.error.field_too_long"
    return errors


@dataclass(frozen=True)
class Approved:
    incident: Incident
    obligation: Obligation
    version: int
    rows: tuple[NoticeDraft, ...]
    findings: tuple[Finding, ...]


def _clipped(text: str, length: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= length else line[: length - 1] + "…"


async def approve(
    database: Database,
    config: IncidentConfig,
    incident_id: int,
    obligation: Obligation,
    version: int,
    texts: Mapping[str, str],
    *,
    actor: str,
    now: datetime,
    is_admin: bool,
    redact_on: bool,
) -> Approved:
    """Store the texts legal approved (scrubbed) with their SHA-256 and record the decision.

    NotAllowed unless ``actor`` holds legal, manages the incident or is an admin (checked against
    the holders as they are at commit); Conflict if that version is approved already."""
    refuse_first(validate_texts(texts), limit=limit(Field.NOTICE))
    clean: dict[str, Redacted] = {
        lang: scrub(Field.NOTICE, text, enabled=redact_on) for lang, text in texts.items()
    }
    async with database.transaction() as db:
        incident = await timeline.lock_incident(db, incident_id)
        require_approve(await roster.current(db, incident_id), actor, config.roles, is_admin=is_admin)
        rows = list(
            (
                await db.execute(
                    select(NoticeDraft)
                    .where(
                        NoticeDraft.incident_id == incident_id,
                        NoticeDraft.obligation == obligation.id,
                        NoticeDraft.version == version,
                    )
                    .order_by(col(NoticeDraft.id))
                    .with_for_update()
                )
            ).scalars()
        )
        if not rows or {r.language for r in rows} != set(clean):
            raise NotFound("error.not_found")
        done = next((r for r in rows if r.approved_at is not None), None)
        if done is not None:
            raise Conflict("drafts.error.already_approved", version=version, user=Person(done.approved_by))
        edited = False
        for row in rows:
            text = clean[row.language].text
            edited = edited or text != row.text
            row.text, row.sha256 = text, sha256(text)
            row.approved_by, row.approved_at = actor, now
        locale = incident.locale
        hashes = {row.language: row.sha256 for row in rows}
        decision = t(
            "drafts.approval.decision",
            locale,
            recipient=_clipped(obligation.recipient.get(locale)),
            obligation=obligation.id,
            version=version,
        )
        how = t("drafts.approval.edited", locale) if edited else t("drafts.approval.as_drafted", locale)
        rationale = t(
            "drafts.approval.rationale",
            locale,
            how=how,
            hashes="; ".join(f"{lang} {digest}" for lang, digest in hashes.items()),
        )
        await write_decision(
            db,
            incident_id,
            Redacted(decision),
            Redacted(rationale),
            Redacted(""),
            approver=actor,
            privileged=False,
            actor=actor,
            now=now,
            kind=APPROVED,
            regime=obligation.regime_id,
            obligation=obligation.key,
            extra={"notice_draft": {"obligation": obligation.id, "version": version, "sha256": hashes}},
        )
        findings = tuple(f for c in clean.values() for f in c.findings)
        return Approved(incident, obligation, version, tuple(rows), findings)


# Reading ---------------------------------------------------------------------------------------


async def drafts_of(db: AsyncSession, incident_ids: Iterable[int]) -> dict[int, list[NoticeDraft]]:
    """Every draft of each incident (every version and language), oldest first."""
    ids = list(incident_ids)
    out: dict[int, list[NoticeDraft]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = await db.execute(
        select(NoticeDraft)
        .where(col(NoticeDraft.incident_id).in_(ids))
        .order_by(
            col(NoticeDraft.incident_id),
            col(NoticeDraft.obligation),
            col(NoticeDraft.version),
            col(NoticeDraft.language),
        )
    )
    for row in rows.scalars():
        out[row.incident_id].append(row)
    return out


@dataclass(frozen=True)
class ApprovedNotice:
    """An approved notice as the register carries it: the exact text and its SHA-256."""

    obligation: str
    language: str
    version: int
    sha256: str
    approved_by: str
    approved_at: datetime
    text: str

    @property
    def line(self) -> str:
        return f"{self.obligation} {self.language} v{self.version} sha256={self.sha256}"


def approved_notices(rows: Iterable[NoticeDraft]) -> list[ApprovedNotice]:
    """Per obligation and language, the newest approved text (what the register shows)."""
    best: dict[tuple[str, str], NoticeDraft] = {}
    for row in rows:
        if row.approved_at is None or row.approved_by is None:
            continue
        key = (row.obligation, row.language)
        if key not in best or row.version > best[key].version:
            best[key] = row
    return [
        ApprovedNotice(
            r.obligation, r.language, r.version, r.sha256, r.approved_by or "", r.approved_at, r.text
        )
        for r in sorted(best.values(), key=lambda r: (r.obligation, r.language))
        if r.approved_at is not None
    ]
