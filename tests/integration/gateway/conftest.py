"""A gateway in front of a real, seeded people service; settings for gateways of a test's own."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.main import create_app as create_gateway
from gateway.settings import Settings as GatewaySettings
from people.main import create_app as create_people
from people.settings import Settings as PeopleSettings
from tests.support.apps import bearer, eventually, running, service_settings, serving
from tests.support.broker import free_port

SERVICES = ("people", "communities", "listening", "collaboration", "strategy")
GENEROUS = "100000/minute"


@dataclass
class Gateway:
    client: httpx.AsyncClient
    people_app: Any
    settings: GatewaySettings

    async def sign_in(
        self, email: str = "cco@example.com", password: str = "demo"
    ) -> dict[str, str]:
        response = await self.client.post(
            "/auth/token", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def person_id(self, email: str) -> str:
        response = await self.client.get(
            "/api/people/v1/people", params={"email": email}, headers=await self.sign_in()
        )
        return response.json()["items"][0]["id"]


def gateway_settings(routes: dict[str, str] | None = None, **overrides: Any) -> GatewaySettings:
    """Services not named are unreachable; limits are generous unless a test sets its own, and
    the upstream timeout is the production one (a loaded machine may be slow to answer)."""
    unreachable = f"http://127.0.0.1:{free_port()}"
    urls = {f"{name}_url": (routes or {}).get(name, unreachable) for name in SERVICES}
    values: dict[str, Any] = {
        "log_json": False,
        "rate_limit_per_ip": GENEROUS,
        "rate_limit_per_client": GENEROUS,
        "rate_limit_sign_in": GENEROUS,
        "rate_limit_faq_ask": GENEROUS,
        **urls,
    }
    return GatewaySettings(**(values | overrides))


async def wait_until_seeded(client: httpx.AsyncClient) -> None:
    async def seeded() -> None:
        credentials = {"email": "cco@example.com", "password": "demo"}
        assert (await client.post("/auth/token", json=credentials)).status_code == 200

    await eventually(seeded)


@pytest.fixture
def seeded_people(databases, shared_broker) -> Any:
    return create_people(service_settings(PeopleSettings, databases, shared_broker, seed_demo=True))


@pytest.fixture
async def people_url(seeded_people) -> AsyncIterator[str]:
    """The people service, once its demo people are seeded (asked directly, not through a
    gateway, so no test spends its sign-in budget waiting)."""
    async with serving(seeded_people) as url, httpx.AsyncClient(base_url=url) as client:
        headers = bearer(seeded_people.state.settings, "system")

        async def seeded() -> None:
            response = await client.get("/v1/people?email=cco@example.com", headers=headers)
            assert response.status_code == 200 and response.json()["items"]

        await eventually(seeded)
        yield url


@pytest.fixture
async def gateway(seeded_people, people_url) -> AsyncIterator[Gateway]:
    settings = gateway_settings({"people": people_url})
    async with running(create_gateway(settings)) as client:
        await wait_until_seeded(client)
        yield Gateway(client, seeded_people, settings)
