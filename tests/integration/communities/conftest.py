"""The communities service running in-process on a real database and a real broker."""

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from communities import handlers
from communities.main import create_app
from communities.models import (
    Community,
    CommunityManager,
    CommunityTopic,
    KnownDepartment,
    KnownPerson,
    Membership,
)
from communities.settings import Settings
from people import events as people_events
from shared.consumer import ReceivedEvent
from shared.outbox import OutboxMessage
from tests.support.apps import bearer, running, service_settings
from tests.support.broker import Broker

CCO_ID = "00000000-0000-0000-0000-000000000001"


@dataclass
class CommunitiesApi:
    client: httpx.AsyncClient
    app: FastAPI
    settings: Settings

    def as_(self, *roles: str, subject: str = CCO_ID) -> dict[str, str]:
        return bearer(self.settings, *roles, subject=subject)

    @property
    def cco(self) -> dict[str, str]:
        return self.as_("cco", "employee")

    def snapshot(self) -> dict[str, int]:
        """Row counts of every table and the outbox: what a rejected request must not change."""
        with self.app.state.database.sessions() as session:
            return {
                model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (
                    Community,
                    CommunityTopic,
                    CommunityManager,
                    Membership,
                    KnownDepartment,
                    KnownPerson,
                    OutboxMessage,
                )
            }

    def events(self) -> list[OutboxMessage]:
        with self.app.state.database.sessions() as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    def last_events(self, count: int) -> list[dict]:
        """The data of the last `count` events, each with its type, oldest first."""
        return [
            {"type": envelope["type"], "subject": envelope["subject"], **envelope["data"]}
            for envelope in (json.loads(row.value) for row in self.events()[-count:])
        ]

    # The people service's directory arrives as its events; these apply them as the consumer does.

    def apply(self, event_type: str, payload: object) -> None:
        handler = handlers.HANDLERS[event_type]
        data = handler.payload.model_validate(payload.model_dump(mode="json"))  # type: ignore[attr-defined]
        event = ReceivedEvent(
            id=uuid.uuid4(),
            type=event_type,
            subject=None,
            time=datetime.now(UTC),
            request_id=None,
            data=data,
        )
        with self.app.state.database.transaction() as session:
            handler.apply(session, event)

    def department(self, id_: str = "rd", name: str = "R&D") -> None:
        self.apply(
            "people.department.created.v1", people_events.DepartmentPayload(id=id_, name=name)
        )

    def person(
        self,
        name: str = "Inès Lefèvre",
        department_id: str = "rd",
        *,
        years: float = 2,
        person_id: str | None = None,
    ) -> str:
        """A person of the directory; returns their id."""
        person_id = person_id or str(uuid.uuid4())
        self.apply(
            "people.person.registered.v1",
            people_events.PersonPayload(
                id=uuid.UUID(person_id),
                name=name,
                email=f"{name.split()[0].lower()}.{person_id[:8]}@example.com",
                department_id=department_id,
                title=None,
                community_experience_years=years,
                languages=["fr"],
                active=True,
            ),
        )
        return person_id

    def person_leaves(self, person_id: str, department_id: str = "rd") -> None:
        self.apply(
            "people.person.deactivated.v1",
            people_events.PersonDeactivatedPayload(
                id=uuid.UUID(person_id),
                department_id=department_id,
                deactivated_at=datetime.now(UTC),
            ),
        )

    async def community(self, name: str = "Python & data", **fields: object) -> dict:
        body = {
            "name": name,
            "kind": "internal",
            "purpose": "practice",
            "owner_department_id": "rd",
            "topics": ["python"],
            **fields,
        }
        response = await self.client.post("/v1/communities", json=body, headers=self.cco)
        assert response.status_code == 201, response.text
        return response.json()

    async def manager(self, community_id: str, person_id: str) -> dict:
        response = await self.client.post(
            f"/v1/communities/{community_id}/managers",
            json={"person_id": person_id},
            headers=self.cco,
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def member(self, community_id: str, **body: str) -> dict:
        response = await self.client.post(
            f"/v1/communities/{community_id}/members", json=body, headers=self.cco
        )
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture
def communities_settings(databases, broker: Broker) -> Settings:
    """A broker of the test's own: nothing publishes `people.events` there, so the local copy
    of the directory holds only what the test puts in it (and no group is left over)."""
    settings = service_settings(Settings, databases, broker)
    # Nothing is consumed here, and an app stops only once its group has formed: a short
    # session forms it sooner and keeps each test's teardown short.
    return settings.model_copy(update={"consumer_session_timeout_ms": 1_500})


@pytest.fixture
async def api(communities_settings: Settings) -> AsyncIterator[CommunitiesApi]:
    app = create_app(communities_settings)
    async with running(app) as client:
        api = CommunitiesApi(client, app, communities_settings)
        api.department("rd", "R&D")
        api.department("after-sales", "Service après-vente")
        yield api
