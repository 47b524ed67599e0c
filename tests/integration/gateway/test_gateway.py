"""The gateway in front of a real people service: identity, routing, request ids, failures."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import jwt
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.api_keys import new_key
from gateway.main import create_app as create_gateway
from shared.auth import TokenVerifier
from shared.outbox import OutboxMessage
from tests.integration.gateway.conftest import gateway_settings
from tests.support.apps import bearer, running, serving

pytestmark = pytest.mark.integration


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
    settings = gateway_settings()
    async with running(create_gateway(settings)) as client:
        response = await client.get("/api/strategy/v1/overview", headers=bearer(settings, "cco"))

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
    async with silent_server() as url:
        settings = gateway_settings({"strategy": url}, upstream_timeout_seconds=1.0)
        async with running(create_gateway(settings)) as client:
            response = await client.get(
                "/api/strategy/v1/overview", headers=bearer(settings, "cco")
            )

    assert response.status_code == 504
    assert response.json()["type"].endswith("upstream-timeout")


@asynccontextmanager
async def echoing_service() -> AsyncIterator[str]:
    """A service that answers with the headers it received: what the gateway passes on."""

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({name: value for name, value in request.headers.items()})

    async with serving(Starlette(routes=[Route("/v1/echo", echo)])) as url:
        yield url


async def test_the_service_gets_trace_context_and_request_id_but_no_forged_origin():
    async with echoing_service() as url:
        settings = gateway_settings({"communities": url})
        headers = {
            **bearer(settings, "employee"),
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "tracestate": "agora=1",
            "X-Request-ID": "trace-me",
            "X-Forwarded-For": "6.6.6.6",
            "X-Real-IP": "6.6.6.6",
            "Forwarded": "for=6.6.6.6",
        }
        async with running(create_gateway(settings)) as client:
            response = await client.get("/api/communities/v1/echo", headers=headers)

    received = response.json()
    assert received["traceparent"] == headers["traceparent"]
    assert received["tracestate"] == "agora=1"
    assert received["x-request-id"] == "trace-me"
    assert received["authorization"] == headers["Authorization"]
    assert received["x-forwarded-for"] == "127.0.0.1"
    assert "x-real-ip" not in received and "forwarded" not in received


async def test_a_system_client_is_passed_on_with_a_short_lived_token_not_its_key():
    key, entry = new_key("crm-sync")
    async with echoing_service() as url:
        settings = gateway_settings({"communities": url}, api_keys=[entry])
        async with running(create_gateway(settings)) as client:
            response = await client.get("/api/communities/v1/echo", headers={"X-API-Key": key})

    received = response.json()
    assert "x-api-key" not in received
    token = received["authorization"].removeprefix("Bearer ")
    principal = TokenVerifier(settings).verify(token)
    assert principal.subject == "crm-sync" and principal.roles == {"system"}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == settings.jwt_internal_issuer
    assert claims["exp"] - claims["iat"] <= 60
