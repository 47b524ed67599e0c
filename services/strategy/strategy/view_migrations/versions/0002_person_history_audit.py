"""the events applied to each person: their count and a digest of their ids in order

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A slot built before this revision has not counted: a rebuild fills the audit in.
    with op.batch_alter_table("person_view", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("applied_events", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "applied_digest",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("person_view", schema=None) as batch_op:
        batch_op.drop_column("applied_digest")
        batch_op.drop_column("applied_events")
