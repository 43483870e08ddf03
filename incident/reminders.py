"""Reminders are rows: which ones an incident wants, and the claim / send / retry life of each row.

The scheduler (``schedules/``) only decides *when* to look at the rows; everything that makes a
reminder arrive once, on time, to the right person lives here and in the database:

- ``sync`` derives the reminders an incident wants from its state (severity cadence, overdue
  checklist items, unfilled roles, regulatory clocks, follow-up actions after close) and
  upserts them by ``dedupe_key``; pending rows no longer wanted are cancelled.
- ``claim_due`` takes due rows atomically, so two processes never send the same one, and a
  claim left behind by a crash expires and is taken again.
- ``mark_sent`` records the send with its ``reminder_sent`` timeline event in one transaction;
  ``mark_failed`` puts the row back with a backoff: delayed, never dropped.

One row is one message to one place (a DM or the incident channel), so a failure half-way
through a reminder to several people re-sends only what did not arrive.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from incident import firm_facts, lookup, roster
from incident.clocks import NO_NOTIFY, ClockView, clocks
from incident.config import IncidentConfig
from incident.errors import Invalid
from incident.limits import Field
from incident.overview import open_phase_keys, playbook_of
from incident.redact import Redacted, scrub_required, with_counts
from incident.regimes import CLOCK_STARTS, REMINDER_OFFSETS, Duration
from incident.roles_config import COMMANDER
from incident.severity import SEVERITIES, cadence
from storage import leases, timeline
from storage.db import Database
from storage.models import (
    ActionItem,
    ChecklistItem,
    Decision,
    Incident,
    Notification,
    Reminder,
    TimelineEvent,
)
from storage.sql import rows_changed

log = logging.getLogger(__name__)

# Kinds of reminder.
STATUS = "status_update"
ITEM = "item_overdue"
ROLE = "role_unfilled"
CLOCK = "clock"
ACTION = "action_due"
KINDS = (STATUS, ITEM, ROLE, CLOCK, ACTION)

PENDING, CLAIMED, SENT, CANCELLED, DONE = "pending", "claimed", "sent", "cancelled", "done"

# The roles a regulatory clock reminds besides the channel.
CLOCK_ROLES = (COMMANDER, "legal", "compliance")
# People may still be assigning roles right after declaring; remind about a gap after this.
UNFILLED_GRACE = timedelta(minutes=15)
# A claim outlives any single send (Slack's own retries included); a crashed sender's expires.
LEASE = timedelta(minutes=5)
# A clock reminder first derived a little after its moment (the sweep's delay) is still sent.
LATE_GRACE = timedelta(minutes=15)
SNOOZE_CHOICES = (30, 60, 240)  # minutes
ACTIVE_STATUSES = ("open", "contained")  # status updates are due while the response runs
MAX_BACKOFF = timedelta(minutes=10)


# --------------------------------------------------------------------------- cadence


class CadenceError(ValueError):
    """A cadence override in the environment is not a duration."""


def cadences(environ: Mapping[str, str] | None = None) -> dict[str, timedelta]:
    """Status-update cadence per severity: ``BREACHROOM_CADENCE_SEV1``.. (e.g. ``45m``, ``2h``)
    override the severity matrix file (``incident/data/severity.yaml``).

    A malformed value raises ``CadenceError`` naming the variable, so start-up fails clearly.
    """
    env = os.environ if environ is None else environ
    result: dict[str, timedelta] = {}
    problems: list[str] = []
    for severity in SEVERITIES:
        name = f"BREACHROOM_CADENCE_{severity}"
        raw = env.get(name)
        if raw:
            try:
                every = Duration.parse(raw)
                if every.unit == "bd":
                    raise ValueError("use m, h or d, not business days")
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
                continue
            result[severity] = every.after(_EPOCH) - _EPOCH
        else:
            result[severity] = cadence(severity)
    if problems:
        raise CadenceError("; ".join(problems))
    return result


# --------------------------------------------------------------------------- what is wanted


@dataclass(frozen=True)
class Wanted:
    key: str
    kind: str
    ref: str
    target: str  # a user id (DM) or the incident channel id
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class State:
    """Everything ``wanted`` reads, loaded in one go."""

    incident: Incident
    holders: dict[str, str]
    items: list[ChecklistItem]
    actions: list[ActionItem]
    notifications: list[Notification]
    rows: list[Reminder]
    last_update_at: datetime | None
    role_vacated_at: dict[str, datetime]
    declined: list[Decision] = field(default_factory=list)
    firm: dict[str, bool] = field(default_factory=dict)  # the firm's answers (incident/firm_facts.py)


def _ts(at: datetime) -> int:
    return int(at.timestamp())


def _dm_targets(holders: Mapping[str, str], roles: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(holders[r] for r in roles if holders.get(r)))


def wanted(
    state: State, config: IncidentConfig, cadence_of: Mapping[str, timedelta], now: datetime
) -> list[Wanted]:
    """The reminders the incident wants now. Pure: no I/O."""
    inc = state.incident
    assert inc.id is not None
    iid = inc.id
    out: list[Wanted] = []
    existing = {r.dedupe_key: r for r in state.rows if r.dedupe_key}
    commander = state.holders.get(COMMANDER) or inc.declared_by
    closed = inc.status == "closed"

    # Status-update cadence: from the last update (or the declaration); repeats until one is posted.
    if inc.status in ACTIVE_STATUSES and inc.channel_id:
        anchor = state.last_update_at or inc.declared_at
        every = cadence_of.get(inc.severity) or cadence(inc.severity)
        prefix = f"status:{iid}:{_ts(anchor)}:"
        handled = [
            r
            for r in state.rows
            if r.kind == STATUS
            and (r.dedupe_key or "").startswith(prefix)
            and r.status in (CLAIMED, SENT, DONE)
        ]
        base = max([anchor, *(r.sent_at or r.due_at for r in handled)])
        out.append(
            Wanted(
                key=f"{prefix}{len(handled) + 1}",
                kind=STATUS,
                ref=str(_ts(anchor)),
                target=inc.channel_id,
                due_at=base + every,
                payload={"every_s": int(every.total_seconds()), "last_update_at": anchor.isoformat()},
            )
        )

    if not closed:
        # Overdue checklist items of the phases that are out: the person, plus a line in the channel.
        open_keys = set(open_phase_keys(inc, playbook_of(inc)))
        for item in state.items:
            if item.state != "open" or item.due_at is None or item.phase not in open_keys:
                continue
            who = item.assignee or state.holders.get(item.owner_role) or commander
            base_key = f"item:{item.id}:{_ts(item.due_at)}"
            payload = {
                "item_id": item.id,
                "item_key": item.item_key,
                "owner_role": item.owner_role,
                "due_at": item.due_at.isoformat(),
            }
            out.append(Wanted(f"{base_key}:dm:{who}", ITEM, item.item_key, who, item.due_at, payload))
            if inc.channel_id:
                out.append(
                    Wanted(
                        f"{base_key}:channel",
                        ITEM,
                        item.item_key,
                        inc.channel_id,
                        item.due_at,
                        {**payload, "owner": who},
                    )
                )

        # Unfilled roles: the commander (or, without one, the declarer) is told once per vacancy.
        for role in roster.unfilled(state.holders, config.roles):
            since = max(inc.declared_at, state.role_vacated_at.get(role, inc.declared_at))
            out.append(
                Wanted(
                    f"role:{iid}:{role}:{_ts(since)}",
                    ROLE,
                    role,
                    commander,
                    since + UNFILLED_GRACE,
                    {"role": role},
                )
            )

        # Regulatory clocks still open (or already overdue): one reminder per obligation that
        # applies, and one per regime and deadline for those that only may apply (alternatives
        # such as GDPR's lead authority vs every authority, decided by one fact, remind once).
        targets = _dm_targets(state.holders, CLOCK_ROLES) or [commander]
        if inc.channel_id:
            targets = [inc.channel_id, *targets]
        views = clocks(inc, state.notifications, config.regimes, now, state.declined, state.firm)
        for subject in clock_subjects(views):
            moments = [(label, subject.deadline - offset) for label, offset in REMINDER_OFFSETS]
            for index, (label, at) in enumerate(moments):
                # Superseded: a later reminder of the same clock is due too (the bot was down, or
                # the facts put the clock start in the past). Only the latest one is worth sending.
                if any(later <= now for _, later in moments[index + 1 :]):
                    continue
                for target in targets:
                    key = f"clock:{iid}:{subject.key}:{_ts(subject.deadline)}:{label}:{target}"
                    # A moment long past when first seen is skipped (the clock started late, e.g. a
                    # backdated discovery); a row that exists fires late, once.
                    if label != "overdue" and at < now - LATE_GRACE and key not in existing:
                        continue
                    out.append(
                        Wanted(
                            key,
                            CLOCK,
                            subject.ids[0],
                            target,
                            at,
                            {**subject.payload, "label": label, "deadline_at": subject.deadline.isoformat()},
                        )
                    )

    # After close: follow-up actions remind their owners when due.
    if closed:
        for action in state.actions:
            if action.status != "open" or action.due_at is None:
                continue
            who = action.owner or commander
            out.append(
                Wanted(
                    f"action:{action.id}:{_ts(action.due_at)}:{who}",
                    ACTION,
                    str(action.id),
                    who,
                    action.due_at,
                    {"action_id": action.id, "due_at": action.due_at.isoformat()},
                )
            )
    return out


@dataclass(frozen=True)
class ClockSubject:
    """What one regulatory reminder is about: an obligation that applies, or the obligations of one
    regime that may apply with the same deadline, and the facts that decide them."""

    key: str  # the dedupe key's part naming it
    ids: tuple[str, ...]
    deadline: datetime
    deciding: tuple[str, ...] = ()

    @property
    def may_apply(self) -> bool:
        return bool(self.key.endswith(MAY_APPLY))

    @property
    def payload(self) -> dict[str, Any]:
        if not self.may_apply:
            return {"obligation": self.ids[0]}
        return {
            "obligation": self.ids[0],
            "may_apply": True,
            "obligations": list(self.ids),
            "deciding": list(self.deciding),
        }


MAY_APPLY = ":may"


def clock_subjects(views: Iterable[ClockView]) -> list[ClockSubject]:
    """The regulatory reminders the clocks want: each obligation that applies on its own; those
    whose status is unknown grouped per regime and deadline, naming the facts still needed to decide
    them (those that decide whether they apply first, then the rest, such as an unknown start)."""
    out: list[ClockSubject] = []
    maybe: dict[tuple[str, datetime], list[ClockView]] = {}
    # An alternative already notified (or declined) answers the regime's duty for that deadline:
    # its siblings that only may apply stay on the card but no longer remind.
    answered = {
        (v.regime_id, v.deadline_at) for v in views if v.state not in ("open", "overdue") and v.deadline_at
    }
    for view in views:
        deadline = view.deadline_at
        if view.state not in ("open", "overdue") or not deadline:
            continue
        if view.applicability.status == "applies":
            out.append(ClockSubject(view.id, (view.id,), deadline))
        elif (
            view.applicability.status == "unknown"
            and (view.regime_id, deadline) not in answered
            # While nobody has said where the people affected are, every law in the file may apply:
            # those clocks show on the card, but only a place that is known reminds.
            and "jurisdictions" not in view.applicability.missing_facts
        ):
            maybe.setdefault((view.regime_id, deadline), []).append(view)
    for (regime_id, deadline), group in maybe.items():
        missing = list(dict.fromkeys(f for v in group for f in v.applicability.missing_facts))
        deciding = [f for f in missing if f not in CLOCK_STARTS] + [f for f in missing if f in CLOCK_STARTS]
        out.append(
            ClockSubject(f"{regime_id}{MAY_APPLY}", tuple(v.id for v in group), deadline, tuple(deciding))
        )
    return out


async def load_state(db: AsyncSession, incident: Incident) -> State:
    assert incident.id is not None
    iid = incident.id

    async def rows_of(model: Any) -> list[Any]:
        return list((await db.execute(select(model).where(model.incident_id == iid))).scalars())

    last_update = (
        await db.execute(
            select(func.max(TimelineEvent.at)).where(
                TimelineEvent.incident_id == iid, TimelineEvent.kind == "status_update"
            )
        )
    ).scalar_one_or_none()
    vacated: dict[str, datetime] = {}
    for assignment in await roster.history(db, iid):
        if assignment.relieved_at is not None:
            vacated[assignment.role] = max(
                vacated.get(assignment.role, assignment.relieved_at), assignment.relieved_at
            )
    return State(
        incident=incident,
        holders=await roster.current(db, iid),
        items=await rows_of(ChecklistItem),
        actions=await rows_of(ActionItem),
        notifications=await rows_of(Notification),
        rows=await rows_of(Reminder),
        last_update_at=last_update,
        role_vacated_at=vacated,
        declined=[d for d in await rows_of(Decision) if d.kind == NO_NOTIFY],
        firm=await firm_facts.load(db),
    )


@dataclass(frozen=True)
class Synced:
    added: int = 0
    updated: int = 0
    cancelled: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.cancelled)


async def sync(
    db: AsyncSession,
    incident: Incident,
    config: IncidentConfig,
    now: datetime,
    cadence_of: Mapping[str, timedelta] | None = None,
) -> Synced:
    """Make the incident's reminder rows match what its state wants. Call inside a transaction.

    New reminders are inserted; pending ones get the current due time, target and payload
    (unless snoozed or being retried, whose times are the person's or the backoff's);
    pending ones no longer wanted are cancelled, and a cancelled one wanted again comes back.
    Rows already claimed, sent or marked done are history and are left alone.
    """
    assert incident.id is not None
    await timeline.lock_incident(db, incident.id)  # one sync per incident at a time
    state = await load_state(db, incident)
    want = wanted(state, config, cadence_of or cadences(), now)
    by_key = {r.dedupe_key: r for r in state.rows if r.dedupe_key}
    added = updated = cancelled = 0
    wanted_keys = set()
    for w in want:
        wanted_keys.add(w.key)
        row = by_key.get(w.key)
        if row is None:
            db.add(
                Reminder(
                    incident_id=incident.id,
                    kind=w.kind,
                    ref=w.ref,
                    target=w.target,
                    due_at=w.due_at,
                    status=PENDING,
                    payload=w.payload,
                    dedupe_key=w.key,
                )
            )
            added += 1
            continue
        if row.status == CANCELLED:
            values: dict[str, Any] = {"status": PENDING, "due_at": w.due_at, "attempts": 0}
        elif row.status == PENDING:
            keep_time = bool(row.payload.get("snoozed")) or row.attempts > 0
            values = {}
            if not keep_time and row.due_at != w.due_at:
                values["due_at"] = w.due_at
        else:
            continue
        payload = {**w.payload, **{k: row.payload[k] for k in ("snoozed",) if k in row.payload}}
        if payload != row.payload:
            values["payload"] = payload
        if row.target != w.target:
            values["target"] = w.target
        if values:
            expected = row.status
            updated += await rows_changed(
                db,
                update(Reminder)
                .where(col(Reminder.id) == row.id, col(Reminder.status) == expected)
                .values(**values),
            )
    # Only rows sync derived (they carry a dedupe key) are sync's to cancel; one-off rows stay.
    stale = [
        r.id for r in state.rows if r.status == PENDING and r.dedupe_key and r.dedupe_key not in wanted_keys
    ]
    if stale:
        cancelled = await rows_changed(
            db,
            update(Reminder)
            .where(col(Reminder.id).in_(stale), col(Reminder.status) == PENDING)
            .values(status=CANCELLED, claimed_until=None, claimed_by=None),
        )
    await db.flush()
    return Synced(added, updated, cancelled)


async def active_incident_ids(database: Database) -> list[int]:
    """Incidents that may want reminders: not closed, or closed with open follow-ups or pending rows."""
    async with database.session() as db:
        followups = select(ActionItem.incident_id).where(
            ActionItem.status == "open", col(ActionItem.due_at).is_not(None)
        )
        pending = select(Reminder.incident_id).where(
            Reminder.status == PENDING, col(Reminder.incident_id).is_not(None)
        )
        rows = await db.execute(
            select(Incident.id)
            .where(
                Incident.kind == "incident",
                or_(
                    col(Incident.status) != "closed",
                    col(Incident.id).in_(followups),
                    col(Incident.id).in_(pending),
                ),
            )
            .order_by(col(Incident.id))
        )
        return [i for i in rows.scalars() if i is not None]


async def sync_incident(
    database: Database,
    incident_id: int,
    config: IncidentConfig,
    now: datetime,
    cadence_of: Mapping[str, timedelta] | None = None,
) -> Synced:
    async with database.transaction() as db:
        incident = await lookup.row(db, Incident, incident_id)
        return await sync(db, incident, config, now, cadence_of)


async def sync_all(
    database: Database,
    config: IncidentConfig,
    now: datetime,
    cadence_of: Mapping[str, timedelta] | None = None,
) -> Synced:
    total = Synced()
    for incident_id in await active_incident_ids(database):
        try:
            s = await sync_incident(database, incident_id, config, now, cadence_of)
        except Exception:
            # One incident's bad data must not stop everyone else's reminders.
            log.exception("reminders of incident %s could not be derived", incident_id)
            continue
        total = Synced(total.added + s.added, total.updated + s.updated, total.cancelled + s.cancelled)
    return total


# --------------------------------------------------------------------------- claim, send, retry


@dataclass(frozen=True)
class Delivered:
    """Where a reminder landed, and the line the timeline keeps about it."""

    channel_id: str
    message_ts: str | None
    summary: str


class SendFailed(Exception):
    """A send that may succeed later (Slack down, rate-limited); ``retry_after`` in seconds if known.
    ``permanent``: it never will (the channel is gone); an effect then goes straight to dead.
    ``waiting``: not a failure but a wait for other work (a set-up in progress): no attempt counted."""

    def __init__(
        self, error: str, retry_after: float | None = None, *, permanent: bool = False, waiting: bool = False
    ) -> None:
        super().__init__(error)
        self.error = error
        self.retry_after = retry_after
        self.permanent = permanent
        self.waiting = waiting


async def due_incidents(database: Database, now: datetime) -> list[int]:
    """Incidents with a reminder due now: re-derived just before sending, so a reminder whose
    moment passed long ago (the process was down, the clock jumped) is dropped, not sent late."""
    async with database.session() as db:
        rows = await db.execute(
            select(Reminder.incident_id)
            .where(leases.claimable(Reminder, now), col(Reminder.incident_id).is_not(None))
            .distinct()
        )
        return [i for i in rows.scalars() if i is not None]


async def claim_due(
    database: Database, worker: str, now: datetime, *, lease: timedelta = LEASE, limit: int = 50
) -> list[Reminder]:
    """Take up to ``limit`` due reminders for ``worker``; nobody else gets them until the lease ends."""
    return await leases.claim(database, Reminder, worker, now, lease=lease, limit=limit)


async def mark_sent(
    database: Database,
    reminder_id: int,
    worker: str,
    *,
    channel_id: str,
    message_ts: str | None,
    now: datetime,
    summary: str,
) -> bool:
    """Record a delivered reminder and its ``reminder_sent`` timeline event together.

    False when the claim was lost meanwhile (it expired and another worker took the row).
    """
    async with database.transaction() as db:
        row = await leases.held_row(db, Reminder, reminder_id, worker)
        if row is None:
            return False
        if row.incident_id is not None:
            # The incident row lock comes first, as in sync: no lock-order cycle between the two.
            await timeline.lock_incident(db, row.incident_id)
        attempts = row.attempts + 1
        posted = {"channel_id": channel_id, "message_ts": message_ts}
        sent = await leases.settle(
            db, Reminder, reminder_id, worker, SENT, sent_at=now, attempts=attempts, **posted
        )
        if not sent:
            return False
        sent_data = {
            "reminder_id": row.id,
            "kind": row.kind,
            "ref": row.ref,
            "target": row.target,
            "due_at": row.due_at,
            "label": row.payload.get("label"),
            **posted,
            "attempts": attempts,
        }
        await _log(db, row, "reminder_sent", summary, sent_data, actor="breachroom", now=now)
        return True


async def _log(
    db: AsyncSession,
    row: Reminder,
    kind: str,
    summary: str,
    data: dict[str, Any],
    *,
    actor: str,
    now: datetime,
) -> None:
    """The reminder's event, on its incident's timeline (a reminder of no incident keeps none)."""
    if row.incident_id is not None:
        await timeline.append(db, row.incident_id, actor=actor, kind=kind, summary=summary, data=data, at=now)


async def _locked(db: AsyncSession, reminder_id: int) -> Reminder:
    """The reminder, re-read under its incident's row lock (taken first, as in sync)."""
    row = await lookup.row(db, Reminder, reminder_id)
    if row.incident_id is not None:
        await timeline.lock_incident(db, row.incident_id)
    await db.refresh(row)
    return row


backoff = leases.backoff


async def mark_failed(
    database: Database,
    reminder_id: int,
    worker: str,
    *,
    now: datetime,
    error: str,
    retry_after: float | None = None,
) -> datetime | None:
    """Put a reminder whose send failed back in the queue, later. Returns the retry time."""
    async with database.transaction() as db:
        row = await leases.held_row(db, Reminder, reminder_id, worker)
        if row is None:
            return None
        attempts = row.attempts + 1
        retry_at = now + backoff(attempts, retry_after)
        first_due_at = row.payload.get("first_due_at") or row.due_at.isoformat()
        payload = {**row.payload, "first_due_at": first_due_at, "last_error": error[:200]}
        await leases.settle(
            db,
            Reminder,
            reminder_id,
            worker,
            PENDING,
            attempts=attempts,
            due_at=retry_at,
            claimed_by=None,
            payload=payload,
        )
        return retry_at


async def next_due(database: Database) -> datetime | None:
    """The earliest moment any reminder needs attention (pending, or a claim that will expire)."""
    return await leases.next_due(database, Reminder)


# --------------------------------------------------------------------------- people act on a reminder


@dataclass(frozen=True)
class Snoozed:
    reminder: Reminder
    until: datetime
    clamped: bool


def clock_deadline(reminder: Reminder) -> datetime | None:
    raw = reminder.payload.get("deadline_at") if reminder.kind == CLOCK else None
    return datetime.fromisoformat(raw) if raw else None


async def snooze(database: Database, reminder_id: int, minutes: int, *, actor: str, now: datetime) -> Snoozed:
    """Send this reminder again later. A regulatory clock's reminder never moves past its deadline:
    the time is clamped to it, and a reminder of a deadline already passed cannot be snoozed."""
    if minutes not in SNOOZE_CHOICES:
        raise Invalid(reason=f"snooze {minutes} min")
    async with database.transaction() as db:
        row = await _locked(db, reminder_id)
        if row.status in (DONE, CANCELLED):
            raise Invalid("reminder.error.finished")
        until = now + timedelta(minutes=minutes)
        deadline = clock_deadline(row)
        clamped = False
        if deadline is not None:
            if deadline <= now:
                raise Invalid("reminder.error.past_deadline")
            if until > deadline:
                until, clamped = deadline, True
        row.status = PENDING
        row.due_at = until
        row.attempts = 0
        row.claimed_until = None
        row.claimed_by = None
        row.payload = {
            **row.payload,
            "snoozed": True,
            "snoozed_by": actor,
            "snoozed_until": until.isoformat(),
        }
        clamp_note = " (clamped to deadline)" if clamped else ""
        summary = f"{row.kind} {row.ref} until {until.isoformat()}{clamp_note}"
        data = {"reminder_id": row.id, "minutes": minutes, "until": until, "clamped": clamped}
        await _log(db, row, "reminder_snoozed", summary, data, actor=actor, now=now)
        await db.flush()
        return Snoozed(row, until, clamped)


async def mark_done(
    database: Database, reminder_id: int, *, actor: str, now: datetime
) -> tuple[Reminder, bool]:
    """The person has dealt with it: this reminder stops. Idempotent (second click changes nothing)."""
    async with database.transaction() as db:
        row = await _locked(db, reminder_id)
        if row.status == DONE:
            return row, False
        row.status = DONE
        row.claimed_until = None
        row.payload = {**row.payload, "done_by": actor, "done_at": now.isoformat()}
        data = {"reminder_id": row.id, "kind": row.kind, "ref": row.ref}
        await _log(db, row, "reminder_done", f"{row.kind} {row.ref}", data, actor=actor, now=now)
        await db.flush()
        return row, True


async def get(database: Database, reminder_id: int) -> Reminder:
    return await lookup.fetch(database, Reminder, reminder_id)


# --------------------------------------------------------------------------- status updates


async def record_status_update(
    database: Database,
    incident_id: int,
    text: str,
    *,
    actor: str,
    now: datetime,
    config: IncidentConfig,
    cadence_of: Mapping[str, timedelta] | None = None,
    redact_on: bool = True,
) -> StatusUpdate:
    """A status update posted: a ``status_update`` event, and the cadence starts again from now.

    The text is scrubbed (length limit, sensitive numbers) first; post the returned text, not the typed one.
    """
    clean = scrub_required(Field.STATUS_UPDATE, text, "status_update.error.empty", enabled=redact_on)
    text = clean.text
    async with database.transaction() as db:
        incident = await timeline.lock_incident(db, incident_id)
        if incident.status == "closed":
            raise Invalid("status_update.error.closed")
        await timeline.append(
            db,
            incident_id,
            actor=actor,
            kind="status_update",
            announce=True,
            summary=text[:500],
            data=with_counts({"text": text, "severity": incident.severity, "status": incident.status}, clean),
            at=now,
        )
        # Status reminders already sent are answered by this update.
        answered = list(
            (
                await db.execute(
                    update(Reminder)
                    .where(
                        col(Reminder.incident_id) == incident_id,
                        col(Reminder.kind) == STATUS,
                        col(Reminder.status) == SENT,
                    )
                    .values(status=DONE)
                    .returning(col(Reminder.id))
                )
            ).scalars()
        )
        await sync(db, incident, config, now, cadence_of)
        return StatusUpdate(incident, [i for i in answered if i is not None], clean)


@dataclass(frozen=True)
class StatusUpdate:
    """The incident, the status reminders the update answered, and the text as recorded."""

    incident: Incident
    answered: list[int]
    text: Redacted


_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
