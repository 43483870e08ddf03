"""effects: the transactional outbox the delivery engine drains

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("topic_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    op.create_table(
        "effect",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("coalesce_key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("claimed_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("effect", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_effect_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_effect_incident_id"), ["incident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_effect_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_effect_pending_key",
            ["coalesce_key"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("effect", schema=None) as batch_op:
        batch_op.drop_index("uq_effect_pending_key")
        batch_op.drop_index(batch_op.f("ix_effect_status"))
        batch_op.drop_index(batch_op.f("ix_effect_incident_id"))
        batch_op.drop_index(batch_op.f("ix_effect_due_at"))
    op.drop_table("effect")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("topic_hash")
