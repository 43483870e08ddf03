"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 11:01:54.171396
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("phase", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("is_drill", sa.Boolean(), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("playbook_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("playbook_version", sa.Integer(), nullable=True),
        sa.Column("playbook_snapshot", sa.JSON(), nullable=True),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("channel_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("declare_token", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("setup", sa.JSON(), nullable=False),
        sa.Column("setup_lease_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("setup_lease_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("declared_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("declared_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("discovered_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("aware_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("materiality_decided_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("contained_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("data_categories", sa.JSON(), nullable=False),
        sa.Column("people_affected", sa.Integer(), nullable=True),
        sa.Column("affected_clients", sa.JSON(), nullable=False),
        sa.Column("jurisdictions", sa.JSON(), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=True),
        sa.Column("exfiltration_confirmed", sa.Boolean(), nullable=True),
        sa.Column("processor_role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("lessons", sa.Text(), nullable=False),
        sa.Column("timeline_seq", sa.Integer(), nullable=False),
        sa.Column("timeline_head", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("not_notified_rationale", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("declare_token"),
        sa.UniqueConstraint("year", "number", name="uq_incident_year_number"),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_key"), ["key"], unique=True)
        batch_op.create_index(batch_op.f("ix_incident_status"), ["status"], unique=False)

    op.create_table(
        "key_sequence",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "processed_event",
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "access_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("requested_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("decided_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_request_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "action_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_item_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "bot_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("rendered_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "kind", "ref", name="uq_bot_message"),
    )
    with op.batch_alter_table("bot_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_message_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "checklist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("phase", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("item_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("owner_role", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("assignee", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("regime", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("done_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("na_reason", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "item_key", name="uq_item_key"),
    )
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checklist_item_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("alternatives", sa.Text(), nullable=False),
        sa.Column("approver", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("privileged", sa.Boolean(), nullable=False),
        sa.Column("regime", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("decided_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("custodian", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("collected_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("regime", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recipient_kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("contents_checked", sa.JSON(), nullable=False),
        sa.Column("recorded_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("claimed_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("message_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminder_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminder_status"), ["status"], unique=False)

    op.create_table(
        "role_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("assigned_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("assumed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("relieved_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("relieved_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_assignment_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(
            "uq_role_current",
            ["incident_id", "role"],
            unique=True,
            sqlite_where=sa.text("relieved_at IS NULL"),
            postgresql_where=sa.text("relieved_at IS NULL"),
        )

    op.create_table(
        "timeline_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "seq", name="uq_timeline_seq"),
    )
    with op.batch_alter_table("timeline_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_timeline_event_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_timeline_event_kind"), ["kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("timeline_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_timeline_event_kind"))
        batch_op.drop_index(batch_op.f("ix_timeline_event_incident_id"))

    op.drop_table("timeline_event")
    with op.batch_alter_table("role_assignment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_role_current",
            sqlite_where=sa.text("relieved_at IS NULL"),
            postgresql_where=sa.text("relieved_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_role_assignment_incident_id"))

    op.drop_table("role_assignment")
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_status"))
        batch_op.drop_index(batch_op.f("ix_reminder_incident_id"))
        batch_op.drop_index(batch_op.f("ix_reminder_due_at"))

    op.drop_table("reminder")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_incident_id"))

    op.drop_table("notification")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_incident_id"))

    op.drop_table("evidence")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_incident_id"))

    op.drop_table("decision")
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checklist_item_incident_id"))

    op.drop_table("checklist_item")
    with op.batch_alter_table("bot_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_message_incident_id"))

    op.drop_table("bot_message")
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_item_incident_id"))

    op.drop_table("action_item")
    with op.batch_alter_table("access_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_request_incident_id"))

    op.drop_table("access_request")
    op.drop_table("processed_event")
    op.drop_table("key_sequence")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_status"))
        batch_op.drop_index(batch_op.f("ix_incident_key"))
        batch_op.drop_index(batch_op.f("ix_incident_channel_id"))

    op.drop_table("incident")
