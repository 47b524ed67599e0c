"""Idempotent consumer: each event is applied once, with its id stored in the same transaction."""

import asyncio
import contextlib
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
from sqlalchemy import BigInteger, insert
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Field, Session, select

from shared import events
from shared.db import Database, SharedBase
from shared.events import MalformedEvent
from shared.kafka import ensure_topics, make_admin, make_producer, partitions_of
from shared.metrics import Metrics
from shared.rows import Key, rows
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


class ConsumerPosition(SharedBase, table=True):
    """The next offset to read per partition, committed with the effects of what was read."""

    __tablename__ = "consumer_position"

    topic: str = Field(primary_key=True)
    partition: int = Field(primary_key=True)
    next_offset: int = Field(sa_type=BigInteger)


@dataclass(frozen=True)
class ReceivedEvent(Generic[Payload]):
    id: uuid.UUID
    type: str
    subject: str | None
    time: datetime
    request_id: str | None
    data: Payload


@dataclass(frozen=True)
class Handler(Generic[Payload]):
    """What to do with one event type: its payload model, the function that applies it, and
    the rows it reads by primary key, which the consumer reads for the whole batch at once (for
    a handler that changes rows through `shared.rows`)."""

    payload: type[Payload]
    apply: Callable[[Session, ReceivedEvent[Payload]], None]
    reads: Callable[[ReceivedEvent[Payload]], Iterable[Key]] | None = None


class DeadLetter(Exception):
    """This message can never be applied; it goes to `<topic>.dlq`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


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
        stored = await asyncio.to_thread(self._stored_positions)
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

    def _stored_positions(self) -> dict[tuple[str, int], int]:
        with self.database.sessions() as session:
            rows = session.exec(select(ConsumerPosition)).all()
            return {(row.topic, row.partition): row.next_offset for row in rows}

    async def _process(self, tp: TopicPartition, messages: list[ConsumerRecord]) -> bool:
        """Applies a partition's batch; False, applying nothing, when it came from a log the
        broker no longer holds."""
        if not await self._same_log(tp):
            return False
        accepted: list[tuple[ConsumerRecord, ReceivedEvent[Any], Handler[Any]]] = []
        for message in messages:
            try:
                decoded = self._decode(message)
            except DeadLetter as dead:
                await self._send_dead_letter(message, dead)
                continue
            if decoded is None:
                self.metrics.consumed.labels(tp.topic, "ignored").inc()
            else:
                accepted.append((message, *decoded))
        next_offset = messages[-1].offset + 1
        failed = await asyncio.to_thread(self._apply, tp, accepted, next_offset)
        if failed:
            for message, dead in failed:
                await self._send_dead_letter(message, dead)
            # Only now past the failed events: a crash before this re-reads and re-sends them.
            await asyncio.to_thread(self._store_position, tp, next_offset)
        if self._consumer is not None and self.group_id is not None:
            try:
                await self._consumer.commit({tp: next_offset})
                self._committed[tp] = next_offset
            except CommitFailedError:
                # The partition moved to another member during a rebalance; it will re-read
                # from the stored position and drop what this transaction already applied.
                log.info("offset commit refused after a rebalance", extra={"partition": str(tp)})
        return True

    def _decode(self, message: ConsumerRecord) -> tuple[ReceivedEvent[Any], Handler[Any]] | None:
        try:
            cloud_event = events.decode(message.value)
        except MalformedEvent as error:
            raise DeadLetter("malformed", str(error)) from error
        event_type = cloud_event.get_type()
        handler = self.handlers.get(event_type)
        if handler is None:
            family = events.TYPE_PATTERN.match(event_type)["family"]  # type: ignore[index]
            if family in self._families:
                raise DeadLetter("unknown-version", f"no handler for {event_type}")
            return None  # an event this service has no interest in
        source = events.TYPE_PATTERN.match(event_type)["service"]  # type: ignore[index]
        if message.topic != f"{source}.events":
            # Only the service named in the type publishes it, on its own topic.
            raise DeadLetter("wrong-topic", f"{event_type} is not published on {message.topic}")
        try:
            data = handler.payload.model_validate(cloud_event.get_data())
            event_id = uuid.UUID(cloud_event.get_id())
        except (ValidationError, ValueError) as error:
            raise DeadLetter("invalid-payload", str(error)) from error
        received = ReceivedEvent(
            id=event_id,
            type=event_type,
            subject=cloud_event.get_subject(),
            time=cloud_event.get_time() or datetime.now(UTC),
            request_id=cloud_event.get_extension("requestid"),
            data=data,
        )
        return received, handler

    def _apply(
        self,
        tp: TopicPartition,
        accepted: list[tuple[ConsumerRecord, ReceivedEvent[Any], Handler[Any]]],
        next_offset: int,
    ) -> list[tuple[ConsumerRecord, DeadLetter]]:
        """Applies a batch in one transaction; a failing handler sends it down the careful path."""
        try:
            with self.database.transaction() as session:
                self._apply_all(session, tp, accepted, isolate_failures=False)
                _save_position(session, tp, next_offset)
            return []
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            log.info(
                "a handler failed; applying the batch event by event", extra={"partition": str(tp)}
            )
        with self.database.transaction() as session:
            failed = self._apply_all(session, tp, accepted, isolate_failures=True)
            _save_position(session, tp, failed[0][0].offset if failed else next_offset)
        return failed

    def _apply_all(
        self,
        session: Session,
        tp: TopicPartition,
        accepted: list[tuple[ConsumerRecord, ReceivedEvent[Any], Handler[Any]]],
        *,
        isolate_failures: bool,
    ) -> list[tuple[ConsumerRecord, DeadLetter]]:
        failed: list[tuple[ConsumerRecord, DeadLetter]] = []
        ids = [received.id for _, received, _ in accepted]
        seen = set(
            session.scalars(select(ProcessedEvent.event_id).where(ProcessedEvent.event_id.in_(ids)))
        )
        batch = rows(session)
        batch.load(
            key
            for _, received, handler in accepted
            if handler.reads is not None and received.id not in seen
            for key in handler.reads(received)
        )
        processed: list[dict[str, Any]] = []
        now = datetime.now(UTC)
        applied = 0
        for message, received, handler in accepted:
            if received.id in seen:
                self.metrics.consumed.labels(tp.topic, "duplicate").inc()
                continue
            seen.add(received.id)
            token = correlation_id.set(received.request_id)
            try:
                if isolate_failures:
                    with session.begin_nested():
                        handler.apply(session, received)
                        batch.write()
                else:
                    handler.apply(session, received)
            except TRANSIENT_ERRORS:
                raise
            except Exception as error:
                if not isolate_failures:
                    raise
                batch.forget()  # the savepoint's rollback undid what the handler changed
                log.exception("event handler failed", extra={"event_type": received.type})
                self.metrics.handler_failures.labels(received.type).inc()
                failed.append((message, DeadLetter("handler-failed", repr(error))))
                continue
            finally:
                correlation_id.reset(token)
            processed.append(
                {"event_id": received.id, "event_type": received.type, "processed_at": now}
            )
            applied += 1
            if self.newest_event_time is None or received.time > self.newest_event_time:
                self.newest_event_time = received.time
        if processed:
            session.execute(insert(ProcessedEvent.__table__), processed)  # type: ignore[attr-defined]
        self.metrics.consumed.labels(tp.topic, "applied").inc(applied)
        return failed

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


def _lost(committed: int | None, known: int) -> bool:
    """A broker holding less than the group committed lost its log (and the group's offsets)."""
    return committed is None or committed < known


def _save_position(session: Session, tp: TopicPartition, next_offset: int) -> None:
    position = session.get(ConsumerPosition, (tp.topic, tp.partition))
    if position is None:
        position = ConsumerPosition(topic=tp.topic, partition=tp.partition, next_offset=next_offset)
    position.next_offset = next_offset
    session.add(position)


class _RestorePositions(ConsumerRebalanceListener):
    def __init__(self, consumer: EventConsumer) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Another member reports their lag now; a stale series would be counted twice.
        for tp in revoked:
            with contextlib.suppress(KeyError):
                self.consumer.metrics.consumer_lag.remove(tp.topic, str(tp.partition))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.consumer._restore_positions(assigned)  # noqa: SLF001
