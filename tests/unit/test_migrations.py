"""Each service's migrations build exactly the tables its models declare."""

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

from shared.db import Database, SharedBase

SERVICES = sorted(
    path.name
    for path in (Path(__file__).resolve().parents[2] / "services").iterdir()
    if (path / "pyproject.toml").exists()
)
# Every service's own database: its tables and all the shared ones (outbox, consumer state).
CASES = [(f"{service}:migrations", f"{service}.models:Base", None) for service in SERVICES] + [
    # The strategy service's projection slots: the view's tables and the consumer's state.
    (
        "strategy:view_migrations",
        "strategy.models:ViewBase",
        {"processed_event", "consumer_position", "subject_sequence", "parked_event"},
    )
]


def metadata_of(reference: str) -> MetaData:
    module, name = reference.split(":")
    return getattr(importlib.import_module(module), name).metadata


@pytest.mark.parametrize(("migrations", "models", "shared_tables"), CASES)
def test_migrations_match_the_models(migrations, models, shared_tables, databases):
    database = Database(databases.url(migrations.replace(":", "_")))
    database.migrate(migrations)

    def include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        shared = table in SharedBase.metadata.tables
        return table != "alembic_version" and (
            not shared or shared_tables is None or table in shared_tables
        )

    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include}
        )
        differences = compare_metadata(context, [metadata_of(models), SharedBase.metadata])

    database.dispose()
    assert differences == []
