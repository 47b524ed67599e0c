"""Background loops of a service (relay, consumer): retried with backoff, stopped on request."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, wait_exponential_jitter

log = logging.getLogger(__name__)

T = TypeVar("T")


class Stopped(Exception):
    """The worker was asked to stop while it waited or retried."""


class BackgroundWorker:
    """A loop that stops when asked rather than when cancelled.

    Cancellation alone is not enough on Python 3.11: `asyncio.timeout` and `wait_for` may
    swallow a cancellation that arrives as a timer fires, and the loop would run on.
    """

    def __init__(self) -> None:
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def pause(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        """Sleeps, waking early when stopped (or when `wake` is set)."""
        waiters = [asyncio.ensure_future(self._stopping.wait())]
        if wake is not None:
            waiters.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter

    async def retry(
        self,
        attempt: Callable[[], Awaitable[T]],
        what: str,
        on_failure: Callable[[], Awaitable[None]] | None = None,
    ) -> T:
        """Runs `attempt` until it succeeds, with backoff; raises `Stopped` when stopped."""

        async def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.warning(
                "%s failed, retrying",
                what,
                extra={"error": repr(error), "attempt": state.attempt_number},
            )
            if on_failure is not None:
                await on_failure()

        retrying = AsyncRetrying(
            wait=wait_exponential_jitter(multiplier=0.2, max=10),
            stop=lambda _state: self.stopping,
            sleep=self.pause,
            before_sleep=before_sleep,
            reraise=True,
        )

        async def run_attempt() -> T:
            # A coroutine function of its own: tenacity would call a lambda without awaiting it.
            return await attempt()

        try:
            return await retrying(run_attempt)
        except Exception as error:
            if self.stopping:
                raise Stopped from error
            raise


class PeriodicJob(BackgroundWorker):
    """Runs a blocking job in a thread every `interval` seconds (SLA checks, feed polling).

    A failing run is logged and retried at the next tick; the job must be safe to run again.
    """

    def __init__(self, name: str, interval: float, job: Callable[[], object]) -> None:
        super().__init__()
        self.name = name
        self.interval = interval
        self.job = job

    async def run(self) -> None:
        while not self.stopping:
            try:
                await asyncio.to_thread(self.job)
            except Exception:
                log.exception("periodic job failed", extra={"job": self.name})
            await self.pause(self.interval)
