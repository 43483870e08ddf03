"""Benchmark 5: resident memory of `breachroom serve` with 100 open incidents.

The bot runs as its own `breachroom serve` process (HTTP mode) against a sandbox workspace in this
process, so the figure is the bot's alone.

    python -m bench.memory [--incidents 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from bench.databases import postgres_available, scratch
from bench.load import table
from bench.procs import free_port
from bot.embedded import SANDBOX_ROLES
from sandbox.server import DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET, Sandbox
from storage.migrate import upgrade


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def wait_for_modal(person, timeout: float = 15.0) -> None:
    """The bot runs in another process: wait until the modal it opens has arrived."""
    for _ in range(int(timeout / 0.05)):
        try:
            person.modal()
            return
        except LookupError:
            await asyncio.sleep(0.05)
    raise TimeoutError("the declare modal never opened")


async def measure(kind: str, incidents: int) -> tuple[float, float]:
    async with scratch(kind) as url:
        await asyncio.to_thread(upgrade, url)
        sb = await Sandbox.start()
        port = free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN,
            "SLACK_SIGNING_SECRET": DEFAULT_SIGNING_SECRET,
            "SLACK_API_URL": sb.api_url,
            "BREACHROOM_ROLES_FILE": str(SANDBOX_ROLES),  # the sandbox's people as default holders
            "DATABASE_URL": url,
            "BREACHROOM_HOST": "127.0.0.1",
            "BREACHROOM_PORT": str(port),
            "BREACHROOM_LOG_LEVEL": "WARNING",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            sb.bot_url = f"http://127.0.0.1:{port}/slack/events"
            for _ in range(100):
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.close()
                    break
                except OSError:
                    await asyncio.sleep(0.1)
            alice = sb.person("alice")
            await alice.command("help")
            await sb.settle()
            idle = await asyncio.to_thread(rss_mib, proc.pid)
            for i in range(incidents):
                await alice.command(f"declare Memory benchmark incident {i}")
                await wait_for_modal(alice)
                await alice.submit({"Severity": "SEV3"})
                await sb.settle()
            loaded = await asyncio.to_thread(rss_mib, proc.pid)
        finally:
            proc.terminate()
            await proc.wait()
            await sb.stop()
    return idle, loaded


async def main(args: argparse.Namespace) -> None:
    kinds = ["sqlite"] + (["postgresql"] if await postgres_available() else [])
    rows = []
    for kind in kinds:
        idle, loaded = await measure(kind, args.incidents)
        rows.append([kind, f"{idle:.0f}", f"{loaded:.0f}", f"{(loaded - idle) / args.incidents * 1024:.0f}"])
    print(f"\nResident memory of `breachroom serve` (RSS), idle and with {args.incidents} open incidents")
    print(table(["database", "idle MiB", f"{args.incidents} incidents MiB", "KiB per incident"], rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=100)
    asyncio.run(main(parser.parse_args()))
