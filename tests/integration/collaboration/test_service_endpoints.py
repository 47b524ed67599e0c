"""What the collaboration service serves besides its domain: health, schemas, the contract."""

import pytest

from collaboration.events import REGISTRY
from tests.support.apps import eventually

pytestmark = pytest.mark.integration

CONTRACT_PATHS = {
    "/v1/questions": {"get", "post"},
    "/v1/questions/{question_id}": {"get"},
    "/v1/questions/{question_id}/answers": {"post"},
    "/v1/answers/{answer_id}/accept": {"post"},
    "/v1/answers/{answer_id}/votes": {"post"},
    "/v1/practices": {"get", "post"},
    "/v1/practices/{practice_id}": {"get"},
    "/v1/practices/{practice_id}/adoptions": {"post"},
    "/v1/ideas": {"get", "post"},
    "/v1/ideas/{idea_id}": {"get"},
    "/v1/ideas/{idea_id}/votes": {"post"},
    "/v1/ideas/{idea_id}/status": {"post"},
}


async def test_health_readiness_metrics_schemas_and_contract(api):
    async def ready():
        response = await api.client.get("/readyz")
        assert response.status_code == 200, response.text
        return response

    health = await api.client.get("/healthz")
    readiness = await eventually(ready)
    metrics = (await api.client.get("/metrics")).text
    schemas = (await api.client.get("/v1/events/schemas")).json()
    paths = (await api.client.get("/openapi.json")).json()["paths"]

    assert health.json() == {"status": "ok"}
    assert readiness.json()["checks"] == {"database": "ok", "broker": "ok"}
    assert "outbox_backlog " in metrics
    assert schemas["topic"] == "collaboration.events"
    types = {t["type"]: t["schema"] for t in schemas["types"]}
    assert set(types) == {t.name for t in REGISTRY} and len(types) == 11
    assert {"author_id", "author_department_id", "asked_at", "source", "faq_ask_id"} <= set(
        types["collaboration.question.asked.v1"]["properties"]
    )
    for path, methods in CONTRACT_PATHS.items():
        assert methods <= set(paths[path]), path
