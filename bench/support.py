"""What every part of the benchmark shares: servers as processes, wrk, figures, the machine."""

import contextlib
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil

from shared.auth import issue_token
from shared.settings import PlatformSettings
from tests.support.broker import free_port

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


# Servers


@dataclass
class Server:
    """One uvicorn process serving an app factory, as the Procfile starts each service."""

    name: str
    port: int
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.popen.pid

    def rss_mib(self) -> float:
        return psutil.Process(self.pid).memory_info().rss / MIB

    def cpu_seconds(self) -> float:
        """User and system time of the process, all its threads, so far."""
        times = psutil.Process(self.pid).cpu_times()
        return times.user + times.system

    def wait_ready(self, path: str = "/healthz", seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer {path}; see {self.log}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def serve(name: str, factory: str, env: dict[str, str], folder: Path) -> Server:
    """`uvicorn <factory> --factory`: one worker, no access log, warnings only."""
    port = free_port()
    log = folder / f"{name}.log"
    with log.open("ab") as out:
        popen = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                factory,
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Server(name, port, popen, log)


def service_env(folder: Path, bootstrap: str, **extra: str) -> dict[str, str]:
    """The environment `make run` gives the services, with SQLite files in `folder`."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "LOG_LEVEL": "WARNING",
        "SEED_DEMO": "0",
        "CONSUMER_SESSION_TIMEOUT_MS": "6000",
        **extra,
    }
    for service in ("people", "communities", "listening", "collaboration", "strategy"):
        env[f"{service.upper()}_DATABASE_URL"] = f"sqlite:///{folder}/{service}.db"
    return env


def token(*roles: str) -> str:
    """A token of the built-in issuer with the platform's default (development) settings."""
    return issue_token(
        PlatformSettings(), subject="00000000-0000-0000-0000-00000000be4c", roles=list(roles)
    )


def wait_until(check, seconds: float, interval: float = 0.1, what: str = "a condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached in {seconds} s")
        time.sleep(interval)


# The load generator


@dataclass
class WrkRun:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    seconds: float
    # What wrk itself used (user + system), to state the load generator's cost.
    wrk_cpu_seconds: float
    # What the measured servers used meanwhile, by name.
    server_cpu_seconds: dict[str, float] = field(default_factory=dict)


def wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    script_args: tuple[str, ...] = (),
    servers: tuple[Server, ...] = (),
) -> WrkRun:
    """One wrk run (one thread: the other core is the server's); fails on any non-2xx answer."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    before_children = _children_cpu()
    before_servers = {server.name: server.cpu_seconds() for server in servers}
    started = time.monotonic()
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    elapsed = time.monotonic() - started
    server_cpu = {
        server.name: round(server.cpu_seconds() - before_servers[server.name], 3)
        for server in servers
    }
    wrk_cpu = _children_cpu() - before_children
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw failed requests against {url}:\n{output}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rps is None or total is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    percentiles = {}
    for percentile in ("50", "99"):
        found = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if found is None:
            raise RuntimeError(f"unexpected wrk output:\n{output}")
        percentiles[percentile] = float(found.group(1)) * _UNITS_MS[found.group(2)]
    return WrkRun(
        requests_per_second=float(rps.group(1)),
        p50_ms=percentiles["50"],
        p99_ms=percentiles["99"],
        requests=int(total.group(1)),
        seconds=round(elapsed, 2),
        wrk_cpu_seconds=round(wrk_cpu, 3),
        server_cpu_seconds=server_cpu,
    )


def _children_cpu() -> float:
    """CPU time of the children that ended (wrk, once it is waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0..100), linear between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# Figures


@dataclass
class Figure:
    """One row of the report: a value, the ceiling it is compared with, and the target."""

    section: str
    name: str
    value: float
    unit: str
    ceiling: float | None = None
    ceiling_name: str | None = None
    target: str | None = None
    met: bool | None = None
    note: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.ceiling in (None, 0) or self.value is None:
            return None
        return self.value / self.ceiling

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio": None if self.ratio is None else round(self.ratio, 3)}


def machine() -> dict[str, object]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = None
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    wrk_version = None
    if shutil.which("wrk"):
        # `wrk -v` prints its version and exits with 1.
        wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split(
            "\n"
        )[0]
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "load_generator": wrk_version,
    }


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.replace(path)


@dataclass
class Memory:
    """Resident memory (MiB) of each process, at rest and once its load is over."""

    at_rest: dict[str, float] = field(default_factory=dict)
    after_load: dict[str, float] = field(default_factory=dict)


def relay_drained(base: str, seconds: float = 120) -> float | None:
    """Seconds until a service's outbox relay has published every event (its metrics say)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        metrics = httpx.get(f"{base}/metrics", timeout=5).text
        for line in metrics.splitlines():
            if line.startswith("outbox_backlog ") and float(line.split()[-1]) == 0:
                return round(time.monotonic() - started, 2)
        time.sleep(0.2)
    return None
