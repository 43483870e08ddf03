"""Benchmark 4: reminder storm — 1,000 reminders due at once across 50 incidents, with the sandbox
enforcing Slack's rate limits.

50 incidents are declared through the domain (`incident.declare.declare`; the bot's delivery
engine runs the set-up effect each wrote: channels, cards and checklists against the sandbox).
Then the sandbox starts enforcing Slack's limits (`chat.postMessage` about one message a second per
channel with a burst of 3, the per-method tiers for everything else, 429 with Retry-After), and
1,000 one-off reminder rows fall due in the same minute (by default all at the same second, the
worst case): four in five to the incidents' channels, one in five to the responders' DMs (a DM is
a channel of its own for the limit). The bot's own scheduler (`Runtime.reminders`: wake-up,
claim, send, mark sent, back off on failure) delivers them with nobody calling it.

Per reminder, lateness is the moment its message reached Slack (the sandbox's record of the
successful `chat.postMessage`, identified by the reminder id in its blocks) minus its due time.
A reminder is lost if no message carries it, and sent twice if more than one does; both must be 0.

    python -m bench.reminder_storm [--count 1000] [--incidents 50] [--dm-share 0.2] [--spread 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bench.databases import postgres_available, scratch
from bench.load import table
from bot.embedded import embedded
from handlers.declare import default_holders
from incident import reminders
from incident.declare import DeclareInput, declare
from incident.overview import pending_setup
from sandbox.server import Sandbox
from storage.migrate import upgrade
from storage.models import Incident, Reminder, TimelineEvent

PEOPLE = ("heidi", "ivan", "bob", "carol", "dave", "erin", "frank", "grace", "judy", "alice")
BURST = 3  # the sandbox's chat.postMessage bucket per channel (refilled at one a second)


@dataclass
class Storm:
    count: int
    incidents: int
    targets: int
    late: list[float]
    lost: int
    twice: int
    unsent_rows: int
    unlogged: int
    rate_limited: int
    rate_limited_post: int
    failed_sends: int
    drain: float
    floor: float
    setup: float


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def reminder_ids_in(params: dict[str, Any]) -> list[int]:
    """The reminder ids a chat.postMessage carried (its actions block is `reminder_<id>`)."""
    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except json.JSONDecodeError:
            return []
    out = []
    for block in blocks if isinstance(blocks, list) else []:
        block_id = str(block.get("block_id") or "") if isinstance(block, dict) else ""
        if block_id.startswith("reminder_") and block_id[9:].isdigit():
            out.append(int(block_id[9:]))
    return out


def drain_floor(per_target: Counter[str], spread: float) -> float:
    """The least time Slack's per-channel limit allows to deliver everything: the busiest channel
    sends BURST at once, then one a second (a spread gives the bucket time to refill)."""
    busiest = max(per_target.values(), default=0)
    return max(0.0, busiest - BURST, spread)


async def declare_incidents(env: Any, count: int) -> list[Incident]:
    rt = env.rt
    holders = await default_holders(rt.client, rt.deps)
    out = []
    for i in range(count):
        result = await declare(
            rt.db,
            rt.deps.config,
            DeclareInput(
                title=f"Reminder storm incident {i}",
                severity="SEV3",
                data_categories=["contact"],
                people_affected=12,
            ),
            actor=env.sb.person("alice").id,
            now=rt.clock.now(),
            locale="en",
            holders=holders,
        )
        assert result.incident.id is not None
        out.append(result.incident)
        # The declare wrote its set-up effect; the bot's engine builds the channel. Calling
        # ensure_setup here as well would race it (its re-renders then fail with setup_running).
        await rt.idle(timeout=60)
    await rt.deps.reminders_changed()
    await rt.idle(timeout=60)
    async with rt.db.session() as s:
        rows = (await s.execute(select(Incident).where(col(Incident.id).in_([i.id for i in out])))).scalars()
        incidents = sorted(rows, key=lambda i: i.id or 0)
    unfinished = {i.key: pending_setup(i) for i in incidents if pending_setup(i)}
    assert not unfinished, f"set-up unfinished: {unfinished}"
    return incidents


async def measure(kind: str, args: argparse.Namespace) -> Storm:
    async with scratch(kind) as url:
        await asyncio.to_thread(upgrade, url)
        async with embedded(url) as env:
            sb: Sandbox = env.sb
            rt = env.rt
            started = time.perf_counter()
            incidents = await declare_incidents(env, args.incidents)
            setup = time.perf_counter() - started
            people = [sb.person(name).id for name in PEOPLE]

            # From here on Slack pushes back as it would.
            sb.rate_limiter.reset()
            sb.rate_limits_enabled = True
            mark = len(sb.calls())
            due_at = rt.clock.now() + timedelta(seconds=args.lead)
            due: dict[int, datetime] = {}
            per_target: Counter[str] = Counter()
            async with rt.db.transaction() as s:
                rows = []
                dms = posts = 0
                for i in range(args.count):
                    # Every 1/dm_share-th reminder goes to a DM, interleaved with the channel ones;
                    # both kinds go round the incidents (and the people) evenly.
                    to_dm = int((i + 1) * args.dm_share) > int(i * args.dm_share)
                    target: str | None
                    if to_dm:
                        incident, target = incidents[dms % len(incidents)], people[dms % len(people)]
                        dms += 1
                    else:
                        incident = incidents[posts % len(incidents)]
                        target = incident.channel_id
                        posts += 1
                    assert target
                    at = due_at + timedelta(seconds=args.spread * i / max(args.count - 1, 1))
                    if to_dm:
                        # A one-off row (no dedupe key): `sync` leaves it alone.
                        kind, ref, payload = reminders.ROLE, "scribe", {"role": "scribe", "bench": True}
                    else:
                        kind, ref, payload = reminders.STATUS, "storm", {"every_s": 3600, "bench": True}
                    rows.append(
                        Reminder(
                            incident_id=incident.id,
                            kind=kind,
                            ref=ref,
                            target=target,
                            due_at=at,
                            payload=payload,
                        )
                    )
                    per_target[target] += 1
                s.add_all(rows)
                await s.flush()
                for row in rows:
                    assert row.id is not None
                    due[row.id] = row.due_at
            await rt.deps.reminders_changed()  # what any feature does after adding rows

            deadline = time.monotonic() + args.lead + args.spread + args.timeout
            unsent = len(due)
            while time.monotonic() < deadline:
                await asyncio.sleep(1.0)
                async with rt.db.session() as s:
                    statuses = list(
                        (
                            await s.execute(select(Reminder.status).where(col(Reminder.id).in_(list(due))))
                        ).scalars()
                    )
                unsent = sum(1 for status in statuses if status != reminders.SENT)
                if unsent == 0:
                    break
            await rt.idle(timeout=30)
            calls = sb.calls()[mark:]
            async with rt.db.session() as s:
                logged = Counter(
                    int((data or {}).get("reminder_id") or 0)
                    for data in (
                        await s.execute(
                            select(TimelineEvent.data).where(TimelineEvent.kind == "reminder_sent")
                        )
                    ).scalars()
                )

    arrived: dict[int, list[float]] = {}
    for call in calls:
        if call.method == "chat.postMessage" and call.ok:
            for rid in reminder_ids_in(call.params):
                if rid in due:
                    arrived.setdefault(rid, []).append(call.at)
    first_due = min(due.values()).timestamp()
    late = [min(times) - due[rid].timestamp() for rid, times in arrived.items()]
    last_arrival = max((max(t) for t in arrived.values()), default=first_due)
    return Storm(
        count=len(due),
        incidents=len(incidents),
        targets=len(per_target),
        late=late,
        lost=sum(1 for rid in due if rid not in arrived),
        twice=sum(1 for rid in due if len(arrived.get(rid, [])) > 1 or logged[rid] > 1),
        unsent_rows=unsent,
        unlogged=sum(1 for rid in due if logged[rid] == 0),
        rate_limited=sum(1 for c in calls if c.status == 429),
        rate_limited_post=sum(1 for c in calls if c.status == 429 and c.method == "chat.postMessage"),
        failed_sends=sum(1 for c in calls if c.method == "chat.postMessage" and not c.ok and c.status != 429),
        drain=last_arrival - first_due,
        floor=drain_floor(per_target, args.spread),
        setup=setup,
    )


async def main(args: argparse.Namespace) -> None:
    kinds = ["sqlite"] + (["postgresql"] if await postgres_available() else [])
    rows = []
    notes = []
    for kind in kinds:
        r = await measure(kind, args)
        rate = r.count / r.drain if r.drain > 0 else 0.0
        if r.drain > r.floor * 1.5:
            limit = f"limited by the bot's own pace ({rate:.0f} msg/s), not by Slack"
        elif r.rate_limited:
            limit = f"close to Slack's per-channel limit, which pushed back {r.rate_limited} times"
        else:
            limit = (
                f"close to Slack's per-channel limit, and the bot's own pace ({rate:.0f} msg/s) "
                "kept every channel under it (no 429)"
            )
        notes.append(
            f"- {kind}: drained in {r.drain:.1f} s against a floor of {r.floor:.0f} s: {limit}; "
            f"{r.unsent_rows} rows not marked sent, {r.unlogged} without a `reminder_sent` event, "
            f"{r.failed_sends} failed sends other than 429"
        )
        rows.append(
            [
                kind,
                str(r.count),
                str(len(r.late)),
                str(r.lost),
                str(r.twice),
                f"{pct(r.late, 50):.1f}" if r.late else "—",
                f"{pct(r.late, 99):.1f}" if r.late else "—",
                f"{max(r.late):.1f}" if r.late else "—",
                f"{r.rate_limited} ({r.rate_limited_post})",
                f"{r.drain:.1f}",
                f"{r.floor:.0f}",
                f"{r.count / r.drain:.1f}" if r.drain > 0 else "—",
            ]
        )
    spread = "all at the same second" if args.spread == 0 else f"spread over {args.spread:.0f} s"
    print(
        f"\nReminder storm ({args.count} reminders due {spread}, {args.incidents} incidents, "
        f"{args.dm_share:.0%} to DMs; the bot's own scheduler against the sandbox with Slack's rate limits)"
    )
    print(
        table(
            [
                "database",
                "reminders",
                "sent",
                "lost",
                "sent twice",
                "late p50 s",
                "late p99 s",
                "late max s",
                "429s (postMessage)",
                "drain s",
                "Slack floor s",
                "msg/s",
            ],
            rows,
        )
    )
    print(
        "Slack floor: the busiest channel's messages at ~1/s after a burst of 3 (DMs are one channel "
        "per person). Lost: no message carried it; sent twice: two messages or two `reminder_sent` "
        "events; both must be 0."
    )
    print("\n".join(notes))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--incidents", type=int, default=50)
    parser.add_argument("--dm-share", type=float, default=0.2, help="share of reminders sent to DMs")
    parser.add_argument("--spread", type=float, default=0.0, help="seconds over which they fall due")
    parser.add_argument("--lead", type=float, default=5.0, help="seconds before the first is due")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="give up this long after the last is due"
    )
    asyncio.run(main(parser.parse_args()))
