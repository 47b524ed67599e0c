"""The broker paused and the broker restarted empty, while clients write through the gateway:
every write answers 2xx or a clean 503, and every 2xx write reaches the view once, in order."""

import asyncio
import random

import pytest

from tests.faults.conftest import (
    FULL,
    assert_exact,
    assert_history_on_the_broker,
    report,
    scale,
    settle,
)
from tests.faults.harness import Cluster, Workload, create_departments, until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900 if FULL else 300)]

DEPARTMENTS = ["d0", "d1", "d2", "d3", "d4"]


async def started(cluster: Cluster, tag: str, actors: int) -> Workload:
    await cluster.start()
    await create_departments(cluster, DEPARTMENTS)
    workload = Workload(cluster.gateway.url, DEPARTMENTS, actors=actors, tag=tag)
    workload.start()
    return workload


async def acknowledged(workload: Workload, count: int, what: str) -> None:
    """Waits until `count` more writes were answered 2xx."""
    mark = len(workload.writes)

    async def enough() -> bool:
        return workload.acknowledged_since(mark) >= count

    await until(enough, f"{count} writes acknowledged {what}", timeout=60)


async def test_broker_paused_while_clients_write(cluster: Cluster, request: pytest.FixtureRequest):
    iterations = scale(1, 6)
    workload = await started(cluster, "paused", actors=scale(4, 6))
    rng = random.Random(1)
    for iteration in range(iterations):
        await acknowledged(workload, 20, "before the pause")
        mark = len(workload.writes)
        cluster.broker.pause()
        try:
            # Past the producers' request timeout (10 s) now and then: the relay gives up on
            # its batch and sends it again.
            long = FULL and iteration % 3 == 2
            await asyncio.sleep(rng.uniform(11, 14) if long else rng.uniform(1.5, 4))
            paused_acks = workload.acknowledged_since(mark)
        finally:
            cluster.broker.resume()
        assert paused_acks > 0, "writes are acknowledged while the broker is paused"
    await acknowledged(workload, 20, "after the last pause")
    await workload.stop()

    verdict = await settle(cluster, workload, "broker paused (SIGSTOP/SIGCONT)", iterations)
    report(request, verdict)
    assert_exact(verdict)
    assert verdict.unreachable == 0, verdict.describe()


async def test_broker_restarted_empty_while_clients_write(
    cluster: Cluster, request: pytest.FixtureRequest
):
    iterations = scale(1, 5)
    workload = await started(cluster, "restarted", actors=scale(4, 6))
    rng = random.Random(2)
    for _ in range(iterations):
        await acknowledged(workload, 20, "before the restart")
        mark = len(workload.writes)
        cluster.broker.kill()
        await asyncio.sleep(rng.uniform(0.5, 3))
        await cluster.broker.up()
        assert workload.acknowledged_since(mark) > 0, "writes are acknowledged while it is down"
        await acknowledged(workload, 20, "after the restart")
    await workload.stop()

    verdict = await settle(cluster, workload, "broker restarted empty", iterations)
    report(request, verdict)
    assert_exact(verdict)
    assert verdict.unreachable == 0, verdict.describe()
    # The history went through again: the relay saw the empty log, the view dropped repeats.
    await assert_history_on_the_broker(cluster)
    assert await cluster.people.metric("relay_log_resets_total") >= 1
    duplicates = await cluster.strategies[0].metric(
        "consumer_events_total", topic="people.events", outcome="duplicate"
    )
    assert duplicates > 0
