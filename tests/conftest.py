"""Fixtures every test may use: a real broker, real databases, settings of each service."""

import json
from collections.abc import Iterator

import pytest

from people.settings import Settings as PeopleSettings
from strategy.settings import Settings as StrategySettings
from tests.support.apps import service_settings
from tests.support.broker import Broker
from tests.support.databases import Databases


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    # The fault tests' oracle (tests/faults): one table for the run, whichever worker ran them.
    rows = [
        json.loads(value)
        for status in ("passed", "failed")
        for report in terminalreporter.stats.get(status, [])
        if report.when == "call"
        for name, value in report.user_properties
        if name == "fault-oracle"
    ]
    if rows:
        from tests.faults.oracle import markdown_table

        terminalreporter.write_sep("=", "faults: the oracle's table")
        terminalreporter.write_line(markdown_table(rows))


@pytest.fixture(scope="session")
def shared_broker() -> Iterator[Broker]:
    """One broker for tests that do not mind others' topics."""
    broker = Broker().start()
    yield broker
    broker.stop()


@pytest.fixture
def broker() -> Iterator[Broker]:
    """A broker of this test's own: empty topics, no consumer groups."""
    broker = Broker().start()
    yield broker
    broker.stop()


@pytest.fixture
def databases(tmp_path) -> Iterator[Databases]:  # type: ignore[no-untyped-def]
    databases = Databases(str(tmp_path))
    yield databases
    databases.drop_all()


@pytest.fixture
def people_settings(databases: Databases, shared_broker: Broker) -> PeopleSettings:
    return service_settings(PeopleSettings, databases, shared_broker)


@pytest.fixture
def strategy_settings(databases: Databases, shared_broker: Broker) -> StrategySettings:
    return service_settings(StrategySettings, databases, shared_broker)
