"""APScheduler wakes the process up; the reminder rows decide what is done.

Each process runs one ``AsyncIOScheduler`` with two jobs and no job store of its own (job
stores must never be shared between schedulers): a wake-up at the earliest pending due time,
rebuilt from the rows at start-up and after every change, and a safety sweep every
``sweep_seconds`` that catches rows another process added. A pass claims due rows, sends them
and marks them sent; a failed send goes back with a backoff.

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
from storage.db import Database
from storage.models import Reminder

log = logging.getLogger(__name__)

WAKE_JOB = "reminders-wake"
SWEEP_JOB = "reminders-sweep"


Send = Callable[[Reminder], Awaitable[Delivered]]


@dataclass
class Pass:
    """What one pass did: ids sent, ids put back for a retry."""

    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)


class ReminderScheduler:
    def __init__(
        self,
        database: Database,
        config: IncidentConfig,
        clock: Clock,
        send: Send,
        *,
        cadences: Mapping[str, timedelta] | None = None,
        worker: str | None = None,
        sweep_seconds: float = 30.0,
        concurrency: int = 8,
        track: Callable[[Awaitable[None]], object] | None = None,
    ) -> None:
        self.db = database
        self.config = config
        self.clock = clock
        self.send = send
        self.cadences = dict(cadences) if cadences is not None else reminders.cadences()
        self.worker = worker or f"sched-{uuid.uuid4().hex[:10]}"
        self.sweep_seconds = sweep_seconds
        self._limit = asyncio.Semaphore(concurrency)
        self._pass_lock = asyncio.Lock()
        self._track = track
        self._scheduler: AsyncIOScheduler | None = None
        self._wake_at: datetime | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self._stopped = False

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the scheduler with its sweep; the first pass runs right away (catch-up)."""
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )
        scheduler.add_job(
            self._job,
            IntervalTrigger(seconds=self.sweep_seconds, timezone=UTC),
            id=SWEEP_JOB,
            replace_existing=True,
        )
        scheduler.start()
        self._scheduler = scheduler
        self._kick()

    async def stop(self) -> None:
        self._stopped = True
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        # A pass in progress finishes what it claimed (or its claims expire for the next process).
        async with self._pass_lock:
            pass

    @property
    def running(self) -> bool:
        return self._scheduler is not None

    # -- entry points ---------------------------------------------------------------------

    async def changed(self) -> None:
        """Something the reminders depend on changed: re-derive the rows, then re-aim the wake-up."""
        if self._stopped:
            return
        now = self.clock.now()
        await reminders.sync_all(self.db, self.config, now, self.cadences)
        await self.rebuild()

    async def rebuild(self) -> None:
        """Aim the one wake-up job at the earliest pending due time."""
        if self._scheduler is None:
            return
        due = await reminders.next_due(self.db)
        if due is None:
            self._remove_wake()
            return
        # The rows speak the injected clock; APScheduler speaks the wall clock. Translate.
        delay = max((due - self.clock.now()).total_seconds(), 0.0)
        run_at = datetime.now(UTC) + timedelta(seconds=delay)
        self._wake_at = due
        self._scheduler.add_job(
            self._job,
            DateTrigger(run_date=run_at, timezone=UTC),
            id=WAKE_JOB,
            replace_existing=True,
        )

    async def run_due(self) -> Pass:
        """One pass: re-derive rows, then claim, send and record everything due now, until none is left.

        Passes in one process take turns, so when this returns every reminder due at the
        moment it was called has been sent or put back for a retry.
        """
        async with self._pass_lock:
            result = Pass()
            if self._stopped:
                return result
            try:
                await reminders.sync_all(self.db, self.config, self.clock.now(), self.cadences)
            except Exception:
                log.exception("reminder sync failed; sending what is already due")
            while True:
                now = self.clock.now()
                batch = await reminders.claim_due(self.db, self.worker, now)
                if not batch:
                    break
                await asyncio.gather(*(self._deliver(row, result) for row in batch))
            await self.rebuild()
            return result

    # -- internals ------------------------------------------------------------------------

    async def _job(self) -> None:
        """APScheduler's job only starts a pass: the job returns at once, so a wake-up re-aimed
        during a pass is never skipped as "maximum number of running instances reached"."""
        self._kick()

    def _kick(self) -> None:
        if self._track is not None:
            self._track(self._safe_pass())
        else:
            task = asyncio.ensure_future(self._safe_pass())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _safe_pass(self) -> None:
        try:
            await self.run_due()
        except Exception:
            log.exception("reminder pass failed; the sweep will try again")

    def _remove_wake(self) -> None:
        if self._scheduler is not None and self._scheduler.get_job(WAKE_JOB) is not None:
            self._scheduler.remove_job(WAKE_JOB)
        self._wake_at = None

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
