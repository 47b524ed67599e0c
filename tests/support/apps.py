"""Running a service in-process, as its lifespan does in production, and polling its view."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from shared.auth import issue_token
from shared.settings import PlatformSettings, ServiceSettings
from tests.support.broker import Broker, free_port
from tests.support.databases import Databases

T = TypeVar("T")
S = TypeVar("S", bound=ServiceSettings)


def service_settings(
    settings_class: type[S], databases: Databases, broker: Broker, **overrides: object
) -> S:
    """A service's settings on its own test database and the given broker."""
    defaults: dict[str, object] = {
        "database_url": databases.url(settings_class.service_name),
        "kafka_bootstrap_servers": broker.bootstrap,
        "log_json": False,
        # Tansu forms a group in about half the session timeout: one second here (Apache Kafka
        # would refuse less than six).
        "consumer_session_timeout_ms": 2_000,
    }
    return settings_class(**(defaults | overrides))


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan started (migrations, relay, consumer), and a client for it."""
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            yield client


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """The app served over real HTTP on a free port (for callers such as the gateway)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def bearer(
    settings: PlatformSettings,
    *roles: str,
    subject: str = "00000000-0000-0000-0000-000000000001",
    department: str | None = None,
) -> dict[str, str]:
    token = issue_token(settings, subject=subject, roles=list(roles), department=department)
    return {"Authorization": f"Bearer {token}"}


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 30) -> T:
    """Polls `check` until it returns without AssertionError (eventual consistency)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)
