"""The platform as `make run` starts it: the Procfile's processes, a local broker, the gateway."""

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.platform import SERVICES, Platform

pytestmark = pytest.mark.e2e


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
    assert platform.log.read_text().count("Application shutdown complete") == len(SERVICES) + 1


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
