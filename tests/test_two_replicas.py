"""Two `breachroom serve` processes on one PostgreSQL database, Slack's requests spread across them:
one click is one change, every declaration gets its own key and channel, and each reminder is
sent exactly once whichever replica wakes up first."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from incident.config import load_config
from sandbox.server import Sandbox
from storage.models import Incident, Reminder, TimelineEvent
from tests.harness import watch_processes
from tests.test_fault_restart import DAY, reminder_posts, start_serve, stop, until, workspace
from tests.test_fault_slack import assert_views_match_db, checklist_message

# Real `breachroom` processes: run after the parallel part of the suite (Makefile), not beside it.
pytestmark = pytest.mark.processes

ISOLATE = "Isolate affected systems"
PEOPLE = ["alice", "bob", "carol", "grace"]


@asynccontextmanager
async def round_robin(
    sb: Sandbox, targets: list[str], served: list[tuple[str, bytes]] | None = None
) -> AsyncIterator[None]:
    """Point the workspace at a proxy that hands each request to the next replica in turn.
    `targets` is read at each request: a caller may swap a replica out and a new one in;
    `served` gets each request's replica and body, in the order they came."""
    turn = itertools.count()
    session = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            k: v for k, v in request.headers.items() if k.lower().startswith(("x-slack", "content-type"))
        }
        target = targets[next(turn) % len(targets)]
        if served is not None:
            served.append((target, body))
        async with session.post(target, data=body, headers=headers) as resp:
            return web.Response(status=resp.status, body=await resp.read(), content_type=resp.content_type)

    app = web.Application()
    app.router.add_post("/slack/events", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sb.bot_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    try:
        yield
    finally:
        await runner.cleanup()
        await session.close()


async def declare_concurrently(sb: Sandbox, due_in: float) -> None:
    """Everyone opens the form at once, then everyone submits at once."""
    people = [sb.person(p) for p in PEOPLE]
    await asyncio.gather(
        *(p.command(f"declare Leak seen by {p.user.name}", channel="C0GENERAL1") for p in people)
    )

    async def all_open() -> bool:
        return all(p.ws.top_modal(p.id) is not None for p in people)

    await until(all_open, "every declare form")
    fields = {
        "Severity": "SEV2",
        "Data categories": ["payroll"],
        "Jurisdictions": ["China"],
        "Our role for this data": "Controller (we decide why the data is processed)",
        "Discovered at": int(time.time() - DAY + due_in),
    }
    deliveries = await asyncio.gather(*(p.submit(fields) for p in people))
    assert all(d.status == 200 and not d.errors for d in deliveries), [d.errors for d in deliveries]


@pytest.mark.pg_only
async def test_two_replicas_share_the_work_without_doubling_it(db_url: str, tmp_path: Path) -> None:
    config = load_config(None, None, None)
    async with workspace(db_url) as (sb, database):
        one = await start_serve(sb, db_url, tmp_path / "one.log")
        two = await start_serve(sb, db_url, tmp_path / "two.log")
        try:
            async with round_robin(sb, [one.url, two.url]):
                await declare_concurrently(sb, due_in=15)

                async def all_set_up() -> list[Incident]:
                    async with database.session() as db:
                        found = list((await db.execute(select(Incident).order_by(Incident.id))).scalars())
                    ready = [i for i in found if (i.setup or {}).get("role_dms")]
                    return found if len(ready) == len(PEOPLE) == len(found) else []

                incidents = await until(all_set_up, "every incident to be set up", timeout=40)
                assert len({i.key for i in incidents}) == len(PEOPLE)
                assert len({i.channel_id for i in incidents}) == len(PEOPLE)
                assert {i.declared_by for i in incidents} == {sb.person(p).id for p in PEOPLE}

                # The same item, clicked six times at once, across both replicas.
                first = incidents[0]
                assert first.id is not None and first.channel_id
                respond = checklist_message(sb, first.channel_id, "Respond")  # type: ignore[arg-type]
                heidi = sb.person("heidi")
                clicks = await asyncio.gather(*(heidi.click(respond, "Done", near=ISOLATE) for _ in range(6)))
                assert all(c.status == 200 for c in clicks)

                async def done_events() -> list[TimelineEvent]:
                    async with database.session() as db:
                        stmt = select(TimelineEvent).where(
                            TimelineEvent.incident_id == first.id, TimelineEvent.kind == "item_done"
                        )
                        return list((await db.execute(stmt)).scalars())

                await until(done_events, "the click")

                # Each incident's clock falls due: its reminders go out once across both replicas.
                async def all_sent() -> list[Reminder]:
                    async with database.session() as db:
                        rows = list(
                            (await db.execute(select(Reminder).where(Reminder.kind == "clock"))).scalars()
                        )
                    return rows if rows and all(r.status == "sent" for r in rows) else []

                sent = await until(all_sent, "every clock reminder", timeout=45)
                # Each incident owes the same reminders (its clocks, to the channel, the commander,
                # legal and compliance), each row once: the replicas neither lost nor doubled any.
                owed = {
                    i.id: sorted(
                        (r.ref, r.due_at, "#" if r.target == i.channel_id else r.target)
                        for r in sent
                        if r.incident_id == i.id
                    )
                    for i in incidents
                }
                assert len({tuple(rows) for rows in owed.values()}) == 1 and owed[first.id]
                roles = {sb.person(p).id for p in ("heidi", "dave", "erin")}
                assert {target for _, _, target in owed[first.id]} == {"#", *roles}
                await until(
                    lambda: _views_match(sb, database, config, first.id),  # type: ignore[arg-type]
                    "the first incident's views to match the database",
                    timeout=15,
                )
                # Whatever a replica was going to send has been sent before anything is counted.
                watch_processes(sb, database)
                await sb.settle(timeout=30)
        finally:
            await stop(one)
            await stop(two)

        assert len(await done_events()) == 1
        posts = reminder_posts(sb)
        assert posts == Counter({f"reminder_{r.id}": 1 for r in sent})
        async with database.session() as db:
            events = list(
                (
                    await db.execute(select(TimelineEvent).where(TimelineEvent.kind == "reminder_sent"))
                ).scalars()
            )
        assert Counter(e.data["reminder_id"] for e in events) == Counter({r.id: 1 for r in sent})
        assert not sb.violations


async def _views_match(sb: Sandbox, database: object, config: object, incident_id: int) -> bool:
    await assert_views_match_db(sb, database, config, incident_id)  # type: ignore[arg-type]
    return True
