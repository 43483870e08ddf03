"""The keyed hash chain: append in the caller's transaction, verify from the rows and the keys.

Each event's hash is HMAC-SHA256 over the previous hash and the event, under a key the database
never holds: someone who can write the database but not read the bot's environment cannot
rebuild a chain that verifies. Every event records the id of the key that signed it, so keys
rotate and older events keep verifying while their key stays in the ring.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from storage import outbox
from storage.models import Incident, TimelineEvent

GENESIS = "0" * 64
SESSION_KEYS = "timeline_keys"  # where a session carries its database's key ring (Session.info)


class TimelineKeyError(LookupError):
    """The session has no key ring: the Database was built without one."""


@dataclass(frozen=True)
class TimelineKeys:
    """The key that signs new events, plus every key still accepted for verification."""

    current_id: str
    keys: dict[str, bytes]

    def __post_init__(self) -> None:
        if "" in self.keys:
            raise ValueError("a timeline key needs a non-empty id (an empty id marks pre-0002 events)")
        if self.current_id not in self.keys:
            raise ValueError(f"current timeline key {self.current_id!r} is not in the key ring")

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]


def keys_of(db: AsyncSession) -> TimelineKeys:
    keys = db.info.get(SESSION_KEYS)
    if not isinstance(keys, TimelineKeys):
        raise TimelineKeyError("this database session carries no timeline keys")
    return keys


def canonical(event: TimelineEvent | dict[str, Any]) -> str:
    """The exact bytes that are hashed: sorted keys, no spaces, UTC ISO times."""
    if isinstance(event, TimelineEvent):
        at = event.at
        body = {
            "incident_id": event.incident_id,
            "seq": event.seq,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": event.actor,
            "kind": event.kind,
            "summary": event.summary,
            "data": event.data,
        }
    else:
        body = event
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, event: TimelineEvent | dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 under `key` of the previous hash followed by the event's canonical bytes."""
    message = (prev_hash + canonical(event)).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


# Events written before the chain was keyed (migration 0002) carry no key id and were hashed with
# plain SHA-256. They still verify that way: a record kept from before the upgrade stays whole, and
# anyone able to rewrite it could have done so before the upgrade too. New events are always keyed.
LEGACY_KEY_ID = ""


def legacy_hash(prev_hash: str, event: TimelineEvent) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode("utf-8")).hexdigest()


async def lock_incident(db: AsyncSession, incident_id: int) -> Incident:
    """Row-lock the incident: appends to one chain are serialised (SQLite's BEGIN IMMEDIATE already is)."""
    result = await db.execute(select(Incident).where(Incident.id == incident_id).with_for_update())
    return result.scalar_one()


async def append(
    db: AsyncSession,
    incident_id: int,
    *,
    actor: str,
    kind: str,
    summary: str,
    data: dict[str, Any] | None = None,
    at: datetime,
    announce: bool = False,
) -> TimelineEvent:
    """Append one event. Call inside the transaction that makes the change the event records.

    The same transaction writes the effects the change implies (storage/outbox.py): a re-render of
    the incident's views, and with ``announce`` the channel's line about this event.
    """
    keys = keys_of(db)
    incident = await lock_incident(db, incident_id)
    last = (
        await db.execute(
            select(TimelineEvent.seq, TimelineEvent.hash)
            .where(TimelineEvent.incident_id == incident_id)
            .order_by(col(TimelineEvent.seq).desc())
            .limit(1)
        )
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    # Round-trip the data through JSON now so the hash covers exactly what the database keeps.
    clean = json.loads(json.dumps(data or {}, default=str, ensure_ascii=False))
    event = TimelineEvent(
        incident_id=incident_id,
        seq=seq,
        at=at.astimezone(UTC),
        actor=actor,
        kind=kind,
        summary=summary,
        data=clean,
        prev_hash=prev,
        hash="",
        key_id=keys.current_id,
    )
    event.hash = chain_hash(prev, event, keys.current)
    db.add(event)
    incident.timeline_seq, incident.timeline_head = seq, event.hash
    await db.flush()
    await outbox.views_changed(db, incident_id, at)
    if announce:
        assert event.id is not None
        await outbox.announce(db, incident_id, event.id, at)
    return event


@dataclass(frozen=True)
class Verification:
    ok: bool
    count: int
    head: str
    first_bad_seq: int | None = None
    reason: str | None = None


async def verify(db: AsyncSession, incident_id: int) -> Verification:
    """Recompute the chain. A changed, removed or inserted event breaks it at the first bad seq."""
    rows = (
        await db.execute(
            select(TimelineEvent)
            .where(TimelineEvent.incident_id == incident_id)
            .order_by(col(TimelineEvent.seq))
        )
    ).scalars()
    incident = (await db.execute(select(Incident).where(Incident.id == incident_id))).scalar_one_or_none()
    return verify_rows(rows, keys_of(db), incident)


def verify_rows(
    rows: Iterable[TimelineEvent], keys: TimelineKeys, incident: Incident | None = None
) -> Verification:
    """Recompute the chain over one incident's events, all of them, in seq order (as `events` returns
    them): a caller that already loaded the timeline need not read it a second time.

    With the incident, its recorded head is checked too: removing the newest events leaves a
    chain that is valid in itself, but shorter than the one the incident row says it has.
    """
    prev = GENESIS
    count = 0
    for expected_seq, event in enumerate(rows, start=1):
        count += 1
        if event.seq != expected_seq:
            return Verification(False, count, prev, expected_seq, "missing")
        if event.prev_hash != prev:
            return Verification(False, count, prev, event.seq, "prev_hash")
        if event.key_id == LEGACY_KEY_ID:
            expected = legacy_hash(prev, event)
        else:
            key = keys.keys.get(event.key_id)
            if key is None:
                return Verification(False, count, prev, event.seq, "unknown_key")
            expected = chain_hash(prev, event, key)
        if not hmac.compare_digest(expected.encode(), event.hash.encode()):
            return Verification(False, count, prev, event.seq, "hash")
        prev = event.hash
    if incident is not None and (
        incident.timeline_seq != count or (count and incident.timeline_head != prev)
    ):
        return Verification(False, count, prev, count + 1, "truncated")
    return Verification(True, count, prev)


async def events(
    db: AsyncSession,
    incident_id: int,
    *,
    kinds: set[str] | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[TimelineEvent]:
    stmt = select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
    if kinds:
        stmt = stmt.where(col(TimelineEvent.kind).in_(sorted(kinds)))
    seq = col(TimelineEvent.seq)
    stmt = stmt.order_by(seq.desc() if newest_first else seq)
    if limit:
        stmt = stmt.limit(limit)
    return list((await db.execute(stmt)).scalars())


@dataclass(frozen=True)
class PostedHead:
    """A chain head the bot posted outside the database (in the incident's Slack channel)."""

    seq: int
    head: str
    posted_at: datetime


@dataclass(frozen=True)
class HeadMismatch:
    """A posted head the database no longer agrees with; `found` is None when the event is gone."""

    posted: PostedHead
    found: str | None


async def hashes_at(db: AsyncSession, incident_id: int, seqs: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(seqs))
    if not wanted:
        return {}
    rows = await db.execute(
        select(TimelineEvent.seq, TimelineEvent.hash).where(
            TimelineEvent.incident_id == incident_id, col(TimelineEvent.seq).in_(wanted)
        )
    )
    return {seq: digest for seq, digest in rows.all()}


def check_heads(hashes: dict[int, str], heads: Iterable[PostedHead]) -> list[HeadMismatch]:
    """Every posted head whose event the database lost or holds with another hash, oldest first.

    A chain rebuilt after an edit, or cut short and its head moved back, verifies in itself; the
    heads already posted are what it can no longer match.
    """
    out = [
        HeadMismatch(head, hashes.get(head.seq))
        for head in sorted(heads, key=lambda h: (h.seq, h.posted_at))
        if hashes.get(head.seq) != head.head
    ]
    return out
