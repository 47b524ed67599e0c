"""Fixtures of the fault tests: the cluster they break, how long they go on, the oracle's report.

`make test` runs each fault briefly (a few iterations); `make test-faults` sets FAULTS=full for
more iterations and longer faults, and prints the oracle's table for each.
"""

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from shared.db import database_url
from shared.outbox import OutboxMessage
from tests.faults.harness import Cluster, Workload, lag_partitions
from tests.faults.oracle import Verdict, judge, read_truth, read_view
from tests.support.databases import TEST_DATABASE_URL, Databases

FULL = os.environ.get("FAULTS", "reduced") == "full"
DATABASE = "postgresql" if TEST_DATABASE_URL else "sqlite"
RESULTS = Path(__file__).resolve().parents[2] / "test-results" / "faults"
PEOPLE_PARTITIONS = 4  # KAFKA_PARTITIONS' default: the partitions of people.events


def scale(reduced: int, full: int) -> int:
    return full if FULL else reduced


@pytest.fixture
def cluster(tmp_path: Path, databases: Databases) -> Iterator[Cluster]:
    """The test's processes; every one of them is killed at the end, whatever happened."""
    cluster = Cluster(tmp_path, databases)
    try:
        yield cluster
    finally:
        cluster.kill_all()


async def view_caught_up(cluster: Cluster) -> bool:
    """Every running strategy replica read its partitions to the end, and together they hold
    every partition of people.events."""
    held: set[int] = set()
    for replica in cluster.running_strategies():
        partitions = await lag_partitions(replica)
        if not partitions or any(p["lag"] for p in partitions):
            return False
        held |= {p["partition"] for p in partitions if p["topic"] == "people.events"}
    return held == set(range(PEOPLE_PARTITIONS))


async def settle(
    cluster: Cluster, workload: Workload, fault: str, iterations: int, timeout: float = 120
) -> Verdict:
    """Waits until the view agrees with the truth and the consumers have caught up; gives the
    last verdict either way (the caller asserts on it)."""
    deadline = time.monotonic() + timeout
    while True:
        verdict = await asyncio.to_thread(
            lambda: judge(
                fault,
                DATABASE,
                iterations,
                workload,
                read_truth(cluster.people_database),
                read_view(cluster.strategy_database),
            )
        )
        if verdict.converged and await view_caught_up(cluster):
            return verdict
        if time.monotonic() > deadline:
            verdict.details.insert(0, "the view did not converge in time")
            return verdict
        await asyncio.sleep(0.5)


async def assert_history_on_the_broker(cluster: Cluster) -> None:
    """The topic holds every event the people service ever wrote (a replica starting afresh,
    or a rebuild, reads the whole history from it), however often the broker lost its log."""
    engine = create_engine(database_url(cluster.people_database), poolclass=NullPool)
    with engine.connect() as connection:
        written = {str(i) for i in connection.execute(select(OutboxMessage.event_id)).scalars()}
    engine.dispose()
    consumer = AIOKafkaConsumer(
        "people.events", bootstrap_servers=cluster.broker.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + 60
        while not written <= seen and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    # A test's own poison message has no id.
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        seen.add(str(uuid.UUID(json.loads(record.value)["id"])))
    finally:
        await consumer.stop()
    missing = written - seen
    assert not missing, f"{len(missing)} of {len(written)} events are not on the broker"


def report(request: pytest.FixtureRequest, verdict: Verdict) -> None:
    """Shown at the end of the run (tests/conftest.py), and kept in test-results/faults/."""
    request.node.user_properties.append(("fault-oracle", json.dumps(verdict.row())))
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / f"oracle-{'full' if FULL else 'reduced'}-{DATABASE}.jsonl").open("a") as out:
        out.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S"), "row": verdict.row()}))
        out.write("\n")


def assert_exact(verdict: Verdict) -> None:
    """Nothing lost, repeated or reordered, and every answer clean."""
    problems = (
        verdict.lost,
        verdict.duplicates,
        verdict.reordered,
        verdict.mismatched,
        verdict.other_answers,
        verdict.unpublished,
    )
    assert not any(problems) and verdict.acknowledged > 0, verdict.describe()
