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

import pytest
from sqlalchemy import select

from bot.embedded import SANDBOX_ROLES
from incident.config import load_config
from sandbox.server import Sandbox
from storage import outbox
from storage.db import Database
from storage.models import Effect, Incident
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

# Real `breachroom` processes: run after the parallel part of the suite (Makefile), not beside it.
pytestmark = pytest.mark.processes

ARCHIVE = "Archive the incident channel after closing"
IVAN = "UIVAN0001"
WORKER_NAME = re.compile(rb"delivering effects and reminders as (worker-[0-9a-f]+)")


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
    t0: float = field(default_factory=time.monotonic)

    def say(self, what: str) -> None:
        """What happened when: the seed and the kills, to read a failure by."""
        print(f"{time.monotonic() - self.t0:6.1f}s {what}")

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


class Script:
    """The whole incident, as the people in it do it through Slack."""

    def __init__(self, sb: Sandbox, database: Database) -> None:
        self.sb, self.database = sb, database
        self.alice, self.heidi, self.dave = sb.person("alice"), sb.person("heidi"), sb.person("dave")
        self.incident: Incident | None = None

    @property
    def channel(self) -> str:
        assert self.incident is not None and self.incident.channel_id
        return self.incident.channel_id

    def steps(self) -> list[Step]:
        return [
            Step("declare", self.declare, self.declared),
            Step(
                "assign a role", self.assign, lambda: self.has("role_assigned", role="tech_lead", after=IVAN)
            ),
            *(
                Step(f"done: {item}", self.click(item), lambda n=n: self.has("item_done", n + 1))
                for n, item in enumerate(ITEMS[:3])
            ),
            Step("status update", self.update, lambda: self.has("status_update")),
            Step("notify", self.notify, lambda: self.has("notification_recorded")),
            Step("resolve", self.resolve, lambda: self.has("resolved")),
            Step("close", self.close, lambda: self.has("closed")),
        ]

    async def has(self, kind: str, count: int = 1, **data: Any) -> bool:
        assert self.incident is not None and self.incident.id is not None
        events = await timeline(self.database, self.incident.id)
        found = [e for e in events if e.kind == kind and all(e.data.get(k) == v for k, v in data.items())]
        return len(found) >= count

    async def form(self, person: Any, command: str, fields: dict[str, Any], channel: str) -> None:
        await self.fill(person, lambda: person.command(command, channel=channel), fields)

    async def fill(
        self, person: Any, open_form: Callable[[], Awaitable[Any]], fields: dict[str, Any]
    ) -> None:
        """Open a form (a command, a button), wait for it, fill it in and submit it."""
        before = {v.id for v in person.ws.views.values() if not v.closed}
        await open_form()

        async def opened() -> bool:
            top = person.ws.top_modal(person.id)
            return top is not None and top.id not in before

        await until(opened, "the form", timeout=10)
        delivery = await person.submit(fields)
        assert delivery.status == 200 and not delivery.errors, (delivery.status, delivery.errors)

    async def declare(self) -> None:
        fields = {
            "Severity": "SEV2",
            "Data categories": ["payroll"],
            "Jurisdictions": ["China"],
            "Affected clients": "Acme Trading",
            "Our role for this data": "Controller (we decide why the data is processed)",
        }
        await self.form(self.alice, "declare Ledger backups exposed", fields, "C0GENERAL1")

    async def declared(self) -> bool:
        self.incident = await latest_incident(self.database)
        return self.incident is not None

    async def set_up(self) -> bool:
        """The channel is built: its checklists posted, the role holders told."""
        self.incident = await latest_incident(self.database)
        if self.incident is None or not self.incident.channel_id:
            return False
        checklist_message(self.sb, self.channel, "Respond")
        return bool((self.incident.setup or {}).get("role_dms"))

    async def assign(self) -> None:
        await self.heidi.command(f"role tech_lead <@{IVAN}|ivan>", channel=self.channel)

    def click(self, item: str) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            await self.heidi.click(checklist_message(self.sb, self.channel, "Respond"), "Done", near=item)

        return act

    async def update(self) -> None:
        card = self.sb.channel(self.channel).message_with_button("Post update")
        fields = {"Update": "Backups share taken offline; logs kept"}
        await self.fill(self.heidi, lambda: self.heidi.click(card, "Post update"), fields)

    async def notify(self) -> None:
        fields = {"recipient": "Shanghai CAC", "sent_at": int(time.time()) - 60}
        await self.form(self.dave, "notify cn-pipl-57", fields, self.channel)

    async def resolve(self) -> None:
        await self.form(self.heidi, "resolve", {"Stage reached": "resolved"}, self.channel)

    async def close(self) -> None:
        fields = {"Lessons learned": "Backups need their own credentials.", "Channel": [ARCHIVE]}
        await self.form(self.heidi, "close", fields, self.channel)


@dataclass
class Chaos:
    """Whom to kill and when, from one seed; what the killed workers left in doubt."""

    rng: random.Random
    cluster: Cluster
    database: Database
    # Effects a killed worker held, their result as the kill left them: it may have made their
    # Slack call and died before the commit that records it.
    doubt: dict[int, dict[str, Any]] = field(default_factory=dict)

    async def kill_one(self, after: str) -> bool:
        """Kill one front or one worker, then start another; True if a front (the step may be lost)."""
        cluster = self.cluster
        front = self.rng.random() < 0.4
        if len(cluster.fronts if front else cluster.workers) < 2:
            await cluster.started_all()  # never the last front or the last worker
        if front:
            # The front that took the step's last request (a person's, not an event Slack sent
            # meanwhile, which is JSON), its work after the ack perhaps still in flight.
            took = next(url for url, body in reversed(cluster.served) if not body.startswith(b"{"))
            cluster.say(f"after {after!r}: kill -9 the front that took it")
            await cluster.kill_front([f.url for f in cluster.fronts].index(took))
            cluster.replace(cluster.start_front)
            return True
        index = self.rng.randrange(len(cluster.workers))
        victim = cluster.workers[index]
        if self.rng.random() < 0.6:
            # Mid-delivery: once it holds a claim (or soon, if it gets none).
            async def holding() -> bool:
                return bool(await in_doubt(self.database, victim.name))

            try:
                await until(holding, "a claim", timeout=3)
            except AssertionError:
                pass
        cluster.say(f"after {after!r}: kill -9 {victim.name}")
        await cluster.kill_worker(index)
        self.doubt.update(await in_doubt(self.database, victim.name))
        cluster.replace(cluster.start_worker)
        return False

    async def kill_workers_during_close(self, incident_id: int) -> None:
        """Once the close has committed, kill both workers before they finish its effect: at the
        commit, once a worker has claimed the effect, or once it has published the post-mortem."""
        moment = self.rng.choice(["committed", "claimed", "published"])

        async def reached() -> bool:
            rows = [e for e in await effects_of(self.database, incident_id) if e.kind == outbox.CLOSE]
            if not rows:
                return False
            if moment == "claimed":
                return rows[0].status != outbox.PENDING
            if moment == "published":
                if rows[0].status == outbox.DONE:
                    self.cluster.say("the close was done before the poll saw it published")
                    return True
                return bool(rows[0].result.get("published"))
            return True

        # Polled closely: the window between the post-mortem and the archive is short.
        await until(reached, f"the close to be {moment}", timeout=20, every=0.01)
        names = [w.name for w in self.cluster.workers]
        assert len(names) == 2, names
        self.cluster.say(f"close {moment}: kill -9 {names}")
        while self.cluster.workers:
            await self.cluster.kill_worker(0)
        for name in names:
            self.doubt.update(await in_doubt(self.database, name))
            self.cluster.replace(self.cluster.start_worker)


async def test_kill_9_across_a_whole_incident_with_two_fronts_and_two_workers(
    db_url: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("BREACHROOM_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    config = load_config(None, None, None)
    async with workspace(db_url) as (sb, database):
        sb.rate_limit_scale = RATE_LIMIT_SCALE
        cluster = Cluster(sb, db_url, tmp_path)
        cluster.say(f"BREACHROOM_FAULT_SEED={seed}")
        chaos = Chaos(random.Random(seed), cluster, database)
        doubt = chaos.doubt
        try:
            async with asyncio.TaskGroup() as group:
                for start in (cluster.start_front, cluster.start_front) + (cluster.start_worker,) * 2:
                    group.create_task(start())
            cluster.say("two fronts and two workers up")
            async with round_robin(sb, cluster.targets, cluster.served):
                script = Script(sb, database)
                steps = script.steps()
                # Kill points: right after these steps' acks, the work they started in flight.
                # The close has its own.
                kill_after = set(chaos.rng.sample(range(len(steps) - 1), 3))
                for n, step in enumerate(steps):
                    if step.name == "close":
                        await cluster.started_all()  # both workers up, to be killed mid-close
                    await step.act()
                    front_killed = await chaos.kill_one(step.name) if n in kill_after else False
                    if step.name == "close":
                        assert script.incident is not None and script.incident.id is not None
                        await chaos.kill_workers_during_close(script.incident.id)
                    if front_killed and not await step.done():
                        # The front acked and died before its commit (a dead process commits
                        # nothing more): do it again, as a person would who sees nothing happen.
                        cluster.say(f"{step.name!r} was lost with the front: again")
                        await step.act()
                    await until(step.done, step.name, timeout=20)
                    cluster.say(step.name)
                    if step.name == "declare":
                        await until(script.set_up, "the set-up", timeout=60)
                await cluster.started_all()
                incident = script.incident
                assert incident is not None and incident.id is not None and incident.channel_id

                async def drained() -> bool:
                    backlog = await outbox.backlog(database)
                    return backlog.pending == 0 and sb.channel(incident.channel_id).is_archived

                await until(drained, "the outbox to drain", timeout=90)
                cluster.say("outbox drained")
                await until(
                    lambda: _views_match(sb, database, config, incident.id),
                    "the views to match the database",
                    timeout=10,
                )
        finally:
            await cluster.stop()
            cluster.say(f"killed workers: {cluster.killed}; effects in doubt: {doubt}")

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
        announces = [e for e in effects if e.kind == outbox.ANNOUNCE]
        posted = {e.payload["event_id"] for e in announces if e.result.get("ts")}
        for kind in ("status_update", "notification_recorded"):  # the script's announced events
            assert {e.id for e in events if e.kind == kind} <= posted, f"no line about {kind}"
        for effect in announces:
            ts = effect.result.get("ts")
            if not ts:
                # Only an event after the close may find the channel archived, with no line.
                assert seq_of[effect.payload["event_id"]] > closed_seq, (effect.id, effect.payload)
                continue
            [line] = [m for m in messages if m.ts == ts]
            copies = sum(m.all_text == line.all_text for m in messages)
            repeat_possible = effect.id in doubt and not doubt[effect.id].get("ts")
            if repeat_possible and copies == 2:
                cluster.say(f"announce effect {effect.id}: posted twice, a worker died before recording it")
            assert 1 <= copies <= (2 if repeat_possible else 1), (effect.id, copies, line.all_text)

        code, out = await verify_cli(db_url, incident.key)
        assert code == 0 and "timeline intact" in out, out
        assert not sb.violations
    cluster.say("done")


async def _views_match(sb: Sandbox, database: Database, config: Any, incident_id: int) -> bool:
    await assert_views_match_db(sb, database, config, incident_id)
    return True
