"""Bad messages in the stream and a database that goes away: poison messages and unknown event
versions go to the dead-letter topic without stalling their partition; a service whose database
is unavailable says so (readiness, 503) and comes back on its own, with nothing half-written."""

import asyncio
import json
import sqlite3
import uuid

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from tests.faults.conftest import FULL, PEOPLE_PARTITIONS, assert_exact, report, scale, settle
from tests.faults.harness import Cluster, until
from tests.faults.test_broker_faults import acknowledged, started
from tests.support.databases import TEST_DATABASE_URL

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900 if FULL else 300)]


def cloud_event(type_: str, data: dict) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "/tests/faults",
            "type": type_,
            "subject": str(data.get("id", "none")),
            "time": "2026-11-27T10:00:00Z",
            "datacontenttype": "application/json",
            "data": data,
        }
    ).encode()


# What cannot be applied, by the reason the dead-letter topic will give.
POISON = {
    "malformed": lambda: b"\x00 not an event",
    "unknown-version": lambda: cloud_event(
        "people.person.registered.v9", {"id": str(uuid.uuid4()), "shape": "from the future"}
    ),
    "invalid-payload": lambda: cloud_event("people.person.registered.v1", {"name": "no id"}),
}


async def test_poison_and_unknown_versions_go_to_the_dead_letter_topic(
    cluster: Cluster, request: pytest.FixtureRequest
):
    rounds = scale(1, 5)
    workload = await started(cluster, "poison", actors=scale(4, 6))
    producer = AIOKafkaProducer(bootstrap_servers=cluster.broker.bootstrap, acks="all")
    await producer.start()
    try:
        for _ in range(rounds):
            await acknowledged(workload, 20, "before the poison")
            # On every partition, between good events written before and after.
            for partition in range(PEOPLE_PARTITIONS):
                for make in POISON.values():
                    await producer.send_and_wait("people.events", make(), partition=partition)
        await acknowledged(workload, 20, "after the poison")
    finally:
        await producer.stop()
    await workload.stop()

    verdict = await settle(cluster, workload, "poison and unknown versions", rounds)
    report(request, verdict)
    assert_exact(verdict)  # every partition went on past its bad messages
    expected = rounds * PEOPLE_PARTITIONS
    dead = await dead_letters(cluster, expected * len(POISON))
    for reason in POISON:
        assert dead.count(reason) == expected, dead
        counted = await cluster.strategies[0].metric(
            "consumer_dead_letters_total", topic="people.events", reason=reason
        )
        assert counted == expected


async def dead_letters(cluster: Cluster, expected: int) -> list[str]:
    """The reasons of the distinct messages in people.events.dlq (sent at least once each)."""
    consumer = AIOKafkaConsumer(
        "people.events.dlq", bootstrap_servers=cluster.broker.bootstrap,
        auto_offset_reset="earliest",
    )  # fmt: skip
    await consumer.start()
    seen: dict[tuple[str, str], str] = {}
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(seen) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers}
                    where = (headers["dlq-partition"], headers["dlq-offset"])
                    seen[where] = headers["dlq-reason"]
    finally:
        await consumer.stop()
    return list(seen.values())


class DatabaseOutage:
    """The people service's database made unavailable, and only that database.

    PostgreSQL: the database stops accepting connections (superusers included) and its
    sessions are ended, as a failover or a restart would. SQLite: another process holds the
    file's write lock, as a stuck backup or a long maintenance would.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock: sqlite3.Connection | None = None

    def begin(self) -> None:
        if TEST_DATABASE_URL:
            self._allow_connections(False)
        else:
            path = make_url(self.url).database
            self._lock = sqlite3.connect(path, isolation_level=None, timeout=30)
            self._lock.execute("BEGIN EXCLUSIVE")

    def end(self) -> None:
        if TEST_DATABASE_URL:
            self._allow_connections(True)
        elif self._lock is not None:
            self._lock.execute("ROLLBACK")
            self._lock.close()
            self._lock = None

    def _allow_connections(self, allowed: bool) -> None:
        name = make_url(self.url).database
        engine = create_engine(
            make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg"),
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
        )
        try:
            with engine.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {allowed}'))
                if not allowed:
                    connection.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE datname = :name AND pid <> pg_backend_pid()"
                        ),
                        {"name": name},
                    )
        finally:
            engine.dispose()


async def readiness(cluster: Cluster) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(f"{cluster.people.url}/readyz")


async def test_database_unavailable_for_a_while(cluster: Cluster, request: pytest.FixtureRequest):
    outages = scale(1, 5)
    workload = await started(cluster, "database", actors=scale(4, 6))
    outage = DatabaseOutage(cluster.people_database)
    try:
        for _ in range(outages):
            await acknowledged(workload, 20, "before the outage")
            mark = len(workload.writes)
            outage.begin()

            async def not_ready() -> bool:
                response = await readiness(cluster)
                return (
                    response.status_code == 503
                    and response.json()["checks"]["database"] != "ok"
                    and response.headers["content-type"].startswith("application/problem+json")
                )

            await until(not_ready, "readiness says the database is unavailable")

            async def refused(mark: int = mark) -> bool:
                return any(w.status == 503 for w in workload.writes[mark:])

            await until(refused, "writes are refused while the database is away")
            await asyncio.sleep(scale(1, 5))
            outage.end()

            async def ready() -> bool:
                return (await readiness(cluster)).status_code == 200

            await until(ready, "the service is ready again, by itself")
            await acknowledged(workload, 20, "after the outage")
    finally:
        outage.end()
    await workload.stop()

    verdict = await settle(cluster, workload, "database unavailable", outages)
    report(request, verdict)
    assert_exact(verdict)
    assert verdict.refused > 0 and verdict.unreachable == 0, verdict.describe()
    refusals = {w.problem for w in workload.writes if w.status == 503}
    assert refusals == {"database-unavailable"}
