"""The hash-chained timeline: appends chain, verification catches edits, deletions and insertions."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from storage import timeline
from storage.db import Database
from storage.models import Incident, TimelineEvent

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


async def make_incident(db: Database, key: str = "BR-2026-0001") -> int:
    async with db.transaction() as s:
        incident = Incident(
            key=key,
            year=2026,
            number=int(key[-4:]),
            title="Payroll export leaked",
            severity="SEV2",
            declared_by="UALICE001",
            declared_at=T0,
        )
        s.add(incident)
        await s.flush()
        assert incident.id is not None
        return incident.id


async def append_n(db: Database, incident_id: int, n: int) -> None:
    for i in range(n):
        async with db.transaction() as s:
            await timeline.append(
                s,
                incident_id,
                actor="UALICE001",
                kind="note",
                summary=f"note {i} 数据",
                data={"i": i, "nested": {"b": 1, "a": [1, 2]}},
                at=T0 + timedelta(seconds=i),
            )


async def test_appended_events_chain_and_verify(db: Database) -> None:
    incident_id = await make_incident(db)
    await append_n(db, incident_id, 5)
    async with db.session() as s:
        result = await timeline.verify(s, incident_id)
        events = await timeline.events(s, incident_id)
    assert result.ok and result.count == 5
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == timeline.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert result.head == events[-1].hash
    assert events[2].at == T0 + timedelta(seconds=2) and events[2].at.tzinfo is not None


@pytest.mark.parametrize("tamper", ["summary", "data", "actor", "at"])
async def test_an_edited_event_fails_verification_naming_its_seq(db: Database, tamper: str) -> None:
    incident_id = await make_incident(db)
    await append_n(db, incident_id, 6)
    values = {
        "summary": {"summary": "nothing happened"},
        "data": {"data": {"i": 99}},
        "actor": {"actor": "UMALLORY1"},
        "at": {"at": T0 + timedelta(days=1)},
    }[tamper]
    async with db.transaction() as s:
        await s.execute(
            update(TimelineEvent)
            .where(TimelineEvent.incident_id == incident_id, TimelineEvent.seq == 4)
            .values(**values)
        )
    async with db.session() as s:
        result = await timeline.verify(s, incident_id)
    assert not result.ok
    assert result.first_bad_seq == 4


async def test_a_deleted_event_fails_verification(db: Database) -> None:
    incident_id = await make_incident(db)
    await append_n(db, incident_id, 5)
    async with db.transaction() as s:
        await s.execute(delete(TimelineEvent).where(TimelineEvent.seq == 2))
    async with db.session() as s:
        result = await timeline.verify(s, incident_id)
    assert not result.ok and result.first_bad_seq == 2


async def test_rehashing_an_edited_event_still_breaks_the_next_link(db: Database) -> None:
    incident_id = await make_incident(db)
    await append_n(db, incident_id, 4)
    async with db.transaction() as s:
        ev = (await s.execute(select(TimelineEvent).where(TimelineEvent.seq == 2))).scalar_one()
        ev.summary = "rewritten"
        assert db.timeline_keys is not None
        ev.hash = timeline.chain_hash(ev.prev_hash, ev, db.timeline_keys.current)
    async with db.session() as s:
        result = await timeline.verify(s, incident_id)
    assert not result.ok and result.first_bad_seq == 3


async def test_an_event_rolled_back_with_its_change_leaves_no_trace(db: Database) -> None:
    incident_id = await make_incident(db)
    with pytest.raises(RuntimeError):
        async with db.transaction() as s:
            await timeline.append(s, incident_id, actor="UALICE001", kind="note", summary="x", at=T0)
            raise RuntimeError("the change failed")
    async with db.session() as s:
        assert await timeline.events(s, incident_id) == []


async def test_chains_are_per_incident(db: Database) -> None:
    a = await make_incident(db, "BR-2026-0001")
    b = await make_incident(db, "BR-2026-0002")
    await append_n(db, a, 2)
    await append_n(db, b, 3)
    async with db.session() as s:
        assert (await timeline.verify(s, a)).count == 2
        assert (await timeline.verify(s, b)).count == 3


@pytest.mark.pg_only
async def test_concurrent_appends_serialise_into_one_chain(db: Database) -> None:
    incident_id = await make_incident(db)

    async def one(i: int) -> None:
        async with db.transaction() as s:
            await timeline.append(s, incident_id, actor=f"U{i:08d}", kind="note", summary=str(i), at=T0)

    await asyncio.gather(*(one(i) for i in range(20)))
    async with db.session() as s:
        result = await timeline.verify(s, incident_id)
    assert result.ok and result.count == 20


async def test_removing_the_newest_events_is_caught(db: Database) -> None:
    incident_id = await make_incident(db)
    await append_n(db, incident_id, 5)
    async with db.transaction() as s:
        await s.execute(
            delete(TimelineEvent).where(TimelineEvent.incident_id == incident_id, TimelineEvent.seq >= 4)
        )
    async with db.session() as s:
        result = await timeline.verify(s, incident_id)
    # What is left is a valid chain in itself; the incident's recorded head says it is short.
    assert not result.ok and result.first_bad_seq == 4 and result.reason == "truncated"


async def forge(db: Database, incident_id: int, sign: Callable[[str, TimelineEvent], str]) -> None:
    """What someone who can write the database does: edit an event, rebuild every hash after it
    with `sign`, and move the incident's recorded head to match."""
    async with db.transaction() as s:
        rows = list(
            (
                await s.execute(
                    select(TimelineEvent)
                    .where(TimelineEvent.incident_id == incident_id)
                    .order_by(TimelineEvent.seq)
                )
            ).scalars()
        )
        rows[1].summary = "nothing happened"
        prev = timeline.GENESIS
        for row in rows:
            row.prev_hash = prev
            row.hash = prev = sign(prev, row)
        incident = await s.get(Incident, incident_id)
        assert incident is not None
        incident.timeline_head = prev


def plain_sha256(prev: str, event: TimelineEvent) -> str:
    return hashlib.sha256((prev + timeline.canonical(event)).encode("utf-8")).hexdigest()


def wrong_key(prev: str, event: TimelineEvent) -> str:
    return timeline.chain_hash(prev, event, b"a key the bot never had, 0123456789")


@pytest.mark.parametrize("sign", [plain_sha256, wrong_key], ids=["plain-sha256", "wrong-key"])
async def test_a_chain_rebuilt_without_the_key_fails(
    db: Database, sign: Callable[[str, TimelineEvent], str]
) -> None:
    incident_id = await make_incident(db)
    await append_n(db, incident_id, 4)
    await forge(db, incident_id, sign)
    async with db.session() as s:
        result = await timeline.verify(s, incident_id)
    # The very first event already fails: its hash was not made with the bot's key.
    assert not result.ok and result.first_bad_seq == 1 and result.reason == "hash"


async def test_the_same_rebuild_with_the_key_would_pass(db: Database) -> None:
    """The forgery tests fail for the key alone: rebuilt with the bot's key, the edit goes through."""
    incident_id = await make_incident(db)
    await append_n(db, incident_id, 4)
    keys = db.timeline_keys
    assert keys is not None
    await forge(db, incident_id, lambda prev, ev: timeline.chain_hash(prev, ev, keys.current))
    async with db.session() as s:
        assert (await timeline.verify(s, incident_id)).ok


async def test_events_name_their_key_and_old_keys_keep_verifying_after_rotation(db: Database) -> None:
    incident_id = await make_incident(db)
    await append_n(db, incident_id, 2)
    old = db.timeline_keys
    assert old is not None
    db.timeline_keys = timeline.TimelineKeys(
        "2027-01", {**old.keys, "2027-01": b"the next timeline key, rotated in 2027"}
    )
    await append_n(db, incident_id, 2)
    async with db.session() as s:
        events = await timeline.events(s, incident_id)
        assert (await timeline.verify(s, incident_id)).ok
    assert [e.key_id for e in events] == [old.current_id] * 2 + ["2027-01"] * 2
    # Dropping the old key from the ring while its events remain is caught, naming the first one.
    db.timeline_keys = timeline.TimelineKeys("2027-01", {"2027-01": db.timeline_keys.keys["2027-01"]})
    async with db.session() as s:
        result = await timeline.verify(s, incident_id)
    assert not result.ok and result.first_bad_seq == 1 and result.reason == "unknown_key"


async def test_a_database_without_keys_refuses_to_append(db_url: str) -> None:
    bare = Database(db_url)
    try:
        incident_id = await make_incident(bare)
        with pytest.raises(timeline.TimelineKeyError):
            async with bare.transaction() as s:
                await timeline.append(s, incident_id, actor="UALICE001", kind="note", summary="x", at=T0)
        async with bare.session() as s:
            assert await timeline.events(s, incident_id) == []
    finally:
        await bare.dispose()
