"""Transactional outbox: events are written with the data they describe, then relayed to Kafka."""

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import uuid_utils
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from asgi_correlation_id import correlation_id
from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Field, Session

from shared import events
from shared.db import Database, SharedBase
from shared.events import EventType
from shared.kafka import (
    ensure_topics,
    make_admin,
    make_offsets_reader,
    make_producer,
    partitions_of,
)
from shared.metrics import Metrics
from shared.settings import ServiceSettings
from shared.worker import BackgroundWorker, Stopped

log = logging.getLogger(__name__)

# Any fixed number: the relay of one replica at a time publishes a service's outbox.
_RELAY_LOCK_KEY = 7_410_002


class OutboxMessage(SharedBase, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_key_sequence", "key", "sequence"),)

    # The order of the writes: the relay publishes in this order.
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    event_id: uuid.UUID = Field(unique=True)
    event_type: str
    topic: str
    key: str
    # The event's place among the events about its subject (the key), from 1.
    sequence: int | None = None
    value: bytes
    created_at: datetime
    published_at: datetime | None = Field(default=None, index=True)
    partition: int | None = None
    offset: int | None = Field(default=None, sa_type=BigInteger)


def enqueue(session: Session, event_type: EventType, *, subject: str, data: BaseModel) -> str:
    """Add an event to the outbox, in the session's transaction; returns the event id.

    The event is published only if the transaction commits, and always then.
    """
    sequence = _next_sequences(session, [subject])[0]
    row = _outbox_row(event_type, subject, sequence, data, correlation_id.get(), datetime.now(UTC))
    session.add(OutboxMessage(**row))
    session.info["outbox_pending"] = True
    return str(row["event_id"])


def enqueue_many(
    session: Session, event_type: EventType, items: list[tuple[str, BaseModel]]
) -> None:
    """`enqueue` for many events of one type at once (subject, payload), in one insert."""
    if not items:
        return
    session.flush()  # events enqueued earlier keep their place in the outbox's order
    request_id, now = correlation_id.get(), datetime.now(UTC)
    sequences = _next_sequences(session, [subject for subject, _ in items])
    rows = [
        _outbox_row(event_type, subject, sequence, data, request_id, now)
        for (subject, data), sequence in zip(items, sequences, strict=True)
    ]
    session.execute(insert(OutboxMessage), rows)
    session.info["outbox_pending"] = True


def _next_sequences(session: Session, subjects: list[str]) -> list[int]:
    """Each event's place among the events about its subject: the last one's, stored or
    enqueued earlier in this session, plus one."""
    last: dict[str, int] = session.info.setdefault("outbox_sequences", {})
    unknown = sorted({subject for subject in subjects if subject not in last})
    if unknown:
        # The session's connection: no flush, the events the session holds are in `last`. The
        # driver's SQL: on a request's path, SQLAlchemy's statement handling costs more than
        # the query (about 0.2 ms).
        connection = session.connection()
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        for start in range(0, len(unknown), 500):  # well under the parameter limits
            chunk = unknown[start : start + 500]
            last.update(dict.fromkeys(chunk, 0))
            found = connection.exec_driver_sql(
                "SELECT key, max(sequence) FROM outbox"
                f" WHERE key IN ({', '.join([mark] * len(chunk))}) GROUP BY key",
                tuple(chunk),
            )
            last.update((key, sequence or 0) for key, sequence in found)
    sequences = []
    for subject in subjects:
        last[subject] += 1
        sequences.append(last[subject])
    return sequences


def _outbox_row(
    event_type: EventType,
    subject: str,
    sequence: int,
    data: BaseModel,
    request_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    event_id = str(uuid_utils.uuid7())
    cloud_event = events.new_event(
        event_type,
        subject=subject,
        data=data,
        event_id=event_id,
        sequence=sequence,
        request_id=request_id,
    )
    return {
        "event_id": uuid.UUID(event_id),
        "event_type": event_type.name,
        "topic": event_type.topic,
        "key": subject,
        "sequence": sequence,
        "value": events.encode(cloud_event),
        "created_at": now,
    }


class LogReset(Exception):
    """The broker holds fewer messages than were published: its log was lost."""


class OutboxRelay(BackgroundWorker):
    """Publishes unsent outbox rows in order, keyed by aggregate, and marks them sent.

    It wakes when a transaction with events commits, and polls besides. While the broker is
    away it retries with backoff; a broker that lost its log (a restarted in-memory broker)
    gets the whole outbox again, and consumers drop what they already applied.
    """

    def __init__(self, database: Database, settings: ServiceSettings, metrics: Metrics) -> None:
        super().__init__()
        self.database = database
        self.settings = settings
        self.metrics = metrics
        self.connected = False
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._producer: AIOKafkaProducer | None = None
        self._offsets: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._published_up_to: dict[TopicPartition, int] = {}
        self._leadership: Connection | None = None
        self._last_log_check = 0.0
        database.on_commit(self._after_commit)
        metrics.watch_backlog(self.backlog)

    def _after_commit(self, session: OrmSession) -> None:
        if session.info.pop("outbox_pending", False) and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def backlog(self) -> int:
        with self.database.sessions() as session:
            query = select(func.count()).where(OutboxMessage.published_at.is_(None))
            return session.scalar(query) or 0

    async def broker_reachable(self) -> bool:
        offsets = self._offsets
        if offsets is None:
            return False
        try:
            async with asyncio.timeout(2):
                await offsets.topics()
        except Exception:  # unreachable, whatever the reason
            return False
        return True

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        with contextlib.suppress(Stopped):
            while not self.stopping:
                published = await self.retry(self._publish_batch, "outbox relay", self._on_failure)
                if published < self.settings.relay_batch_size:
                    await self.pause(self.settings.relay_poll_seconds, wake=self._wake)
                    self._wake.clear()

    async def close(self) -> None:
        await self._disconnect()
        await asyncio.to_thread(self._resign)

    async def flush(self) -> None:
        """Publish everything pending now (at shutdown)."""
        while await self._publish_batch(idle_check=False) == self.settings.relay_batch_size:
            pass

    async def _on_failure(self) -> None:
        self.metrics.relay_errors.inc()
        await self._disconnect()

    async def _publish_batch(self, idle_check: bool = True) -> int:
        # Every replica keeps a connection (its readiness says so); one of them publishes.
        await self._connect()
        if not await asyncio.to_thread(self._is_leader):
            return 0
        rows = await asyncio.to_thread(self._unsent)
        if not rows and not idle_check:
            return 0
        if (rows or self._log_check_due()) and await self._broker_lost_events():
            # Reconnect before publishing again: the topic may have been re-created with
            # another partition count than the producer's metadata remembers.
            await self._disconnect()
            return 0
        if not rows:
            return 0
        assert self._producer is not None
        futures = [
            await self._producer.send(
                row.topic,
                value=row.value,
                key=row.key.encode(),
                headers=[("content-type", events.CONTENT_TYPE.encode())],
            )
            for row in rows
        ]
        results = await asyncio.gather(*futures)
        await asyncio.to_thread(self._mark_published, rows, results)
        self.metrics.relay_published.inc(len(rows))
        went_back = False
        for row, result in zip(rows, results, strict=True):
            tp = TopicPartition(row.topic, result.partition)
            went_back = went_back or result.offset <= self._published_up_to.get(tp, -1)
            self._published_up_to[tp] = max(self._published_up_to.get(tp, -1), result.offset)
        if went_back:
            # The broker lost its log between the check and this batch: everything again.
            await self._republish_everything([])
            await self._disconnect()
            return 0
        return len(rows)

    async def _connect(self) -> None:
        if self._producer is not None:
            return
        producer, offsets, admin = (
            make_producer(self.settings),
            make_offsets_reader(self.settings),
            make_admin(self.settings),
        )
        self._producer, self._offsets, self._admin = producer, offsets, admin
        await admin.start()
        await ensure_topics(admin, self.settings, [self.settings.topic])
        await producer.start()
        await offsets.start()
        self._published_up_to = await asyncio.to_thread(self._load_published_offsets)
        self._last_log_check = 0.0  # a new connection may be to a broker that lost its log
        self.connected = True
        log.info(
            "outbox relay connected", extra={"bootstrap": self.settings.kafka_bootstrap_servers}
        )

    async def _disconnect(self) -> None:
        clients = (self._producer, self._offsets, self._admin)
        self._producer = self._offsets = self._admin = None
        self.connected = False
        for client in clients:
            if client is not None:
                try:
                    await (
                        client.close() if isinstance(client, AIOKafkaAdminClient) else client.stop()
                    )
                except Exception:  # a client of a vanished broker may fail to stop
                    log.debug("kafka client stop failed", exc_info=True)

    def _log_check_due(self) -> bool:
        """While idle, the broker's log is still checked now and then (a restart loses it)."""
        now = time.monotonic()
        if now - self._last_log_check < self.settings.relay_log_check_seconds:
            return False
        self._last_log_check = now
        return True

    async def _broker_lost_events(self) -> bool:
        """Whether the broker lost what was published (a restarted in-memory broker); if so,
        everything is unsent again."""
        if not self._published_up_to:
            return False
        assert self._offsets is not None and self._admin is not None
        # A partition the broker no longer has counts as lost: asking for its offsets would hang.
        existing = await partitions_of(self._admin, self.settings.topic)
        lost = [tp for tp in self._published_up_to if tp.partition not in existing]
        kept = [tp for tp in self._published_up_to if tp.partition in existing]
        # Only emptiness is trusted: Tansu reports the end of a partition as the first offset
        # of its last record batch plus one, lower than the true end after a burst.
        end = await self._offsets.end_offsets(kept) if kept else {}
        lost += [tp for tp in kept if end.get(tp, 0) == 0]
        if not lost:
            return False
        await self._republish_everything(lost)
        return True

    async def _republish_everything(self, lost: list[TopicPartition]) -> None:
        self.metrics.relay_resets.inc()
        log.warning(
            "the broker lost published events; publishing the outbox again",
            extra={"partitions": [f"{tp.topic}/{tp.partition}" for tp in lost]},
        )
        await asyncio.to_thread(self._mark_all_unpublished)
        self._published_up_to = {}

    def _is_leader(self) -> bool:
        """On PostgreSQL, only the replica holding the relay lock publishes, to keep the order."""
        if self.database.is_sqlite:
            return True
        if self._leadership is not None:
            try:
                self._leadership.execute(text("SELECT 1"))
                return True
            except DBAPIError:
                self._leadership.invalidate()
                self._leadership = None
        connection = self.database.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": _RELAY_LOCK_KEY}):
            # The session-level lock lives as long as this connection.
            self._leadership = connection
            return True
        connection.close()
        return False

    def _resign(self) -> None:
        if self._leadership is not None:
            self._leadership.invalidate()
            self._leadership.close()
            self._leadership = None

    def _unsent(self) -> list[OutboxMessage]:
        with self.database.sessions() as session:
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.published_at.is_(None))
                .order_by(OutboxMessage.id)
                .limit(self.settings.relay_batch_size)
            )
            return list(session.scalars(query))

    def _mark_published(self, rows: list[OutboxMessage], results: list) -> None:
        now = datetime.now(UTC)
        with self.database.transaction() as session:
            session.execute(
                update(OutboxMessage),
                [
                    {
                        "id": row.id,
                        "published_at": now,
                        "partition": r.partition,
                        "offset": r.offset,
                    }
                    for row, r in zip(rows, results, strict=True)
                ],
            )

    def _mark_all_unpublished(self) -> None:
        with self.database.transaction() as session:
            session.execute(
                update(OutboxMessage).values(published_at=None, partition=None, offset=None)
            )

    def _load_published_offsets(self) -> dict[TopicPartition, int]:
        with self.database.sessions() as session:
            query = (
                select(OutboxMessage.topic, OutboxMessage.partition, func.max(OutboxMessage.offset))
                .where(OutboxMessage.published_at.is_not(None))
                .group_by(OutboxMessage.topic, OutboxMessage.partition)
            )
            return {TopicPartition(t, p): o for t, p, o in session.execute(query)}
