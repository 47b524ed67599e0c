"""The strategy service in-process, on a broker of the test's own, and the story it is told."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from shared.consumer import ProcessedEvent
from strategy.main import create_app
from strategy.settings import Settings
from tests.integration.strategy.scenario import Person, Scenario
from tests.support.apps import bearer, eventually, running, service_settings
from tests.support.broker import Broker


@dataclass
class View:
    client: httpx.AsyncClient
    app: FastAPI
    settings: Settings
    broker: Broker

    @property
    def cco(self) -> dict[str, str]:
        return bearer(self.settings, "cco", "employee")

    async def get(self, path: str) -> dict:
        response = await self.client.get(path, headers=self.cco)
        assert response.status_code == 200, response.text
        return response.json()

    def applied(self) -> int:
        with self.app.state.projection.sessions() as session:
            return session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0

    async def wait_for(self, applied: int) -> None:
        """Until this many distinct events are applied."""

        async def check() -> None:
            assert self.applied() == applied

        await eventually(check)

    async def tell(self, scenario: Scenario, messages: list | None = None) -> None:
        """Publishes the scenario's messages (or the first ones) to a view that has none yet."""
        await scenario.publish(self.broker, messages)
        await self.wait_for(len(scenario.messages if messages is None else messages))


@asynccontextmanager
async def strategy_view(settings: Settings, broker: Broker) -> AsyncIterator[View]:
    app = create_app(settings)
    async with running(app) as client:
        yield View(client, app, settings, broker)


@pytest.fixture
def strategy_settings(databases, broker) -> Settings:
    return service_settings(Settings, databases, broker)


@pytest.fixture
async def view(strategy_settings, broker) -> AsyncIterator[View]:
    async with strategy_view(strategy_settings, broker) as running_view:
        yield running_view


@dataclass
class Story:
    """Four departments, four communities, questions answered across them, an adopted practice,
    mentions of an external community, FAQ asks: the figures in test_view.py follow from it."""

    scenario: Scenario
    now: datetime
    ines: Person
    nadia: Person
    lucas: Person
    mehdi: Person
    sophie: Person
    quality: object
    club: object
    talents: object
    onboarding: object
    q2_answered_at: datetime
    practice_adopted_at: datetime


@pytest.fixture
def story() -> Story:
    now = datetime.now(UTC)
    day, hour = timedelta(days=1), timedelta(hours=1)
    s = Scenario()
    for id_, name in (("rd", "R&D"), ("after-sales", "SAV"), ("it", "SI"), ("hr", "RH")):
        s.department(id_, name)
    ines = s.person("Ines", "rd", years=2)
    nadia = s.person("Nadia", "after-sales", years=5)
    lucas = s.person("Lucas", "after-sales", years=1)
    mehdi = s.person("Mehdi", "it", years=1)
    sophie = s.person("Sophie", "hr", years=4)
    s.skill(ines, "python", 4)
    s.skill(mehdi, "python", 5)
    s.skill(nadia, "repairs", 5)

    quality = s.community("Qualité", "internal", "rd")
    s.manager(quality, ines, now - 20 * day)
    for person in (ines, nadia, lucas, mehdi):
        s.member(quality, now - 10 * day, person=person)
    club = s.community("Club", "external", "after-sales", purpose="support")
    s.manager(club, lucas, now - 20 * day)
    s.member(club, now - 10 * day, handle="@client1")
    s.member(club, now - 10 * day, handle="@client2")
    s.member(club, now - 10 * day, person=nadia)
    talents = s.community("Talents", "internal", "hr", purpose="recruitment")
    onboarding = s.community("Onboarding", "internal", "hr")
    s.manager(onboarding, sophie, now - 20 * day)

    q1 = s.question(lucas, ["repairs"], now - 5 * day, quality)
    s.answer(q1, ines, now - 5 * day + 2 * hour, accepted=True)
    s.answer(q1, nadia, now - 5 * day + 3 * hour)
    q2 = s.question(ines, ["python"], now - 4 * day, quality)
    q2_answered_at = now - 4 * day + hour
    s.answer(q2, mehdi, q2_answered_at, accepted=True)
    q3 = s.question(sophie, ["python"], now - 3 * day)
    s.escalated(q3, now - 2 * day)
    practice = s.practice(mehdi, ["python"], now - 30 * day)
    s.adoption(practice, ines, now - 30 * day)
    s.adoption(practice, nadia, now - 30 * day)

    s.mention(club, "after-sales", 0.6, "positive", now - day)
    relabelled = s.mention(club, "after-sales", -0.4, "negative", now - day)
    s.relabel(relabelled, "negative", "neutral", "after-sales")
    s.mention(club, "after-sales", 0.2, "positive", now - 2 * day)
    s.mention(club, "after-sales", -0.8, "negative", now - 2 * day)
    s.alert("after-sales", now - hour)
    for answered in (True, True, True, False):
        s.faq_ask(answered, "after-sales", now - day)

    s.manager_left(onboarding, sophie)
    s.leaves(sophie, now - hour)
    return Story(
        s,
        now,
        ines,
        nadia,
        lucas,
        mehdi,
        sophie,
        quality,
        club,
        talents,
        onboarding,
        q2_answered_at,
        now - 30 * day,
    )
