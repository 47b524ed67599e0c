"""events in their subject's order

Each outbox event carries its place among its subject's events; a consumer keeps, per
subject, the last one it passed, and parks an event read ahead of an earlier one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 17:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=True))
        batch_op.create_index("ix_outbox_key_sequence", ["key", "sequence"], unique=False)
    op.create_table(
        "subject_sequence",
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("topic", "subject"),
    )
    op.create_table(
        "parked_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("parked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("parked_event", schema=None) as batch_op:
        batch_op.create_index("ix_parked_event_topic_partition", ["topic", "partition"], unique=False)


def downgrade() -> None:
    op.drop_table("parked_event")
    op.drop_table("subject_sequence")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_key_sequence")
        batch_op.drop_column("sequence")
