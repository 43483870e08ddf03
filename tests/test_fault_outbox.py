"""kill -9 across a whole incident, close and archive included, with two fronts (`serve
--no-worker`, behind a round-robin proxy) and two workers (`breachroom worker`) on one database.

At points chosen by a seeded random generator (printed; ``BREACHROOM_FAULT_SEED`` replays a run)
one front or one worker is killed and a new one started in its place; right after the close
commits, both workers are killed before they finish it. Afterwards the outbox drains, and every
view matches the database, every effect was delivered, and nothing Slack gives a handle for was
done twice, except where a kill landed between Slack's answer and the commit that records it:
the test finds those effects (claimed by a killed worker, their result without the handle) and
allows exactly one repeat of each.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.embedded import SANDBOX_ROLES
from incident.config import load_config
from sandbox.server import Sandbox
from storage import outbox
from storage.db import Database
from storage.models import Effect, Incident, TimelineEvent
from tests.harness import RATE_LIMIT_SCALE
from tests.test_fault_restart import (
    ITEMS,
    Serve,
    bot_env,
    spawn,
    start_serve,
    tail,
    timeline,
    until,
    verify_cli,
    workspace,
)
from tests.test_fault_slack import assert_views_match_db, checklist_message
from tests.test_two_replicas import round_robin

ARCHIVE = "Archive the incident channel after closing"
WORKER_NAME = re.compile(rb"delivering effects and reminders as (worker-[0-9a-f]+)")


STARTED = time.monotonic()


def say(what: str) -> None:
    print(f"{time.monotonic() - STARTED:6.1f}s {what}")


@dataclass
class Worker:
    proc: asyncio.subprocess.Process
    name: str
    log: Path


@dataclass
class Cluster:
    """Two fronts behind the proxy and two workers, each replaceable by a new process."""

    sb: Sandbox
    db_url: str
    logs: Path
    fronts: list[Serve] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)  # what the proxy hands requests to
    served: list[tuple[str, bytes]] = field(default_factory=list)  # (front, body) of each request
    killed: list[str] = field(default_factory=list)  # names of the workers killed
    starting: list[asyncio.Future[Any]] = field(default_factory=list)
    started: int = 0

    def _log(self, what: str) -> Path:
        self.started += 1
        return self.logs / f"{self.started:02d}-{what}.log"

    async def start_front(self) -> Serve:
        front = await start_serve(
            self.sb, self.db_url, self._log("front"), SANDBOX_ROLES, "--no-worker", route=False
        )
        self.fronts.append(front)
        self.targets.append(front.url)
        return front

    async def start_worker(self) -> Worker:
        log = self._log("worker")
        proc = await spawn(bot_env(self.sb, self.db_url), log, "worker")

        async def named() -> str | None:
            assert proc.returncode is None, f"worker exited with {proc.returncode}: {tail(log)}"
            found = WORKER_NAME.search(log.read_bytes())
            return found.group(1).decode() if found else None

        try:
            name = await until(named, "the worker to start", timeout=60)
        except BaseException:  # timed out or cancelled: leave no process behind
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            raise
        worker = Worker(proc, name, log)
        self.workers.append(worker)
        return worker

    async def kill_front(self, index: int) -> None:
        front = self.fronts.pop(index)
        self.targets.remove(front.url)
        front.proc.send_signal(signal.SIGKILL)
        await front.proc.wait()

    async def kill_worker(self, index: int) -> Worker:
        worker = self.workers.pop(index)
        worker.proc.send_signal(signal.SIGKILL)
        await worker.proc.wait()
        self.killed.append(worker.name)
        return worker

    def replace(self, start: Callable[[], Awaitable[Any]]) -> None:
        """Start a process in the background, while the incident goes on."""
        self.starting.append(asyncio.ensure_future(start()))

    async def started_all(self) -> None:
        """Wait for the replacements: two fronts and two workers again."""
        await asyncio.gather(*self.starting)
        self.starting.clear()

    async def stop(self) -> None:
        for task in self.starting:
            task.cancel()
        await asyncio.gather(*self.starting, return_exceptions=True)
        for proc in [f.proc for f in self.fronts] + [w.proc for w in self.workers]:
            if proc.returncode is None:
                proc.send_signal(signal.SIGKILL)
                await proc.wait()


async def effects_of(database: Database, incident_id: int | None = None) -> list[Effect]:
    async with database.session() as db:
        stmt = select(Effect).order_by(Effect.id)
        if incident_id is not None:
            stmt = stmt.where(Effect.incident_id == incident_id)
        return list((await db.execute(stmt)).scalars())


async def in_doubt(database: Database, worker: str) -> dict[int, dict[str, Any]]:
    """The effects a killed worker held: it may have made their Slack call and died before the
    commit that records it. Their result as the kill left it, by effect id."""
    return {
        e.id: dict(e.result)
        for e in await effects_of(database)
        if e.status == outbox.CLAIMED and e.claimed_by == worker and e.id is not None
    }


async def latest_incident(database: Database) -> Incident | None:
    async with database.session() as db:
        return (await db.execute(select(Incident).order_by(Incident.id.desc()).limit(1))).scalar_one_or_none()


@dataclass
class Step:
    """One thing a person does, and how the database shows it was done."""

    name: str
    act: Callable[[], Awaitable[None]]
    done: Callable[[], Awaitable[Any]]


async def test_kill_9_across_a_whole_incident_with_two_fronts_and_two_workers(
    db_url: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("BREACHROOM_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    global STARTED
    STARTED = time.monotonic()
    say(f"BREACHROOM_FAULT_SEED={seed}")
    rng = random.Random(seed)
    config = load_config(None, None, None)
    async with workspace(db_url) as (sb, database):
        sb.rate_limit_scale = RATE_LIMIT_SCALE
        cluster = Cluster(sb, db_url, tmp_path)
        doubt: dict[int, dict[str, Any]] = {}  # effects a killed worker held, as it left them
        try:
            async with asyncio.TaskGroup() as group:
                for start in (
                    cluster.start_front,
                    cluster.start_front,
                    cluster.start_worker,
                    cluster.start_worker,
                ):
                    group.create_task(start())
            async with round_robin(sb, cluster.targets, cluster.served):
                alice, heidi, dave = sb.person("alice"), sb.person("heidi"), sb.person("dave")
                state: dict[str, Any] = {}

                async def events() -> list[TimelineEvent]:
                    return await timeline(database, state["incident"].id)

                async def has(kind: str, count: int = 1, **data: Any) -> bool:
                    found = [
                        e
                        for e in await events()
                        if e.kind == kind and all(e.data.get(k) == v for k, v in data.items())
                    ]
                    return len(found) >= count

                async def form(person: Any, command: str, fields: dict[str, Any], channel: str) -> None:
                    before = {v.id for v in person.ws.views.values() if not v.closed}
                    await person.command(command, channel=channel)

                    async def opened() -> bool:
                        top = person.ws.top_modal(person.id)
                        return top is not None and top.id not in before

                    await until(opened, f"the form of {command!r}", timeout=10)
                    delivery = await person.submit(fields)
                    assert delivery.status == 200 and not delivery.errors, (delivery.status, delivery.errors)

                def channel() -> str:
                    return state["incident"].channel_id

                async def declare() -> None:
                    fields = {
                        "Severity": "SEV2",
                        "Data categories": ["Payroll"],
                        "Jurisdictions": ["China"],
                        "Affected clients": "Acme Trading",
                        "Our role for this data": "Controller (we decide why the data is processed)",
                    }
                    await form(alice, "declare Ledger backups exposed", fields, "C0GENERAL1")

                async def declared() -> bool:
                    state["incident"] = await latest_incident(database)
                    return state["incident"] is not None

                async def assign() -> None:
                    await heidi.command("role tech_lead <@UIVAN0001|ivan>", channel=channel())

                def click(item: str) -> Callable[[], Awaitable[None]]:
                    async def act() -> None:
                        await heidi.click(checklist_message(sb, channel(), "Respond"), "Done", near=item)

                    return act

                async def update() -> None:
                    await heidi.click(sb.channel(channel()).message_with_button("Post update"), "Post update")
                    await until(lambda: _modal(heidi), "the status update form", timeout=10)
                    delivery = await heidi.submit({"Update": "Backups share taken offline; logs kept"})
                    assert delivery.status == 200 and not delivery.errors, delivery.errors

                async def notify() -> None:
                    sent = int(time.time()) - 60
                    await form(
                        dave, "notify cn-pipl-57", {"recipient": "Shanghai CAC", "sent_at": sent}, channel()
                    )

                async def resolve() -> None:
                    await form(heidi, "resolve", {"Stage reached": "resolved"}, channel())

                async def close() -> None:
                    fields = {"Lessons learned": "Backups need their own credentials.", "Channel": [ARCHIVE]}
                    await form(heidi, "close", fields, channel())

                steps = [
                    Step("declare", declare, declared),
                    Step(
                        "assign a role",
                        assign,
                        lambda: has("role_assigned", role="tech_lead", after="UIVAN0001"),
                    ),
                    *(
                        Step(f"done: {item}", click(item), lambda n=n: has("item_done", n + 1))
                        for n, item in enumerate(ITEMS[:3])
                    ),
                    Step("status update", update, lambda: has("status_update")),
                    Step("notify", notify, lambda: has("notification_recorded")),
                    Step("resolve", resolve, lambda: has("resolved")),
                    Step("close", close, lambda: has("closed")),
                ]
                # Kill points: after these steps' acks (the work they started still in flight);
                # the close has its own.
                kill_after = set(rng.sample(range(len(steps) - 1), 3))

                async def kill_one(after: str) -> bool:
                    """Kill one front or one worker; True if a front (the step may be lost)."""
                    front = rng.random() < 0.4
                    if len(cluster.fronts if front else cluster.workers) < 2:
                        await cluster.started_all()  # never the last front or the last worker
                    if front:
                        # The front that took the step's last request, its work after the ack
                        # perhaps still in flight.
                        urls = [f.url for f in cluster.fronts]
                        # A person's request, not an event Slack sent meanwhile (JSON).
                        took = next(
                            url for url, body in reversed(cluster.served) if not body.startswith(b"{")
                        )
                        index = urls.index(took)
                        say(f"after {after!r}: kill -9 the front that took it")
                        await cluster.kill_front(index)
                        cluster.replace(cluster.start_front)
                        return True
                    index = rng.randrange(len(cluster.workers))
                    victim = cluster.workers[index]
                    if rng.random() < 0.6:
                        # Mid-delivery: once it holds a claim (or soon, if it gets none).
                        async def holding() -> bool:
                            return bool(await in_doubt(database, victim.name))

                        try:
                            await until(holding, "a claim", timeout=3)
                        except AssertionError:
                            pass
                    say(f"after {after!r}: kill -9 {victim.name}")
                    await cluster.kill_worker(index)
                    doubt.update(await in_doubt(database, victim.name))
                    cluster.replace(cluster.start_worker)
                    return False

                for n, step in enumerate(steps):
                    if step.name == "close":
                        await cluster.started_all()  # both workers up, to be killed mid-close
                    await step.act()
                    front_killed = await kill_one(step.name) if n in kill_after else False
                    if step.name == "close":
                        await _kill_workers_during_close(rng, cluster, database, state, doubt)
                    if front_killed and not await step.done():
                        # The front acked and died before its commit (a dead process commits
                        # nothing more): do it again, as a person would who sees nothing happen.
                        say(f"{step.name!r} was lost with the front: again")
                        await step.act()
                    await until(step.done, step.name, timeout=20)
                    say(step.name)
                    if step.name == "declare":

                        async def set_up() -> bool:
                            state["incident"] = await latest_incident(database)
                            if not state["incident"].channel_id:
                                return False
                            checklist_message(sb, channel(), "Respond")
                            return bool((state["incident"].setup or {}).get("role_dms"))

                        await until(set_up, "the set-up", timeout=60)
                await cluster.started_all()
                incident = state["incident"]
                assert incident.id is not None

                async def drained() -> bool:
                    backlog = await outbox.backlog(database)
                    return backlog.pending == 0 and sb.channel(incident.channel_id).is_archived

                await until(drained, "the outbox to drain", timeout=90)
                say("outbox drained")
                await until(
                    lambda: _views_match(sb, database, config, incident.id),
                    "the views to match the database",
                    timeout=10,
                )
        finally:
            await cluster.stop()
            say(f"killed workers: {cluster.killed}; effects in doubt: {doubt}")

        effects = await effects_of(database)
        assert not [e for e in effects if e.status == outbox.DEAD], [
            (e.id, e.kind, e.last_error) for e in effects if e.status == outbox.DEAD
        ]
        assert all(e.status == outbox.DONE for e in effects), [(e.id, e.kind, e.status) for e in effects]
        events = await timeline(database, incident.id)
        kinds = Counter(e.kind for e in events)
        assert kinds["declared"] == 1 and kinds["closed"] == 1 and kinds["resolved"] == 1
        assert kinds["status_update"] == 1 and kinds["notification_recorded"] == 1
        assert kinds["item_done"] == 3

        # The post-mortem: recorded once; uploaded once, or twice if a worker died between
        # Slack's answer to the upload and the timeline's record of it.
        assert kinds["postmortem_generated"] == 1
        [close_effect] = [e for e in effects if e.kind == outbox.CLOSE]
        uploads = [f for m in sb.channel(incident.channel_id).bot_messages for f in m.files]
        upload_in_doubt = close_effect.id in doubt and not doubt[close_effect.id].get("published")
        assert 1 <= len(uploads) <= (2 if upload_in_doubt else 1), (len(uploads), doubt.get(close_effect.id))
        # Archived once, and the timeline says so once.
        assert sb.channel(incident.channel_id).is_archived
        assert kinds["channel_archived"] == 1
        assert [e.kind for e in events].index("postmortem_generated") < [e.kind for e in events].index(
            "channel_archived"
        )

        # Each announced event's line: once where its ts was recorded before any kill; at most
        # twice where a killed worker held the effect without a ts (Slack may have posted it).
        closed_seq = next(e.seq for e in events if e.kind == "closed")
        seq_of = {e.id: e.seq for e in events}
        messages = sb.channel(incident.channel_id).bot_messages
        for effect in (e for e in effects if e.kind == outbox.ANNOUNCE):
            ts = effect.result.get("ts")
            if not ts:
                # Only an event after the close may find the channel archived, with no line.
                assert seq_of[effect.payload["event_id"]] > closed_seq, (effect.id, effect.payload)
                continue
            [line] = [m for m in messages if m.ts == ts]
            copies = sum(m.all_text == line.all_text for m in messages)
            repeat_possible = effect.id in doubt and not doubt[effect.id].get("ts")
            if repeat_possible and copies == 2:
                say(f"announce effect {effect.id}: posted twice, a worker died before recording it")
            assert 1 <= copies <= (2 if repeat_possible else 1), (effect.id, copies, line.all_text)

        code, out = await verify_cli(db_url, incident.key)
        assert code == 0 and "timeline intact" in out, out
        assert not sb.violations
    say("done")


async def _kill_workers_during_close(
    rng: random.Random,
    cluster: Cluster,
    database: Database,
    state: dict[str, Any],
    doubt: dict[int, dict[str, Any]],
) -> None:
    """Once the close has committed, kill both workers before they finish its effect: at the
    commit, once a worker has claimed the effect, or once it has published the post-mortem."""
    incident_id = state["incident"].id
    moment = rng.choice(["committed", "claimed", "published"])

    async def reached() -> bool:
        rows = [e for e in await effects_of(database, incident_id) if e.kind == outbox.CLOSE]
        if not rows:
            return False
        if moment == "claimed":
            return rows[0].status != outbox.PENDING
        if moment == "published":
            return rows[0].status == outbox.DONE or bool(rows[0].result.get("published"))
        return True

    await until(reached, f"the close to be {moment}", timeout=20)
    names = [w.name for w in cluster.workers]
    assert len(names) == 2, names
    say(f"close {moment}: kill -9 {names}")
    while cluster.workers:
        await cluster.kill_worker(0)
    for name in names:
        doubt.update(await in_doubt(database, name))
    for _ in names:
        cluster.replace(cluster.start_worker)


async def _modal(person: Any) -> bool:
    return person.ws.top_modal(person.id) is not None


async def _views_match(sb: Sandbox, database: Database, config: Any, incident_id: int) -> bool:
    await assert_views_match_db(sb, database, config, incident_id)
    return True
