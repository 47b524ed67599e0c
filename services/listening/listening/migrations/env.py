"""Alembic environment of the listening service."""

from listening.models import Base
from shared.db import run_migrations_env

run_migrations_env(Base.metadata)
