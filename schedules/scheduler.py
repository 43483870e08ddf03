"""The delivery engine: APScheduler wakes the process up; the effect and reminder rows decide.

One mechanism delivers both queues (claim-and-lease, ``storage/leases.py``): the outbox's effects
(re-render an incident's views, announce an event, publish a post-mortem, archive a channel; see
``storage/outbox.py``) and the reminders, which are effects with a due time derived from the
incident's state (``incident/reminders.py``). A pass drains what is due in both, effects first
(a person is waiting to see their click), then re-aims the wake-up.

Each process runs one ``AsyncIOScheduler`` with no job store of its own (job stores must never be
shared between schedulers): a wake-up at the earliest due row, a poll every ``poll_seconds`` that
picks up effects other processes wrote (a front started with ``--no-worker`` writes them and
never delivers), and a sweep every ``sweep_seconds`` that re-derives every open incident's
reminders. In the process that wrote an effect, ``kick`` starts a pass at once.

APScheduler's default misfire grace of 1 s silently drops a job that runs late (a busy loop, a
suspended laptop); ours is unlimited, and the rows make a late run harmless anyway.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from incident import reminders
from incident.clock import Clock
from incident.config import IncidentConfig
from incident.reminders import Delivered, SendFailed
from storage import outbox
from storage.db import Database
from storage.models import Effect, Reminder

log = logging.getLogger(__name__)

WAKE_JOB = "delivery-wake"
POLL_JOB = "delivery-poll"
SWEEP_JOB = "reminders-sweep"


Send = Callable[[Reminder], Awaitable[Delivered]]
# Delivers one effect; raises SendFailed (with Slack's Retry-After, or permanent) to put it back.
Perform = Callable[[Effect], Awaitable[None]]


@dataclass
class Pass:
    """What one pass did: reminder ids sent, put back for a retry, or lost; effect ids delivered."""

    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)
    effects: list[int] = field(default_factory=list)
    effects_failed: list[int] = field(default_factory=list)


class DeliveryEngine:
    def __init__(
        self,
        database: Database,
        config: IncidentConfig,
        clock: Clock,
        send: Send,
        perform: Perform | None = None,
        *,
        cadences: Mapping[str, timedelta] | None = None,
        worker: str | None = None,
        sweep_seconds: float = 30.0,
        poll_seconds: float = 1.0,
        concurrency: int = 8,
        track: Callable[[Awaitable[None]], object] | None = None,
    ) -> None:
        self.db = database
        self.config = config
        self.clock = clock
        self.send = send
        self.perform = perform
        self.cadences = dict(cadences) if cadences is not None else reminders.cadences()
        self.worker = worker or f"worker-{uuid.uuid4().hex[:10]}"
        self.sweep_seconds = sweep_seconds
        self.poll_seconds = poll_seconds
        self._limit = asyncio.Semaphore(concurrency)
        self._pass_lock = asyncio.Lock()
        self._track = track
        self._scheduler: AsyncIOScheduler | None = None
        self._wake_at: datetime | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self._stopped = False
        self._again = False

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the scheduler with its poll and sweep; the first pass runs right away (catch-up)."""
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )
        scheduler.add_job(
            self._sweep, IntervalTrigger(seconds=self.sweep_seconds, timezone=UTC), id=SWEEP_JOB
        )
        scheduler.add_job(self._job, IntervalTrigger(seconds=self.poll_seconds, timezone=UTC), id=POLL_JOB)
        scheduler.start()
        self._scheduler = scheduler
        self._kick(sync=True)

    async def stop(self) -> None:
        self._stopped = True
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        # A pass in progress finishes what it claimed (or its claims expire for the next worker).
        async with self._pass_lock:
            pass

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    # -- entry points ---------------------------------------------------------------------

    def kick(self) -> None:
        """Effects were written: deliver them now (no-op in a front without a worker)."""
        if self._scheduler is not None and not self._stopped:
            self._kick()

    async def changed(self) -> None:
        """Something every incident's reminders depend on changed (a cadence set in Slack):
        re-derive all the rows, then re-aim the wake-up."""
        if self._stopped:
            return
        await reminders.sync_all(self.db, self.config, self.clock.now(), self.cadences)
        await self.rebuild()

    async def rebuild(self) -> None:
        """Aim the one wake-up job at the earliest due row of either queue."""
        if self._scheduler is None:
            return
        times = [t for t in (await reminders.next_due(self.db), await outbox.next_due(self.db)) if t]
        if not times:
            self._remove_wake()
            return
        due = min(times)
        # The rows speak the injected clock; APScheduler speaks the wall clock. Translate.
        delay = max((due - self.clock.now()).total_seconds(), 0.0)
        run_at = datetime.now(UTC) + timedelta(seconds=delay)
        self._wake_at = due
        self._scheduler.add_job(
            self._job, DateTrigger(run_date=run_at, timezone=UTC), id=WAKE_JOB, replace_existing=True
        )

    async def run_due(self, *, sync: bool = False) -> Pass:
        """One pass: deliver every effect and reminder due now, until none is left.

        Passes in one process take turns, so when this returns everything due at the moment it
        was called has been delivered or put back for a retry. With ``sync``, every open
        incident's reminder rows are re-derived first (the sweep; one incident's are re-derived
        by its ``views`` effect whenever it changes).
        """
        async with self._pass_lock:
            result = Pass()
            if self._stopped:
                return result
            self._again = False
            if sync:
                try:
                    await reminders.sync_all(self.db, self.config, self.clock.now(), self.cadences)
                except Exception:
                    log.exception("reminder sync failed; sending what is already due")
                try:  # delivered effects are kept a while for doctor and forensics, then dropped
                    await outbox.prune(self.db, self.clock.now() - outbox.KEEP_DONE)
                except Exception:
                    log.exception("could not prune delivered effects")
            while True:
                if self.perform is not None:
                    effects = await outbox.claim_due(self.db, self.worker, self.clock.now())
                    if effects:
                        await self._perform_all(effects, result)
                        continue
                await self._sync_due()
                batch = await reminders.claim_due(self.db, self.worker, self.clock.now())
                if not batch:
                    break
                await asyncio.gather(*(self._deliver(row, result) for row in batch))
            await self.rebuild()
            return result

    # -- internals ------------------------------------------------------------------------

    async def _sync_due(self) -> None:
        now = self.clock.now()
        for incident_id in await reminders.due_incidents(self.db, now):
            try:
                await reminders.sync_incident(self.db, incident_id, self.config, now, self.cadences)
            except Exception:
                log.exception("reminders of incident %s could not be derived", incident_id)

    async def _job(self) -> None:
        """APScheduler's job only starts a pass: the job returns at once, so a wake-up re-aimed
        during a pass is never skipped as "maximum number of running instances reached"."""
        self._kick()

    async def _sweep(self) -> None:
        self._kick(sync=True)

    def _kick(self, *, sync: bool = False) -> None:
        if self._pass_lock.locked() and not sync:
            # The pass in progress claims again before it ends; one more pass covers the rest.
            if self._again:
                return
            self._again = True
        coro = self._safe_pass(sync)
        if self._track is not None:
            self._track(coro)
        else:
            task = asyncio.ensure_future(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _safe_pass(self, sync: bool) -> None:
        try:
            await self.run_due(sync=sync)
        except Exception:
            log.exception("delivery pass failed; the poll will try again")

    def _remove_wake(self) -> None:
        if self._scheduler is not None and self._scheduler.get_job(WAKE_JOB) is not None:
            self._scheduler.remove_job(WAKE_JOB)
        self._wake_at = None

    async def _perform_all(self, effects: list[Effect], result: Pass) -> None:
        """One incident's effects in the order they were written (its set-up before its re-render);
        different incidents side by side."""
        by_incident: dict[int | None, list[Effect]] = {}
        for row in sorted(effects, key=lambda e: e.id or 0):
            by_incident.setdefault(row.incident_id, []).append(row)

        async def in_order(rows: list[Effect]) -> None:
            for row in rows:
                await self._perform(row, result)

        renewal = asyncio.ensure_future(self._renew([e.id for e in effects if e.id is not None]))
        try:
            await asyncio.gather(*(in_order(rows) for rows in by_incident.values()))
        finally:
            renewal.cancel()

    async def _renew(self, effect_ids: list[int]) -> None:
        """Keep the claims of a batch alive while it is being delivered."""
        while True:
            await asyncio.sleep(outbox.LEASE.total_seconds() / 3)
            try:
                await outbox.renew(self.db, effect_ids, self.worker, self.clock.now() + outbox.LEASE)
            except Exception:
                log.warning("could not renew effect claims; they may be taken over", exc_info=True)

    async def _perform(self, row: Effect, result: Pass) -> None:
        assert row.id is not None and self.perform is not None
        async with self._limit:
            try:
                await self.perform(row)
            except SendFailed as exc:
                status = await outbox.mark_failed(
                    self.db,
                    row.id,
                    self.worker,
                    now=self.clock.now(),
                    error=exc.error,
                    retry_after=exc.retry_after,
                    permanent=exc.permanent,
                    waiting=exc.waiting,
                )
                log.warning("effect %s (%s) failed: %s; now %s", row.id, row.kind, exc.error, status)
                result.effects_failed.append(row.id)
                return
            except Exception as exc:
                log.exception("effect %s (%s) failed", row.id, row.kind)
                await outbox.mark_failed(
                    self.db, row.id, self.worker, now=self.clock.now(), error=type(exc).__name__
                )
                result.effects_failed.append(row.id)
                return
        if await outbox.mark_done(self.db, row.id, self.worker, self.clock.now()):
            result.effects.append(row.id)
        else:
            log.warning("effect %s was delivered but its claim had expired", row.id)

    async def _deliver(self, row: Reminder, result: Pass) -> None:
        assert row.id is not None
        async with self._limit:
            try:
                delivered = await self.send(row)
            except SendFailed as exc:
                await self._failed(row, exc.error, exc.retry_after, result)
                return
            except Exception as exc:
                log.exception("reminder %s could not be sent", row.id)
                await self._failed(row, type(exc).__name__, None, result)
                return
        ok = await reminders.mark_sent(
            self.db,
            row.id,
            self.worker,
            channel_id=delivered.channel_id,
            message_ts=delivered.message_ts,
            now=self.clock.now(),
            summary=delivered.summary,
        )
        (result.sent if ok else result.lost).append(row.id)
        if not ok:
            log.warning("reminder %s was sent but its claim had expired", row.id)

    async def _failed(self, row: Reminder, error: str, retry_after: float | None, result: Pass) -> None:
        assert row.id is not None
        retry_at = await reminders.mark_failed(
            self.db, row.id, self.worker, now=self.clock.now(), error=error, retry_after=retry_after
        )
        log.warning("reminder %s failed (%s); retry at %s", row.id, error, retry_at)
        result.retried.append(row.id)
