"""The platform as `make run` starts it: the Procfile's processes, a local broker, the gateway."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.broker import free_port
from tests.support.databases import Databases

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("people", "strategy")


class Platform:
    """The Procfile's processes under honcho, on free ports, with databases of the test's own."""

    def __init__(self, databases: Databases, log: Path) -> None:
        self.log = log
        self.gateway_port = free_port()
        broker_port = free_port()
        self.env = {
            **os.environ,
            "GATEWAY_PORT": str(self.gateway_port),
            "PEOPLE_PORT": str(free_port()),
            "STRATEGY_PORT": str(free_port()),
            "LOCAL_BROKER_PORT": str(broker_port),
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{broker_port}",
            "SEED_DEMO": "1",
            "CONSUMER_SESSION_TIMEOUT_MS": "6000",
            "LOG_JSON": "0",
        }
        for service in SERVICES:
            self.env[f"{service.upper()}_DATABASE_URL"] = databases.url(service)
            self.env[f"GATEWAY_{service.upper()}_URL"] = (
                f"http://127.0.0.1:{self.env[service.upper() + '_PORT']}"
            )
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
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/people/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the platform did not start; see {self.log}")

    def stop(self) -> int:
        """Ctrl-C, as a newcomer stops `make run`."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)

    def sign_in(self) -> dict[str, str]:
        response = httpx.post(
            f"{self.url}/auth/token", json={"email": "cco@example.com", "password": "demo"}
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def headcounts(self, headers: dict[str, str]) -> dict[str, int]:
        response = httpx.get(f"{self.url}/api/strategy/v1/overview", headers=headers)
        response.raise_for_status()
        return {d["id"]: d["headcount"] for d in response.json()["departments"]}

    def wait_for(
        self, headers: dict[str, str], expected: dict[str, int], timeout: float = 30
    ) -> float:
        started = time.monotonic()
        while self.headcounts(headers) != expected:
            if time.monotonic() - started > timeout:
                assert self.headcounts(headers) == expected
            time.sleep(0.02)
        return time.monotonic() - started


@pytest.fixture
def platform(databases, tmp_path) -> Iterator[Platform]:
    platform = Platform(databases, tmp_path / "platform.log")
    platform.start()
    yield platform
    if platform.process and platform.process.poll() is None:
        platform.stop()


SEEDED = {
    "after-sales": 3,
    "communication": 3,
    "direction": 2,
    "hr": 2,
    "it": 2,
    "marketing": 2,
    "rd": 4,
    "sales": 2,
}


def test_a_person_created_through_the_gateway_reaches_the_overview(platform):
    headers = platform.sign_in()
    platform.wait_for(headers, SEEDED)

    created = httpx.post(
        f"{platform.url}/api/people/v1/people",
        json={"name": "Zoé Perrin", "email": "zoe.perrin@example.com", "department_id": "rd"},
        headers=headers,
    )

    assert created.status_code == 201
    seconds = platform.wait_for(headers, SEEDED | {"rd": 5})
    print(f"\nwrite to overview through the gateway: {seconds * 1000:.0f} ms")
    assert platform.stop() in (0, 130)  # 130: stopped by Ctrl-C, as asked
    assert platform.log.read_text().count("Application shutdown complete") == 3


def test_a_restart_on_an_empty_broker_loses_nothing_and_counts_nothing_twice(platform):
    headers = platform.sign_in()
    platform.wait_for(headers, SEEDED)
    platform.stop()

    platform.start()  # the local broker starts empty; the databases are kept

    headers = platform.sign_in()
    platform.wait_for(headers, SEEDED)
    created = httpx.post(
        f"{platform.url}/api/people/v1/people",
        json={"name": "Zoé Perrin", "email": "zoe.perrin@example.com", "department_id": "hr"},
        headers=headers,
    )
    assert created.status_code == 201
    platform.wait_for(headers, SEEDED | {"hr": 3})
    time.sleep(1)  # anything counted twice would show by now
    assert platform.headcounts(headers) == SEEDED | {"hr": 3}
