"""Alembic environment of the strategy service's projection (each slot is migrated alike)."""

from shared.db import run_migrations_env
from strategy.models import ViewBase

run_migrations_env(
    ViewBase.metadata,
    shared_tables={"processed_event", "consumer_position", "subject_sequence", "parked_event"},
)
