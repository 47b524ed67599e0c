"""A request's session commits once its endpoint succeeds, and rolls back when it fails."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from sqlalchemy import text

from shared.db import Database, SessionDep


@pytest.fixture
def database(databases) -> Iterator[Database]:
    database = Database(databases.url("requests"))
    with database.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS note"))
        connection.execute(text("CREATE TABLE note (body TEXT PRIMARY KEY)"))
    yield database
    database.dispose()


@pytest.fixture
def commits(database) -> list[str]:
    seen: list[str] = []
    database.on_commit(lambda _session: seen.append("commit"))
    return seen


@pytest.fixture
def client(database) -> Iterator[TestClient]:
    app = FastAPI()
    app.state.database = database

    @app.post("/notes", status_code=201)
    def add(body: str, session: SessionDep) -> dict[str, str]:
        session.execute(text("INSERT INTO note VALUES (:body)"), {"body": body})
        return {"body": body}

    @app.post("/refused")
    def refuse(session: SessionDep) -> None:
        session.execute(text("INSERT INTO note VALUES ('refused')"))
        raise HTTPException(409, "refused after writing")

    @app.post("/broken")
    def break_down(session: SessionDep) -> None:
        session.execute(text("INSERT INTO note VALUES ('broken')"))
        raise RuntimeError("a bug")

    @app.get("/notes")
    def read(session: SessionDep) -> list[str]:
        return list(session.scalars(text("SELECT body FROM note ORDER BY body")))

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_write_is_committed_before_its_answer(client, commits):
    assert client.post("/notes", params={"body": "first"}).status_code == 201
    assert commits == ["commit"]
    assert client.post("/notes", params={"body": "second"}).status_code == 201

    assert client.get("/notes").json() == ["first", "second"]
    assert commits == ["commit", "commit"]


def test_an_endpoint_that_fails_after_writing_changes_nothing(client, commits):
    assert client.post("/refused").status_code == 409
    assert client.post("/broken").status_code == 500

    # Their turns were given back: the next write goes through.
    assert client.post("/notes", params={"body": "next"}).status_code == 201
    assert client.get("/notes").json() == ["next"]
    assert commits == ["commit"]
