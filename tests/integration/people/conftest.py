"""The people service running in-process on a real database and the shared real broker."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from people.main import create_app
from people.models import Department, Person, PersonSkill, RoleGrant
from people.settings import Settings
from shared.outbox import OutboxMessage
from tests.support.apps import bearer, running


@dataclass
class PeopleApi:
    client: httpx.AsyncClient
    app: FastAPI
    settings: Settings

    def as_(
        self, *roles: str, subject: str = "00000000-0000-0000-0000-000000000001"
    ) -> dict[str, str]:
        return bearer(self.settings, *roles, subject=subject)

    @property
    def cco(self) -> dict[str, str]:
        return self.as_("cco", "employee")

    def snapshot(self) -> dict[str, int]:
        """Row counts of every table and the outbox: what a rejected request must not change."""
        with self.app.state.database.sessions() as session:
            return {
                model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Department, Person, PersonSkill, RoleGrant, OutboxMessage)
            }

    def events(self) -> list[OutboxMessage]:
        with self.app.state.database.sessions() as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    async def department(self, id_: str = "rd", name: str = "R&D") -> dict:
        response = await self.client.post(
            "/v1/departments", json={"id": id_, "name": name}, headers=self.cco
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def person(
        self, email: str = "ines@example.com", department_id: str = "rd", **fields: object
    ) -> dict:
        body = {"name": "Inès Lefèvre", "email": email, "department_id": department_id, **fields}
        response = await self.client.post("/v1/people", json=body, headers=self.cco)
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture
async def api(people_settings: Settings) -> AsyncIterator[PeopleApi]:
    app = create_app(people_settings)
    async with running(app) as client:
        yield PeopleApi(client, app, people_settings)
