"""Alembic environment of the strategy service."""

from shared.db import run_migrations_env
from strategy.models import Base

run_migrations_env(Base.metadata)
