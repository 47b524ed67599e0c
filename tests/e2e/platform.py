"""The Procfile's processes under honcho, as `make run` starts them, for end-to-end tests."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.broker import free_port
from tests.support.databases import Databases

ROOT = Path(__file__).resolve().parents[2]
ROUTED = ("people", "communities", "listening", "collaboration", "strategy")


def procfile_services() -> tuple[str, ...]:
    """The services the Procfile runs (every process but the broker and the gateway)."""
    names = [
        line.split(":", 1)[0].strip()
        for line in (ROOT / "Procfile").read_text().splitlines()
        if ":" in line and not line.lstrip().startswith("#")
    ]
    return tuple(name for name in names if name not in ("broker", "gateway"))


SERVICES = procfile_services()


class Platform:
    """The Procfile's processes under honcho, on free ports, with databases of the test's own."""

    def __init__(self, databases: Databases, log: Path, **settings: str) -> None:
        self.log = log
        self.gateway_port = free_port()
        broker_port = free_port()
        self.env = {
            **os.environ,
            "GATEWAY_PORT": str(self.gateway_port),
            "LOCAL_BROKER_PORT": str(broker_port),
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{broker_port}",
            "SEED_DEMO": "1",
            "CONSUMER_SESSION_TIMEOUT_MS": "6000",
            "LOG_JSON": "0",
            **settings,
        }
        # A service the Procfile does not run yet is routed to a port where nothing listens.
        for service in ROUTED:
            self.env[f"{service.upper()}_PORT"] = str(free_port())
            self.env[f"GATEWAY_{service.upper()}_URL"] = (
                f"http://127.0.0.1:{self.env[service.upper() + '_PORT']}"
            )
        for service in SERVICES:
            self.env[f"{service.upper()}_DATABASE_URL"] = databases.url(service)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "honcho",
                    "start",
                    "-f",
                    "Procfile",
                    "broker",
                    *SERVICES,
                    "gateway",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # The tests share two cores with the other pytest workers: a start may take a minute.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                ready = all(
                    httpx.get(f"{self.url}/api/{service}/readyz").status_code == 200
                    for service in SERVICES
                )
                # The demo people are seeded in the background once the people service is up.
                credentials = {"email": "cco@example.com", "password": "demo"}
                if ready and httpx.post(f"{self.url}/auth/token", json=credentials).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        if self.process.poll() is None:
            self.stop()
        lines = self.log.read_text(errors="replace").splitlines()
        errors = [line for line in lines if " ERROR " in line or "stopped (rc=" in line]
        raise RuntimeError(
            f"the platform did not start; see {self.log}. Its first errors:\n"
            + "\n".join(errors[:20])
            + "\nIts end:\n"
            + "\n".join(lines[-30:])
        )

    def stop(self) -> int:
        """Ctrl-C, as a newcomer stops `make run`."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)

    def sign_in(self, email: str = "cco@example.com") -> dict[str, str]:
        response = httpx.post(f"{self.url}/auth/token", json={"email": email, "password": "demo"})
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def headcounts(self, headers: dict[str, str]) -> dict[str, int]:
        return {d["id"]: d["headcount"] for d in self.overview(headers)["departments"]}

    def wait_for(
        self, headers: dict[str, str], expected: dict[str, int], timeout: float = 30
    ) -> float:
        started = time.monotonic()
        while self.headcounts(headers) != expected:
            if time.monotonic() - started > timeout:
                assert self.headcounts(headers) == expected
            time.sleep(0.02)
        return time.monotonic() - started

    def wait_for_communities(
        self, headers: dict[str, str], count: int, timeout: float = 60
    ) -> None:
        """Until the overview shows `count` communities: the demo's last seeds follow its people."""
        started = time.monotonic()
        while (shown := len(self.overview(headers)["communities"])) != count:
            assert time.monotonic() - started < timeout, f"{shown} of {count} communities"
            time.sleep(0.1)

    def overview(self, headers: dict[str, str]) -> dict:
        response = httpx.get(f"{self.url}/api/strategy/v1/overview", headers=headers)
        response.raise_for_status()
        return response.json()
