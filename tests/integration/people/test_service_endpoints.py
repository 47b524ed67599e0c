"""What every service serves besides its domain: health, metrics, schemas, request ids."""

import pytest

from tests.support.apps import eventually

pytestmark = pytest.mark.integration


async def test_health_and_readiness(api):
    health = await api.client.get("/healthz")

    async def ready():
        response = await api.client.get("/readyz")
        assert response.status_code == 200, response.text
        return response

    assert health.json() == {"status": "ok"}
    assert (await eventually(ready)).json()["checks"] == {"database": "ok", "broker": "ok"}


async def test_metrics_count_requests_by_route_and_show_the_outbox(api):
    await api.client.get("/v1/people/01a21d21-3038-7611-bc61-d2f6751b2f41", headers=api.cco)

    text = (await api.client.get("/metrics")).text

    assert (
        'http_requests_total{method="GET",route="/v1/people/{person_id}",status="404"} 1.0' in text
    )
    assert "outbox_backlog " in text
    assert "relay_errors_total" in text


async def test_event_schemas_are_served(api):
    body = (await api.client.get("/v1/events/schemas")).json()

    assert body["topic"] == "people.events"
    types = {t["type"]: t for t in body["types"]}
    assert "people.person.registered.v1" in types
    assert "department_id" in types["people.person.registered.v1"]["schema"]["properties"]


async def test_a_request_id_is_generated_when_none_is_sent(api):
    response = await api.client.get("/healthz")

    assert len(response.headers["x-request-id"]) >= 32


async def test_the_openapi_document_lists_the_contract(api):
    paths = (await api.client.get("/openapi.json")).json()["paths"]

    for path in (
        "/v1/departments",
        "/v1/people",
        "/v1/people/{person_id}",
        "/v1/people/import",
        "/v1/people/{person_id}/skills/{skill}",
        "/v1/people/{person_id}/roles",
        "/v1/people/{person_id}/roles/{role}",
    ):
        assert path in paths
