"""The people directory reaching communities, and communities' events reaching Kafka."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from sqlalchemy import select

from communities.main import create_app as create_communities
from communities.settings import Settings as CommunitiesSettings
from people.main import create_app as create_people
from people.settings import Settings as PeopleSettings
from shared.outbox import OutboxMessage
from tests.support.apps import bearer, eventually, running, service_settings
from tests.support.broker import Broker

pytestmark = pytest.mark.integration


@dataclass
class Platform:
    people: httpx.AsyncClient
    communities: httpx.AsyncClient
    communities_app: FastAPI
    broker: Broker
    headers: dict[str, str]

    def outbox(self) -> list[OutboxMessage]:
        with self.communities_app.state.database.sessions() as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def start(stack: AsyncExitStack, databases, broker: Broker, seed_demo: bool) -> Platform:
    people_settings = service_settings(PeopleSettings, databases, broker, seed_demo=seed_demo)
    communities_settings = service_settings(
        CommunitiesSettings, databases, broker, seed_demo=seed_demo
    )
    communities_app = create_communities(communities_settings)
    people = await stack.enter_async_context(running(create_people(people_settings)))
    communities = await stack.enter_async_context(running(communities_app))
    return Platform(people, communities, communities_app, broker, bearer(people_settings, "cco"))


@pytest.fixture
async def platform(databases, broker) -> AsyncIterator[Platform]:
    async with AsyncExitStack() as stack:
        yield await start(stack, databases, broker, seed_demo=False)


async def read_topic(broker: Broker, topic: str, expected: int) -> list:
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


async def test_a_person_who_joins_then_leaves_the_company(platform):
    cco = platform.headers
    for department in ("rd", "after-sales"):
        response = await platform.people.post(
            "/v1/departments", json={"id": department, "name": department.upper()}, headers=cco
        )
        assert response.status_code == 201
    registered = await platform.people.post(
        "/v1/people",
        json={"name": "Inès Lefèvre", "email": "ines@example.com", "department_id": "rd"},
        headers=cco,
    )
    ines = registered.json()["id"]

    async def community_created() -> dict:
        response = await platform.communities.post(
            "/v1/communities",
            json={
                "name": "Club Utilisateurs",
                "kind": "external",
                "purpose": "support",
                "owner_department_id": "after-sales",
            },
            headers=cco,
        )
        assert response.status_code == 201, response.text
        return response.json()

    club = await eventually(community_created)
    managers = f"/v1/communities/{club['id']}/managers"
    members = f"/v1/communities/{club['id']}/members"

    async def appointed() -> None:
        response = await platform.communities.post(managers, json={"person_id": ines}, headers=cco)
        assert response.status_code == 201, response.text
        assert response.json()["department_id"] == "rd"

    await eventually(appointed)
    joined = await platform.communities.post(members, json={"person_id": ines}, headers=cco)
    assert joined.status_code == 201

    left = await platform.people.delete(f"/v1/people/{ines}", headers=cco)
    assert left.status_code == 204

    async def gone() -> None:
        assert (await platform.communities.get(managers, headers=cco)).json()["items"] == []
        assert (await platform.communities.get(members, headers=cco)).json()["items"] == []

    await eventually(gone)
    refused = await platform.communities.post(managers, json={"person_id": ines}, headers=cco)
    assert refused.status_code == 422

    outbox = platform.outbox()
    assert [row.event_type for row in outbox] == [
        "communities.community.created.v1",
        "communities.manager.appointed.v1",
        "communities.member.joined.v1",
        "communities.manager.removed.v1",
        "communities.member.left.v1",
    ]
    departures = [json.loads(row.value)["data"] for row in outbox[-2:]]
    assert [(d["person_id"], d["reason"]) for d in departures] == [(ines, "left_company")] * 2
    published = await read_topic(platform.broker, "communities.events", expected=len(outbox))
    assert [m.value for m in published] == [row.value for row in outbox]
    assert {m.key.decode() for m in published} == {club["id"]}
    assert {dict(m.headers)["content-type"] for m in published} == {b"application/cloudevents+json"}


async def test_the_demo_communities_are_seeded_once_the_demo_people_arrive(databases, broker):
    async with AsyncExitStack() as stack:
        platform = await start(stack, databases, broker, seed_demo=True)

        async def seeded() -> list[dict]:
            response = await platform.communities.get(
                "/v1/communities?limit=200", headers=platform.headers
            )
            assert response.status_code == 200
            assert len(response.json()["items"]) == 8
            return response.json()["items"]

        communities = await eventually(seeded, timeout=60)

    by_name = {c["name"]: c for c in communities}
    assert not by_name["Retours terrain"]["manager_ids"]
    assert len(by_name["Talents"]["manager_ids"]) == 1
