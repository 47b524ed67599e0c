"""The collaboration service running in-process on a real database and the shared real broker.

`receive` applies another service's event with the service's own handler, in one transaction,
as its consumer does; the tests in test_event_flow.py send the same events through Kafka.
"""

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from collaboration import models
from collaboration.handlers import HANDLERS
from collaboration.main import create_app
from collaboration.settings import Settings
from shared.consumer import ReceivedEvent
from shared.outbox import OutboxMessage
from tests.support.apps import bearer, running, service_settings
from tests.support.broker import Broker
from tests.support.databases import Databases

TABLES = (
    models.Question,
    models.QuestionTag,
    models.Answer,
    models.AnswerVote,
    models.Practice,
    models.PracticeTag,
    models.Adoption,
    models.Idea,
    models.IdeaTag,
    models.IdeaVote,
    models.SearchTerm,
    OutboxMessage,
)


@dataclass
class Member:
    """A person of the directory as this service knows them, with a token of theirs."""

    id: str
    department_id: str
    headers: dict[str, str]


@dataclass
class CollaborationApi:
    client: httpx.AsyncClient
    app: FastAPI
    settings: Settings

    def receive(self, event_type: str, data: dict) -> None:
        handler = HANDLERS[event_type]
        event = ReceivedEvent(
            id=uuid.uuid4(),
            type=event_type,
            subject=None,
            time=datetime.now(UTC),
            request_id=None,
            data=handler.payload.model_validate(data),
        )
        with self.app.state.database.transaction() as session:
            handler.apply(session, event)

    def member(self, department_id: str = "rd", *roles: str, name: str = "Inès") -> Member:
        """A person known from people.events; their token carries no department claim."""
        person_id = str(uuid.uuid4())
        self.receive("people.department.created.v1", {"id": department_id, "name": department_id})
        self.receive(
            "people.person.registered.v1",
            {
                "id": person_id,
                "name": name,
                "email": f"{person_id}@example.com",
                "department_id": department_id,
                "active": True,
            },
        )
        return Member(
            person_id,
            department_id,
            bearer(self.settings, *(roles or ("employee",)), subject=person_id),
        )

    def community(self, name: str = "Python & data", *managers: Member) -> str:
        community_id = str(uuid.uuid4())
        self.receive(
            "communities.community.created.v1",
            {"id": community_id, "name": name, "kind": "internal", "owner_department_id": "it"},
        )
        for manager in managers:
            self.receive(
                "communities.manager.appointed.v1",
                {"community_id": community_id, "person_id": manager.id},
            )
        return community_id

    def snapshot(self) -> dict[str, int]:
        """Row counts of the service's records and its outbox: what a refusal must not change."""
        with self.app.state.database.sessions() as session:
            return {
                model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in TABLES
            }

    def events(self, event_type: str | None = None) -> list[dict]:
        """The CloudEvents in the outbox, in write order, with their Kafka key as `key`."""
        with self.app.state.database.sessions() as session:
            rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        envelopes = [{**json.loads(row.value), "key": row.key} for row in rows]
        return [e for e in envelopes if event_type is None or e["type"] == event_type]

    async def ask(self, member: Member, **fields: object) -> dict:
        body = {"title": "Comment réparer le lave-linge ?", "body": "Code E21.", **fields}
        response = await self.client.post("/v1/questions", json=body, headers=member.headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def answer(self, member: Member, question_id: str, body: str = "Voici.") -> dict:
        response = await self.client.post(
            f"/v1/questions/{question_id}/answers", json={"body": body}, headers=member.headers
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def share(self, member: Member, **fields: object) -> dict:
        body = {"title": "Diagnostic à distance", "body": "Un appel vidéo d'abord.", **fields}
        response = await self.client.post("/v1/practices", json=body, headers=member.headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def propose(self, member: Member, **fields: object) -> dict:
        body = {"title": "Programme de reprise", "body": "Reprendre les anciens.", **fields}
        response = await self.client.post("/v1/ideas", json=body, headers=member.headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def ids(self, path: str, member: Member) -> list[str]:
        response = await self.client.get(path, headers=member.headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]


def collaboration_settings(databases: Databases, broker: Broker, **overrides: object) -> Settings:
    return service_settings(Settings, databases, broker, **overrides)


@pytest.fixture
async def api(databases: Databases, broker: Broker) -> AsyncIterator[CollaborationApi]:
    settings = collaboration_settings(databases, broker)
    app = create_app(settings)
    async with running(app) as client:
        yield CollaborationApi(client, app, settings)
