"""The sandbox workspace in a process of its own, for benchmarks that run `breachroom serve` as a
real server: it waits for the bot, declares `--incidents` incidents through the signed driver, and
describes them on stdout as one JSON line so the load generator can address them: the first one's
channel, and every open item's Done button (`fresh`: a click on each completes an item)."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import aiohttp

from bench.procs import until_terminated
from sandbox.server import Sandbox


async def wait_healthy(url: str, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as http:
        while loop.time() < deadline:
            try:
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{url} never answered")


async def until(check, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the bot did not get there")


def done_buttons(view) -> list[dict]:
    """Every open item's Done button in a channel's checklist messages: (message ts, value)."""
    found = []
    for msg in view.bot_messages:
        for block in msg.blocks:
            for element in [block.get("accessory") or {}, *(block.get("elements") or [])]:
                if element.get("action_id") == "item_done":
                    found.append({"ts": msg.ts, "action_id": "item_done", "value": element.get("value", "")})
    return found


async def declare(sb: Sandbox, title: str, known: set[str]) -> str:
    """Declare one incident as alice through the signed driver; its channel once its checklists are out."""
    alice = sb.person("alice")
    await alice.command(f"declare {title}")

    def modal_open() -> bool:
        try:
            alice.modal()
            return True
        except LookupError:
            return False

    await until(modal_open)
    await alice.submit({"Severity": "SEV2"})
    found: list[str] = []

    def ready() -> bool:
        for channel in sb.workspace.channels.values():
            if (
                channel.id not in known
                and channel.name.startswith("br-")
                and any("item_done" in str(m.get("blocks")) for m in channel.messages)
            ):
                found.append(channel.id)
                return True
        return False

    await until(ready)
    await sb.settle(timeout=60)
    known.add(found[0])
    return found[0]


async def main(args: argparse.Namespace) -> None:
    sb = await Sandbox.start(port=args.port)
    sb.bot_url = args.bot_url
    await wait_healthy(args.bot_url.removesuffix("/slack/events") + "/healthz")
    known: set[str] = set()
    channels = [await declare(sb, f"Benchmark incident {n}", known) for n in range(args.incidents)]
    # Every phase's checklist is out once the bot has stopped calling the Web API.
    await sb.settle(timeout=60)
    incident_channel = channels[0]
    fresh = [{**b, "channel": c} for c in channels for b in done_buttons(sb.channel(c))]
    pool = [
        f"{sb.url}/response/{sb.workspace.issue_response_url(incident_channel, 'UHEIDI001').id}"
        for _ in range(args.response_urls)
    ]
    await asyncio.to_thread(Path(args.response_url_file).write_text, "\n".join(pool))
    info = {"bot_url": args.bot_url, "channel": incident_channel, "done": fresh[0], "fresh": fresh}
    print(json.dumps(info), flush=True)
    await until_terminated()
    await sb.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bot-url", required=True)
    parser.add_argument("--response-urls", type=int, default=20000)
    parser.add_argument("--response-url-file", required=True)
    parser.add_argument("--incidents", type=int, default=1, help="declared; all their items are fresh")
    asyncio.run(main(parser.parse_args()))
