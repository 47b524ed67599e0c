"""The gateway in front of a real people service: identity, routing, request ids, failures."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from gateway.main import create_app as create_gateway
from gateway.settings import Settings as GatewaySettings
from people.main import create_app as create_people
from people.settings import Settings as PeopleSettings
from shared.outbox import OutboxMessage
from tests.support.apps import eventually, running, service_settings, serving
from tests.support.broker import free_port

pytestmark = pytest.mark.integration


@dataclass
class Gateway:
    client: httpx.AsyncClient
    people_app: object

    async def sign_in(
        self, email: str = "cco@example.com", password: str = "demo"
    ) -> dict[str, str]:
        response = await self.client.post(
            "/auth/token", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


def gateway_settings(**routes: str) -> GatewaySettings:
    unreachable = f"http://127.0.0.1:{free_port()}"
    urls = {
        f"{name}_url": routes.get(name, unreachable)
        for name in ("people", "communities", "listening", "collaboration", "strategy")
    }
    return GatewaySettings(log_json=False, upstream_timeout_seconds=1.0, **urls)


@pytest.fixture
async def gateway(databases, shared_broker) -> AsyncIterator[Gateway]:
    people_app = create_people(
        service_settings(PeopleSettings, databases, shared_broker, seed_demo=True)
    )
    async with (
        serving(people_app) as people_url,
        running(create_gateway(gateway_settings(people=people_url))) as client,
    ):

        async def seeded() -> None:
            credentials = {"email": "cco@example.com", "password": "demo"}
            assert (await client.post("/auth/token", json=credentials)).status_code == 200

        await eventually(seeded)
        yield Gateway(client, people_app)


async def test_a_seeded_person_signs_in_and_gets_their_roles(gateway):
    response = await gateway.client.post(
        "/auth/token", json={"email": "CCO@example.com", "password": "demo"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    me = await gateway.client.get(
        "/api/people/v1/people?email=cco@example.com",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert me.status_code == 200
    assert me.json()["items"][0]["roles"] == [{"role": "cco", "scope": None}]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "cco@example.com", "password": "wrong"}, 401),
        ({"email": "nobody@example.com", "password": "demo"}, 401),
        ({"email": "not-an-email", "password": "demo"}, 422),
        ({"email": "cco@example.com"}, 422),
    ],
)
async def test_bad_credentials_are_refused(gateway, body, status):
    response = await gateway.client.post("/auth/token", json=body)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


async def test_writes_go_through_with_the_callers_identity_and_request_id(gateway):
    headers = await gateway.sign_in()

    created = await gateway.client.post(
        "/api/people/v1/departments",
        json={"id": "legal", "name": "Juridique"},
        headers={**headers, "X-Request-ID": "through-the-gateway"},
    )

    assert created.status_code == 201
    assert created.headers["x-request-id"] == "through-the-gateway"
    with gateway.people_app.state.database.sessions() as session:
        last = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert json.loads(last.value)["requestid"] == "through-the-gateway"


async def test_services_check_roles_again(gateway):
    employee = await gateway.sign_in("mehdi.lambert@example.com")

    response = await gateway.client.post(
        "/api/people/v1/departments", json={"id": "x", "name": "X"}, headers=employee
    )
    anonymous = await gateway.client.get("/api/people/v1/people")

    assert response.status_code == 403
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/api/people/v1/%2e%2e/%2e%2e/metrics",
        "/api/people/v1%2fpeople",
        "/api/people//evil.example/v1",
    ],
)
async def test_path_tricks_never_leave_the_route_table(gateway, path):
    response = await gateway.client.get(path)

    assert response.status_code in (400, 404)


async def test_an_unknown_service_is_404(gateway):
    response = await gateway.client.get("/api/payroll/v1/salaries")

    assert response.status_code == 404


async def test_a_service_that_is_down_is_502():
    async with running(create_gateway(gateway_settings())) as client:
        response = await client.get("/api/strategy/v1/overview")

    assert response.status_code == 502
    assert response.json()["type"].endswith("upstream-unavailable")


@asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and never answers: a service that hangs."""
    server = await asyncio.start_server(lambda r, w: asyncio.sleep(3600), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def test_a_service_that_is_too_slow_is_504():
    async with (
        silent_server() as url,
        running(create_gateway(gateway_settings(strategy=url))) as client,
    ):
        response = await client.get("/api/strategy/v1/overview")

    assert response.status_code == 504
    assert response.json()["type"].endswith("upstream-timeout")
