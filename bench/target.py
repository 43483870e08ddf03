"""A benchmark target: the real bot and the sandbox workspace in their own process, with a declared
incident ready, described on stdout as one JSON line so the load generator can address it."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bench.procs import until_terminated
from bot.embedded import embedded
from storage.migrate import upgrade


async def declare_one(env, title: str) -> dict:
    alice = env.sb.person("alice")
    await alice.command(f"declare {title}")
    await env.sb.settle()
    await alice.submit({"Severity": "SEV2"})
    await env.sb.settle()
    async with env.rt.db.session() as s:
        from sqlmodel import col, select

        from storage.models import Incident

        incident = (await s.execute(select(Incident).order_by(col(Incident.id).desc()).limit(1))).scalar_one()
    channel = env.sb.channel(incident.channel_id)
    done = None
    for msg in channel.bot_messages:
        for block in msg.blocks:
            for element in [block.get("accessory") or {}, *(block.get("elements") or [])]:
                if (
                    element.get("type") == "button"
                    and element.get("action_id") == "item_done"
                    and done is None
                ):
                    done = {"ts": msg.ts, "action_id": "item_done", "value": element.get("value", "")}
    return {"incident_id": incident.id, "channel": incident.channel_id, "done": done}


async def main(args: argparse.Namespace) -> None:
    async with embedded(args.database_url, bot_port=args.port, sandbox_port=0) as env:
        info = await declare_one(env, "Benchmark incident")
        pool = [
            f"{env.sb.url}/response/{env.sb.workspace.issue_response_url(info['channel'], 'UHEIDI001').id}"
            for _ in range(args.response_urls)
        ]
        await asyncio.to_thread(Path(args.response_url_file).write_text, "\n".join(pool))
        print(json.dumps({"bot_url": env.bot_url, **info}), flush=True)
        await until_terminated()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--response-urls", type=int, default=20000)
    parser.add_argument("--response-url-file", required=True)
    args = parser.parse_args()
    upgrade(args.database_url)
    try:
        asyncio.run(main(args))
    except KeyboardInterrupt:
        sys.exit(0)
