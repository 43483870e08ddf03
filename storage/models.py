"""The tables. The database is the truth; Slack is a view of it (DESIGN.md, principle 1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class KeySequence(SQLModel, table=True):
    """Per-year incident numbers. An upsert on this row serialises concurrent declarations."""

    __tablename__ = "key_sequence"
    year: int = Field(primary_key=True)
    last: int = Field(default=0, nullable=False)


class Incident(SQLModel, table=True):
    __tablename__ = "incident"
    __table_args__ = (UniqueConstraint("year", "number", name="uq_incident_year_number"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=32, unique=True, index=True)
    year: int = Field(nullable=False)
    number: int = Field(nullable=False)
    # "incident" has a channel and the full response; "log" is a /breach log register entry.
    kind: str = Field(default="incident", max_length=16, nullable=False)
    title: str = Field(sa_column=Column(Text, nullable=False))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    severity: str = Field(max_length=8, nullable=False)
    status: str = Field(default="open", max_length=16, nullable=False, index=True)
    phase: str | None = Field(default=None, max_length=64)
    locale: str = Field(default="en", max_length=8, nullable=False)
    is_drill: bool = Field(default=False, nullable=False)
    confidential: bool = Field(default=True, nullable=False)
    playbook_id: str | None = Field(default=None, max_length=64)
    playbook_version: int | None = Field(default=None)
    # The playbook as it was at declaration: later edits of the file never change this incident.
    playbook_snapshot: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    channel_id: str | None = Field(default=None, max_length=32, index=True)
    channel_name: str | None = Field(default=None, max_length=80)
    # Idempotency key of the declare submission: a double-submitted modal makes one incident.
    declare_token: str | None = Field(default=None, max_length=128, unique=True)
    # Which Slack-side setup steps are done (channel, invites, card, pins, checklists, announcement).
    setup: dict[str, Any] = _json(dict)
    setup_lease_until: datetime | None = _ts()
    setup_lease_by: str | None = Field(default=None, max_length=64)
    # The hash of the channel topic last set: a re-render that would not change it makes no call.
    topic_hash: str | None = Field(default=None, max_length=64)
    declared_by: str = Field(max_length=32, nullable=False)
    declared_at: datetime = _ts(nullable=False)
    discovered_at: datetime | None = _ts()
    aware_at: datetime | None = _ts()
    # When the firm determined that a breach occurred: the legal start of some state clocks.
    determined_at: datetime | None = _ts()
    materiality_decided_at: datetime | None = _ts()
    contained_at: datetime | None = _ts()
    resolved_at: datetime | None = _ts()
    closed_at: datetime | None = _ts()
    # Impact: the facts the severity matrix and the regulatory clocks are computed from.
    data_categories: list[str] = _json(list)
    people_affected: int | None = Field(default=None)
    affected_clients: list[str] = _json(list)
    jurisdictions: list[str] = _json(list)
    encrypted: bool | None = Field(default=None)
    exfiltration_confirmed: bool | None = Field(default=None)
    processor_role: str | None = Field(default=None, max_length=16)
    facts: dict[str, Any] = _json(dict)
    lessons: str = Field(default="", sa_column=Column(Text, nullable=False))
    # The timeline's head, kept with the incident: removing the newest events (which leaves a chain
    # that is still internally valid) no longer goes unnoticed.
    timeline_seq: int = Field(default=0, nullable=False)
    timeline_head: str | None = Field(default=None, max_length=64)
    not_notified_rationale: str = Field(default="", sa_column=Column(Text, nullable=False))


class RoleAssignment(SQLModel, table=True):
    """One holder per role at a time; a handoff relieves the old holder and keeps the row."""

    __tablename__ = "role_assignment"
    __table_args__ = (
        Index(
            "uq_role_current",
            "incident_id",
            "role",
            unique=True,
            sqlite_where=text("relieved_at IS NULL"),
            postgresql_where=text("relieved_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", nullable=False, index=True)
    role: str = Field(max_length=64, nullable=False)
    user_id: str = Field(max_length=32, nullable=False)
    assigned_by: str = Field(max_length=32, nullable=False)
    assumed_at: datetime = _ts(nullable=False)
    relieved_at: datetime | None = _ts()
    relieved_by: str | None = Field(default=None, max_length=32)


class ChecklistItem(SQLModel, table=True):
    __tablename__ = "checklist_item"
    __table_args__ = (UniqueConstraint("incident_id", "item_key", name="uq_item_key"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", nullable=False, index=True)
    phase: str = Field(max_length=64, nullable=False)
    item_key: str = Field(max_length=64, nullable=False)
    position: int = Field(default=0, nullable=False)
    owner_role: str = Field(max_length=64, nullable=False)
    assignee: str | None = Field(default=None, max_length=32)
    state: str = Field(default="open", max_length=16, nullable=False)  # open | done | na
    required: bool = Field(default=True, nullable=False)
    restricted: bool = Field(default=False, nullable=False)
    regime: str | None = Field(default=None, max_length=64)
    due_at: datetime | None = _ts()
    done_by: str | None = Field(default=None, max_length=32)
    done_at: datetime | None = _ts()
    na_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Bumped on every change: a stale click can be told apart from a current one.
    version: int = Field(default=1, nullable=False)


class BotMessage(SQLModel, table=True):
    """A message the bot owns and re-renders from the database (card, checklist part, announcement)."""

    __tablename__ = "bot_message"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "ref", name="uq_bot_message"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", nullable=False, index=True)
    kind: str = Field(max_length=32, nullable=False)
    ref: str = Field(default="", max_length=128, nullable=False)
    channel_id: str = Field(max_length=32, nullable=False)
    ts: str | None = Field(default=None, max_length=32)
    # The hash of the last rendering that reached Slack; a mismatch means the view is behind.
    rendered_hash: str | None = Field(default=None, max_length=64)
    pinned: bool = Field(default=False, nullable=False)


class TimelineEvent(SQLModel, table=True):
    """Append-only, hash-chained record of everything that happened to an incident."""

    __tablename__ = "timeline_event"
    __table_args__ = (UniqueConstraint("incident_id", "seq", name="uq_timeline_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", nullable=False, index=True)
    seq: int = Field(nullable=False)
    at: datetime = _ts(nullable=False)
    actor: str = Field(max_length=64, nullable=False)
    kind: str = Field(max_length=64, nullable=False, index=True)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    data: dict[str, Any] = _json(dict)
    prev_hash: str = Field(max_length=64, nullable=False)
    hash: str = Field(max_length=64, nullable=False)
    # Which timeline key signed this event (HMAC-SHA256): keys rotate, old events keep verifying.
    key_id: str = Field(default="", max_length=32, nullable=False)


class Reminder(SQLModel, table=True):
    """Scheduled work is a row; APScheduler only wakes the process up to look at the rows."""

    __tablename__ = "reminder"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    kind: str = Field(max_length=32, nullable=False)
    ref: str = Field(default="", max_length=128, nullable=False)
    target: str = Field(default="", max_length=256, nullable=False)
    due_at: datetime = _ts(nullable=False, index=True)
    status: str = Field(default="pending", max_length=16, nullable=False, index=True)
    claimed_until: datetime | None = _ts()
    claimed_by: str | None = Field(default=None, max_length=64)
    attempts: int = Field(default=0, nullable=False)
    sent_at: datetime | None = _ts()
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    payload: dict[str, Any] = _json(dict)
    dedupe_key: str | None = Field(default=None, max_length=255, unique=True)


class Effect(SQLModel, table=True):
    """The transactional outbox: what Slack should be told after a change, written in the change's
    own transaction and delivered by the delivery engine (schedules/), at least once, never lost.

    Pending effects with the same ``coalesce_key`` are one effect: ten clicks on one incident leave
    one pending re-render, which renders the state as it is when it runs.
    """

    __tablename__ = "effect"
    __table_args__ = (
        Index(
            "uq_effect_pending_key",
            "coalesce_key",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    kind: str = Field(max_length=32, nullable=False)
    coalesce_key: str | None = Field(default=None, max_length=255)
    payload: dict[str, Any] = _json(dict)
    due_at: datetime = _ts(nullable=False, index=True)
    status: str = Field(default="pending", max_length=16, nullable=False, index=True)
    claimed_until: datetime | None = _ts()
    claimed_by: str | None = Field(default=None, max_length=64)
    attempts: int = Field(default=0, nullable=False)
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts(nullable=False)
    done_at: datetime | None = _ts()
    # What delivery learnt that a retry needs (a posted message's ts: never posted twice).
    result: dict[str, Any] = _json(dict)


class Notification(SQLModel, table=True):
    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", nullable=False, index=True)
    regime: str = Field(max_length=64, nullable=False)
    # The key of the regime's obligation this notice satisfies (None: written before obligations
    # existed, when one notice stood for the whole regime).
    obligation: str | None = Field(default=None, max_length=64)
    recipient_kind: str = Field(max_length=32, nullable=False)
    recipient: str = Field(sa_column=Column(Text, nullable=False))
    due_at: datetime | None = _ts()
    sent_at: datetime = _ts(nullable=False)
    sent_by: str = Field(max_length=32, nullable=False)
    reference: str = Field(default="", max_length=255, nullable=False)
    channel: str = Field(default="", max_length=64, nullable=False)
    content: str = Field(default="", sa_column=Column(Text, nullable=False))
    contents_checked: list[str] = _json(list)
    recorded_at: datetime = _ts(nullable=False)


class Decision(SQLModel, table=True):
    __tablename__ = "decision"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", nullable=False, index=True)
    kind: str = Field(default="decision", max_length=32, nullable=False)
    text: str = Field(sa_column=Column(Text, nullable=False))
    rationale: str = Field(default="", sa_column=Column(Text, nullable=False))
    alternatives: str = Field(default="", sa_column=Column(Text, nullable=False))
    approver: str | None = Field(default=None, max_length=32)
    privileged: bool = Field(default=False, nullable=False)
    regime: str | None = Field(default=None, max_length=64)
    # A decision not to notify names the obligation's key too (None: the whole regime, as before).
    obligation: str | None = Field(default=None, max_length=64)
    decided_by: str = Field(max_length=32, nullable=False)
    decided_at: datetime = _ts(nullable=False)


class Evidence(SQLModel, table=True):
    __tablename__ = "evidence"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", nullable=False, index=True)
    description: str = Field(sa_column=Column(Text, nullable=False))
    location: str = Field(default="", sa_column=Column(Text, nullable=False))
    sha256: str | None = Field(default=None, max_length=64)
    custodian: str | None = Field(default=None, max_length=32)
    collected_at: datetime | None = _ts()
    recorded_by: str = Field(max_length=32, nullable=False)
    recorded_at: datetime = _ts(nullable=False)


class ActionItem(SQLModel, table=True):
    __tablename__ = "action_item"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", nullable=False, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    owner: str | None = Field(default=None, max_length=32)
    due_at: datetime | None = _ts()
    status: str = Field(default="open", max_length=16, nullable=False)
    category: str = Field(default="other", max_length=16, nullable=False)  # policy | training | other
    created_by: str = Field(max_length=32, nullable=False)
    created_at: datetime = _ts(nullable=False)
    done_at: datetime | None = _ts()
    done_by: str | None = Field(default=None, max_length=32)


class AccessRequest(SQLModel, table=True):
    __tablename__ = "access_request"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", nullable=False, index=True)
    user_id: str = Field(max_length=32, nullable=False)
    status: str = Field(default="pending", max_length=16, nullable=False)
    requested_at: datetime = _ts(nullable=False)
    decided_by: str | None = Field(default=None, max_length=32)
    decided_at: datetime | None = _ts()


class ProcessedEvent(SQLModel, table=True):
    """Events API deliveries already handled: Slack retries, we act once."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = _ts(nullable=False)


class WorkspaceSetting(SQLModel, table=True):
    """One workspace setting made in Slack (App Home) or imported; files and environment are the base."""

    __tablename__ = "workspace_setting"

    key: str = Field(primary_key=True, max_length=128)
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    updated_by: str = Field(max_length=32, nullable=False)
    updated_at: datetime = _ts(nullable=False)


class SettingChange(SQLModel, table=True):
    """Who changed which workspace setting from what to what, and when. Append-only."""

    __tablename__ = "setting_change"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, nullable=False, index=True)
    before: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    changed_by: str = Field(max_length=32, nullable=False)
    changed_at: datetime = _ts(nullable=False, index=True)
