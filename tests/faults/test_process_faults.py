"""Processes killed or coming and going: the people service killed between its commit and the
relay's publish, the strategy service killed mid-batch, consumers joining and leaving."""

import asyncio
import random

import pytest

from tests.faults.conftest import FULL, PEOPLE_PARTITIONS, assert_exact, report, scale, settle
from tests.faults.harness import Cluster, ServiceProcess, lag_partitions, until
from tests.faults.oracle import read_truth
from tests.faults.test_broker_faults import acknowledged, started

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900 if FULL else 300)]


async def test_people_killed_between_commit_and_publish(
    cluster: Cluster, request: pytest.FixtureRequest
):
    """SIGKILL while committed events wait in the outbox: the broker is paused (or stopped)
    so the relay cannot publish them; they are published once the service is back."""
    variants = ["broker paused", "broker stopped", "streaming"] if FULL else ["broker paused"]
    iterations = scale(1, 9)
    workload = await started(cluster, "killed-people", actors=scale(4, 6))
    rng = random.Random(3)
    stranded = 0
    for iteration in range(iterations):
        variant = variants[iteration % len(variants)]
        await acknowledged(workload, 20, "before the kill")
        if variant == "streaming":
            # No help from the broker: the kill lands wherever the relay is (sending, marking).
            await asyncio.sleep(rng.uniform(0, 1))
        else:
            if variant == "broker paused":
                cluster.broker.pause()
            else:
                cluster.broker.kill()
            await acknowledged(workload, 10, "while the relay cannot publish")
            unpublished = (await asyncio.to_thread(read_truth, cluster.people_database)).unpublished
            assert unpublished > 0, "committed events wait in the outbox"
            stranded += unpublished
        cluster.people.kill()
        await asyncio.sleep(rng.uniform(0.2, 1))
        if variant == "streaming":
            await cluster.people.up()
        else:
            # Its readiness needs the broker: the lifespan having begun is enough here.
            await cluster.people.up("/healthz")
            if variant == "broker paused":
                cluster.broker.resume()
            else:
                await cluster.broker.up()
        await acknowledged(workload, 20, "after the restart")
    await workload.stop()

    verdict = await settle(cluster, workload, "people SIGKILLed before publishing", iterations)
    report(request, verdict)
    assert_exact(verdict)
    assert stranded > 0


async def test_strategy_killed_mid_batch_many_times(
    cluster: Cluster, request: pytest.FixtureRequest
):
    """SIGKILL while the view applies a backlog: its batch's transaction is lost with it, and
    the next start reads again from the position stored with the view."""
    kills = scale(3, 20)
    workload = await started(cluster, "killed-strategy", actors=scale(4, 6))
    strategy = cluster.strategies[0]
    rng = random.Random(4)
    for _ in range(kills):
        # Down for a while: the next start has a backlog to apply, in large batches.
        strategy.kill()
        await acknowledged(workload, rng.randint(20, 80), "while the view is down")
        await strategy.up("/healthz")

        async def applying() -> bool:
            try:
                applied = await strategy.metric(
                    "consumer_events_total", topic="people.events", outcome="applied"
                )
            except Exception:  # not serving yet
                return False
            return applied > 0

        await until(applying, "the restarted view applies events", timeout=60)
        await asyncio.sleep(rng.uniform(0, 0.3))
    await workload.stop()

    verdict = await settle(cluster, workload, "strategy SIGKILLed mid-batch", kills)
    report(request, verdict)
    assert_exact(verdict)


async def test_consumers_join_and_leave_during_a_steady_stream(
    cluster: Cluster, request: pytest.FixtureRequest
):
    """Strategy replicas of one consumer group started, stopped (SIGTERM) and killed while
    events stream: nothing lost, nothing applied twice, and the lag goes back to zero."""
    rounds = scale(2, 12)
    workload = await started(cluster, "group", actors=scale(4, 6))
    rng = random.Random(5)
    actions = ["join", "leave"] if not FULL else ["join", "leave", "join", "kill"]
    for number in range(rounds):
        await acknowledged(workload, 20, "between changes of the group")
        running = cluster.running_strategies()
        action = actions[number % len(actions)]
        if action == "join" or len(running) == 1:
            if len(running) < PEOPLE_PARTITIONS:
                replica = cluster.add_strategy()
                await replica.up()
                await until(lambda r=replica: holds_partitions(r), "the new member gets a share")
                continue
            action = "leave"
        leaving = rng.choice(running)
        if action == "kill":
            leaving.kill()
        else:
            leaving.terminate()
            await leaving.exited()
    await acknowledged(workload, 20, "after the last change")
    await workload.stop()

    verdict = await settle(cluster, workload, "consumers joining and leaving", rounds)
    report(request, verdict)
    assert_exact(verdict)  # settle waited for every partition to be held with no lag
    assert len(cluster.strategies) > 1


async def holds_partitions(replica: ServiceProcess) -> bool:
    return any(p["topic"] == "people.events" for p in await lag_partitions(replica))
