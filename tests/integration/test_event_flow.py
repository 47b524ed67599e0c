"""Events from the people service to the strategy view, through a real broker."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import FastAPI
from sqlalchemy import func, select, update

from people.main import create_app as create_people
from people.settings import Settings as PeopleSettings
from shared.outbox import OutboxMessage
from strategy.main import create_app as create_strategy
from strategy.settings import Settings as StrategySettings
from tests.support.apps import bearer, eventually, running, service_settings
from tests.support.broker import Broker

pytestmark = pytest.mark.integration


@dataclass
class Platform:
    people: httpx.AsyncClient
    strategy: httpx.AsyncClient
    people_app: FastAPI
    strategy_app: FastAPI
    broker: Broker
    headers: dict[str, str]

    async def department(self, id_: str) -> httpx.Response:
        return await self.people.post(
            "/v1/departments", json={"id": id_, "name": id_.upper()}, headers=self.headers
        )

    async def person(self, email: str, department_id: str) -> httpx.Response:
        body = {"name": email.split("@")[0], "email": email, "department_id": department_id}
        return await self.people.post("/v1/people", json=body, headers=self.headers)

    async def headcounts(self) -> dict[str, int]:
        response = await self.strategy.get("/v1/overview", headers=self.headers)
        assert response.status_code == 200, response.text
        return {d["id"]: d["headcount"] for d in response.json()["departments"]}

    async def wait_for_headcounts(self, expected: dict[str, int]) -> None:
        async def check() -> None:
            assert await self.headcounts() == expected

        await eventually(check)

    async def wait_until_caught_up(self) -> None:
        """Everything the people service wrote is published, and the strategy view read it all."""

        async def check() -> None:
            assert self.outbox_backlog() == 0
            lag = (await self.strategy.get("/v1/lag", headers=self.headers)).json()
            assert lag["partitions"] and lag["total"] == 0

        await eventually(check)

    def outbox(self) -> list[OutboxMessage]:
        with self.people_app.state.database.sessions() as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    def outbox_backlog(self) -> int:
        with self.people_app.state.database.sessions() as session:
            query = select(func.count()).where(OutboxMessage.published_at.is_(None))
            return session.scalar(query) or 0

    def metric(self, app: FastAPI, name: str, **labels: str) -> float:
        return app.state.metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def platform(databases, broker) -> AsyncIterator[Platform]:
    async with platform_on(databases, broker) as running_platform:
        yield running_platform


def platform_on(databases, broker: Broker):  # type: ignore[no-untyped-def]
    @asynccontextmanager_
    async def start() -> AsyncIterator[Platform]:
        people_settings = service_settings(PeopleSettings, databases, broker)
        strategy_settings = service_settings(StrategySettings, databases, broker)
        people_app, strategy_app = (
            create_people(people_settings),
            create_strategy(strategy_settings),
        )
        async with AsyncExitStack() as stack:
            people = await stack.enter_async_context(running(people_app))
            strategy = await stack.enter_async_context(running(strategy_app))
            yield Platform(
                people, strategy, people_app, strategy_app, broker, bearer(people_settings, "cco")
            )

    return start()


def asynccontextmanager_(function):  # type: ignore[no-untyped-def]
    from contextlib import asynccontextmanager

    return asynccontextmanager(function)


async def produce(
    broker: Broker, topic: str, value: bytes, key: bytes | None, partition: int | None = None
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, partition=partition)
    finally:
        await producer.stop()


async def read_topic(broker: Broker, topic: str, expected: int, timeout: float = 30) -> list:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    messages: list = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(messages) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                messages.extend(records)
    finally:
        await consumer.stop()
    return messages


def cloud_event(type_: str, subject: str, data: dict, event_id: str) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "/services/people",
            "type": type_,
            "subject": subject,
            "time": "2026-11-27T10:00:00Z",
            "datacontenttype": "application/json",
            "data": data,
        }
    ).encode()


async def test_a_new_person_reaches_the_strategy_view(platform):
    assert (await platform.department("rd")).status_code == 201
    assert (await platform.person("ines@example.com", "rd")).status_code == 201

    await platform.wait_for_headcounts({"rd": 1})


async def test_an_event_delivered_twice_is_applied_once(platform):
    await platform.department("rd")
    await platform.person("ines@example.com", "rd")
    await platform.wait_for_headcounts({"rd": 1})
    registered = platform.outbox()[-1]

    # The same message again, as a producer retry would send it...
    await produce(platform.broker, registered.topic, registered.value, registered.key.encode())
    # ...and the whole outbox again, as a relay that lost track of what it sent would.
    with platform.people_app.state.database.transaction() as session:
        session.execute(update(OutboxMessage).values(published_at=None))
    platform.people_app.state.relay._wake.set()

    async def duplicates_seen() -> None:
        assert (
            platform.metric(
                platform.strategy_app,
                "consumer_events_total",
                topic="people.events",
                outcome="duplicate",
            )
            >= 3
        )

    await eventually(duplicates_seen)
    await platform.wait_until_caught_up()
    assert await platform.headcounts() == {"rd": 1}


async def test_a_write_made_before_the_broker_starts_is_delivered_once_it_is_up(databases):
    broker = Broker()  # not started: nothing listens on its port yet
    try:
        async with platform_on(databases, broker) as platform:
            assert (await platform.department("rd")).status_code == 201
            assert (await platform.person("ines@example.com", "rd")).status_code == 201
            assert platform.outbox_backlog() == 2

            broker.start()

            await platform.wait_for_headcounts({"rd": 1})
    finally:
        broker.stop()


async def test_a_write_made_while_the_broker_is_paused_is_delivered_when_it_resumes(platform):
    await platform.department("rd")
    await platform.wait_for_headcounts({"rd": 0})
    platform.broker.pause()
    try:
        response = await platform.person("ines@example.com", "rd")
        assert response.status_code == 201
        await asyncio.sleep(1)
        assert await platform.headcounts() == {"rd": 0}
    finally:
        platform.broker.resume()

    await platform.wait_for_headcounts({"rd": 1})


async def test_a_poison_message_goes_to_the_dead_letter_topic_and_the_next_event_is_applied(
    platform,
):
    await platform.department("rd")
    await platform.wait_for_headcounts({"rd": 0})
    partition = 0

    await produce(platform.broker, "people.events", b"\x00not json", b"k", partition)
    await produce(
        platform.broker,
        "people.events",
        cloud_event(
            "people.person.registered.v2",
            "p1",
            {"id": "p1"},
            "00000000-0000-7000-8000-000000000002",
        ),
        b"p1",
        partition,
    )
    await produce(
        platform.broker,
        "people.events",
        cloud_event(
            "people.department.created.v1",
            "qa",
            {"name": "no id"},
            "00000000-0000-7000-8000-000000000003",
        ),
        b"qa",
        partition,
    )
    # Another service's event type on this topic: not published by its service.
    await produce(
        platform.broker,
        "people.events",
        cloud_event(
            "communities.community.archived.v1",
            "c1",
            {"id": "00000000-0000-7000-8000-0000000000c1"},
            "00000000-0000-7000-8000-000000000005",
        ),
        b"c1",
        partition,
    )
    await produce(
        platform.broker,
        "people.events",
        cloud_event(
            "people.department.created.v1",
            "qa",
            {"id": "qa", "name": "QA"},
            "00000000-0000-7000-8000-000000000004",
        ),
        b"qa",
        partition,
    )

    await platform.wait_for_headcounts({"rd": 0, "qa": 0})
    dead = await read_topic(platform.broker, "people.events.dlq", expected=4)
    # Dead letters are sent at least once: a rebalance may send one again.
    dead = list({int(dict(m.headers)["dlq-offset"]): m for m in dead}.values())
    dead.sort(key=lambda message: int(dict(message.headers)["dlq-offset"]))
    reasons = [dict(m.headers)["dlq-reason"].decode() for m in dead]
    assert reasons == ["malformed", "unknown-version", "invalid-payload", "wrong-topic"]
    assert dead[0].value == b"\x00not json"
    assert dict(dead[0].headers)["dlq-consumer-group"] == b"strategy"
    assert (
        platform.metric(
            platform.strategy_app,
            "consumer_dead_letters_total",
            topic="people.events",
            reason="malformed",
        )
        >= 1
    )


async def test_a_rejected_request_emits_nothing(platform):
    await platform.department("rd")
    await platform.person("ines@example.com", "rd")
    await platform.wait_until_caught_up()
    before = await end_offsets(platform.broker)

    rejected = [
        await platform.department("rd"),
        await platform.person("INES@example.com", "rd"),
        await platform.person("x@example.com", "nowhere"),
        await platform.people.post("/v1/people", json={"name": 1}, headers=platform.headers),
    ]

    assert [r.status_code for r in rejected] == [409, 409, 422, 422]
    await asyncio.sleep(platform.people_app.state.settings.relay_poll_seconds * 4)
    assert await end_offsets(platform.broker) == before
    assert len(platform.outbox()) == 2


async def end_offsets(broker: Broker) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap)
    await consumer.start()
    try:
        partitions = [
            TopicPartition("people.events", p)
            for p in consumer.partitions_for_topic("people.events") or []
        ]
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def test_a_broker_restarted_empty_gets_the_whole_history_again(platform):
    await platform.department("rd")
    await platform.person("ines@example.com", "rd")
    await platform.person("hugo@example.com", "rd")
    await platform.wait_for_headcounts({"rd": 2})

    platform.broker.stop()
    platform.broker.start()  # same address, empty log, no consumer groups

    history = await read_topic(platform.broker, "people.events", expected=3)
    assert sorted(m.value for m in history) == sorted(row.value for row in platform.outbox())
    assert (await platform.person("lea@example.com", "rd")).status_code == 201
    await platform.wait_for_headcounts({"rd": 3})
    await platform.wait_until_caught_up()
    assert await platform.headcounts() == {"rd": 3}
