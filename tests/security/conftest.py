"""Each service in-process for the whole session (see inprocess.py): started when a test first
asks for it, once per worker."""

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.security.inprocess import Service, started
from tests.support.databases import Databases


@pytest.fixture
def service(request: pytest.FixtureRequest) -> Service:
    """The service a parametrized test names (`indirect=["service"]`)."""
    return request.getfixturevalue(f"{request.param}_service")


@pytest.fixture(scope="session")
def service_databases(tmp_path_factory) -> Iterator[Databases]:  # type: ignore[no-untyped-def]
    databases = Databases(str(tmp_path_factory.mktemp("in-process")))
    yield databases
    databases.drop_all()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def people_service(service_databases: Databases) -> AsyncIterator[Service]:
    async with started("people", service_databases) as service:
        yield service


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def communities_service(service_databases: Databases) -> AsyncIterator[Service]:
    async with started("communities", service_databases) as service:
        yield service


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def listening_service(service_databases: Databases) -> AsyncIterator[Service]:
    async with started("listening", service_databases) as service:
        yield service


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def collaboration_service(service_databases: Databases) -> AsyncIterator[Service]:
    async with started("collaboration", service_databases) as service:
        yield service


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def strategy_service(service_databases: Databases) -> AsyncIterator[Service]:
    async with started("strategy", service_databases) as service:
        yield service
