"""Benchmark: cost flat in the firm's history — declare, a Done click and `/breach list` with a
small history and with a large one (by default 1 open incident and none closed, 1 open and 5,000
closed, 500 open and 5,000 closed).

The history is seeded straight into a fresh database before the bot starts: one incident declared
through the domain (`incident.declare.declare`) and one declared and closed
(`incident.lifecycle.close`), then each copied in bulk with all its rows (roles, checklist,
timeline, records) — about 0.4 s an incident through the domain here, so 5,500 would take over half
an hour. The effects their transactions wrote (build the channel, re-render, publish the
post-mortem) are marked delivered, as they would have been long ago. Each open incident then gets
a private channel in the sandbox workspace with its responders in it, so the gate and `list` meet
real channels. Then the bot starts (embedded, with its delivery worker: its start-up sweep
re-derives every open incident's reminders) and, one at a time through the front door:

- declare: submit the declare form, until the bot is idle (channel, card, checklists, announcement);
- click: a Done click on an open item of the incident just declared, until the sandbox's checklist
  message shows it done;
- list: `/breach list` by the commander, until its answer has reached the sandbox.

The figure is the median of `--repeat` of each; the target: the large history within 20 % of the
small one.

    python -m bench.history_cost [--points 1:0,1:5000,500:5000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    cast,
    func,
    insert,
    literal,
    null,
    select,
    text,
    update,
)
from sqlmodel import col

from bench.click_render import shows_done
from bench.databases import postgres_available, scratch
from bench.load import ms, table, verdict
from bench.postmortem_scaling import HOLDERS
from bench.sandbox_proc import done_buttons, until
from bot.embedded import SANDBOX_ROLES, embedded
from bot.settings import load_settings
from incident import lifecycle
from incident.config import IncidentConfig, load_config
from incident.declare import DeclareInput, declare
from incident.overview import SETUP_STEPS
from sandbox.server import DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET
from sandbox.workspace import Channel
from storage import outbox
from storage.db import Database
from storage.migrate import upgrade
from storage.models import (
    ActionItem,
    ChecklistItem,
    Decision,
    Effect,
    Evidence,
    Incident,
    Notification,
    RoleAssignment,
    TimelineEvent,
)
from storage.sql import table_of

TARGET_GROWTH = 0.20
COMMANDER = HOLDERS["incident_commander"]
OPS = ("declare", "click", "list")
# The rows that make an incident's history (reminders are re-derived by the bot; effects were done).
COPIED = (RoleAssignment, ChecklistItem, TimelineEvent, Notification, Decision, Evidence, ActionItem)
SERIES = Table("bench_copy", MetaData(), Column("k", Integer), prefixes=["TEMPORARY"])


async def seed(url: str, config: IncidentConfig, open_count: int, closed_count: int) -> list[int]:
    """The history: one incident declared (and one declared and closed) through the domain, then
    copied row for row in bulk (the incident with its roles, checklist, timeline and records) to
    make up the counts; the open incidents' ids."""
    settings = load_settings(
        slack_bot_token=DEFAULT_BOT_TOKEN, slack_signing_secret=DEFAULT_SIGNING_SECRET, database_url=url
    )
    db = Database(url, timeline_keys=settings.timeline_keys())
    now = datetime.now(UTC)
    try:
        open_ids: list[int] = []
        if closed_count:
            closed = await template(db, config, now - timedelta(days=365 * 3), close=True)
            await copies(db, closed, closed_count - 1, tag="C")
        if open_count:
            # Declared minutes ago: nothing of theirs falls due while the benchmark runs.
            first = await template(db, config, now - timedelta(minutes=10), close=False)
            open_ids = [first, *await copies(db, first, open_count - 1, tag="O")]
        async with db.transaction() as s:
            # What their transactions asked for (a channel, a render, a post-mortem) was done long ago;
            # an incident whose set-up looks unfinished would be set up again when the bot starts.
            await s.execute(update(Incident).values(setup={step: True for step in SETUP_STEPS}))
            await s.execute(
                update(Effect)
                .where(col(Effect.status) == outbox.PENDING)
                .values(status=outbox.DONE, done_at=now)
            )
        return open_ids
    finally:
        await db.dispose()


async def template(db: Database, config: IncidentConfig, at: datetime, *, close: bool) -> int:
    result = await declare(
        db,
        config,
        DeclareInput(title="History incident", severity="SEV3", data_categories=["contact"]),
        actor=COMMANDER,
        now=at,
        locale="en",
        holders=HOLDERS,
    )
    incident_id = result.incident.id
    assert incident_id is not None
    if close:
        await lifecycle.close(
            db,
            incident_id,
            lessons="Seeded for the history benchmark.",
            archive=False,
            actor=COMMANDER,
            now=at + timedelta(hours=2),
            roles=config.roles,
        )
    return incident_id


async def copies(db: Database, source: int, count: int, *, tag: str) -> list[int]:
    """`count` copies of incident `source` and its rows, in one statement per table; their ids."""
    if count <= 0:
        return []
    incident = table_of(Incident)
    async with db.engine.begin() as conn:
        first = (await conn.execute(select(func.max(incident.c.id)))).scalar_one() + 1
        await conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS bench_copy (k INTEGER)"))
        await conn.execute(text("DELETE FROM bench_copy"))
        await conn.execute(insert(SERIES), [{"k": k} for k in range(count)])
        new_id = literal(first) + SERIES.c.k
        number = literal(1_000_000 if tag == "C" else 2_000_000) + SERIES.c.k
        made = {
            "id": new_id,
            "key": literal(f"BR-H{tag}-") + cast(SERIES.c.k, String),
            "number": number,
            "declare_token": null(),
            "channel_id": null(),
        }
        cols = [c for c in incident.c]
        await conn.execute(
            insert(incident).from_select(
                [c.name for c in cols],
                select(*(made.get(c.name, c) for c in cols))
                .select_from(incident.join(SERIES, literal(True)))
                .where(incident.c.id == source),
            )
        )
        for model in COPIED:
            table = table_of(model)
            cols = [c for c in table.c if c.name != "id"]
            await conn.execute(
                insert(table).from_select(
                    [c.name for c in cols],
                    select(*(new_id if c.name == "incident_id" else c for c in cols))
                    .select_from(table.join(SERIES, literal(True)))
                    .where(table.c.incident_id == source),
                )
            )
        if db.is_postgres:
            await conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('incident', 'id'), (SELECT max(id) FROM incident))"
                )
            )
    return list(range(first, first + count))


async def give_channels(env: Any, open_ids: list[int]) -> None:
    """A private channel per seeded open incident, its responders in it (what set-up would build)."""
    ws = env.sb.workspace
    members = sorted({*HOLDERS.values(), ws.bot_user_id})
    async with env.rt.db.transaction() as s:
        for incident_id in open_ids:
            channel = Channel(
                id=ws.new_id("C"), name=f"br-history-{incident_id}", is_private=True, members=list(members)
            )
            ws.channels[channel.id] = channel
            await s.execute(
                update(Incident).where(col(Incident.id) == incident_id).values(channel_id=channel.id)
            )


async def observed(sb: Any, check: Callable[[], bool], timeout: float = 60.0) -> None:
    """Return as soon as `check` holds: tried after every Web API call the sandbox answers."""
    seen = asyncio.Event()

    def wake() -> None:
        if check():
            seen.set()

    sb.workspace.watchers.add(wake)
    try:
        wake()
        await asyncio.wait_for(seen.wait(), timeout)
    finally:
        sb.workspace.watchers.discard(wake)


def item_block(msg: Any, button: dict[str, Any]) -> int:
    item_id = button["value"].split(":")[0]
    return next(i for i, b in enumerate(msg.blocks) if b.get("block_id") == f"item_{item_id}")


async def one_round(env: Any, n: int) -> dict[str, float]:
    """Declare, click Done on the new incident's first item, list: each timed to its visible end."""
    sb, rt = env.sb, env.rt
    alice, heidi = sb.person("alice"), sb.person("heidi")
    known = set(sb.workspace.channels)
    await alice.command(f"declare History benchmark {n}")
    await until(lambda: _has_modal(alice))
    started = time.perf_counter()
    await alice.submit({"Severity": "SEV2"})
    await rt.idle(timeout=60)
    declared = time.perf_counter() - started

    channel = next(
        c for c in sb.workspace.channels.values() if c.id not in known and c.name.startswith("br-")
    )
    button = {**done_buttons(sb.channel(channel.id))[0], "channel": channel.id}
    msg = next(m for m in sb.channel(channel.id).bot_messages if m.ts == button["ts"])
    started = time.perf_counter()
    await heidi.act(msg, item_block(msg, button), 0)
    await observed(sb, lambda: shows_done(sb, button))
    clicked = time.perf_counter() - started
    await rt.idle(timeout=60)

    replies = len(sb.calls("response_url"))
    started = time.perf_counter()
    await heidi.command("list", channel=channel.id)
    await observed(sb, lambda: len(sb.calls("response_url")) > replies)
    listed = time.perf_counter() - started
    await rt.idle(timeout=60)
    return {"declare": declared, "click": clicked, "list": listed}


async def measure(kind: str, open_count: int, closed_count: int, repeat: int) -> dict[str, float]:
    config = load_config(SANDBOX_ROLES)
    async with scratch(kind) as url:
        await asyncio.to_thread(upgrade, url)
        seeded = time.perf_counter()
        open_ids = await seed(url, config, open_count - 1, closed_count)
        seeded = time.perf_counter() - seeded
        async with embedded(url) as env:
            await give_channels(env, open_ids)
            await env.rt.idle(timeout=120)
            rounds = [await one_round(env, n) for n in range(repeat + 1)][1:]  # the first warms up
    out = {op: statistics.median(r[op] for r in rounds) for op in OPS}
    out["seed"] = seeded
    return out


def _has_modal(person: Any) -> bool:
    try:
        person.modal()
        return True
    except LookupError:
        return False


def parse_points(text: str) -> list[tuple[int, int]]:
    """ "open:closed,…"; the measured incidents come on top (open counts the first of them)."""
    points = []
    for part in text.split(","):
        open_count, _, closed_count = part.partition(":")
        points.append((max(1, int(open_count)), int(closed_count or 0)))
    return points


async def main(args: argparse.Namespace) -> None:
    kinds = ["sqlite"] + (["postgresql"] if await postgres_available() else [])
    rows = []
    for kind in kinds:
        base: dict[str, float] | None = None
        for open_count, closed_count in args.points:
            got = await measure(kind, open_count, closed_count, args.repeat)
            base = base or got
            growth = {op: got[op] / base[op] - 1 for op in OPS}
            rows.append(
                [
                    kind,
                    f"{open_count:,} / {closed_count:,}",
                    f"{got['seed']:.0f}",
                    *(f"{ms(got[op])} ({growth[op]:+.0%})" for op in OPS),
                    verdict(all(g <= TARGET_GROWTH for g in growth.values())),
                ]
            )
    print(
        f"\nCost in the firm's history: median of {args.repeat} rounds of declare (to idle), a Done click "
        "(to the re-rendered checklist) and `list` (to its answer); change against the first history"
    )
    print(
        table(
            [
                "database",
                "open / closed incidents",
                "seed s",
                "declare ms",
                "click ms",
                "list ms",
                f"target: within {TARGET_GROWTH:.0%}",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=parse_points, default=parse_points("1:0,1:5000,500:5000"))
    parser.add_argument("--repeat", type=int, default=7)
    asyncio.run(main(parser.parse_args()))
