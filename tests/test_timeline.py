"""The hash-chained timeline: appends chain, verification catches edits, deletions and insertions."""

from __future__ import annotations

import asyncio
import itertools
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
        ev.hash = timeline.chain_hash(ev.prev_hash, ev)
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
