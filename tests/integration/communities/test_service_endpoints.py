"""What the communities service serves besides its domain: health, metrics, schemas, OpenAPI."""

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


async def test_metrics_count_requests_by_route(api):
    await api.client.get("/v1/communities/01a21d21-3038-7611-bc61-d2f6751b2f41", headers=api.cco)

    text = (await api.client.get("/metrics")).text

    assert (
        'http_requests_total{method="GET",route="/v1/communities/{community_id}",status="404"} 1.0'
        in text
    )
    assert "outbox_backlog " in text


async def test_event_schemas_name_every_published_type_and_its_fields(api):
    body = (await api.client.get("/v1/events/schemas")).json()

    assert body["topic"] == "communities.events"
    types = {t["type"]: set(t["schema"]["properties"]) for t in body["types"]}
    community = {"id", "name", "kind", "purpose", "owner_department_id", "description", "topics"}
    assert types["communities.community.created.v1"] >= community | {"archived"}
    assert types["communities.community.updated.v1"] >= community | {"archived", "changed"}
    assert types["communities.community.archived.v1"] >= {"id", "owner_department_id"}
    assert types["communities.manager.appointed.v1"] >= {
        "community_id",
        "person_id",
        "department_id",
        "kind",
        "owner_department_id",
    }
    assert types["communities.manager.removed.v1"] >= {
        "community_id",
        "person_id",
        "department_id",
        "reason",
    }
    assert types["communities.member.joined.v1"] >= {
        "community_id",
        "member_id",
        "person_id",
        "external_handle",
        "department_id",
        "owner_department_id",
        "kind",
        "joined_at",
    }
    assert types["communities.member.left.v1"] >= {
        "community_id",
        "member_id",
        "person_id",
        "department_id",
        "reason",
    }
    assert len(types) == 7


async def test_the_openapi_document_lists_the_contract(api):
    paths = (await api.client.get("/openapi.json")).json()["paths"]

    assert set(paths["/v1/communities"]) == {"get", "post"}
    assert set(paths["/v1/communities/{community_id}"]) == {"get", "patch"}
    assert set(paths["/v1/communities/{community_id}/archive"]) == {"post"}
    assert set(paths["/v1/communities/{community_id}/managers"]) == {"get", "post"}
    assert set(paths["/v1/communities/{community_id}/managers/{person_id}"]) == {"delete"}
    assert set(paths["/v1/communities/{community_id}/members"]) == {"get", "post"}
    assert set(paths["/v1/communities/{community_id}/members/{member_id}"]) == {"delete"}
