"""notice drafts: the notice drafted from the record per obligation, and the text legal approved

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

One row per obligation, version and language. Approval stores the approved text with its SHA-256,
which the register and the export carry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("obligation", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("drafted_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("drafted_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("approved_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "incident_id", "obligation", "version", "language", name="uq_notice_draft_version"
        ),
    )
    with op.batch_alter_table("notice_draft", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_draft_incident_id"), ["incident_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notice_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_draft_incident_id"))
    op.drop_table("notice_draft")
