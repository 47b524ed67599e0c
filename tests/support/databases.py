"""Databases for tests: SQLite files, or fresh PostgreSQL ones when TEST_DATABASE_URL is set."""

import os
import uuid

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


class Databases:
    """Hands out one empty database per name, and drops the PostgreSQL ones at the end."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.created: list[str] = []

    def url(self, name: str) -> str:
        if not TEST_DATABASE_URL:
            return f"sqlite:///{self.folder}/{name}.db"
        database = f"test_{name}_{uuid.uuid4().hex[:10]}"
        with _admin() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        self.created.append(database)
        return (
            make_url(TEST_DATABASE_URL).set(database=database).render_as_string(hide_password=False)
        )

    def drop_all(self) -> None:
        if not self.created:
            return
        with _admin() as connection:
            for database in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


def _admin():  # type: ignore[no-untyped-def]
    engine = create_engine(
        make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    return engine.connect()
