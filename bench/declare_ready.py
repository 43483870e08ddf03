"""Benchmark 2: declare to ready — from submitting the modal until the private channel exists, the
team is invited, the card is posted and pinned, the checklists are out and the announcement is made.

    python -m bench.declare_ready [--count 30]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.databases import postgres_available, scratch
from bench.load import ms, table
from bot.embedded import embedded
from incident.overview import pending_setup
from storage.migrate import upgrade
from storage.models import Incident


async def measure(kind: str, count: int) -> list[float]:
    async with scratch(kind) as url:
        await asyncio.to_thread(upgrade, url)
        async with embedded(url) as env:
            alice = env.sb.person("alice")
            times: list[float] = []
            for i in range(count):
                await alice.command(f"declare Benchmark incident {i}")
                await env.sb.settle()
                started = time.perf_counter()
                await alice.submit({"Severity": "SEV2"})
                await env.rt.idle(timeout=60)
                times.append(time.perf_counter() - started)
                async with env.rt.db.session() as s:
                    incident = await s.get(Incident, i + 1)
                    assert incident is not None and not pending_setup(incident), "set-up did not finish"
            return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def main(args: argparse.Namespace) -> None:
    kinds = ["sqlite"] + (["postgresql"] if await postgres_available() else [])
    rows = []
    for kind in kinds:
        times = await measure(kind, args.count)
        rows.append([kind, str(len(times)), ms(pct(times, 50)), ms(pct(times, 99)), ms(max(times))])
    print(
        f"\nDeclare to ready ({args.count} declarations each; channel, invites, topic, card, pin, "
        "checklists, announcement, role DMs, against the sandbox)"
    )
    print(table(["database", "declarations", "p50 ms", "p99 ms", "max ms"], rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=30)
    asyncio.run(main(parser.parse_args()))
