"""Benchmark 1: ack latency and throughput of `/breach status` and checklist clicks.

Signed requests go to the real bot (`breachroom serve` in its own process, the sandbox workspace in
another) on SQLite and on PostgreSQL; the same harness drives a bare Bolt AsyncApp with no-op
listeners in the same run, so throughput is reported as a ratio to the framework's own ceiling on
this machine.

    python -m bench.ack_latency [--rate 100] [--seconds 20] [--users 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bench.databases import postgres_available, scratch
from bench.load import Result, click_body, closed_loop, command_body, ms, open_loop, table
from bench.procs import free_port, parse, process
from bot.embedded import SANDBOX_ROLES
from sandbox.server import DEFAULT_BOT_TOKEN
from sandbox.server import DEFAULT_SIGNING_SECRET as SECRET
from storage.migrate import upgrade

TARGET_P99 = 0.100
TARGET_RATIO = 0.70


def mixed_bodies(info: dict, urls: list[str]):  # type: ignore[no-untyped-def]
    """Alternate `/breach status` in the incident channel and a Done click on a checklist item."""
    done = info.get("done")

    def body(i: int) -> str:
        url = urls[i % len(urls)]
        if done and i % 2:
            return click_body("UBOB00001", info["channel"], done["ts"], done["action_id"], done["value"], url)
        return command_body("status", "UHEIDI001", info["channel"], url)

    return body


async def run_target(kind: str, args: argparse.Namespace) -> tuple[Result, Result]:
    """`breachroom serve` in its own process, the sandbox workspace in another: the bot's event loop
    carries only the bot, as in production."""
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
                    timeout=120,
                ) as (_, line),
            ):
                info = parse(line)
                urls = pool_file.read_text().splitlines()
                bodies = mixed_bodies(info, urls)
                await open_loop(bot_url, SECRET, bodies, rate=20, seconds=2)  # warm-up
                paced = await open_loop(bot_url, SECRET, bodies, rate=args.rate, seconds=args.seconds)
                flat_out = await closed_loop(
                    bot_url, SECRET, bodies, users=args.users, seconds=args.seconds / 2
                )
    return paced, flat_out


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


async def run_bare(args: argparse.Namespace) -> Result:
    port = free_port()
    url = f"http://127.0.0.1:{port}/slack/events"
    async with process("bench.bare_bolt", "--port", str(port), "--secret", SECRET, ready="ready"):
        info = {"channel": "C0BENCH001", "done": {"ts": "1.0", "action_id": "item_done", "value": "1:1"}}
        bodies = mixed_bodies(info, ["http://127.0.0.1:9/unused"])
        await open_loop(url, SECRET, bodies, rate=20, seconds=2)
        return await closed_loop(url, SECRET, bodies, users=args.users, seconds=args.seconds / 2)


async def main(args: argparse.Namespace) -> None:
    kinds = ["sqlite"] + (["postgresql"] if await postgres_available() else [])
    bare = await run_bare(args)
    rows = []
    for kind in kinds:
        paced, flat_out = await run_target(kind, args)
        ratio = flat_out.rps / bare.rps if bare.rps else 0.0
        rows.append(
            [
                f"breachroom / {kind}",
                f"{args.rate:.0f}",
                ms(paced.p50),
                ms(paced.p95),
                ms(paced.p99),
                str(paced.errors),
                f"{flat_out.rps:.0f}",
                f"{ratio:.0%}",
                "yes" if paced.p99 <= TARGET_P99 and ratio >= TARGET_RATIO else "NO",
            ]
        )
    rows.append(["bare Bolt (no-op)", "—", "—", "—", "—", str(bare.errors), f"{bare.rps:.0f}", "100%", "—"])
    print(
        f"\nAck latency: /breach status + checklist Done clicks, open loop at {args.rate:.0f} req/s for "
        f"{args.seconds:.0f} s; throughput: {args.users} users flat out for {args.seconds / 2:.0f} s"
    )
    print(
        table(
            [
                "target",
                "req/s offered",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "errors",
                "max req/s",
                "vs bare Bolt",
                "targets met (p99<=100ms, >=70%)",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--users", type=int, default=16)
    asyncio.run(main(parser.parse_args()))
