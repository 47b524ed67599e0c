"""Operations on service processes: a graceful stop on SIGTERM, a consumer group losing a member."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import select

from people import events as people_events
from people.main import create_app as create_people
from people.settings import Settings as PeopleSettings
from shared.db import Database
from shared.outbox import OutboxMessage, enqueue
from tests.support.apps import bearer, eventually, running, service_settings
from tests.support.broker import Broker, free_port
from tests.support.databases import Databases

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


class ServiceProcess:
    """A service as its container runs it (deploy/Dockerfile's command), on a free port."""

    def __init__(self, service: str, env: dict[str, str], log: Path) -> None:
        self.service = service
        self.env = env
        self.log = log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, until_path: str = "/readyz") -> None:
        """Starts it, and waits until `until_path` answers 200 (`/healthz`: its lifespan began)."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "uvicorn", f"{self.service}.main:create_app",
                    "--factory", "--host", "127.0.0.1", "--port", str(self.port),
                    "--no-access-log", "--timeout-graceful-shutdown", "15",
                ],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        until(lambda: self.answers(until_path), f"{self.service}{until_path} (see {self.log})")

    def answers(self, path: str) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.service} exited; see {self.log}")
        try:
            return httpx.get(f"{self.url}{path}").status_code == 200
        except httpx.HTTPError:
            return False

    def accepting(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def terminate(self) -> None:
        """What Kubernetes and `docker stop` send."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait(self) -> int:
        assert self.process is not None
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for: {what}")
        time.sleep(0.05)


def platform_env(broker: Broker) -> dict[str, str]:
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "LOG_JSON": "0",
        "SEED_DEMO": "0",
    }


def stopped_gracefully(service: ServiceProcess, returncode: int) -> None:
    # uvicorn, once shut down, raises the SIGTERM it caught again: the status reads "terminated
    # by SIGTERM" (143 in a container). The lifespan's end in the log is what tells a clean stop.
    assert returncode in (0, -signal.SIGTERM), service.output()
    assert "Application shutdown complete" in service.output()


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    """The test's processes, added before they start: killed at the end whatever happened."""
    started: list[ServiceProcess] = []
    yield started
    for service in started:
        service.kill()


def test_sigterm_answers_the_request_in_flight_and_publishes_the_outbox_before_exiting(
    broker: Broker, databases: Databases, tmp_path: Path, processes: list[ServiceProcess]
):
    url = databases.url("people")
    env = platform_env(broker) | {
        "PEOPLE_DATABASE_URL": url,
        # The relay looks for rows other replicas wrote once an hour: only the stop flushes them.
        "RELAY_POLL_SECONDS": "3600",
    }
    people = ServiceProcess("people", env, tmp_path / "people.log")
    processes.append(people)
    people.start()
    headers = bearer(PeopleSettings(database_url=url), "cco")
    department = httpx.post(
        f"{people.url}/v1/departments", json={"id": "rd", "name": "R&D"}, headers=headers
    )
    assert department.status_code == 201
    database = Database(url)
    until(lambda: unpublished(database) == 0, "the department is published")
    with database.transaction() as session:  # another replica's write
        enqueue(
            session,
            people_events.DEPARTMENT_CREATED,
            subject="qa",
            data=people_events.DepartmentPayload(id="qa", name="QA"),
        )
    body = b'{"name": "Zo\\u00e9 Perrin", "email": "zoe@example.com", "department_id": "rd"}'

    with socket.create_connection(("127.0.0.1", people.port), timeout=60) as connection:
        # With `Expect: 100-continue` the server says when the app waits for the body: the
        # request is then in flight, inside the service.
        connection.sendall(
            b"POST /v1/people HTTP/1.1\r\nHost: people\r\nContent-Type: application/json\r\n"
            + f"Authorization: {headers['Authorization']}\r\n".encode()
            + f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        assert connection.recv(1024).startswith(b"HTTP/1.1 100 Continue")
        assert unpublished(database) == 1
        people.terminate()
        until(lambda: not people.accepting(), "the service stops accepting connections")
        connection.sendall(body)
        response = read_response(connection)
    returncode = people.wait()

    assert response.startswith(b"HTTP/1.1 201 "), response
    stopped_gracefully(people, returncode)
    with database.sessions() as session:
        outbox = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    database.dispose()
    assert [row.event_type for row in outbox] == [
        "people.department.created.v1",
        "people.department.created.v1",
        "people.person.registered.v1",
    ]
    assert all(row.published_at is not None for row in outbox)
    on_the_broker = asyncio.run(published(broker, "people.events", expected=3))
    assert sorted(on_the_broker) == sorted(row.value for row in outbox)


def unpublished(database: Database) -> int:
    with database.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.published_at.is_(None))
        return len(list(session.scalars(query)))


async def published(broker: Broker, topic: str, expected: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(values) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            values += [record.value for records in batch.values() for record in records]
    finally:
        await consumer.stop()
    return values


async def end_offsets(broker: Broker, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        return {tp.partition: end for tp, end in (await consumer.end_offsets(partitions)).items()}
    finally:
        await consumer.stop()


def read_response(connection: socket.socket) -> bytes:
    """Everything until the server closes the connection, as it does once it is stopping."""
    response = b""
    while chunk := connection.recv(65536):
        response += chunk
    return response


async def test_a_strategy_replica_stopped_midway_leaves_the_view_complete_and_exact(
    broker: Broker, databases: Databases, tmp_path: Path, processes: list[ServiceProcess]
):
    people_settings = service_settings(PeopleSettings, databases, broker)
    env = platform_env(broker) | {"STRATEGY_DATABASE_URL": databases.url("strategy")}
    headers = bearer(people_settings, "cco")
    departments = [f"d{n:02d}" for n in range(12)]
    per_department = 10
    stopping, staying = (
        ServiceProcess("strategy", env, tmp_path / f"strategy-{n}.log") for n in (1, 2)
    )
    # One after the other, as a rolling deployment adds replicas (each migrates at start).
    for replica in (stopping, staying):
        processes.append(replica)
        await asyncio.to_thread(replica.start)

    async with (
        running(create_people(people_settings)) as people,
        httpx.AsyncClient(headers=headers) as client,
    ):

        async def register(number: int) -> None:
            body = {
                "name": f"Person {number}",
                "email": f"person{number}@example.com",
                "department_id": departments[number % len(departments)],
            }
            response = await people.post("/v1/people", json=body, headers=headers)
            assert response.status_code == 201, response.text

        async def partitions(replica: ServiceProcess) -> set[tuple[str, int]]:
            response = await client.get(f"{replica.url}/v1/lag")
            assert response.status_code == 200, response.text
            return {(p["topic"], p["partition"]) for p in response.json()["partitions"]}

        for department in departments:
            created = await people.post(
                "/v1/departments", json={"id": department, "name": department}, headers=headers
            )
            assert created.status_code == 201
        everyone = len(departments) * per_department
        for number in range(everyone // 2):
            await register(number)
        topic_partitions = {("people.events", p) for p in range(people_settings.kafka_partitions)}

        async def both_replicas_read_their_share() -> None:
            first, second = await partitions(stopping), await partitions(staying)
            assert first and second and not first & second
            assert topic_partitions <= first | second

        await eventually(both_replicas_read_their_share, timeout=60)
        stopping.terminate()
        for number in range(everyone // 2, everyone):
            await register(number)
        returncode = await asyncio.to_thread(stopping.wait)

        async def the_view_is_complete() -> None:
            assert topic_partitions <= await partitions(staying)
            lag = (await client.get(f"{staying.url}/v1/lag")).json()
            assert lag["total"] == 0
            overview = await client.get(f"{staying.url}/v1/overview")
            headcounts = {d["id"]: d["headcount"] for d in overview.json()["departments"]}
            assert headcounts == {department: per_department for department in departments}

        await eventually(the_view_is_complete, timeout=60)

    stopped_gracefully(stopping, returncode)
    written = await end_offsets(broker, "people.events")
    assert set(written) == {partition for _, partition in topic_partitions}
    assert all(end > 0 for end in written.values()), "events went to every partition"


def test_every_replica_is_ready_not_only_the_one_publishing_the_outbox(
    broker: Broker, databases: Databases, tmp_path: Path, processes: list[ServiceProcess]
):
    env = platform_env(broker) | {"PEOPLE_DATABASE_URL": databases.url("people")}
    first, second = (ServiceProcess("people", env, tmp_path / f"people-{n}.log") for n in (1, 2))
    processes.extend((first, second))
    first.start()
    second.start("/healthz")

    until(lambda: second.answers("/readyz"), "the second replica is ready", timeout=20)
