"""Checklist items: done, not applicable, assigned, reopened, annotated.

Each change is one transaction: the item row locked (``FOR UPDATE``), its version bumped, and a
timeline event with the actor and the before/after state. A click carries the version the item
was rendered at; a stale click acts on the current state and never undoes someone else's change:
if the item's state moved since the clicker saw it (done, N/A, reopened), nothing changes and the
result says so, so the handler can re-render and tell the clicker what happened.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from incident import lookup, roster
from incident.errors import Invalid, NotAllowed, Person
from incident.limits import Field, limit
from incident.redact import Redacted, scrub_required, with_counts
from incident.roles_config import COMMANDER
from storage import timeline
from storage.db import Database
from storage.models import ChecklistItem, TimelineEvent

OPEN, DONE, NA = "open", "done", "na"
STATE_EVENTS = ("item_done", "item_na", "item_reopened")
REASON_MAX = limit(Field.REASON)
NOTE_MAX = limit(Field.NOTE)
ID_LIMIT = 2**31  # what a database id column holds; a forged larger number names nothing


class Outcome(StrEnum):
    """What a request did; anything but CHANGED left the item as it was."""

    CHANGED = "changed"
    ALREADY = "already"  # the item is already in the asked-for state
    IS_DONE = "is_done"  # asked for N/A, but someone completed it
    IS_NA = "is_na"  # asked for done, but someone marked it not applicable
    MOVED = "moved"  # its state changed since the click was rendered


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


@dataclass(frozen=True)
class ItemRef:
    """An item as a click names it: its id and the version the message showed."""

    item_id: int
    version: int | None = None

    @classmethod
    def parse(cls, value: str) -> ItemRef:
        """``"123:4"`` (or just ``"123"``); ``Invalid`` for anything else."""
        head, _, tail = (value or "").partition(":")
        if not _digits(head) or not (_digits(tail) or not tail):
            raise Invalid("error.invalid", reason=(value or "")[:40])
        item_id, version = int(head), int(tail) if tail else None
        if not 0 < item_id < ID_LIMIT or (version is not None and not 0 < version < ID_LIMIT):
            raise Invalid("error.invalid", reason=(value or "")[:40])
        return cls(item_id, version)

    def __str__(self) -> str:
        return f"{self.item_id}:{self.version}" if self.version is not None else str(self.item_id)


@dataclass(frozen=True)
class ItemChanged:
    item: ChecklistItem
    outcome: Outcome
    stale: bool

    @property
    def changed(self) -> bool:
        return self.outcome is Outcome.CHANGED

    @property
    def incident_id(self) -> int:
        return self.item.incident_id

    @property
    def phase(self) -> str:
        return self.item.phase


def may_complete(item: ChecklistItem, held_roles: Collection[str]) -> bool:
    """Restricted items are completed only by the owner role's holder or the commander."""
    return not item.restricted or item.owner_role in held_roles or COMMANDER in held_roles


def snapshot(item: ChecklistItem) -> dict[str, Any]:
    return {
        "state": item.state,
        "assignee": item.assignee,
        "done_by": item.done_by,
        "done_at": item.done_at,
        "na_reason": item.na_reason,
        "note": item.note,
    }


async def get(db: AsyncSession, item_id: int) -> ChecklistItem:
    return await lookup.row(db, ChecklistItem, item_id)


async def items_of(db: AsyncSession, incident_id: int, phase: str | None = None) -> list[ChecklistItem]:
    stmt = select(ChecklistItem).where(ChecklistItem.incident_id == incident_id)
    if phase is not None:
        stmt = stmt.where(ChecklistItem.phase == phase)
    stmt = stmt.order_by(col(ChecklistItem.phase), col(ChecklistItem.position), col(ChecklistItem.id))
    return list((await db.execute(stmt)).scalars())


async def _state_moved_since(db: AsyncSession, item: ChecklistItem, version: int | None) -> bool:
    """Whether the item was completed, marked N/A or reopened after the clicked version."""
    if version is None or version >= item.version:
        return False
    events = await timeline.events(db, item.incident_id, kinds=set(STATE_EVENTS))
    return any(_about(event, item) and int(event.data.get("version") or 0) > version for event in events)


def _about(event: TimelineEvent, item: ChecklistItem) -> bool:
    return event.data.get("item_id") == item.id


async def _require_may_complete(db: AsyncSession, item: ChecklistItem, actor: str) -> None:
    holders = await roster.current(db, item.incident_id)
    if not may_complete(item, roster.roles_of(holders, actor)):
        raise NotAllowed(
            "checklist.error.restricted",
            role=item.owner_role,
            owner=Person(holders.get(item.owner_role)),
            commander=Person(holders.get(COMMANDER)),
        )


def _result(item: ChecklistItem, outcome: Outcome, ref: ItemRef) -> ItemChanged:
    stale = ref.version is not None and ref.version != item.version
    return ItemChanged(item=item, outcome=outcome, stale=stale)


async def _change(
    db: AsyncSession,
    item: ChecklistItem,
    ref: ItemRef,
    changes: dict[str, Any],
    *,
    kind: str,
    actor: str,
    now: datetime,
    summary: str,
    text: Redacted | None = None,
) -> ItemChanged:
    """Set ``changes`` on the locked item, bump its version and log the state before and after."""
    clicked_stale = ref.version is not None and ref.version != item.version
    before = snapshot(item)
    for name, value in changes.items():
        setattr(item, name, value)
    item.version += 1
    await db.flush()
    await timeline.append(
        db,
        item.incident_id,
        actor=actor,
        kind=kind,
        summary=summary,
        data={
            "item_id": item.id,
            "item_key": item.item_key,
            "phase": item.phase,
            "version": item.version,
            "before": before,
            "after": snapshot(item),
        }
        | (with_counts({}, text) if text else {}),
        at=now,
    )
    return ItemChanged(item=item, outcome=Outcome.CHANGED, stale=clicked_stale)


async def _settle(
    database: Database, ref: ItemRef, state: str, *, actor: str, now: datetime, reason: Redacted | None = None
) -> ItemChanged:
    """Mark an open item done or N/A (``state``): never the other way round, never over a newer change."""
    async with database.transaction() as db:
        item = await lookup.locked(db, ChecklistItem, ref.item_id)
        if item.state == state:
            return _result(item, Outcome.ALREADY, ref)
        if item.state in (DONE, NA):
            return _result(item, Outcome.IS_NA if item.state == NA else Outcome.IS_DONE, ref)
        if await _state_moved_since(db, item, ref.version):
            return _result(item, Outcome.MOVED, ref)
        await _require_may_complete(db, item, actor)
        why = reason.text if reason is not None else None
        summary = f"✅ {item.item_key}" if why is None else f"➖ {item.item_key}: {why}"
        settled = {"state": state, "done_by": actor, "done_at": now, "na_reason": why}
        kind = "item_done" if state == DONE else "item_na"
        return await _change(
            db, item, ref, settled, kind=kind, actor=actor, now=now, summary=summary, text=reason
        )


def _required(field: Field, text: str, empty_key: str, redact_on: bool) -> Redacted:
    """Text a person must give an item, refused past its limit with the checklist's own message."""
    return scrub_required(field, text, empty_key, enabled=redact_on, too_long_key="checklist.error.too_long")


async def complete(database: Database, ref: ItemRef, *, actor: str, now: datetime) -> ItemChanged:
    """Mark an item done. Idempotent; never turns an N/A item done; restricted items need the owner."""
    return await _settle(database, ref, DONE, actor=actor, now=now)


async def mark_not_applicable(
    database: Database, ref: ItemRef, reason: str, *, actor: str, now: datetime, redact_on: bool = True
) -> ItemChanged:
    """Mark an open item not applicable, with the reason (required). Same rules as ``complete``."""
    clean = _required(Field.REASON, reason, "checklist.error.reason_required", redact_on)
    return await _settle(database, ref, NA, actor=actor, now=now, reason=clean)


async def reopen(database: Database, ref: ItemRef, *, actor: str, now: datetime) -> ItemChanged:
    """Reopen a done or N/A item: the incident commander only."""
    async with database.transaction() as db:
        item = await lookup.locked(db, ChecklistItem, ref.item_id)
        holders = await roster.current(db, item.incident_id)
        if holders.get(COMMANDER) != actor:
            raise NotAllowed("checklist.error.reopen_commander", commander=Person(holders.get(COMMANDER)))
        if item.state == OPEN:
            return _result(item, Outcome.ALREADY, ref)
        if await _state_moved_since(db, item, ref.version):
            return _result(item, Outcome.MOVED, ref)
        reopened = {"state": OPEN, "done_by": None, "done_at": None, "na_reason": None}
        summary = f"↩️ {item.item_key}"
        return await _change(
            db, item, ref, reopened, kind="item_reopened", actor=actor, now=now, summary=summary
        )


async def assign(database: Database, ref: ItemRef, user: str, *, actor: str, now: datetime) -> ItemChanged:
    """Give the item to a person (on top of its owner role). The same person again changes nothing."""
    if not user:
        raise Invalid("checklist.error.assignee_required")
    async with database.transaction() as db:
        item = await lookup.locked(db, ChecklistItem, ref.item_id)
        if item.assignee == user:
            return _result(item, Outcome.ALREADY, ref)
        summary = f"{item.item_key}: {item.assignee or '—'} → {user}"
        return await _change(
            db, item, ref, {"assignee": user}, kind="item_assigned", actor=actor, now=now, summary=summary
        )


async def add_note(
    database: Database, ref: ItemRef, text: str, *, actor: str, now: datetime, redact_on: bool = True
) -> ItemChanged:
    """Set the item's note (the timeline keeps every earlier one)."""
    clean = _required(Field.NOTE, text, "checklist.error.note_required", redact_on)
    async with database.transaction() as db:
        item = await lookup.locked(db, ChecklistItem, ref.item_id)
        if item.note == clean.text:
            return _result(item, Outcome.ALREADY, ref)
        summary = f"📝 {item.item_key}: {clean.text}"
        return await _change(
            db,
            item,
            ref,
            {"note": clean.text},
            kind="item_note",
            actor=actor,
            now=now,
            summary=summary,
            text=clean,
        )


def open_required(items: Collection[ChecklistItem]) -> list[ChecklistItem]:
    """Required items still open, in checklist order."""
    return sorted(
        (i for i in items if i.required and i.state == OPEN), key=lambda i: (i.phase, i.position, i.id or 0)
    )
