"""The incident's records: notes, decisions, the evidence register, follow-up actions, captured messages.

Each change is one transaction holding the row and its timeline event. Free text goes through
the sensitive-data guard before it is stored, so a pasted ID or card number never reaches the
record, the timeline or the post-mortem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from incident import lookup
from incident.errors import NotFound, refuse_first
from incident.limits import Field, limit, too_long
from incident.redact import Finding, Redacted, guard, scrub, scrub_required, with_counts
from storage import timeline
from storage.db import Database
from storage.models import ActionItem, Decision, Evidence, Incident, ProcessedEvent, TimelineEvent
from storage.sql import dialect_of, rows_changed

ACTION_CATEGORIES = ("policy", "training", "other")
SHA256 = re.compile(r"[0-9a-fA-F]{64}")
CAPTURE_KINDS = frozenset({"message_added", "message_retracted"})
# Kinds this module writes; the timeline view offers them (and every other kind it finds) as filters.
KINDS = ("note", "decision", "evidence_added", "action_added", "action_done", *sorted(CAPTURE_KINDS))


@dataclass(frozen=True)
class Recorded:
    """What was stored: the row id, the timeline event, and what the guard took out."""

    incident_id: int
    kind: str
    row_id: int | None
    seq: int
    summary: str
    findings: tuple[Finding, ...] = ()
    # The values as stored (after the guard), for confirmations that must show what was kept.
    stored: dict[str, str] = field(default_factory=dict)


MAX_ID = 2**63 - 1


def parse_id(value: object) -> int:
    """A row id from a button's value; anything else (a forged or stale payload) is not found."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise NotFound("error.not_found")
    return int(text)


def _text(value: str | None) -> str:
    return (value or "").strip()


def _summary(text: str, length: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= length else line[: length - 1] + "…"


def _clipped(text: str, length: int) -> str:
    """A message already posted in Slack is kept up to `length`; a number cut in two by the clip is
    dropped with it, so no partial number escapes the guard."""
    if len(text) <= length:
        return text
    return re.sub(r"[0-9０-９XxＸｘ .\-]+$", "", text[:length]) + "…"


def _counted(*parts: Redacted) -> dict[str, object]:
    return with_counts({}, *parts)


async def _insert_announced(
    database: Database,
    row: Evidence | ActionItem,
    kind: str,
    id_key: str,
    data: Mapping[str, object],
    parts: tuple[Redacted, ...],
    *,
    actor: str,
    now: datetime,
    stored: dict[str, str] | None = None,
) -> Recorded:
    """Insert a register row and its announced timeline event, which names the row by ``id_key``
    and is summed up by the first guarded part, in one transaction."""
    async with database.transaction() as db:
        db.add(row)
        await db.flush()
        event = await timeline.append(
            db,
            row.incident_id,
            actor=actor,
            kind=kind,
            announce=True,
            summary=_summary(parts[0].text),
            data={id_key: row.id, **data} | _counted(*parts),
            at=now,
        )
    findings = tuple(finding for part in parts for finding in part.findings)
    return Recorded(row.incident_id, kind, row.id, event.seq, event.summary, findings, stored or {})


# Notes ------------------------------------------------------------------------------------------


async def add_note(
    database: Database, incident_id: int, text: str, *, actor: str, now: datetime, redact_on: bool
) -> Recorded:
    clean = scrub_required(
        Field.NOTE, text, "records.error.note_empty", enabled=redact_on, too_long_key="records.error.too_long"
    )
    async with database.transaction() as db:
        event = await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="note",
            announce=True,
            summary=_summary(clean.text),
            data=with_counts({"text": clean.text}, clean),
            at=now,
        )
    return Recorded(incident_id, "note", None, event.seq, event.summary, clean.findings, {"text": clean.text})


# Decisions --------------------------------------------------------------------------------------


@dataclass
class DecisionInput:
    text: str
    rationale: str = ""
    alternatives: str = ""
    approver: str | None = None
    privileged: bool = False


def validate_decision(inp: DecisionInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not _text(inp.text):
        errors["decision"] = "records.error.decision_empty"
    if not _text(inp.rationale):
        errors["rationale"] = "records.error.rationale_empty"
    for name in ("text", "rationale", "alternatives"):
        if too_long(Field.DECISION, getattr(inp, name)):
            errors["decision" if name == "text" else name] = "records.error.field_too_long"
    return errors


async def record_decision(
    database: Database,
    incident_id: int,
    inp: DecisionInput,
    *,
    actor: str,
    now: datetime,
    redact_on: bool,
) -> Recorded:
    refuse_first(validate_decision(inp))
    text, rationale, alternatives = (
        scrub(Field.DECISION, inp.text, enabled=redact_on),
        scrub(Field.DECISION, inp.rationale, enabled=redact_on),
        scrub(Field.DECISION, inp.alternatives, enabled=redact_on),
    )
    async with database.transaction() as db:
        row, event = await write_decision(
            db,
            incident_id,
            text,
            rationale,
            alternatives,
            approver=inp.approver,
            privileged=inp.privileged,
            actor=actor,
            now=now,
        )
    findings = (*text.findings, *rationale.findings, *alternatives.findings)
    stored = {"text": text.text, "rationale": rationale.text, "alternatives": alternatives.text}
    return Recorded(incident_id, "decision", row.id, event.seq, event.summary, findings, stored)


async def write_decision(
    db: AsyncSession,
    incident_id: int,
    text: Redacted,
    rationale: Redacted,
    alternatives: Redacted = Redacted(""),
    *,
    approver: str | None = None,
    privileged: bool = False,
    actor: str,
    now: datetime,
    kind: str = "decision",
    regime: str | None = None,
    obligation: str | None = None,
    extra: dict[str, object] | None = None,
    summary: str | None = None,
    announce: bool = True,
) -> tuple[Decision, TimelineEvent]:
    """The decision row and its ``decision`` event (announced in the channel), inside the caller's
    transaction, so a change a decision stands for (an approved notice) commits with it.

    ``kind`` tells decisions apart in the register (``decision`` a person's; others a feature's);
    ``extra`` is added to the event's data (never for a privileged decision, whose event says only
    that one was taken); ``summary`` replaces the decision's text as the event's summary, and
    ``announce=False`` keeps it out of the channel."""
    row = Decision(
        incident_id=incident_id,
        kind=kind,
        text=text.text,
        rationale=rationale.text,
        alternatives=alternatives.text,
        approver=approver,
        privileged=privileged,
        regime=regime,
        obligation=obligation,
        decided_by=actor,
        decided_at=now,
    )
    db.add(row)
    await db.flush()
    # A privileged decision stays in its register row; the timeline (read by everyone with the
    # incident, and exported) says only that one was taken, by whom and who approved it.
    if privileged:
        summary = "privileged decision recorded"
        data = with_counts(
            {"decision_id": row.id, "privileged": True, "approver": approver}, text, rationale, alternatives
        )
    else:
        summary = summary or _summary(text.text)
        data = {
            "decision_id": row.id,
            "privileged": False,
            "text": text.text,
            "rationale": rationale.text,
            "alternatives": alternatives.text,
            "approver": approver,
            **(extra or {}),
        }
        data = with_counts(data, text, rationale, alternatives)
    event = await timeline.append(
        db, incident_id, actor=actor, kind="decision", summary=summary, data=data, at=now, announce=announce
    )
    return row, event


# Evidence ---------------------------------------------------------------------------------------


@dataclass
class EvidenceInput:
    description: str
    location: str = ""
    sha256: str = ""
    custodian: str | None = None
    collected_at: datetime | None = None


def validate_evidence(inp: EvidenceInput, now: datetime) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not _text(inp.description):
        errors["description"] = "records.error.description_empty"
    if not _text(inp.location):
        errors["location"] = "records.error.location_empty"
    digest = _text(inp.sha256)
    if digest and not SHA256.fullmatch(digest):
        errors["sha256"] = "records.error.sha256"
    if not inp.custodian:
        errors["custodian"] = "records.error.custodian"
    if inp.collected_at is not None and inp.collected_at > now:
        errors["collected_at"] = "records.error.future"
    if too_long(Field.DESCRIPTION, inp.description):
        errors["description"] = "records.error.field_too_long"
    if too_long(Field.LOCATION, inp.location):
        errors["location"] = "redact.error.field_too_long"  # records' message names 3000; this limit is lower
    return errors


async def add_evidence(
    database: Database,
    incident_id: int,
    inp: EvidenceInput,
    *,
    actor: str,
    now: datetime,
    redact_on: bool,
) -> Recorded:
    refuse_first(validate_evidence(inp, now))
    description = scrub(Field.DESCRIPTION, inp.description, enabled=redact_on)
    location = scrub(Field.LOCATION, inp.location, enabled=redact_on)
    digest = _text(inp.sha256).lower() or None
    collected = (inp.collected_at or now).astimezone(UTC)
    row = Evidence(
        incident_id=incident_id,
        description=description.text,
        location=location.text,
        sha256=digest,
        custodian=inp.custodian,
        collected_at=collected,
        recorded_by=actor,
        recorded_at=now,
    )
    data = {
        "description": description.text,
        "location": location.text,
        "sha256": digest,
        "custodian": inp.custodian,
        "collected_at": collected,
    }
    stored = {"description": description.text, "location": location.text}
    return await _insert_announced(
        database,
        row,
        "evidence_added",
        "evidence_id",
        data,
        (description, location),
        actor=actor,
        now=now,
        stored=stored,
    )


# Follow-up actions ------------------------------------------------------------------------------


@dataclass
class ActionInput:
    text: str
    owner: str | None = None
    due_at: datetime | None = None
    category: str = "other"


def validate_action(inp: ActionInput, now: datetime) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not _text(inp.text):
        errors["text"] = "records.error.action_empty"
    elif too_long(Field.ACTION, inp.text):
        errors["text"] = "records.error.field_too_long"
    if inp.category not in ACTION_CATEGORIES:
        errors["category"] = "records.error.category"
    if inp.due_at is not None and inp.due_at.date() < now.date():
        errors["due"] = "records.error.past_due"
    return errors


async def add_action(
    database: Database,
    incident_id: int,
    inp: ActionInput,
    *,
    actor: str,
    now: datetime,
    redact_on: bool,
) -> Recorded:
    refuse_first(validate_action(inp, now))
    text = scrub(Field.ACTION, inp.text, enabled=redact_on)
    row = ActionItem(
        incident_id=incident_id,
        text=text.text,
        owner=inp.owner,
        due_at=inp.due_at,
        category=inp.category,
        created_by=actor,
        created_at=now,
    )
    data = {"text": text.text, "owner": inp.owner, "due_at": inp.due_at, "category": inp.category}
    return await _insert_announced(
        database, row, "action_added", "action_id", data, (text,), actor=actor, now=now
    )


@dataclass(frozen=True)
class ActionDone:
    item: ActionItem
    changed: bool


async def complete_action(database: Database, action_id: int, *, actor: str, now: datetime) -> ActionDone:
    """Mark a follow-up done. Idempotent: a second click records nothing more."""
    async with database.transaction() as db:
        item = await lookup.locked(db, ActionItem, action_id)
        if item.status == "done":
            return ActionDone(item, changed=False)
        item.status, item.done_at, item.done_by = "done", now, actor
        await timeline.append(
            db,
            item.incident_id,
            actor=actor,
            kind="action_done",
            announce=True,
            summary=_summary(item.text),
            data={"action_id": item.id, "text": item.text, "before": "open", "after": "done"},
            at=now,
        )
    return ActionDone(item, changed=True)


async def action_items(db: AsyncSession, incident_id: int) -> list[ActionItem]:
    rows = await db.execute(
        select(ActionItem).where(ActionItem.incident_id == incident_id).order_by(col(ActionItem.id))
    )
    return list(rows.scalars())


async def open_actions(db: AsyncSession, *, owner: str | None) -> list[tuple[str, ActionItem]]:
    """Open follow-ups of every incident (or only `owner`'s), with the incident key, due first."""
    stmt = (
        select(Incident.key, ActionItem)
        .join(Incident, col(Incident.id) == ActionItem.incident_id)
        .where(ActionItem.status == "open")
        .order_by(col(ActionItem.due_at).is_(None), col(ActionItem.due_at), col(ActionItem.id))
    )
    if owner is not None:
        stmt = stmt.where(ActionItem.owner == owner)
    return [(key, item) for key, item in (await db.execute(stmt)).all()]


async def action_item(database: Database, action_id: int) -> ActionItem:
    return await lookup.fetch(database, ActionItem, action_id)


# Captured messages ------------------------------------------------------------------------------


@dataclass
class CapturedMessage:
    channel: str
    ts: str
    author: str | None
    text: str
    permalink: str | None
    via: str  # "shortcut" | "reaction"
    files: list[str] = field(default_factory=list)
    # The thread the message is a reply in, if it is one: the channel's line answers there.
    thread_ts: str | None = None

    @property
    def posted_at(self) -> datetime:
        return datetime.fromtimestamp(float(self.ts), tz=UTC)


async def first_delivery(db: AsyncSession, event_id: str | None, now: datetime) -> bool:
    """Claim an Events API delivery inside the caller's transaction: a retry finds it claimed.

    Claimed in the same transaction as the change it causes, so a crash between the two can
    neither drop the change nor make the retry do it twice.
    """
    if not event_id:
        return True
    insert = postgresql.insert if dialect_of(db) == "postgresql" else sqlite.insert
    inserted = await rows_changed(
        db,
        insert(ProcessedEvent)
        .values(event_id=event_id, received_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"]),
    )
    return bool(inserted)


async def _captured(db: AsyncSession, incident_id: int, channel: str, ts: str) -> bool:
    """Whether the message is on the timeline now (added, and not retracted since)."""
    rows = await timeline.events(db, incident_id, kinds=set(CAPTURE_KINDS))
    state = False
    for event in rows:
        if event.data.get("channel") == channel and event.data.get("ts") == ts:
            state = event.kind == "message_added"
    return state


async def capture_message(
    database: Database,
    incident_id: int,
    msg: CapturedMessage,
    *,
    actor: str,
    now: datetime,
    redact_on: bool,
    event_id: str | None = None,
) -> Recorded | None:
    """Put a channel message on the timeline; None when it is there already or this is a retry."""
    text = guard(_clipped(msg.text, limit(Field.MESSAGE)), redact_on)
    async with database.transaction() as db:
        await timeline.lock_incident(db, incident_id)
        if not await first_delivery(db, event_id, now):
            return None
        if await _captured(db, incident_id, msg.channel, msg.ts):
            return None
        event = await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="message_added",
            announce=True,
            summary=_summary(text.text) or "—",
            data={
                "channel": msg.channel,
                "ts": msg.ts,
                "author": msg.author,
                "posted_at": msg.posted_at,
                "text": text.text,
                "permalink": msg.permalink,
                "via": msg.via,
                "files": msg.files,
                "thread_ts": msg.thread_ts or msg.ts,
            }
            | _counted(text),
            at=now,
        )
    return Recorded(
        incident_id, "message_added", None, event.seq, event.summary, text.findings, {"text": text.text}
    )


async def retract_message(
    database: Database,
    incident_id: int,
    channel: str,
    ts: str,
    *,
    actor: str,
    now: datetime,
    event_id: str | None = None,
) -> Recorded | None:
    """Record that a captured message was taken back. The original event stays: append-only."""
    async with database.transaction() as db:
        await timeline.lock_incident(db, incident_id)
        if not await first_delivery(db, event_id, now):
            return None
        if not await _captured(db, incident_id, channel, ts):
            return None
        added = [
            e
            for e in await timeline.events(db, incident_id, kinds={"message_added"})
            if e.data.get("channel") == channel and e.data.get("ts") == ts
        ][-1]
        event = await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="message_retracted",
            announce=True,
            summary=f"#{added.seq} retracted",
            data={
                "channel": channel,
                "ts": ts,
                "retracts_seq": added.seq,
                "author": added.data.get("author"),
                "thread_ts": added.data.get("thread_ts") or ts,
            },
            at=now,
        )
    return Recorded(incident_id, "message_retracted", None, event.seq, event.summary)


# Reading the timeline ---------------------------------------------------------------------------


async def recent_events(
    database: Database, incident_id: int, *, kind: str | None = None, limit: int = 20
) -> tuple[list[TimelineEvent], list[str]]:
    """The newest events (optionally of one kind), and every kind this incident's timeline has."""
    async with database.session() as db:
        rows = await timeline.events(
            db, incident_id, kinds={kind} if kind else None, limit=limit, newest_first=True
        )
        kinds = (
            await db.execute(
                select(TimelineEvent.kind).where(TimelineEvent.incident_id == incident_id).distinct()
            )
        ).scalars()
        return rows, sorted(kinds)


async def verification(database: Database, incident_id: int) -> timeline.Verification:
    async with database.session() as db:
        return await timeline.verify(db, incident_id)
