"""The outbox numbers each event among the events about its subject: 1, 2, 3..."""

import json
from collections.abc import Iterator

import pytest
from sqlmodel import select

from people import events
from shared.db import Database
from shared.outbox import OutboxMessage, enqueue, enqueue_many


@pytest.fixture
def database(databases) -> Iterator[Database]:
    database = Database(databases.url("outbox"))
    database.migrate("people:migrations")
    yield database
    database.dispose()


def department(id_: str) -> events.DepartmentPayload:
    return events.DepartmentPayload(id=id_, name=id_.upper())


def numbered(database: Database) -> list[tuple[str, int, int]]:
    """(subject, the row's sequence, the envelope's), in the outbox's order."""
    with database.transaction(write=False) as session:
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(r.key, r.sequence, json.loads(r.value)["subjectsequence"]) for r in rows]


def test_each_subject_is_numbered_on_its_own_across_transactions_and_batches(database):
    with database.transaction() as session:
        enqueue(session, events.DEPARTMENT_CREATED, subject="rd", data=department("rd"))
        enqueue(session, events.DEPARTMENT_CREATED, subject="rd", data=department("rd"))
        enqueue(session, events.DEPARTMENT_CREATED, subject="it", data=department("it"))
    with database.transaction() as session:
        enqueue(session, events.DEPARTMENT_CREATED, subject="rd", data=department("rd"))
        enqueue_many(
            session,
            events.DEPARTMENT_CREATED,
            [(s, department(s)) for s in ("it", "hr", "it", "rd")],
        )
        enqueue(session, events.DEPARTMENT_CREATED, subject="hr", data=department("hr"))

    assert numbered(database) == [
        ("rd", 1, 1),
        ("rd", 2, 2),
        ("it", 1, 1),
        ("rd", 3, 3),
        ("it", 2, 2),
        ("hr", 1, 1),
        ("it", 3, 3),
        ("rd", 4, 4),
        ("hr", 2, 2),
    ]


def test_a_rolled_back_transaction_leaves_no_gap(database):
    with pytest.raises(RuntimeError), database.transaction() as session:
        enqueue(session, events.DEPARTMENT_CREATED, subject="rd", data=department("rd"))
        raise RuntimeError("the request failed")
    with database.transaction() as session:
        enqueue(session, events.DEPARTMENT_CREATED, subject="rd", data=department("rd"))

    assert numbered(database) == [("rd", 1, 1)]
