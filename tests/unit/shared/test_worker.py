"""Background workers: retried with backoff, stopped when asked, periodic jobs that survive."""

import asyncio

import pytest

from shared.worker import BackgroundWorker, PeriodicJob, Stopped


async def test_retry_runs_until_the_attempt_succeeds():
    worker = BackgroundWorker()
    calls = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("broker away")
        return "published"

    assert await worker.retry(flaky, "test") == "published"
    assert len(calls) == 3


async def test_a_stopped_worker_gives_up_retrying_at_once():
    worker = BackgroundWorker()

    async def always_failing() -> None:
        raise ConnectionError("broker away")

    task = asyncio.create_task(worker.retry(always_failing, "test"))
    await asyncio.sleep(0.3)
    worker.stop()

    with pytest.raises(Stopped):
        await asyncio.wait_for(task, timeout=2)


async def test_a_periodic_job_runs_again_after_a_failure_and_stops_when_asked():
    runs = []

    def job() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("first run fails")

    periodic = PeriodicJob("test", interval=0.01, job=job)
    task = asyncio.create_task(periodic.run())
    while len(runs) < 3:
        await asyncio.sleep(0.01)
    periodic.stop()

    await asyncio.wait_for(task, timeout=2)
    assert len(runs) >= 3
