"""Builds a service's FastAPI app: its lifespan runs migrations, the outbox relay and consumers."""

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, FastAPI
from sqlmodel import Session, SQLModel

from shared.auth import TokenVerifier
from shared.consumer import EventConsumer, Handler
from shared.db import Database
from shared.errors import install_problem_handlers
from shared.events import EventRegistry
from shared.http import (
    RequestBodyMiddleware,
    events_router,
    health_router,
    is_acceptable_request_id,
)
from shared.logging import configure_logging
from shared.metrics import Metrics, MetricsMiddleware, metrics_router
from shared.openapi import install as document_problems
from shared.outbox import OutboxRelay
from shared.projection import ProjectionDatabase
from shared.settings import ServiceSettings
from shared.worker import BackgroundWorker, PeriodicJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subscription:
    """The events a service consumes, in one consumer group: event type -> handler."""

    group_id: str
    handlers: dict[str, Handler[Any]]

    @property
    def topics(self) -> list[str]:
        return sorted({f"{name.split('.', 1)[0]}.events" for name in self.handlers})


@dataclass(frozen=True)
class Periodic:
    """A job the service runs every `interval(settings)` seconds, in its own transaction."""

    name: str
    interval: Callable[[Any], float]
    job: Callable[[Database, Any], None]


@dataclass(frozen=True)
class Projection:
    """The subscription writes to a projection that can be rebuilt (see shared.projection):
    its own migrations, and the service's table that points at the serving slot."""

    migrations: str
    pointer: type[SQLModel]


@dataclass(frozen=True)
class ServiceSpec:
    """What makes one service: its routes, events, migrations, consumers and demo data."""

    title: str
    description: str
    routers: list[APIRouter]
    events: EventRegistry
    migrations: str
    subscription: Subscription | None = None
    projection: Projection | None = None
    # Adds the demo data; returns False while what it needs has not arrived (people, say).
    seed: Callable[[Session], bool] | None = None
    periodic: list[Periodic] = field(default_factory=list)
    # Paths whose body is not JSON (a CSV import), with their size limits.
    other_media: dict[str, int] = field(default_factory=dict)


def create_service_app(settings: ServiceSettings, spec: ServiceSpec) -> FastAPI:
    configure_logging(settings)
    metrics = Metrics(settings.service_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url)
        await asyncio.to_thread(database.migrate, spec.migrations)
        relay = OutboxRelay(database, settings, metrics)
        app.state.database, app.state.relay, app.state.consumer = database, relay, None
        app.state.projection = app.state.rebuild = None
        workers: list[tuple[BackgroundWorker, asyncio.Task[None]]] = [
            (relay, asyncio.create_task(relay.run(), name="outbox-relay"))
        ]
        target: Database | ProjectionDatabase = database
        if spec.projection is not None:
            target = ProjectionDatabase(
                database, settings.database_url, spec.projection.migrations, spec.projection.pointer
            )
            await asyncio.to_thread(target.open)
            app.state.projection = target
        if spec.subscription is not None:
            consumer = EventConsumer(
                database=target,
                settings=settings,
                metrics=metrics,
                group_id=spec.subscription.group_id,
                handlers=spec.subscription.handlers,
                topics=spec.subscription.topics,
            )
            app.state.consumer = consumer
            workers.append((consumer, asyncio.create_task(consumer.run(), name="event-consumer")))
            if isinstance(target, ProjectionDatabase):
                follower = PeriodicJob("projection-pointer", 1.0, _follow(target, consumer))
                workers.append((follower, asyncio.create_task(follower.run(), name="pointer")))
        for periodic in spec.periodic:
            job = PeriodicJob(
                periodic.name,
                periodic.interval(settings),
                functools.partial(periodic.job, database, settings),
            )
            workers.append((job, asyncio.create_task(job.run(), name=periodic.name)))
        seeding = None
        if settings.seed_demo and spec.seed is not None:
            seeding = asyncio.create_task(_seed_when_ready(database, spec.seed), name="demo-seed")
        _collect_garbage_less_often()
        log.info("service started", extra={"service": settings.service_name})
        try:
            yield
        finally:
            if seeding is not None:
                seeding.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await seeding
            if app.state.rebuild is not None:
                workers.append(app.state.rebuild)
            # Stop every background loop, then publish what requests left in the outbox.
            for worker, _task in workers:
                worker.stop()
            _, late = await asyncio.wait([task for _, task in workers], timeout=10)
            for task in late:
                log.warning(
                    "a background task did not stop in time", extra={"task": task.get_name()}
                )
                task.cancel()
            # Bounded: a broker that is already gone must not hold the process up.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(3):
                    await relay.flush()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1):
                    await relay.close()
            if isinstance(target, ProjectionDatabase):
                target.dispose()
            database.dispose()

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.event_registry = spec.events
    app.state.token_verifier = TokenVerifier(settings)
    install_problem_handlers(app)
    app.add_middleware(
        RequestBodyMiddleware, default_limit=settings.max_body_bytes, other_media=spec.other_media
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(
        CorrelationIdMiddleware, header_name="X-Request-ID", validator=is_acceptable_request_id
    )
    for router in (health_router, metrics_router, events_router, *spec.routers):
        app.include_router(router)
    document_problems(app)
    return app


def _collect_garbage_less_often() -> None:
    """Python's cycle collector, by default, walks the young objects every 700 allocations and
    all of them every few hundred thousand: a batch of thousands of events keeps enough objects
    alive that it walked them over and over, a sixth of a replay's CPU. What the process built
    to start (modules, the app) is set aside for good, and the young generation is larger."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


def _follow(projection: ProjectionDatabase, consumer: EventConsumer) -> Callable[[], None]:
    """Another replica may swap a rebuilt projection in: read on from its stored positions."""

    def follow() -> None:
        if projection.follow_pointer():
            consumer.reposition()

    return follow


async def _seed_when_ready(database: Database, seed: Callable[[Session], bool]) -> None:
    """Seeds once what the demo data refers to is known (it arrives as events), for 2 minutes."""

    def attempt() -> bool:
        with database.transaction() as session:
            return seed(session)

    for _ in range(240):
        if await asyncio.to_thread(attempt):
            return
        await asyncio.sleep(0.5)
    log.warning("demo data not seeded: what it refers to never arrived")
