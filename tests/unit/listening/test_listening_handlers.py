"""The listening service's copy of the communities, kept from their events."""

import uuid
from datetime import UTC, datetime

import pytest

from listening import handlers
from listening.models import Community
from shared.consumer import ReceivedEvent
from shared.db import Database

COMMUNITY = uuid.uuid4()


@pytest.fixture
def database(databases) -> Database:
    database = Database(databases.url("listening"))
    database.migrate("listening:migrations")
    yield database
    database.dispose()


def apply(database: Database, event_type: str, **payload) -> None:
    handler = handlers.HANDLERS[event_type]
    event = ReceivedEvent(
        id=uuid.uuid4(),
        type=event_type,
        subject=str(payload["id"]),
        time=datetime.now(UTC),
        request_id=None,
        data=handler.payload.model_validate(payload),
    )
    with database.transaction() as session:
        handler.apply(session, event)


def community(database: Database) -> Community | None:
    with database.sessions() as session:
        return session.get(Community, COMMUNITY)


def test_a_community_is_copied_and_follows_its_updates(database) -> None:
    state = {"id": COMMUNITY, "name": "Hestia users", "kind": "external"}
    apply(database, "communities.community.created.v1", **state, owner_department_id="marketing")
    apply(
        database,
        "communities.community.updated.v1",
        **state,
        owner_department_id="rd",
        purpose="support",  # fields this copy does not keep are ignored
    )

    copy = community(database)
    assert copy is not None
    assert (copy.name, copy.owner_department_id, copy.archived) == ("Hestia users", "rd", False)


def test_an_archive_before_the_creation_still_leaves_a_copy(database) -> None:
    apply(
        database,
        "communities.community.archived.v1",
        id=COMMUNITY,
        owner_department_id="hr",
        archived_at="2026-03-01T00:00:00Z",
    )

    copy = community(database)
    assert copy is not None and copy.archived and copy.owner_department_id == "hr"


def test_applying_the_same_state_twice_changes_nothing(database) -> None:
    state = {"id": COMMUNITY, "name": "C", "kind": "external", "owner_department_id": "rd"}
    apply(database, "communities.community.created.v1", **state)
    first = community(database)
    apply(database, "communities.community.created.v1", **state)

    assert community(database) == first
