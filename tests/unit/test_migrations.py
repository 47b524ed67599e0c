"""Each service's migrations build exactly the tables its models declare."""

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shared.db import Database, SharedBase

SERVICES = sorted(
    path.name
    for path in (Path(__file__).resolve().parents[2] / "services").iterdir()
    if (path / "pyproject.toml").exists()
)


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models(service, databases):
    database = Database(databases.url(service))
    database.migrate(f"{service}:migrations")
    models = importlib.import_module(f"{service}.models")

    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, [models.Base.metadata, SharedBase.metadata])

    database.dispose()
    assert differences == []
