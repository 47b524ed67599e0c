"""The consumer applies the events about one subject in their order (their `subjectsequence`),
whatever order they are read in: one read ahead of an earlier one waits, parked, for it. And
each event once, even when another member of the group applied it meanwhile."""

import uuid
from collections.abc import Iterator

import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel
from sqlalchemy import func
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, select

from shared.consumer import EventConsumer, Handler, ParkedEvent, ReceivedEvent, _Read
from shared.db import Database, SharedBase
from shared.events import EventRegistry, encode, new_event
from shared.metrics import Metrics
from shared.rows import rows
from shared.settings import ServiceSettings
from tests.support.databases import TEST_DATABASE_URL


class Base(SQLModel, registry=registry()):
    pass


class Story(Base, table=True):
    __tablename__ = "story"

    subject: str = Field(primary_key=True)
    chapters: str = ""


class Chapter(BaseModel):
    subject: str
    chapter: str


REGISTRY = EventRegistry("tales")
WRITTEN = REGISTRY.register("tales.chapter.written.v1", Chapter, "A chapter of a story.")
NOTED = REGISTRY.register("tales.margin.noted.v1", Chapter, "A note this consumer passes over.")
TP = TopicPartition("tales.events", 0)


def on_written(session: Session, event: ReceivedEvent[Chapter]) -> None:
    story = rows(session).put(Story, subject=event.data.subject)
    story["chapters"] = (story.get("chapters") or "") + event.data.chapter
    if event.data.chapter == "!":
        raise ValueError("this chapter cannot be written")


class Settings(ServiceSettings):
    service_name = "tales"


@pytest.fixture
def database(databases) -> Iterator[Database]:
    database = Database(databases.url("tales"))
    Base.metadata.create_all(database.engine)
    SharedBase.metadata.create_all(database.engine)
    yield database
    database.dispose()


def consumer_of(database: Database) -> EventConsumer:
    consumer = EventConsumer(
        database=database,
        settings=Settings(database_url="sqlite://"),
        metrics=Metrics("tales"),
        group_id=None,
        handlers={WRITTEN.name: Handler(Chapter, on_written)},
        topics=[TP.topic],
    )
    # What the consumer reads when its partitions are assigned: where events are parked.
    consumer._parked = consumer._stored_positions()[1]
    return consumer


class Log:
    """Messages as the broker would hold them: offsets in the order they are read."""

    def __init__(self, consumer: EventConsumer) -> None:
        self.consumer = consumer
        self.offset = 0

    def read(self, subject: str, chapter: str, sequence: int | None, noted: bool = False) -> _Read:
        event_type = NOTED if noted else WRITTEN
        event = new_event(
            event_type,
            subject=subject,
            data=Chapter(subject=subject, chapter=chapter),
            event_id=str(uuid.uuid4()),
            sequence=sequence,
        )
        return self.message(encode(event))

    def message(self, value: bytes) -> _Read:
        subject = str(self.consumer._decode(TP.topic, value)[0].subject)
        record = ConsumerRecord(
            TP.topic, 0, self.offset, 0, 0, subject.encode(), value, None, 0, 0, []
        )
        self.offset += 1
        return _Read(record, *self.consumer._decode(TP.topic, value))

    def apply(self, *reads: _Read) -> list[int]:
        """The offsets of the events that failed (sent to the dead-letter topic)."""
        failed = self.consumer._apply(TP, list(reads), next_offset=self.offset)
        return [message.offset for message, _ in failed]


def stories(database: Database) -> dict[str, str]:
    with database.transaction(write=False) as session:
        return {s.subject: s.chapters for s in session.exec(select(Story)).all()}


def parked(database: Database) -> int:
    with database.transaction(write=False) as session:
        return session.scalar(select(func.count()).select_from(ParkedEvent)) or 0


def waiting(consumer: EventConsumer) -> float | None:
    """What the consumer reports parked on the partition (`consumer_parked_events`)."""
    labels = {"topic": TP.topic, "partition": str(TP.partition)}
    return consumer.metrics.registry.get_sample_value("consumer_parked_events", labels)


def test_a_batch_read_out_of_order_is_applied_in_order(database):
    log = Log(consumer_of(database))

    log.apply(
        log.read("s", "a", 1), log.read("s", "c", 3), log.read("t", "x", 1), log.read("s", "b", 2)
    )

    assert stories(database) == {"s": "abc", "t": "x"}
    assert parked(database) == 0


def test_an_event_read_ahead_waits_parked_for_the_earlier_one_even_across_a_restart(database):
    log = Log(consumer_of(database))
    first = log.read("s", "a", 1)
    log.apply(first)
    # A batch in flight when the broker lost its log: read before the outbox published again.
    log.apply(log.read("s", "d", 4), log.read("s", "e", 5))

    assert stories(database) == {"s": "a"}
    assert parked(database) == 2
    assert waiting(log.consumer) == 2

    log.consumer = consumer_of(database)  # a restarted consumer finds them
    log.apply(log.message(first.message.value), log.read("s", "b", 2))
    assert stories(database) == {"s": "ab"}
    assert waiting(log.consumer) == 2
    log.apply(log.read("s", "c", 3))

    assert stories(database) == {"s": "abcde"}
    assert parked(database) == 0
    assert waiting(log.consumer) == 0
    counted = log.consumer.metrics.registry.get_sample_value
    outcomes = ("applied", "duplicate", "parked")
    assert [
        counted("consumer_events_total", {"topic": TP.topic, "outcome": o}) for o in outcomes
    ] == [
        4.0,  # b, c, and the parked d and e
        1.0,  # a, published again
        0.0,  # this consumer parked none
    ]


def test_events_passed_over_and_dead_letters_keep_their_place(database):
    log = Log(consumer_of(database))
    noted = log.read("s", "-", 2, noted=True)  # no handler: passed over, in its turn
    unknown = log.read("s", "?", 4)
    dead = _Read(unknown.message, unknown.event, None)  # sent to the dead-letter topic

    log.apply(log.read("s", "a", 1), log.read("s", "e", 5), noted, log.read("s", "c", 3), dead)

    assert stories(database) == {"s": "ace"}
    assert parked(database) == 0


def test_a_failing_event_does_not_hold_back_those_after_it(database):
    log = Log(consumer_of(database))
    noted = log.read("t", "-", 1, noted=True)
    failing = log.read("s", "!", 2)

    failed = log.apply(log.read("s", "c", 3), noted, log.read("s", "a", 1), failing)

    assert failed == [failing.message.offset]
    assert stories(database) == {"s": "ac"}
    assert parked(database) == 0


def test_events_of_a_subject_written_concurrently_share_a_number_and_both_pass(database):
    log = Log(consumer_of(database))

    log.apply(
        log.read("s", "a", 1), log.read("s", "b", 2), log.read("s", "B", 2), log.read("s", "c", 3)
    )

    assert stories(database) == {"s": "abBc"}


def test_events_without_a_sequence_are_applied_as_read(database):
    log = Log(consumer_of(database))

    log.apply(log.read("s", "b", None), log.read("s", "a", None))

    assert stories(database) == {"s": "ba"}


@pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="SQLite lets one transaction write at a time: none meanwhile"
)
def test_an_event_another_member_applied_meanwhile_is_a_duplicate_not_a_failure(database):
    log = Log(consumer_of(database))
    log.apply(log.read("s", "a", 1))
    # Another member holding the partition for a moment, during a rebalance.
    other = consumer_of(Database(database.engine.url.render_as_string(hide_password=False)))
    failing, meanwhile = log.read("s", "!", 2), log.read("t", "b", 1)
    plain = log.consumer.handlers[WRITTEN.name]

    def applied_by_the_other_first(session: Session, event: ReceivedEvent[Chapter]) -> None:
        if event.id == meanwhile.event.id and not stories(database).get("t"):
            other._apply(TP, [_Read(meanwhile.message, event, plain)], next_offset=log.offset)
        plain.apply(session, event)

    hooked = Handler(Chapter, applied_by_the_other_first)
    # The failing event sends the batch down the careful path, event by event: there, the
    # other member's commit comes between this one's reading and writing of `t`.
    failed = log.apply(failing, _Read(meanwhile.message, meanwhile.event, hooked))

    assert failed == [failing.message.offset]
    assert stories(database) == {"s": "a", "t": "b"}
    counted = log.consumer.metrics.registry.get_sample_value
    assert counted("consumer_handler_failures_total", {"type": WRITTEN.name}) == 1.0
    assert counted("consumer_events_total", {"topic": TP.topic, "outcome": "duplicate"}) == 1.0
