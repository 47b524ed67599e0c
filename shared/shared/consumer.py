"""Idempotent consumer: each event is applied once, with its id stored in the same transaction."""

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import CommitFailedError, KafkaError
from asgi_correlation_id import correlation_id
from pydantic import BaseModel, ValidationError
from sqlalchemy import BigInteger, Index, bindparam, delete, insert
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlmodel import Field, Session, col, select

from shared import events
from shared.db import Database, SharedBase
from shared.events import MalformedEvent
from shared.kafka import ensure_topics, make_admin, make_producer, partitions_of
from shared.metrics import Metrics
from shared.rows import Key, Rows, rows
from shared.settings import ServiceSettings
from shared.worker import BackgroundWorker, Stopped

log = logging.getLogger(__name__)

Payload = TypeVar("Payload", bound=BaseModel)

# Errors that say "try again later" rather than "this event is bad".
TRANSIENT_ERRORS = (OperationalError, InterfaceError, KafkaError, OSError)


class ProcessedEvent(SharedBase, table=True):
    __tablename__ = "processed_event"

    event_id: uuid.UUID = Field(primary_key=True)
    event_type: str
    processed_at: datetime


# Built once: building a statement costs more than running it.
_ALREADY_PROCESSED = select(ProcessedEvent.event_id).where(
    col(ProcessedEvent.event_id).in_(bindparam("ids", expanding=True))
)
_PROCESSED = insert(ProcessedEvent.__table__)  # type: ignore[attr-defined]


class ConsumerPosition(SharedBase, table=True):
    """The next offset to read per partition, committed with the effects of what was read."""

    __tablename__ = "consumer_position"

    topic: str = Field(primary_key=True)
    partition: int = Field(primary_key=True)
    next_offset: int = Field(sa_type=BigInteger)


class SubjectSequence(SharedBase, table=True):
    """Per subject, the sequence number of the last of its events this consumer went past."""

    __tablename__ = "subject_sequence"

    topic: str = Field(primary_key=True)
    subject: str = Field(primary_key=True)
    sequence: int


class ParkedEvent(SharedBase, table=True):
    """An event read before an earlier one about the same subject: it waits here for it.

    Only a broker that lost its log can deliver them so (a batch in flight when the local
    in-memory broker restarted reaches the new log ahead of the outbox published again).
    """

    __tablename__ = "parked_event"
    __table_args__ = (Index("ix_parked_event_topic_partition", "topic", "partition"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: uuid.UUID
    topic: str
    partition: int
    offset: int = Field(sa_type=BigInteger)
    key: bytes | None = None
    value: bytes
    parked_at: datetime


@dataclass(frozen=True)
class ReceivedEvent(Generic[Payload]):
    id: uuid.UUID
    type: str
    subject: str | None
    time: datetime
    request_id: str | None
    data: Payload
    sequence: int | None = None  # its place among the events about its subject, from 1


@dataclass(frozen=True)
class _Read:
    """A decoded message; without a handler, one this consumer passes over (an event it has no
    interest in, or a dead letter already sent), in its turn all the same."""

    message: ConsumerRecord
    event: ReceivedEvent[Any]
    handler: "Handler[Any] | None"


@dataclass(frozen=True)
class Handler(Generic[Payload]):
    """What to do with one event type: its payload model, the function that applies it, and
    the rows it reads by primary key, which the consumer reads for the whole batch at once (for
    a handler that changes rows through `shared.rows`)."""

    payload: type[Payload]
    apply: Callable[[Session, ReceivedEvent[Payload]], None]
    reads: Callable[[ReceivedEvent[Payload]], Iterable[Key]] | None = None


class DeadLetter(Exception):
    """This message can never be applied; it goes to `<topic>.dlq`. `event`: its envelope, when
    that could be read (its place among its subject's events is passed all the same)."""

    def __init__(self, reason: str, detail: str, event: "ReceivedEvent[Any] | None" = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.event = event


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    position: int
    end: int

    @property
    def lag(self) -> int:
        return max(self.end - self.position, 0)


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


class EventConsumer(BackgroundWorker):
    """Reads topics in a consumer group (or, without a group, every partition from its stored
    position: a replay) and applies events with their handlers.

    Per partition batch: decode and validate every message, apply the good ones in one
    transaction that also records their ids and the partition's next offset, send the bad
    ones to the dead-letter topic, then commit the offsets to Kafka. A redelivered event
    changes nothing; the position read back at assignment is the one stored with the effects.
    """

    def __init__(
        self,
        *,
        database: Database,
        settings: ServiceSettings,
        metrics: Metrics,
        group_id: str | None,
        handlers: dict[str, Handler[Any]],
        topics: list[str],
    ) -> None:
        super().__init__()
        self.database = database
        self.settings = settings
        self.metrics = metrics
        self.group_id = group_id
        self.handlers = handlers
        self.topics = topics
        self.connected = False
        self.newest_event_time: datetime | None = None
        self._families = {events.TYPE_PATTERN.match(name)["family"] for name in handlers}  # type: ignore[index]
        self._consumer: AIOKafkaConsumer | None = None
        self._dead_letters: AIOKafkaProducer | None = None
        self._reposition = False
        # Per partition, the offset the broker holds for the group as far as this consumer
        # knows: read when the partition was assigned, then each offset it committed.
        self._committed: dict[TopicPartition, int | None] = {}
        self._last_offsets_check = 0.0
        # The partitions with parked events (see `ParkedEvent`), read at assignment.
        self._parked: set[TopicPartition] = set()

    async def run(self) -> None:
        try:
            await self.retry(self._start, "consumer start")
            while not self.stopping:
                if self._reposition:
                    self._reposition = False
                    await self._restore_positions(self._consumer.assignment())  # type: ignore[union-attr]
                batch = await self._fetch()
                for tp, messages in batch.items():
                    same_log = await self.retry(
                        functools.partial(self._process, tp, messages), "event batch"
                    )
                    if not same_log:
                        break  # the rest of this fetch came from stale positions too
                await self._record_lag()
                if (
                    self.group_id is not None
                    and time.monotonic() - self._last_offsets_check
                    > self.settings.relay_log_check_seconds
                ):
                    self._last_offsets_check = time.monotonic()
                    await self.retry(self._check_broker_kept_offsets, "offsets check")
                    await self.retry(self._apply_parked, "parked events")
        except Stopped:
            pass
        finally:
            await self._stop()

    async def _fetch(self) -> dict[TopicPartition, list[ConsumerRecord]]:
        """The next messages; empty when asked to stop (while a group forms, a fetch waits)."""
        settings = self.settings
        batch = settings.consumer_batch_size if self.group_id else settings.replay_batch_size
        fetching = asyncio.ensure_future(
            self._consumer.getmany(timeout_ms=500, max_records=batch)  # type: ignore[union-attr]
        )
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait([fetching, stopping], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetching.done():
            fetching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fetching
            return {}
        return fetching.result()

    def reposition(self) -> None:
        """Read again from the positions stored in `database` (after it was replaced)."""
        self._reposition = True

    async def caught_up(self) -> bool:
        """Whether every assigned partition has been read to its end (as the broker reports it)."""
        consumer = self._consumer
        if consumer is None or not consumer.assignment():
            return False
        ends = await consumer.end_offsets(list(consumer.assignment()))
        for tp, end in ends.items():
            if await consumer.position(tp) < end:
                return False
        return True

    async def lag(self) -> list[PartitionLag]:
        """Lag of the partitions assigned to this instance."""
        consumer = self._consumer
        if consumer is None:
            return []
        result = []
        for tp in sorted(consumer.assignment()):
            end = consumer.highwater(tp)
            if end is None:
                continue
            try:
                position = await consumer.position(tp)
            except (KafkaError, AssertionError):  # revoked meanwhile by a rebalance
                continue
            result.append(PartitionLag(tp.topic, tp.partition, position, end))
        return result

    async def _start(self) -> None:
        admin = make_admin(self.settings)
        try:
            await admin.start()
            await ensure_topics(
                admin, self.settings, self.topics + [dlq_topic(t) for t in self.topics]
            )
            partitions = [
                TopicPartition(topic, partition)
                for topic in self.topics
                for partition in sorted(await partitions_of(admin, topic))
            ]
        finally:
            await admin.close()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=self.group_id,
            client_id=f"{self.settings.service_name}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=100,
            session_timeout_ms=self.settings.consumer_session_timeout_ms,
            heartbeat_interval_ms=self.settings.consumer_session_timeout_ms // 5,
            request_timeout_ms=40_000,
        )
        dead_letters = make_producer(self.settings) if self.group_id is not None else None
        try:
            await consumer.start()
            if dead_letters is not None:
                consumer.subscribe(self.topics, listener=_RestorePositions(self))
                await dead_letters.start()
        except BaseException:
            await consumer.stop()
            if dead_letters is not None:
                await dead_letters.stop()
            raise
        self._consumer, self._dead_letters = consumer, dead_letters
        if self.group_id is None:
            consumer.assign(partitions)
            await self._restore_positions(set(partitions))
        self.connected = True
        log.info("consumer started", extra={"group": self.group_id, "topics": self.topics})

    async def _stop(self) -> None:
        self.connected = False
        for client in (self._consumer, self._dead_letters):
            if client is not None:
                try:
                    await client.stop()
                except Exception:
                    log.debug("kafka client stop failed", exc_info=True)
        self._consumer = self._dead_letters = None

    async def _restore_positions(self, partitions: set[TopicPartition]) -> None:
        """Seek to the positions stored with the projection.

        A stored position is trusted only while the group's committed offset exists: a broker
        that lost its log (or the group) starts from the beginning, and ids already applied
        are dropped. Without a stored position the projection has not read the partition yet.
        """
        consumer = self._consumer
        if consumer is None or not partitions:
            return
        stored, parked = await asyncio.to_thread(self._stored_positions)
        self._parked = (self._parked - partitions) | (parked & partitions)
        from_the_beginning = []
        for tp in partitions:
            position = stored.get((tp.topic, tp.partition))
            committed = await consumer.committed(tp) if self.group_id is not None else position
            self._committed[tp] = committed
            if position is not None and committed is not None:
                consumer.seek(tp, position)
            else:
                from_the_beginning.append(tp)
        if from_the_beginning:
            # One request for them all: each call waits for the fetcher's next round.
            await consumer.seek_to_beginning(*from_the_beginning)

    async def _check_broker_kept_offsets(self) -> None:
        """A broker that lost the group's offsets lost its log too (a restarted in-memory broker):
        read everything again from the beginning; what was already applied is dropped."""
        consumer = self._consumer
        if consumer is None:
            return
        mine = {
            tp: offset
            for tp, offset in self._committed.items()
            if tp in consumer.assignment() and offset is not None
        }
        for tp, offset in mine.items():
            async with asyncio.timeout(10):
                committed = await consumer.committed(tp)
            if _lost(committed, offset):
                await self._read_again_from_the_beginning()
                return

    async def _same_log(self, tp: TopicPartition) -> bool:
        """Whether the broker still holds at least the offset this consumer knows it holds for
        `tp` (another member may have committed further since a rebalance).

        Checked before each batch is applied, not only now and then: after a broker lost its
        log, the positions in memory point into another log, and a single batch read from
        there applies later events before earlier ones (or skips some). Then every partition
        is read again from the beginning, and what was already applied is dropped.
        """
        consumer = self._consumer
        known = self._committed.get(tp)
        if consumer is None or self.group_id is None or known is None:
            return True
        async with asyncio.timeout(10):
            committed = await consumer.committed(tp)
        if not _lost(committed, known):
            return True
        await self._read_again_from_the_beginning()
        return False

    async def _read_again_from_the_beginning(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        log.warning("the broker lost this group's offsets; reading from the beginning")
        assignment = consumer.assignment()
        self._committed = dict.fromkeys(assignment)  # the broker holds nothing for the group now
        await consumer.seek_to_beginning(*assignment)

    def _stored_positions(self) -> tuple[dict[tuple[str, int], int], set[TopicPartition]]:
        """The positions stored with the projection, and the partitions with parked events."""
        with self.database.sessions() as session:
            rows = session.exec(select(ConsumerPosition)).all()
            parked = session.exec(select(ParkedEvent.topic, ParkedEvent.partition).distinct()).all()
            return (
                {(row.topic, row.partition): row.next_offset for row in rows},
                {TopicPartition(topic, partition) for topic, partition in parked},
            )

    async def _process(self, tp: TopicPartition, messages: list[ConsumerRecord]) -> bool:
        """Applies a partition's batch; False, applying nothing, when it came from a log the
        broker no longer holds."""
        if not await self._same_log(tp):
            return False
        reads: list[_Read] = []
        for message in messages:
            try:
                event, handler = self._decode(message.topic, message.value)
            except DeadLetter as dead:
                await self._send_dead_letter(message, dead)
                if dead.event is not None:
                    reads.append(_Read(message, dead.event, None))
                continue
            if handler is None:
                self.metrics.consumed.labels(tp.topic, "ignored").inc()
            reads.append(_Read(message, event, handler))
        next_offset = messages[-1].offset + 1
        await self._apply_and_commit(tp, reads, next_offset)
        if self._consumer is not None and self.group_id is not None:
            try:
                await self._consumer.commit({tp: next_offset})
                self._committed[tp] = next_offset
            except CommitFailedError:
                # The partition moved to another member during a rebalance; it will re-read
                # from the stored position and drop what this transaction already applied.
                log.info("offset commit refused after a rebalance", extra={"partition": str(tp)})
        return True

    async def _apply_and_commit(
        self, tp: TopicPartition, reads: list[_Read], next_offset: int | None
    ) -> None:
        failed = await asyncio.to_thread(self._apply, tp, reads, next_offset)
        if failed:
            for message, dead in failed:
                await self._send_dead_letter(message, dead)
            if next_offset is not None:
                # Only now past the failed events: a crash before this re-reads and re-sends them.
                await asyncio.to_thread(self._store_position, tp, next_offset)

    async def _apply_parked(self) -> None:
        """Parked events whose predecessors another partition brought (after the topic's
        partitions changed), without waiting for their own partition's next message."""
        consumer = self._consumer
        for tp in sorted(self._parked & (consumer.assignment() if consumer else set())):
            await self._apply_and_commit(tp, [], None)

    def _decode(
        self, topic: str, value: bytes | None
    ) -> tuple[ReceivedEvent[Any], Handler[Any] | None]:
        """The event and its handler (None: an event this consumer has no interest in)."""
        try:
            envelope = events.decode(value)
        except MalformedEvent as error:
            raise DeadLetter("malformed", str(error)) from error
        handler = self.handlers.get(envelope.type)
        data: Any = envelope.data
        reason = None
        if handler is None:
            family = events.TYPE_PATTERN.match(envelope.type)["family"]  # type: ignore[index]
            if family in self._families:
                reason, detail = "unknown-version", f"no handler for {envelope.type}"
        elif topic != f"{envelope.type.split('.', 1)[0]}.events":
            # Only the service named in the type publishes it, on its own topic.
            reason, detail = "wrong-topic", f"{envelope.type} is not published on {topic}"
        else:
            try:
                data = handler.payload.model_validate(data)
            except ValidationError as error:
                reason, detail = "invalid-payload", str(error)
        event = ReceivedEvent(
            id=envelope.id,
            type=envelope.type,
            subject=envelope.subject,
            time=envelope.time or datetime.now(UTC),
            request_id=envelope.requestid,
            data=data,
            sequence=envelope.subjectsequence,
        )
        if reason is not None:
            raise DeadLetter(reason, detail, event)
        return event, handler

    def _apply(
        self, tp: TopicPartition, reads: list[_Read], next_offset: int | None
    ) -> list[tuple[ConsumerRecord, DeadLetter]]:
        """Applies a batch in one transaction; a failing handler sends it down the careful path.
        `next_offset`: the partition's position after the batch (None: unchanged)."""
        try:
            with self.database.transaction() as session:
                applied = self._apply_all(session, tp, reads, isolate_failures=False)
                if next_offset is not None:
                    _save_position(session, tp, next_offset)
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            log.info(
                "a handler failed; applying the batch event by event", extra={"partition": str(tp)}
            )
            with self.database.transaction() as session:
                applied = self._apply_all(session, tp, reads, isolate_failures=True)
                first_failed = min((message.offset for message, _ in applied.failed), default=None)
                if next_offset is not None:
                    _save_position(
                        session, tp, next_offset if first_failed is None else first_failed
                    )
        # Committed: now the counts and what waits.
        self.metrics.consumed.labels(tp.topic, "applied").inc(len(applied.processed))
        self.metrics.consumed.labels(tp.topic, "parked").inc(applied.parked)
        self.metrics.parked_events.labels(tp.topic, str(tp.partition)).set(applied.waiting)
        if applied.waiting:
            self._parked.add(tp)
        else:
            self._parked.discard(tp)
        return applied.failed

    def _apply_all(
        self, session: Session, tp: TopicPartition, reads: list[_Read], *, isolate_failures: bool
    ) -> "_Applying":
        """Applies each event in its subject's order: one read ahead of an earlier one about
        the same subject is parked, and applied once those before it are."""
        parked = self._parked_events(session, tp) if tp in self._parked else []
        candidates = reads + [read for _, read in parked]
        ids = [read.event.id for read in candidates if read.handler is not None]
        connection = session.connection()
        seen = set(connection.execute(_ALREADY_PROCESSED, {"ids": ids}).scalars())
        batch = rows(session)
        batch.load(
            _sequence_key(tp, read.event) for read in candidates if read.event.sequence is not None
        )
        batch.load(
            key
            for read in candidates
            if read.handler is not None and read.handler.reads is not None
            if read.event.id not in seen
            for key in read.handler.reads(read.event)
        )
        applying = _Applying(session, batch, seen, isolate_failures)
        waiting: list[_Read] = []
        for read in reads:
            if _in_order(batch, tp, read.event):
                self._apply_one(applying, tp, read)
            else:
                waiting.append(read)
        # Then the parked events whose turn came, until none does.
        waiting += [read for _, read in parked]
        progress = True
        while progress:
            progress = False
            for read in sorted(waiting, key=lambda read: read.event.sequence or 0):
                if _in_order(batch, tp, read.event):
                    self._apply_one(applying, tp, read)
                    waiting.remove(read)
                    progress = True
        still = {id(read) for read in waiting}
        drained = [row_id for row_id, read in parked if id(read) not in still]
        if drained:
            session.execute(delete(ParkedEvent).where(ParkedEvent.id.in_(drained)))  # type: ignore[union-attr]
        already = {read.event.id for _, read in parked}
        newly = [read for read in waiting if read.event.id not in already]
        if newly:
            self._park(session, tp, newly)
        applying.parked, applying.waiting = len(newly), len(waiting)
        if applying.processed:
            connection.execute(_PROCESSED, applying.processed)
        return applying

    def _apply_one(self, applying: "_Applying", tp: TopicPartition, read: _Read) -> None:
        session, batch, event, handler = applying.session, applying.batch, read.event, read.handler
        if handler is None or event.id in applying.seen:
            if handler is not None:
                self.metrics.consumed.labels(tp.topic, "duplicate").inc()
            _advance(batch, tp, event)
            if applying.isolate_failures:
                batch.write()  # before a failing handler's rollback makes `batch` forget
            return
        applying.seen.add(event.id)
        token = correlation_id.set(event.request_id)
        try:
            if applying.isolate_failures:
                with session.begin_nested():
                    handler.apply(session, event)
                    _advance(batch, tp, event)
                    batch.write()
            else:
                handler.apply(session, event)
                _advance(batch, tp, event)
        except TRANSIENT_ERRORS:
            raise
        except Exception as error:
            if not applying.isolate_failures:
                raise
            batch.forget()  # the savepoint's rollback undid what the handler changed
            if isinstance(error, IntegrityError) and _applied_meanwhile(session, event.id):
                # Another member applied it since this batch began: during a rebalance, two
                # may hold a partition for a moment. A duplicate, not a failure.
                self.metrics.consumed.labels(tp.topic, "duplicate").inc()
                _advance(batch, tp, event)
                batch.write()
                return
            log.exception("event handler failed", extra={"event_type": event.type})
            self.metrics.handler_failures.labels(event.type).inc()
            applying.failed.append((read.message, DeadLetter("handler-failed", repr(error))))
            _advance(batch, tp, event)  # its successors do not wait for it
            batch.write()
            return
        finally:
            correlation_id.reset(token)
        applying.processed.append(
            {"event_id": event.id, "event_type": event.type, "processed_at": applying.now}
        )
        if self.newest_event_time is None or event.time > self.newest_event_time:
            self.newest_event_time = event.time

    def _park(self, session: Session, tp: TopicPartition, reads: list[_Read]) -> None:
        now = datetime.now(UTC)
        for read in reads:
            log.warning(
                "an event read before an earlier one about its subject waits for it",
                extra={
                    "partition": str(tp),
                    "offset": read.message.offset,
                    "subject": read.event.subject,
                    "sequence": read.event.sequence,
                },
            )
        session.execute(
            insert(ParkedEvent.__table__),  # type: ignore[attr-defined]
            [
                {
                    "event_id": read.event.id,
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "offset": read.message.offset,
                    "key": read.message.key,
                    "value": read.message.value,
                    "parked_at": now,
                }
                for read in reads
            ],
        )

    def _parked_events(self, session: Session, tp: TopicPartition) -> list[tuple[int, _Read]]:
        stored = session.exec(
            select(ParkedEvent).where(
                ParkedEvent.topic == tp.topic, ParkedEvent.partition == tp.partition
            )
        ).all()
        parked = []
        for row in stored:
            message = ConsumerRecord(
                topic=row.topic,
                partition=row.partition,
                offset=row.offset,
                timestamp=0,
                timestamp_type=0,
                key=row.key,
                value=row.value,
                checksum=None,
                serialized_key_size=len(row.key or b""),
                serialized_value_size=len(row.value),
                headers=(),
            )
            try:
                event, handler = self._decode(row.topic, row.value)
            except DeadLetter as dead:  # sent when it was first read
                assert dead.event is not None
                event, handler = dead.event, None
            parked.append((row.id, _Read(message, event, handler)))
        return parked

    def _store_position(self, tp: TopicPartition, next_offset: int) -> None:
        with self.database.transaction() as session:
            _save_position(session, tp, next_offset)

    async def _send_dead_letter(self, message: ConsumerRecord, dead: DeadLetter) -> None:
        if self._dead_letters is None:
            # A replay: the live consumer sent this one to the dead-letter topic already.
            log.info("bad message skipped in a replay", extra={"offset": message.offset})
            return
        headers = list(message.headers or []) + [
            ("dlq-reason", dead.reason.encode()),
            ("dlq-error", str(dead)[:1000].encode()),
            ("dlq-topic", message.topic.encode()),
            ("dlq-partition", str(message.partition).encode()),
            ("dlq-offset", str(message.offset).encode()),
            ("dlq-consumer-group", (self.group_id or "").encode()),
        ]
        await self._dead_letters.send_and_wait(
            dlq_topic(message.topic), value=message.value, key=message.key, headers=headers
        )
        self.metrics.dead_letters.labels(message.topic, dead.reason).inc()
        log.warning(
            "message sent to the dead-letter topic",
            extra={"topic": message.topic, "offset": message.offset, "reason": dead.reason},
        )

    async def _record_lag(self) -> None:
        for partition in await self.lag():
            self.metrics.consumer_lag.labels(partition.topic, str(partition.partition)).set(
                partition.lag
            )


@dataclass
class _Applying:
    """What applying one batch carries from event to event."""

    session: Session
    batch: Rows
    seen: set[uuid.UUID]
    isolate_failures: bool
    now: datetime = dataclasses.field(default_factory=lambda: datetime.now(UTC))
    processed: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    failed: list[tuple[ConsumerRecord, DeadLetter]] = dataclasses.field(default_factory=list)
    parked: int = 0  # events parked by this batch
    waiting: int = 0  # the partition's events still parked


def _sequence_key(tp: TopicPartition, event: ReceivedEvent[Any]) -> Key:
    return (SubjectSequence, (tp.topic, event.subject))


def _in_order(batch: Rows, tp: TopicPartition, event: ReceivedEvent[Any]) -> bool:
    """Whether every earlier event about its subject was passed (or it carries no sequence).
    Two events may share a number (two writes of one subject that raced): both pass."""
    if event.sequence is None:
        return True
    last = batch.get(*_sequence_key(tp, event))
    return event.sequence <= (last["sequence"] if last else 0) + 1


def _advance(batch: Rows, tp: TopicPartition, event: ReceivedEvent[Any]) -> None:
    if event.sequence is None:
        return
    last = batch.get(*_sequence_key(tp, event))
    if last is None:
        batch.add(SubjectSequence, topic=tp.topic, subject=event.subject, sequence=event.sequence)
    elif event.sequence > last["sequence"]:
        last["sequence"] = event.sequence


def _applied_meanwhile(session: Session, event_id: uuid.UUID) -> bool:
    """Whether the event is recorded as applied now, by a transaction that committed after this
    one began (PostgreSQL's statements see those; SQLite lets one transaction write at a time)."""
    found = session.connection().execute(_ALREADY_PROCESSED, {"ids": [event_id]})
    return found.first() is not None


def _lost(committed: int | None, known: int) -> bool:
    """A broker holding less than the group committed lost its log (and the group's offsets)."""
    return committed is None or committed < known


def _save_position(session: Session, tp: TopicPartition, next_offset: int) -> None:
    rows(session).put(
        ConsumerPosition, topic=tp.topic, partition=tp.partition, next_offset=next_offset
    )


class _RestorePositions(ConsumerRebalanceListener):
    def __init__(self, consumer: EventConsumer) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Another member reports these now; a stale series would be counted twice.
        metrics = self.consumer.metrics
        for tp in revoked:
            for gauge in (metrics.consumer_lag, metrics.parked_events):
                with contextlib.suppress(KeyError):
                    gauge.remove(tp.topic, str(tp.partition))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.consumer._restore_positions(assigned)  # noqa: SLF001
