"""A load generator for Slack-style signed requests, and the statistics the benchmarks print."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from sandbox.signing import signed_headers


@dataclass
class Result:
    latencies: list[float]
    errors: int
    elapsed: float

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def p50(self) -> float:
        return self.pct(50)

    @property
    def p95(self) -> float:
        return self.pct(95)

    @property
    def p99(self) -> float:
        return self.pct(99)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.latencies) if self.latencies else float("nan")


def command_body(text: str, user: str, channel: str, response_url: str, command: str = "/breach") -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T0SANDBOX1",
            "team_domain": "sandbox",
            "channel_id": channel,
            "channel_name": "incident",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0BREACHRM",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": f"{time.time():.6f}.bench",
        }
    )


def click_body(
    user: str, channel: str, message_ts: str, action_id: str, value: str, response_url: str
) -> str:
    now = f"{time.time():.6f}"
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0SANDBOX1"},
        "api_app_id": "A0BREACHRM",
        "token": "legacy",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"{now}.bench",
        "team": {"id": "T0SANDBOX1", "domain": "sandbox"},
        "channel": {"id": channel, "name": "incident"},
        "message": {"ts": message_ts, "text": "", "blocks": []},
        "response_url": response_url,
        "actions": [
            {"action_id": action_id, "block_id": "bench", "value": value, "type": "button", "action_ts": now}
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


async def send(http: aiohttp.ClientSession, url: str, secret: str, body: str) -> tuple[float, bool]:
    """POST one signed request; (seconds until answered, answered 200)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(secret, body)}
    started = time.perf_counter()
    try:
        async with http.post(url, data=body, headers=headers) as resp:
            await resp.read()
            ok = resp.status == 200
    except aiohttp.ClientError:
        ok = False
    return time.perf_counter() - started, ok


async def open_loop(
    url: str, secret: str, bodies: Callable[[int], str], rate: float, seconds: float
) -> Result:
    """Send at a fixed rate whatever the answers do (as Slack does), and time each answer."""
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks = []
        for i in range(total):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send(http, url, secret, bodies(i))))
        for latency, ok in await asyncio.gather(*tasks):
            if ok:
                latencies.append(latency)
            else:
                errors += 1
        elapsed = loop.time() - start
    return Result(latencies, errors, elapsed)


async def closed_loop(
    url: str,
    secret: str,
    bodies: Callable[[int], str],
    users: int,
    seconds: float,
    total: int | None = None,
) -> Result:
    """`users` virtual users each sending their next request as soon as the last is answered, for
    `seconds` or until `total` requests were sent (bodies numbered from 0, each sent once)."""
    latencies: list[float] = []
    errors = 0
    counter = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        loop = asyncio.get_running_loop()
        start = loop.time()
        stop_at = start + seconds

        async def user() -> None:
            nonlocal counter, errors
            while loop.time() < stop_at and (total is None or counter < total):
                i, counter = counter, counter + 1
                latency, ok = await send(http, url, secret, bodies(i))
                if ok:
                    latencies.append(latency)
                else:
                    errors += 1

        await asyncio.gather(*(user() for _ in range(users)))
        elapsed = loop.time() - start
    return Result(latencies, errors, elapsed)


async def drain(
    url: str, secret: str, probe: Callable[[int], str], quick: float = 0.05, timeout: float = 120.0
) -> float:
    """Seconds until the target's event loop is free again: work it acked and still has to do (a
    reply, a re-render) shares that loop, so a probe is answered quickly only once it is done.
    Free means three probes in a row each answered within `quick`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    in_a_row = 0
    async with aiohttp.ClientSession() as http:
        i = 0
        while in_a_row < 3:
            if loop.time() - start > timeout:
                raise TimeoutError(f"{url} still busy after {timeout:.0f} s")
            latency, ok = await send(http, url, secret, probe(i))
            i += 1
            in_a_row = in_a_row + 1 if ok and latency <= quick else 0
            await asyncio.sleep(0.02)
    return loop.time() - start


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def spread(values: list[float]) -> str:
    """Several runs' figures as "median (min–max)", in ms."""
    return f"{statistics.median(values) * 1000:.1f} ({min(values) * 1000:.1f}–{max(values) * 1000:.1f})"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    return "\n".join([line, sep, *body])


async def _background(args: argparse.Namespace) -> None:
    urls = (await asyncio.to_thread(Path(args.response_url_file).read_text)).splitlines()
    kinds = args.kinds.split(",")

    def body(i: int) -> str:
        return command_body(kinds[i % len(kinds)], args.user, args.channel, urls[i % len(urls)])

    print("loading", flush=True)
    result = await open_loop(args.url, args.secret, body, rate=args.rate, seconds=args.seconds)
    sent = len(result.latencies) + result.errors
    print(json.dumps({"sent": sent, "errors": result.errors, "p99": result.p99}), flush=True)


if __name__ == "__main__":
    # Background load from a process of its own (the benchmark's loop stays free to observe):
    # slash commands at a fixed rate; prints "loading" when it starts.
    parser = argparse.ArgumentParser(prog="python -m bench.load")
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--channel", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--kinds", default="list,status", help="subcommands sent in turn")
    parser.add_argument("--response-url-file", required=True)
    asyncio.run(_background(parser.parse_args()))
