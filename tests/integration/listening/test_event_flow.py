"""The listening service on a real broker: communities come in as events, escalations go out."""

import json
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from listening.main import create_app
from tests.integration.listening.conftest import ListeningApi, listening_settings
from tests.support.apps import eventually, running

pytestmark = pytest.mark.integration


@pytest.fixture
async def following(databases, broker) -> AsyncIterator[ListeningApi]:
    """The service with its consumer of the communities' events, on a broker of its own."""
    settings = listening_settings(databases, broker, follow_communities=True)
    app = create_app(settings)
    async with running(app) as client:
        yield ListeningApi(client, app, settings)


def community_event(community_id: str, owner: str, event_type: str = "created") -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "/services/communities",
            "type": f"communities.community.{event_type}.v1",
            "subject": community_id,
            "time": "2026-03-02T10:00:00Z",
            "datacontenttype": "application/json",
            "data": {
                "id": community_id,
                "name": "Hestia Home users",
                "kind": "external",
                "purpose": "support",
                "owner_department_id": owner,
                "description": None,
                "topics": ["iot"],
                "archived": False,
            },
        }
    ).encode()


async def test_mentions_of_a_community_go_to_its_owner_when_no_rule_claims_them(following, broker):
    community_id = str(uuid.uuid4())
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        for owner, event_type in (("marketing", "created"), ("rd", "updated")):
            await producer.send_and_wait(
                "communities.events",
                community_event(community_id, owner, event_type),
                key=community_id.encode(),
            )
    finally:
        await producer.stop()
    await following.rules({"after-sales": ["livraison"]})
    source = await following.source("Hestia Home forum", "webhook", community_id=community_id)

    async def routed_to_the_owner() -> None:
        body = await following.mention(source["id"], "Bonjour à tous")
        assert body["department_id"] == "rd", body

    await eventually(routed_to_the_owner)
    claimed = await following.mention(source["id"], "Ma livraison est en retard")
    assert claimed["department_id"] == "after-sales"
    assert claimed["community_id"] == community_id
    listed = await following.client.get(
        f"/v1/mentions?community_id={community_id}", headers=following.cco
    )
    assert claimed["id"] in [m["id"] for m in listed.json()["items"]]


async def test_an_unanswered_question_reaches_the_broker(following, broker):
    response = await following.client.post(
        "/v1/faq/ask", json={"question": "Quelle est la recette des crêpes ?"}
    )
    ask_id = response.json()["ask_id"]

    consumer = AIOKafkaConsumer(
        "listening.events", bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: list[dict] = []
    try:

        async def escalated() -> dict:
            batch = await consumer.getmany(timeout_ms=200)
            seen.extend(json.loads(r.value) for records in batch.values() for r in records)
            # Delivery is at least once: the same event may come twice, with its one id.
            unanswered = {e["id"]: e for e in seen if e["type"] == "listening.faq.unanswered.v1"}
            assert len(unanswered) == 1, seen
            return next(iter(unanswered.values()))

        event = await eventually(escalated)
    finally:
        await consumer.stop()
    assert event["subject"] == ask_id
    assert event["source"] == "/services/listening"
    assert event["data"]["question"] == "Quelle est la recette des crêpes ?"
    assert event["data"]["department_id"] == "communication"
    assert {e["type"] for e in seen} >= {"listening.faq.asked.v1"}
