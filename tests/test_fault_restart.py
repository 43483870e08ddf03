"""`breachroom serve` killed mid-work and started again: nothing committed is lost, nothing is sent
twice, the views catch up with the database, and the timeline's chain holds. SIGTERM instead
finishes what was acknowledged and exits 0.

The bot runs as a real subprocess on the real clock, so time cannot be moved: the regulatory clock
is made to fall due a few seconds after the restart by declaring with a discovery time almost 24 h
ago (PIPL Art. 57's 24 h target; its earlier reminders are long past and skipped).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.embedded import SANDBOX_ROLES
from incident.config import load_config
from sandbox.server import DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET, Sandbox
from storage.db import Database
from storage.models import ChecklistItem, Incident, Reminder, TimelineEvent
from tests.harness import watch_processes
from tests.test_fault_slack import assert_views_match_db, checklist_message

# Real `breachroom` processes: run after the parallel part of the suite (Makefile), not beside it.
pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parent.parent
DAY = 24 * 3600
ITEMS = ["Form the response team", "Isolate affected systems", "Initial assessment", "Set the severity"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Serve:
    proc: asyncio.subprocess.Process
    url: str
    log: Path


async def until(
    check: Callable[[], Awaitable[Any]], what: str, timeout: float = 30.0, every: float = 0.1
) -> Any:
    """Poll until `check` returns something truthy (the bot is another process: there is no
    in-flight counter to wait on)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = await check()
        except (AssertionError, LookupError) as exc:
            last = exc
        else:
            if last:
                return last
        await asyncio.sleep(every)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def bot_env(
    sb: Sandbox, db_url: str, roles: Path | None = SANDBOX_ROLES, port: int | None = None
) -> dict[str, str]:
    """The environment a `breachroom` subprocess runs with against the sandbox; `roles=None` runs
    it on the packaged roles file."""
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": DEFAULT_BOT_TOKEN,
        "SLACK_SIGNING_SECRET": DEFAULT_SIGNING_SECRET,
        "SLACK_API_URL": sb.api_url,
        "DATABASE_URL": db_url,
        "BREACHROOM_HOST": "127.0.0.1",
        "BREACHROOM_LOCALE": "en",
    }
    if port is not None:
        env["BREACHROOM_PORT"] = str(port)
    env.pop("BREACHROOM_ROLES_FILE", None)
    if roles is not None:
        env["BREACHROOM_ROLES_FILE"] = str(roles)  # the sandbox's people as default holders
    return env


async def spawn(env: dict[str, str], log: Path, *args: str) -> asyncio.subprocess.Process:
    """`python -m bot.cli <args>`, its output appended to `log`."""
    out = log.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *args, cwd=ROOT, env=env, stdout=out, stderr=out
        )
    finally:
        out.close()


async def start_serve(
    sb: Sandbox,
    db_url: str,
    log: Path,
    roles: Path | None = SANDBOX_ROLES,
    *flags: str,
    route: bool = True,
) -> Serve:
    """`breachroom serve <flags>` against the sandbox; with `route`, the workspace sends it Slack's
    requests (without, the caller routes them, e.g. through a proxy)."""
    port = free_port()
    proc = await spawn(bot_env(sb, db_url, roles, port), log, "serve", *flags)
    base = f"http://127.0.0.1:{port}"

    async def healthy() -> bool:
        assert proc.returncode is None, f"serve exited with {proc.returncode}: {tail(log)}"
        try:
            async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as resp:
                return resp.status == 200
        except aiohttp.ClientError:
            return False

    try:
        await until(healthy, "serve to answer /healthz", timeout=60)
    except BaseException:  # timed out or cancelled: leave no process behind
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    url = f"{base}/slack/events"
    if route:
        sb.bot_url = url
    return Serve(proc, url, log)


async def stop(serve: Serve) -> None:
    if serve.proc.returncode is None:
        serve.proc.kill()
        await serve.proc.wait()


@asynccontextmanager
async def workspace(db_url: str) -> AsyncIterator[tuple[Sandbox, Database]]:
    sb = await Sandbox.start()
    database = Database(db_url)
    try:
        yield sb, database
    finally:
        await database.dispose()
        await sb.stop()


async def incident_of(database: Database) -> Incident | None:
    async with database.session() as db:
        return (await db.execute(select(Incident).order_by(Incident.id.desc()).limit(1))).scalar_one_or_none()


async def declare(sb: Sandbox, database: Database, due_in: float) -> Incident:
    """Declare as alice, with the PIPL clock due `due_in` seconds from now; wait until set up."""
    alice = sb.person("alice")
    await alice.command("declare Ledger backups exposed", channel="C0GENERAL1")
    await until(lambda: _modal(alice), "the declare form")
    delivery = await alice.submit(
        {
            "Severity": "SEV2",
            "Data categories": ["payroll"],
            "Jurisdictions": ["China"],
            "Affected clients": "Acme Trading",
            "Our role for this data": "Controller (we decide why the data is processed)",
            "Discovered at": int(time.time() - DAY + due_in),
        }
    )
    assert delivery.status == 200 and not delivery.errors, delivery.errors

    async def ready() -> Incident | None:
        incident = await incident_of(database)
        if incident is None or not (incident.setup or {}).get("role_dms"):
            return None
        return incident

    return await until(ready, "the incident to be set up")


async def _modal(person: Any) -> bool:
    return person.ws.top_modal(person.id) is not None


async def timeline(database: Database, incident_id: int) -> list[TimelineEvent]:
    async with database.session() as db:
        stmt = select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
        return list((await db.execute(stmt.order_by(TimelineEvent.seq))).scalars())


async def verify_cli(db_url: str, key: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "verify",
        key,
        cwd=ROOT,
        # The serving bot's signing secret: the timeline key derives from it when none is set.
        env={**os.environ, "DATABASE_URL": db_url, "SLACK_SIGNING_SECRET": DEFAULT_SIGNING_SECRET},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


def reminder_posts(sb: Sandbox) -> Counter[str]:
    """How many times each reminder reached Slack (its message's block id names the row)."""
    from tests.test_scheduler import _blocks

    return Counter(
        str(block.get("block_id"))
        for call in sb.calls("chat.postMessage")
        if call.ok
        for block in _blocks(call.params.get("blocks"))
        if str(block.get("block_id", "")).startswith("reminder_")
    )


async def reminders_of(database: Database, incident_id: int) -> list[Reminder]:
    async with database.session() as db:
        stmt = select(Reminder).where(Reminder.incident_id == incident_id).order_by(Reminder.id)
        return list((await db.execute(stmt)).scalars())


async def test_kill_9_mid_burst_then_restart_loses_nothing_and_sends_nothing_twice(
    db_url: str, tmp_path: Path
) -> None:
    config = load_config(None, None, None)
    async with workspace(db_url) as (sb, database):
        first = await start_serve(sb, db_url, tmp_path / "first.log")
        try:
            incident = await declare(sb, database, due_in=12)
            assert incident.id is not None and incident.channel_id
            channel = incident.channel_id

            async def clock_rows() -> list[Reminder]:
                return [r for r in await reminders_of(database, incident.id) if r.kind == "clock"]  # type: ignore[arg-type]

            rows = await until(clock_rows, "the clock's reminder rows")
            # The PIPL clocks, due in seconds, have not fallen due: the restart must carry them.
            # Clocks already past at declaration (the CAC report's hours) fall due at once and
            # may go out before the kill; the counts at the end hold every row to one message.
            running = [r for r in rows if _epoch(r.due_at) > time.time()]
            assert running and {r.status for r in running} == {"pending"}

            heidi, judy = sb.person("heidi"), sb.person("judy")
            respond = checklist_message(sb, channel, "Respond")  # type: ignore[arg-type]
            notes = [f"Burst note {i}: log line {i} preserved" for i in range(8)]
            burst = [heidi.click(respond, "Done", near=item) for item in ITEMS]
            burst += [judy.command(f"note {text}", channel=channel) for text in notes]
            in_flight = asyncio.gather(*burst, return_exceptions=True)

            async def some_committed() -> int:
                events = await timeline(database, incident.id)  # type: ignore[arg-type]
                return sum(e.kind in ("item_done", "note") for e in events)

            await until(some_committed, "the first committed click or note", timeout=15)
            first.proc.send_signal(signal.SIGKILL)
            await first.proc.wait()
            await in_flight
        finally:
            await stop(first)

        committed = await timeline(database, incident.id)
        second = await start_serve(sb, db_url, tmp_path / "second.log")
        try:
            # The clock falls due after the restart: the new process sends each reminder once.
            async def all_sent() -> bool:
                rows = [r for r in await reminders_of(database, incident.id) if r.kind == "clock"]  # type: ignore[arg-type]
                return bool(rows) and all(r.status == "sent" for r in rows)

            await until(all_sent, "the clock reminders", timeout=40)
            # The restart brought the card and the checklists up to date with what was committed.
            await until(
                lambda: _matches(sb, database, config, incident.id),  # type: ignore[arg-type]
                "the views to match the database",
                timeout=15,
            )
            # A click the killed process never committed can simply be made again now.
            now_shown = checklist_message(sb, channel, "Respond")  # type: ignore[arg-type]
            before_click = sum(e.kind == "item_done" for e in await timeline(database, incident.id))
            for title in [*ITEMS, "Activate the response plan"]:
                try:
                    await heidi.click(now_shown, "Done", near=title)
                    break
                except LookupError:
                    continue
            await until(
                lambda: _count(database, incident.id, "item_done", before_click),  # type: ignore[arg-type]
                "the click after the restart",
            )
            await until(
                lambda: _matches(sb, database, config, incident.id),  # type: ignore[arg-type]
                "the views to match after one more click",
                timeout=15,
            )
            # Whatever the new process was going to send has been sent before anything is counted.
            watch_processes(sb, database)
            await sb.settle(timeout=30)
        finally:
            second.proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.proc.wait(), 20) == 0

        events = await timeline(database, incident.id)
        # Nothing committed before the kill is gone, and the log only grew at its end.
        assert [(e.seq, e.hash) for e in events[: len(committed)]] == [(e.seq, e.hash) for e in committed]
        kinds = Counter(e.kind for e in events)
        async with database.session() as db:
            done_items = (
                await db.execute(
                    select(func.count())
                    .select_from(ChecklistItem)
                    .where(ChecklistItem.incident_id == incident.id, ChecklistItem.state == "done")
                )
            ).scalar_one()
        assert kinds["item_done"] == done_items >= 1  # each done item has exactly one event
        note_texts = [e.summary for e in events if e.kind == "note"]
        assert len(note_texts) == len(set(note_texts)) <= len(notes)
        assert all(any(n in s for n in notes) for s in note_texts)
        # Each reminder row was sent once, in one message, by whichever process sent it.
        rows = await reminders_of(database, incident.id)
        sent = [r for r in rows if r.status == "sent"]
        posts = reminder_posts(sb)
        assert len({r.dedupe_key for r in rows}) == len(rows)
        assert posts == Counter({f"reminder_{r.id}": 1 for r in sent})
        assert Counter(e.data["reminder_id"] for e in events if e.kind == "reminder_sent") == Counter(
            {r.id: 1 for r in sent}
        )
        assert {r.target for r in sent if r.kind == "clock"} >= {
            channel,
            "UHEIDI001",
            "UDAVE0001",
            "UERIN0001",
        }
        code, out = await verify_cli(db_url, incident.key)
        assert code == 0 and "timeline intact" in out, out
        assert not sb.violations


def _epoch(moment: datetime) -> float:
    """A stored moment as epoch seconds (SQLite gives it back without its UTC zone)."""
    return moment.replace(tzinfo=moment.tzinfo or UTC).timestamp()


async def _count(database: Database, incident_id: int, kind: str, more_than: int) -> bool:
    return sum(e.kind == kind for e in await timeline(database, incident_id)) > more_than


async def _matches(sb: Sandbox, database: Database, config: Any, incident_id: int) -> bool:
    await assert_views_match_db(sb, database, config, incident_id)
    return True


async def test_sigterm_finishes_acknowledged_work_and_exits_0(db_url: str, tmp_path: Path) -> None:
    config = load_config(None, None, None)
    async with workspace(db_url) as (sb, database):
        serve = await start_serve(sb, db_url, tmp_path / "serve.log")
        try:
            incident = await declare(sb, database, due_in=3600)
            assert incident.id is not None and incident.channel_id
            channel = incident.channel_id
            heidi, judy = sb.person("heidi"), sb.person("judy")
            respond = checklist_message(sb, channel, "Respond")  # type: ignore[arg-type]
            notes = [f"Graceful note {i}" for i in range(6)]
            deliveries = await asyncio.gather(
                *(heidi.click(respond, "Done", near=item) for item in ITEMS[:2]),
                *(judy.command(f"note {text}", channel=channel) for text in notes),
            )
            assert all(d.status == 200 for d in deliveries)  # every one acknowledged
            serve.proc.send_signal(signal.SIGTERM)  # at once: the work after the acks is in flight
            assert await asyncio.wait_for(serve.proc.wait(), 30) == 0
        finally:
            await stop(serve)
        events = await timeline(database, incident.id)
        kinds = Counter(e.kind for e in events)
        assert kinds["item_done"] == 2
        summaries = [e.summary for e in events if e.kind == "note"]
        assert all(any(n in s for s in summaries) for n in notes) and len(summaries) == len(notes)
        await assert_views_match_db(sb, database, config, incident.id)
        code, out = await verify_cli(db_url, incident.key)
        assert code == 0 and "timeline intact" in out, out
        assert not sb.violations
