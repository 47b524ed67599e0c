"""The collaboration service on a real broker: what it consumes, and what it publishes."""

import asyncio
import json
import uuid
from contextlib import AsyncExitStack

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import select

from collaboration.main import create_app
from collaboration.models import Community, CommunityManager, Person, Question
from people.main import create_app as create_people
from people.settings import Settings as PeopleSettings
from tests.integration.collaboration.conftest import CollaborationApi, collaboration_settings
from tests.support.apps import bearer, eventually, running, service_settings
from tests.support.broker import Broker

pytestmark = pytest.mark.integration


def cloud_event(service: str, type_: str, subject: str, data: dict, event_id: str) -> bytes:
    """An event as the other services' outboxes write them (CloudEvents, structured JSON)."""
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": f"/services/{service}",
            "type": type_,
            "subject": subject,
            "time": "2026-11-27T10:00:00Z",
            "datacontenttype": "application/json",
            "data": data,
        }
    ).encode()


async def produce(broker: Broker, topic: str, messages: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value, key=key.encode())
    finally:
        await producer.stop()


async def read_topic(broker: Broker, topic: str, ids: set[str], timeout: float = 30) -> dict:
    """The topic's messages by event id, read until every id in `ids` is seen.

    Delivery is at least once: a message may be there twice, and counts once.
    """
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    messages: dict = {}
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not ids <= set(messages) and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    messages.setdefault(json.loads(record.value)["id"], record)
    finally:
        await consumer.stop()
    return messages


async def read_dead_letters(broker: Broker, topic: str, expected: int) -> list:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    messages: list = []
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(messages) < expected and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                messages.extend(records)
    finally:
        await consumer.stop()
    return messages


def rows(api: CollaborationApi, query) -> list:  # type: ignore[no-untyped-def]
    with api.app.state.database.sessions() as session:
        return list(session.scalars(query))


async def test_people_and_communities_reach_the_local_copies(databases, broker):
    people_settings = service_settings(PeopleSettings, databases, broker)
    settings = collaboration_settings(databases, broker)
    app = create_app(settings)
    async with AsyncExitStack() as stack:
        people = await stack.enter_async_context(running(create_people(people_settings)))
        client = await stack.enter_async_context(running(app))
        api = CollaborationApi(client, app, settings)
        hr = bearer(people_settings, "cco")
        for department in ("rd", "after-sales"):
            await people.post(
                "/v1/departments", json={"id": department, "name": department}, headers=hr
            )
        registered = {}
        for email, department in (("ines@example.com", "rd"), ("seb@example.com", "after-sales")):
            body = {"name": email, "email": email, "department_id": department}
            response = await people.post("/v1/people", json=body, headers=hr)
            registered[email] = response.json()["id"]
        ines, sebastien = registered["ines@example.com"], registered["seb@example.com"]
        community_id = str(uuid.uuid4())
        await produce(
            broker,
            "communities.events",
            [
                (
                    community_id,
                    cloud_event(
                        "communities",
                        "communities.community.created.v1",
                        community_id,
                        {
                            "id": community_id,
                            "name": "Qualité & réparabilité",
                            "kind": "internal",
                            "purpose": "practice",
                            "owner_department_id": "rd",
                            "description": None,
                            "topics": ["repairs"],
                            "archived": False,
                        },
                        str(uuid.uuid4()),
                    ),
                ),
                (
                    community_id,
                    cloud_event(
                        "communities",
                        "communities.manager.appointed.v1",
                        community_id,
                        {
                            "community_id": community_id,
                            "person_id": sebastien,
                            "department_id": "after-sales",
                            "kind": "internal",
                            "owner_department_id": "rd",
                            "community_experience_years": 7,
                            "appointed_at": "2026-11-27T10:00:00Z",
                        },
                        str(uuid.uuid4()),
                    ),
                ),
            ],
        )

        async def copies_arrived() -> None:
            people_known = {str(p.id): p.department_id for p in rows(api, select(Person))}
            assert people_known == {ines: "rd", sebastien: "after-sales"}
            assert [str(c.id) for c in rows(api, select(Community))] == [community_id]
            assert [str(m.person_id) for m in rows(api, select(CommunityManager))] == [sebastien]

        await eventually(copies_arrived)

        # Tokens without a department claim: the department is the local copy's.
        as_ines = bearer(settings, "employee", subject=ines)
        as_sebastien = bearer(settings, "employee", subject=sebastien)
        asked = await client.post(
            "/v1/questions",
            json={"title": "Code E21", "body": "?", "community_id": community_id},
            headers=as_ines,
        )
        assert asked.status_code == 201, asked.text
        assert asked.json()["author_department_id"] == "rd"
        answer = await client.post(
            f"/v1/questions/{asked.json()['id']}/answers",
            json={"body": "Pressostat."},
            headers=bearer(settings, "employee", subject=str(uuid.uuid4()), department="it"),
        )
        accepted = await client.post(
            f"/v1/answers/{answer.json()['id']}/accept", headers=as_sebastien
        )
        assert accepted.status_code == 200, accepted.text

        # Leaving the company reaches the copy too.
        await people.delete(f"/v1/people/{ines}", headers=hr)

        async def ines_left() -> None:
            response = await client.post(
                "/v1/questions", json={"title": "Encore moi", "body": "?"}, headers=as_ines
            )
            assert response.status_code == 403

        await eventually(ines_left)


async def test_an_unanswered_faq_ask_becomes_a_question_for_its_department(databases, broker):
    settings = collaboration_settings(databases, broker)
    app = create_app(settings)
    ask_id = str(uuid.uuid4())
    unanswered = {
        "ask_id": ask_id,
        "question": "Mon lave-vaisselle DW300 affiche E24, que faire ?",
        "lang": "fr",
        "department_id": "after-sales",
        "asked_at": "2026-11-27T09:00:00Z",
    }
    event_id = str(uuid.uuid4())
    async with running(app) as client:
        api = CollaborationApi(client, app, settings)
        await produce(
            broker,
            "listening.events",
            [
                # Delivered twice, and announced twice under two event ids: one question.
                (
                    ask_id,
                    cloud_event(
                        "listening", "listening.faq.unanswered.v1", ask_id, unanswered, event_id
                    ),
                ),
                (
                    ask_id,
                    cloud_event(
                        "listening", "listening.faq.unanswered.v1", ask_id, unanswered, event_id
                    ),
                ),
                (
                    ask_id,
                    cloud_event(
                        "listening",
                        "listening.faq.unanswered.v1",
                        ask_id,
                        unanswered,
                        str(uuid.uuid4()),
                    ),
                ),
                # Malformed: it goes to the dead-letter topic and stalls nothing.
                (
                    "x",
                    cloud_event(
                        "listening",
                        "listening.faq.unanswered.v1",
                        "x",
                        {"ask_id": "x"},
                        str(uuid.uuid4()),
                    ),
                ),
            ],
        )

        reader = api.member("rd")

        async def question_arrived() -> dict:
            response = await client.get("/v1/questions?tag=customer-faq", headers=reader.headers)
            items = response.json()["items"]
            assert len(items) == 1
            return items[0]

        question = await eventually(question_arrived)
        dead = await read_dead_letters(broker, "listening.events.dlq", expected=1)
        [asked_id] = [e["id"] for e in api.events()]
        published = await read_topic(broker, "collaboration.events", {asked_id})

    assert question["title"] == unanswered["question"]
    assert question["author_id"] is None
    assert question["author_department_id"] == "after-sales"
    assert question["source"] == "customer-faq"
    assert question["faq_ask_id"] == ask_id
    assert question["tags"] == ["customer-faq"]
    assert question["asked_at"].startswith("2026-11-27T09:00:00")
    assert len(rows(api, select(Question))) == 1
    # Dead letters are sent at least once: a rebalance before the first commit sends one again.
    assert {dict(m.headers)["dlq-offset"] for m in dead} == {dict(dead[0].headers)["dlq-offset"]}
    assert {dict(m.headers)["dlq-reason"] for m in dead} == {b"invalid-payload"}
    asked = json.loads(published[asked_id].value)
    assert asked["type"] == "collaboration.question.asked.v1"
    assert asked["data"]["source"] == "customer-faq"
    assert asked["data"]["faq_ask_id"] == ask_id
    assert asked["data"]["author_id"] is None
    assert asked["data"]["author_department_id"] == "after-sales"


async def test_the_services_events_reach_kafka_through_the_outbox(databases, broker):
    settings = collaboration_settings(databases, broker)
    app = create_app(settings)
    async with running(app) as client:
        api = CollaborationApi(client, app, settings)
        nadia, ines, chloe = api.member("after-sales"), api.member("rd"), api.member("sales")
        cco = api.member("direction", "cco")
        question = await api.ask(nadia)
        answer = await api.answer(ines, question["id"])
        await client.post(
            f"/v1/answers/{answer['id']}/votes", json={"value": 1}, headers=nadia.headers
        )
        await client.post(f"/v1/answers/{answer['id']}/accept", headers=nadia.headers)
        practice = await api.share(nadia)
        await client.post(
            f"/v1/practices/{practice['id']}/adoptions",
            json={"department_id": "sales"},
            headers={**chloe.headers, "X-Request-ID": "adopt-7"},
        )
        idea = await api.propose(chloe)
        await client.post(f"/v1/ideas/{idea['id']}/votes", headers=ines.headers)
        await client.post(
            f"/v1/ideas/{idea['id']}/status", json={"status": "reviewing"}, headers=cco.headers
        )
        outbox = api.events()

        published = await read_topic(
            broker, "collaboration.events", {event["id"] for event in outbox}
        )

    assert len(outbox) == 9
    assert set(published) == {event["id"] for event in outbox}
    for event in outbox:
        message = published[event["id"]]
        envelope = json.loads(message.value)
        assert message.key.decode() == event["key"] == envelope["subject"]
        assert envelope["specversion"] == "1.0"
        assert envelope["source"] == "/services/collaboration"
    types = [json.loads(published[event["id"]].value)["type"] for event in outbox]
    assert types == [
        "collaboration.question.asked.v1",
        "collaboration.answer.posted.v1",
        "collaboration.answer.voted.v1",
        "collaboration.answer.accepted.v1",
        "collaboration.practice.shared.v1",
        "collaboration.practice.adopted.v1",
        "collaboration.idea.proposed.v1",
        "collaboration.idea.voted.v1",
        "collaboration.idea.status_changed.v1",
    ]
    adopted = next(json.loads(m.value) for m in published.values() if b"adopted" in m.value)
    assert adopted["requestid"] == "adopt-7"
