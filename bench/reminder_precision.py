"""Benchmark: reminder precision — how late a reminder fires after its due time, in real time.

200 reminders (default) fall due within one minute, spread over a few people's DMs; the bot's own
scheduler (APScheduler wake-up at the earliest due row, claim, send to the sandbox, mark sent) runs
them with nobody calling it. Lateness is `sent_at - due_at` as the bot recorded it. The target is
every reminder within 2 s of its due time under normal load.

    python -m bench.reminder_precision [--count 200] [--spread 60] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.embedded import embedded
from storage.migrate import upgrade
from storage.models import Incident, Reminder

PEOPLE = ("heidi", "ivan", "bob", "carol", "dave", "erin", "frank", "grace", "judy", "alice")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def measure(url: str, count: int, spread: float, lead: float) -> tuple[list[float], int]:
    await asyncio.to_thread(upgrade, url)
    async with embedded(url) as env:
        alice = env.sb.person("alice")
        await alice.command("declare Reminder precision benchmark")
        await env.sb.settle()
        await alice.submit({"Severity": "SEV4"})
        await env.rt.idle(timeout=60)
        async with env.rt.db.session() as s:
            incident = (await s.execute(select(Incident))).scalar_one()
        targets = [env.sb.person(name).id for name in PEOPLE]
        start = env.rt.clock.now() + timedelta(seconds=lead)
        async with env.rt.db.transaction() as s:
            for i in range(count):
                s.add(
                    Reminder(
                        incident_id=incident.id,
                        kind="role_unfilled",  # a one-off row (no dedupe key): sync leaves it alone
                        ref="scribe",
                        target=targets[i % len(targets)],
                        due_at=start + timedelta(seconds=spread * i / max(count - 1, 1)),
                        payload={"role": "scribe", "bench": True},
                    )
                )
        await env.rt.deps.reminders_changed()  # what any feature does after adding rows
        deadline = time.monotonic() + lead + spread + 20
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            async with env.rt.db.session() as s:
                rows = list(
                    (await s.execute(select(Reminder).where(Reminder.kind == "role_unfilled"))).scalars()
                )
            bench_rows = [r for r in rows if r.payload.get("bench")]
            if all(r.status == "sent" for r in bench_rows):
                break
        late = [(r.sent_at - r.due_at).total_seconds() for r in bench_rows if r.sent_at is not None]
        ids = {r.id for r in bench_rows if r.status != "sent"}
        return late, len(ids)


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        late, unsent = await measure(url, args.count, args.spread, args.lead)
    kind = url.split(":", 1)[0]
    within = sum(1 for x in late if x <= 2.0)
    print(
        f"\nReminder precision ({args.count} reminders due within {args.spread:.0f} s, real time, "
        f"the bot's own scheduler against the sandbox, {kind})"
    )
    headers = ["reminders", "sent", "unsent", "p50 s", "p95 s", "max s", "within 2 s"]
    row = [
        str(args.count),
        str(len(late)),
        str(unsent),
        f"{pct(late, 50):.3f}" if late else "—",
        f"{pct(late, 95):.3f}" if late else "—",
        f"{max(late):.3f}" if late else "—",
        f"{within}/{args.count}",
    ]
    widths = [max(len(h), len(c)) for h, c in zip(headers, row, strict=True)]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which they fall due")
    parser.add_argument("--lead", type=float, default=5.0, help="seconds before the first is due")
    parser.add_argument("--database-url", default=None, help="default: a scratch SQLite file")
    asyncio.run(main(parser.parse_args()))
