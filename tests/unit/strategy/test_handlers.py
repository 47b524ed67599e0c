"""The strategy view's projection of people events: order within a person, not across them."""

import uuid
from datetime import UTC, datetime

import pytest

from shared.consumer import ReceivedEvent
from shared.db import Database
from strategy import handlers, service
from strategy.settings import Settings


@pytest.fixture
def database(databases) -> Database:
    database = Database(databases.url("strategy"))
    database.migrate("strategy:view_migrations")
    yield database
    database.dispose()


def received(data) -> ReceivedEvent:
    return ReceivedEvent(
        id=uuid.uuid4(), type="t", subject=None, time=datetime.now(UTC), request_id=None, data=data
    )


def apply(database: Database, event_type: str, **payload) -> None:
    handler = handlers.HANDLERS[event_type]
    with database.transaction() as session:
        handler.apply(session, received(handler.payload(**payload)))


def headcounts(database: Database) -> dict[str, tuple[str, int]]:
    with database.transaction() as session:
        summaries = service.departments(session, window=window(), department_id=None)
    return {d.id: (d.name, d.headcount) for d in summaries}


def window() -> service.Window:
    return service.Window.of(Settings(), None, None)


def test_a_person_counted_before_their_department_is_known(database):
    ines = uuid.uuid4()

    apply(database, "people.person.registered.v1", id=ines, name="Inès", department_id="rd")
    assert headcounts(database) == {"rd": ("rd", 1)}

    apply(database, "people.department.created.v1", id="rd", name="R&D")
    assert headcounts(database) == {"rd": ("R&D", 1)}


def test_moves_and_departures_change_head_counts(database):
    ines, hugo = uuid.uuid4(), uuid.uuid4()
    apply(database, "people.department.created.v1", id="rd", name="R&D")
    apply(database, "people.department.created.v1", id="hr", name="RH")
    apply(database, "people.person.registered.v1", id=ines, name="Inès", department_id="rd")
    apply(database, "people.person.registered.v1", id=hugo, name="Hugo", department_id="rd")

    apply(database, "people.person.updated.v1", id=ines, name="Inès", department_id="hr")
    apply(database, "people.person.deactivated.v1", id=hugo, department_id="rd")

    assert headcounts(database) == {"hr": ("RH", 1), "rd": ("R&D", 0)}


def test_one_department_slice_and_an_unknown_one(database):
    apply(database, "people.department.created.v1", id="rd", name="R&D")

    with database.transaction() as session:
        assert [
            d.id for d in service.departments(session, window=window(), department_id="rd")
        ] == ["rd"]
        with pytest.raises(Exception, match="not in the view"):
            service.departments(session, window=window(), department_id="nowhere")
