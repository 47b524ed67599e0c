"""Who may call what (only the FAQ's ask and feedback are public), and what every service serves."""

import pytest

from tests.support.apps import eventually

pytestmark = pytest.mark.integration

PUBLIC = {("POST", "/v1/faq/ask"), ("POST", "/v1/faq/asks/{ask_id}/feedback")}
SOME_ID = "01a21d21-3038-7611-bc61-d2f6751b2f41"


def _routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/v1/") and path != "/v1/events/schemas"
        for method in operations
    )


async def test_everything_but_the_faq_ask_needs_a_token(api):
    routes = _routes(api.app)
    assert set(routes) >= PUBLIC
    before = api.snapshot()

    for method, path in routes:
        url = path.format(
            source_id=SOME_ID,
            mention_id=SOME_ID,
            alert_id=SOME_ID,
            entry_id=SOME_ID,
            ask_id=SOME_ID,
            department_id="rd",
        )
        response = await api.client.request(method, url, json={})
        if (method, path) in PUBLIC:
            assert response.status_code in (404, 422), (method, path)
        else:
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers["www-authenticate"] == "Bearer"

    assert api.snapshot() == before


async def test_a_forged_or_expired_token_is_401(api):
    forged = {"Authorization": "Bearer " + "x" * 40}
    response = await api.client.get("/v1/mentions", headers=forged)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_health_metrics_and_schemas(api):
    async def ready():
        response = await api.client.get("/readyz")
        assert response.status_code == 200, response.text

    await eventually(ready)
    metrics = (await api.client.get("/metrics")).text
    assert "outbox_backlog " in metrics
    schemas = (await api.client.get("/v1/events/schemas")).json()
    assert schemas["topic"] == "listening.events"
    types = {t["type"]: t["schema"] for t in schemas["types"]}
    assert set(types) == {
        "listening.source.created.v1",
        "listening.mention.ingested.v1",
        "listening.mention.relabelled.v1",
        "listening.routing_rule.updated.v1",
        "listening.alert.raised.v1",
        "listening.alert.acknowledged.v1",
        "listening.faq.entry_created.v1",
        "listening.faq.entry_updated.v1",
        "listening.faq.asked.v1",
        "listening.faq.unanswered.v1",
        "listening.faq.feedback.v1",
    }
    assert {"ask_id", "question", "lang", "department_id", "asked_at"} <= set(
        types["listening.faq.unanswered.v1"]["properties"]
    )


async def test_the_openapi_document_lists_the_contract(api):
    document = (await api.client.get("/openapi.json")).json()
    paths = document["paths"]

    for path in (
        "/v1/sources",
        "/v1/sources/{source_id}/poll",
        "/v1/mentions",
        "/v1/mentions/{mention_id}",
        "/v1/reputation",
        "/v1/sentiment/quality",
        "/v1/routing-rules",
        "/v1/routing-rules/{department_id}",
        "/v1/alerts",
        "/v1/alerts/{alert_id}/ack",
        "/v1/faq",
        "/v1/faq/{entry_id}",
        "/v1/faq/ask",
        "/v1/faq/asks/{ask_id}/feedback",
    ):
        assert path in paths, path
    ingest = paths["/v1/mentions"]["post"]["requestBody"]["content"]["application/json"]
    assert len(ingest["schema"]["oneOf"]) == 2
