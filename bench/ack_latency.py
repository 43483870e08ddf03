"""Benchmark 1: ack latency and throughput of DB-backed reads (`/breach list`, `/breach status`)
and of checklist Done clicks.

Signed requests go to the real bot (`breachroom serve` with its delivery worker, in its own
process; the sandbox workspace in another) on SQLite and on PostgreSQL; the same harness drives a
bare Bolt AsyncApp with no-op listeners in the same run, so throughput is reported as a share of
the framework's own ceiling on this machine, and the bot's p99 next to bare Bolt's.

- Throughput: `--users` virtual users flat out, one request kind at a time. The Done clicks each
  land on a different open item (the first click: the item is completed, its timeline event and
  re-render written, and the engine re-renders while the next clicks arrive).
- Ack latency: an open loop at `--rate` req/s (as Slack sends, whatever the answers do) of `list`,
  `status` and Done clicks in turn, `--runs` times; the Done clicks of this mix land on an item
  already done (the double-click path: a re-render and a private note). p50/p95/p99 are given as
  the median of the runs and their spread (min–max).

    python -m bench.ack_latency [--rate 100] [--seconds 4] [--runs 3] [--flat-seconds 3] [--users 16]
                               [--incidents 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bench.databases import postgres_available, scratch
from bench.load import (
    Result,
    click_body,
    closed_loop,
    command_body,
    drain,
    open_loop,
    spread,
    table,
    verdict,
)
from bench.procs import free_port, parse, process
from bot.embedded import SANDBOX_ROLES
from sandbox.server import DEFAULT_BOT_TOKEN
from sandbox.server import DEFAULT_SIGNING_SECRET as SECRET
from storage.migrate import upgrade

TARGET_P99 = 0.100
TARGET_RATIO = 0.70
AIM_RATIO = 0.90
AIM_P99_VS_BARE = 2.0
SCENARIOS = ("list", "status", "done")
COMMANDER = "UHEIDI001"  # the sandbox's incident commander: a member of every incident, may do anything

Bodies = Callable[[int], str]


def scenario_bodies(scenario: str, info: dict[str, Any], urls: list[str]) -> Bodies:
    """Request `i` of one kind: a command in the first incident's channel, or a Done click on the
    i-th fresh item (each sent once)."""
    fresh = info["fresh"][1:]  # the first one is the warm-up's and the mix's

    def body(i: int) -> str:
        url = urls[i % len(urls)]
        if scenario == "done":
            b = fresh[i % len(fresh)]
            return click_body(COMMANDER, b["channel"], b["ts"], b["action_id"], b["value"], url)
        return command_body(scenario, COMMANDER, info["channel"], url)

    return body


def mixed_bodies(info: dict[str, Any], urls: list[str]) -> Bodies:
    """`list`, `status` and a Done click on the first item (done after its first click), in turn."""
    done = info["done"]

    def body(i: int) -> str:
        url = urls[i % len(urls)]
        kind = SCENARIOS[i % len(SCENARIOS)]
        if kind == "done":
            return click_body(COMMANDER, done["channel"], done["ts"], done["action_id"], done["value"], url)
        return command_body(kind, COMMANDER, info["channel"], url)

    return body


class Measured:
    """One target's figures: flat-out throughput per request kind, and the paced runs."""

    def __init__(self) -> None:
        self.throughput: dict[str, Result] = {}
        self.drained: dict[str, float] = {}
        self.paced: list[Result] = []

    def sustained(self, scenario: str) -> float:
        """Requests per second of the flat-out run counting until the work they started was done
        (acks come first, the reply or re-render after; bare Bolt has nothing after)."""
        run = self.throughput[scenario]
        return len(run.latencies) / (run.elapsed + self.drained[scenario])

    def p(self, pct: float) -> list[float]:
        return [r.pct(pct) for r in self.paced]

    @property
    def p99(self) -> float:
        return statistics.median(self.p(99))

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.paced) + sum(r.errors for r in self.throughput.values())


async def drive(url: str, info: dict[str, Any], urls: list[str], args: argparse.Namespace) -> Measured:
    out = Measured()
    mix = mixed_bodies(info, urls)

    def probe(i: int) -> str:
        return command_body("help", COMMANDER, info["channel"], urls[-1 - i % len(urls)])

    await open_loop(url, SECRET, mix, rate=20, seconds=2)  # warm-up (and the mix's item is done)
    await drain(url, SECRET, probe)
    for scenario in SCENARIOS:
        total = len(info["fresh"]) - 1 if scenario == "done" else None
        out.throughput[scenario] = await closed_loop(
            url,
            SECRET,
            scenario_bodies(scenario, info, urls),
            users=args.users,
            seconds=args.flat_seconds,
            total=total,
        )
        out.drained[scenario] = await drain(url, SECRET, probe)
    for _ in range(args.runs):
        out.paced.append(await open_loop(url, SECRET, mix, rate=args.rate, seconds=args.seconds))
        await drain(url, SECRET, probe)
    return out


async def run_target(kind: str, args: argparse.Namespace) -> Measured:
    """`breachroom serve` in its own process, the sandbox workspace in another: the bot's event loop
    carries only the bot (its listeners and its delivery engine), as in production."""
    async with scratch(kind) as url:
        await asyncio.to_thread(upgrade, url)
        bot_port, sandbox_port = free_port(), free_port()
        bot_url = f"http://127.0.0.1:{bot_port}/slack/events"
        env = {
            "SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": f"http://127.0.0.1:{sandbox_port}/api/",
            "BREACHROOM_ROLES_FILE": str(SANDBOX_ROLES),  # the sandbox's people as default holders
            "DATABASE_URL": url,
            "BREACHROOM_HOST": "127.0.0.1",
            "BREACHROOM_PORT": str(bot_port),
        }
        with tempfile.TemporaryDirectory() as folder:
            pool_file = Path(folder) / "response_urls.txt"
            async with (
                serve(env),
                process(
                    "bench.sandbox_proc",
                    "--port",
                    str(sandbox_port),
                    "--bot-url",
                    bot_url,
                    "--response-url-file",
                    str(pool_file),
                    "--incidents",
                    str(args.incidents),
                    timeout=180,
                ) as (_, line),
            ):
                info = parse(line)
                urls = pool_file.read_text().splitlines()
                return await drive(bot_url, info, urls, args)


@asynccontextmanager
async def serve(env: dict[str, str]) -> AsyncIterator[None]:
    """`breachroom serve` as Slack would see it in production."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        env={**os.environ, "BREACHROOM_LOG_LEVEL": "WARNING", **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


async def run_bare(args: argparse.Namespace) -> Measured:
    port = free_port()
    url = f"http://127.0.0.1:{port}/slack/events"
    async with process("bench.bare_bolt", "--port", str(port), "--secret", SECRET, ready="ready"):
        button = {"channel": "C0BENCH001", "ts": "1.0", "action_id": "item_done", "value": "1:1"}
        info = {"channel": "C0BENCH001", "done": button, "fresh": [button] * 100_000}
        return await drive(url, info, ["http://127.0.0.1:9/unused"], args)


def throughput_table(bare: Measured, bots: dict[str, Measured]) -> str:
    """Per request kind: acks per second while flat out, and the sustained rate (until the work
    behind the acks was done) as a share of bare Bolt's; the target is judged on the sustained."""
    rows = []
    for scenario in SCENARIOS:
        ceiling = bare.sustained(scenario)
        row = [f"`{scenario}`" if scenario != "done" else "Done click (first)", f"{ceiling:.0f}"]
        met = True
        for measured in bots.values():
            acked = measured.throughput[scenario].rps
            rps = measured.sustained(scenario)
            ratio = rps / ceiling if ceiling else 0.0
            met = met and ratio >= TARGET_RATIO
            row += [f"{acked:.0f} / {rps:.0f}", f"{ratio:.0%}"]
        rows.append([*row, verdict(met)])
    headers = ["request", "bare Bolt req/s"]
    for kind in bots:
        headers += [f"{kind} acked / sustained req/s", f"{kind} vs bare"]
    return table([*headers, f"target >= {TARGET_RATIO:.0%} (aim {AIM_RATIO:.0%})"], rows)


def latency_table(bare: Measured, bots: dict[str, Measured]) -> str:
    rows = []
    for name, measured in [*bots.items(), ("bare Bolt (no-op)", bare)]:
        is_bare = measured is bare
        rows.append(
            [
                name,
                spread(measured.p(50)),
                spread(measured.p(95)),
                spread(measured.p(99)),
                f"{measured.p99 / bare.p99:.1f}x" if bare.p99 else "—",
                str(sum(r.errors for r in measured.paced)),
                "—" if is_bare else verdict(measured.p99 <= TARGET_P99),
                "—" if is_bare else verdict(measured.p99 <= AIM_P99_VS_BARE * bare.p99),
            ]
        )
    return table(
        [
            "target",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "p99 vs bare",
            "errors",
            f"p99 <= {TARGET_P99 * 1000:.0f} ms",
            f"aim: p99 <= {AIM_P99_VS_BARE:.0f}x bare",
        ],
        rows,
    )


async def main(args: argparse.Namespace) -> None:
    kinds = ["sqlite"] + (["postgresql"] if await postgres_available() else [])
    bare = await run_bare(args)
    bots = {kind: await run_target(kind, args) for kind in kinds}
    print(
        f"\nThroughput: {args.users} users flat out for up to {args.flat_seconds:g} s per request kind "
        f"(Done clicks: one per open item of {args.incidents} incidents)"
    )
    print(throughput_table(bare, bots))
    print(
        f"\nAck latency: open loop at {args.rate:.0f} req/s for {args.seconds:.0f} s of list / status / "
        f"Done click in turn, {args.runs} runs: median (min–max) of the runs"
    )
    print(latency_table(bare, bots))
    errors = {name: m.errors for name, m in [*bots.items(), ("bare", bare)] if m.errors}
    if errors:
        print(f"\nRequests not answered 200: {errors}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=4.0, help="each paced run")
    parser.add_argument("--flat-seconds", type=float, default=3.0, help="each flat-out run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument(
        "--incidents", type=int, default=3, help="declared up front; their items are the clicks"
    )
    asyncio.run(main(parser.parse_args()))
