"""On SQLite, a process's write transactions take turns: each starts when the last one ends."""

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from shared.db import Database


@pytest.fixture
def database(tmp_path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/turns.db")
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (body TEXT)"))
    yield database
    database.dispose()


def write(database: Database, body: str) -> None:
    with database.transaction() as session:
        session.execute(text("INSERT INTO note VALUES (:body)"), {"body": body})


def notes(database: Database) -> list[str]:
    with database.transaction(write=False) as session:
        return list(session.scalars(text("SELECT body FROM note ORDER BY rowid")))


def test_a_write_session_takes_its_turn_when_it_first_uses_the_database(database):
    # A request holding a session while it reads its body does not hold the others back.
    with database.transaction() as idle:
        write(database, "meanwhile")
        idle.execute(text("INSERT INTO note VALUES ('then')"))

    assert notes(database) == ["meanwhile", "then"]


def test_a_failed_transaction_gives_its_turn_back(database):
    with pytest.raises(RuntimeError), database.transaction() as session:
        session.execute(text("INSERT INTO note VALUES ('undone')"))
        raise RuntimeError("the request failed")

    write(database, "next")

    assert notes(database) == ["next"]


def test_a_writer_waits_for_the_turn_of_another_thread(database):
    started, finished = threading.Event(), threading.Event()

    def other() -> None:
        started.wait()
        write(database, "second")
        finished.set()

    thread = threading.Thread(target=other)
    thread.start()
    with database.transaction() as session:
        session.execute(text("INSERT INTO note VALUES ('first')"))
        started.set()
        assert not finished.wait(0.2)  # the other writer waits for this one's commit
    thread.join(10)

    assert notes(database) == ["first", "second"]
