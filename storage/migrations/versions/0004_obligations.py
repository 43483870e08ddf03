"""obligations: notices and decisions name the obligation they satisfy; determination time

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

A regime now yields one obligation per recipient, each with its own clock. A notification or a
decision not to notify names the obligation's key beside its regime (a row written before this
revision has none: it stood for the whole regime, and still does). ``determined_at`` is when the
firm determined that a breach occurred, the legal start of some state clocks.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("determined_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("obligation", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("obligation", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_column("obligation")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("obligation")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("determined_at")
