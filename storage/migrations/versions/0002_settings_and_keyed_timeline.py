"""workspace settings in the database; the timeline chain keyed (HMAC) with the signing key's id

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Events written before this revision keep an empty `key_id`: they were hashed with plain SHA-256,
and `storage.timeline.verify_rows` checks them that way (see "legacy" there).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspace_setting",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "setting_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("changed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("setting_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_setting_change_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_setting_change_changed_at"), ["changed_at"], unique=False)
    with op.batch_alter_table("timeline_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "key_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False, server_default=""
            )
        )
    with op.batch_alter_table("timeline_event", schema=None) as batch_op:
        batch_op.alter_column("key_id", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("timeline_event", schema=None) as batch_op:
        batch_op.drop_column("key_id")
    with op.batch_alter_table("setting_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_setting_change_changed_at"))
        batch_op.drop_index(batch_op.f("ix_setting_change_key"))
    op.drop_table("setting_change")
    op.drop_table("workspace_setting")
