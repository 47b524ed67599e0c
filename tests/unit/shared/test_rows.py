"""A batch's rows: read in bulk, changed in memory, written when the session commits; and the
consumer applying a batch through them, a failing event left out."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel
from sqlalchemy import event
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, select

from shared.consumer import EventConsumer, Handler, ProcessedEvent, ReceivedEvent, _Read
from shared.db import Database, SharedBase
from shared.metrics import Metrics
from shared.rows import Rows, rows
from shared.settings import ServiceSettings


class Base(SQLModel, registry=registry()):
    pass


class Tally(Base, table=True):
    __tablename__ = "tally"

    team: str = Field(primary_key=True)
    player: str = Field(primary_key=True)
    points: int = 0
    note: str | None = None


@pytest.fixture
def database(databases) -> Iterator[Database]:
    database = Database(databases.url("rows"))
    Base.metadata.create_all(database.engine)
    SharedBase.metadata.create_all(database.engine)
    yield database
    database.dispose()


def stored(database: Database) -> dict[tuple[str, str], tuple[int, str | None]]:
    with database.transaction(write=False) as session:
        return {(t.team, t.player): (t.points, t.note) for t in session.exec(select(Tally)).all()}


def seed(database: Database, *tallies: tuple[str, str, int]) -> None:
    with database.transaction() as session:
        for team, player, points in tallies:
            session.add(Tally(team=team, player=player, points=points))


def test_changes_are_written_when_the_session_commits(database):
    seed(database, ("a", "ana", 1), ("a", "bob", 2), ("a", "cid", 3))

    with database.transaction() as session:
        batch = rows(session)
        batch.get(Tally, ("a", "ana"))["points"] += 10  # type: ignore[index]
        batch.put(Tally, team="a", player="bob", note="captain")
        batch.delete(Tally, ("a", "cid"))
        batch.put(Tally, team="b", player="dan", points=4)
        batch.add(Tally, team="b", player="eve")
        assert stored(database) == {
            ("a", "ana"): (1, None),
            ("a", "bob"): (2, None),
            ("a", "cid"): (3, None),
        }

    assert stored(database) == {
        ("a", "ana"): (11, None),
        ("a", "bob"): (2, "captain"),
        ("b", "dan"): (4, None),
        ("b", "eve"): (0, None),  # the model's default
    }


def test_a_row_deleted_then_added_again_is_replaced_and_one_added_then_deleted_never_stored(
    database,
):
    seed(database, ("a", "ana", 5))

    with database.transaction() as session:
        batch = rows(session)
        batch.delete(Tally, ("a", "ana"))
        batch.add(Tally, team="a", player="ana", note="back")
        batch.add(Tally, team="b", player="bob", points=1)
        batch.delete(Tally, ("b", "bob"))

    assert stored(database) == {("a", "ana"): (0, "back")}


def test_a_rolled_back_session_writes_nothing(database):
    with pytest.raises(RuntimeError), database.transaction() as session:
        rows(session).put(Tally, team="a", player="ana", points=1)
        raise RuntimeError("the batch fails")

    assert stored(database) == {}


def test_the_rows_of_a_batch_are_read_in_one_query_per_table_and_500_keys(database):
    seed(database, *((("a", f"p{n}", n)) for n in range(0, 1200, 2)))
    queries: list[str] = []

    def record(connection, cursor, statement, *args) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            queries.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)

    with database.transaction() as session:
        batch = Rows(session)
        batch.load((Tally, ("a", f"p{n}")) for n in range(1200))
        reads = len(queries)
        found = [batch.get(Tally, ("a", f"p{n}")) for n in range(1200)]

    assert reads == 3  # 1,200 keys
    assert len(queries) == 3  # `get` read nothing more
    assert sum(row is not None for row in found) == 600
    assert found[4] is not None and found[4]["points"] == 4


def test_the_rows_of_a_key_of_several_columns_are_searched_in_its_index(database):
    # SQLite scans the whole table for `(team, player) IN (VALUES ...)`: a read that grows
    # with the table (147 ms for two keys of a million-row table, against 0.04 ms searched).
    if not database.is_sqlite:
        pytest.skip("the plan checked is SQLite's")
    seed(database, *((("a", f"p{n}", n)) for n in range(50)))
    reads: list[tuple[str, tuple]] = []

    def record(connection, cursor, statement, parameters, *args) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            reads.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", record)
    with database.transaction() as session:
        Rows(session).load([(Tally, ("a", "p1")), (Tally, ("b", "p2"))])
    event.remove(database.engine, "before_cursor_execute", record)

    [(statement, parameters)] = reads
    with database.engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    steps = [step[-1] for step in plan]
    assert any(step.startswith("SEARCH tally USING INDEX") for step in steps), steps
    assert not any(step.startswith("SCAN tally") for step in steps), steps


class Score(BaseModel):
    team: str
    player: str
    points: int


def on_score(session: Session, event: ReceivedEvent[Score]) -> None:
    row = rows(session).put(Tally, team=event.data.team, player=event.data.player)
    row["points"] = row.get("points", 0) + event.data.points
    if event.data.points < 0:
        raise ValueError("a score is never negative")


def score_reads(event: ReceivedEvent[Score]) -> list:
    return [(Tally, (event.data.team, event.data.player))]


class Settings(ServiceSettings):
    service_name = "rows"


def test_a_failing_event_is_left_out_of_its_batch_and_the_others_are_applied(database):
    consumer = EventConsumer(
        database=database,
        settings=Settings(database_url="sqlite://"),
        metrics=Metrics("rows"),
        group_id=None,
        handlers={"rows.score.added.v1": Handler(Score, on_score, score_reads)},
        topics=[],
    )
    tp = TopicPartition("rows.events", 0)
    scores = [("a", "ana", 1), ("a", "ana", -5), ("a", "ana", 2), ("a", "bob", 3)]
    accepted = []
    for offset, (team, player, points) in enumerate(scores):
        record = ConsumerRecord(tp.topic, 0, offset, 0, 0, None, b"", None, 0, 0, [])
        received = ReceivedEvent(
            id=uuid.uuid4(),
            type="rows.score.added.v1",
            subject=None,
            time=datetime.now(UTC),
            request_id=None,
            data=Score(team=team, player=player, points=points),
        )
        accepted.append(_Read(record, received, consumer.handlers[received.type]))

    failed = consumer._apply(tp, accepted, next_offset=4)

    assert [(record.offset, dead.reason) for record, dead in failed] == [(1, "handler-failed")]
    assert stored(database) == {("a", "ana"): (3, None), ("a", "bob"): (3, None)}
    with database.transaction(write=False) as session:
        applied = set(session.exec(select(ProcessedEvent.event_id)).all())
    assert applied == {accepted[i].event.id for i in (0, 2, 3)}
