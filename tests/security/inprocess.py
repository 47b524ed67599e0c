"""Each service in-process, for the suites that call its write routes as one caller or another.

A service runs with its lifespan (migrations, outbox relay, consumer) on a real database and on a
broker of its own: no other service's events reach it, so what its database holds changes only
by the requests of the test. `Service.dump()` reads every row of every table (the outbox without
the relay's bookkeeping), which is what a refused request must leave exactly as it was.

The callers are people of each service's directory, with the roles of `shared.auth.Role`:

- `anonymous` sends no token;
- `cco`, `community_manager`, `conversation_manager`, `department_lead` (of rd) and `employee`
  are people, each holding that role (and `employee`);
- `system` is a system client (an HR sync, a social-listening connector): no person;
- where a service keeps a copy of the directory, someone who has left the company (and whose
  token has not expired yet).

The directory reaches a service as the people service's events do, applied by the service's own
handlers; the people service itself registers people through its API.
"""

import importlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from sqlalchemy import MetaData, select

from communities import events as communities_events
from people import events as people_events
from shared.auth import Role
from shared.consumer import ReceivedEvent
from shared.settings import ServiceSettings
from tests.security.platform import FACTORIES
from tests.support.apps import bearer, running, service_settings
from tests.support.broker import Broker
from tests.support.databases import Databases

ANONYMOUS = "anonymous"
CCO = Role.CCO.value
COMMUNITY_MANAGER = Role.COMMUNITY_MANAGER.value
CONVERSATION_MANAGER = Role.CONVERSATION_MANAGER.value
DEPARTMENT_LEAD = Role.DEPARTMENT_LEAD.value
EMPLOYEE = Role.EMPLOYEE.value
SYSTEM = Role.SYSTEM.value
# A person who has left the company (their token has not expired yet).
LEFT = "left the company"
# Everyone who is not the object's: who may call a route whatever it is about.
GLOBAL_CALLERS = (
    ANONYMOUS,
    CCO,
    COMMUNITY_MANAGER,
    CONVERSATION_MANAGER,
    DEPARTMENT_LEAD,
    EMPLOYEE,
    SYSTEM,
)
# Where each of them works (the department lead leads rd).
DEPARTMENTS = {
    "rd": "R&D",
    "after-sales": "Service après-vente",
    "marketing": "Marketing",
    "communication": "Communication",
}
HOME = {
    CCO: "rd",
    COMMUNITY_MANAGER: "marketing",
    CONVERSATION_MANAGER: "communication",
    DEPARTMENT_LEAD: "rd",
    EMPLOYEE: "after-sales",
}
SYSTEM_CLIENT = "hr-sync"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Columns the outbox relay and the consumer write on their own schedule, never a request.
BOOKKEEPING = {"outbox": {"published_at", "partition", "offset"}}
UNWATCHED_TABLES = {"alembic_version", "consumer_position"}
# The listening service's clock in these suites.
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Person:
    """A caller: a person of the directory (or a system client), and a token of theirs."""

    key: str
    id: str
    department_id: str | None
    roles: tuple[str, ...]
    headers: dict[str, str]


@dataclass
class Service:
    name: str
    app: FastAPI
    client: httpx.AsyncClient
    settings: ServiceSettings
    callers: dict[str, Person] = field(default_factory=dict)
    _tables: MetaData | None = None

    # Callers

    def token(
        self, *roles: str, subject: str | None = None, department: str | None = None
    ) -> dict[str, str]:
        return bearer(
            self.settings, *roles, subject=subject or str(uuid.uuid4()), department=department
        )

    @property
    def cco(self) -> dict[str, str]:
        return self.callers[CCO].headers

    async def hire(self, department_id: str = "rd", *roles: str, key: str = "someone") -> Person:
        """A new person of this service's directory, with a token carrying `roles`."""
        person_id = await self._register(department_id, key)
        all_roles = tuple(sorted({*roles, EMPLOYEE}))
        headers = bearer(self.settings, *all_roles, subject=person_id, department=department_id)
        return Person(key, person_id, department_id, all_roles, headers)

    async def _register(self, department_id: str, key: str) -> str:
        person_id = uuid.uuid4()
        if self.name == "people":
            body = {
                "name": key.capitalize(),
                "email": f"{key}.{person_id.hex[:12]}@example.com",
                "department_id": department_id,
            }
            return (await self.call("POST", "/v1/people", self.cco, json=body))["id"]
        self.receive(
            "people.person.registered.v1",
            people_events.PersonPayload(
                id=person_id,
                name=key.capitalize(),
                email=f"{key}.{person_id.hex[:12]}@example.com",
                department_id=department_id,
                title=None,
                community_experience_years=3,
                languages=["fr"],
                active=True,
            ),
        )
        return str(person_id)

    def leaves(self, person: Person) -> None:
        """The person leaves the company (as the people service's event says)."""
        assert person.department_id is not None
        self.receive(
            "people.person.deactivated.v1",
            people_events.PersonDeactivatedPayload(
                id=uuid.UUID(person.id),
                department_id=person.department_id,
                deactivated_at=datetime.now(UTC),
            ),
        )

    # Events of other services, applied by this service's own handlers, in one transaction

    def receive(self, event_type: str, payload: BaseModel) -> None:
        handlers = _handlers(self.name)
        if event_type not in handlers:
            return
        handler = handlers[event_type]
        event = ReceivedEvent(
            id=uuid.uuid4(),
            type=event_type,
            subject=None,
            time=datetime.now(UTC),
            request_id=None,
            data=handler.payload.model_validate(payload.model_dump(mode="json")),
        )
        target = self.app.state.projection or self.app.state.database
        with target.transaction() as session:
            handler.apply(session, event)

    def community_created(self, kind: str = "internal", owner: str = "rd") -> str:
        """A community of the communities service, as its events tell this service."""
        community_id = uuid.uuid4()
        self.receive(
            "communities.community.created.v1",
            communities_events.CommunityPayload(
                id=community_id,
                name=f"Community {community_id.hex[:8]}",
                kind=kind,
                purpose="practice",
                owner_department_id=owner,
                description=None,
                topics=["python"],
                archived=False,
            ),
        )
        return str(community_id)

    def manager_appointed(self, community_id: str, person: Person, owner: str = "rd") -> None:
        assert person.department_id is not None
        self.receive(
            "communities.manager.appointed.v1",
            communities_events.ManagerAppointedPayload(
                community_id=uuid.UUID(community_id),
                person_id=uuid.UUID(person.id),
                department_id=person.department_id,
                kind="internal",
                owner_department_id=owner,
                community_experience_years=3,
                appointed_at=datetime.now(UTC),
            ),
        )

    # Requests

    async def call(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        *,
        json: Any = None,
        expected: tuple[int, ...] = (200, 201, 202, 204),
    ) -> Any:
        """A request that must succeed (test set-up): its JSON body, if any."""
        response = await self.client.request(method, path, json=json, headers=headers)
        assert response.status_code in expected, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    # What a refused request must not change

    def dump(self) -> dict[str, list[str]]:
        """Every row of every table, in a stable order."""
        engine = self.app.state.database.engine
        if self._tables is None:
            self._tables = MetaData()
            self._tables.reflect(engine)
        rows: dict[str, list[str]] = {}
        with engine.connect() as connection:
            for table in self._tables.sorted_tables:
                if table.name in UNWATCHED_TABLES:
                    continue
                skipped = BOOKKEEPING.get(table.name, set())
                columns = [column for column in table.columns if column.name not in skipped]
                result = connection.execute(select(*columns))
                rows[table.name] = sorted(repr(tuple(row)) for row in result)
        return rows


def _handlers(service: str) -> dict[str, Any]:
    if service in ("people", "listening"):
        return {}
    return importlib.import_module(f"{service}.handlers").HANDLERS


def settings_for(name: str, databases: Databases, broker: Broker) -> ServiceSettings:
    settings_class, _ = FACTORIES[name]
    overrides: dict[str, Any] = {"consumer_session_timeout_ms": 1_500, "seed_demo": False}
    if name == "listening":
        overrides |= {
            "clock_fixed_at": NOW,
            "feed_poll_seconds": 3_600,
            "spike_check_seconds": 3_600,
            "feed_timeout_seconds": 2,
            "follow_communities": False,
            # Above the default body limit (1 MiB), as a batch of mentions may be.
            "ingest_max_bytes": 1_500_000,
        }
    return service_settings(settings_class, databases, broker, **overrides)


def offline_app(name: str) -> FastAPI:
    """The service's app, not started: enough to read its routes and OpenAPI document."""
    settings_class, create = FACTORIES[name]
    return create(settings_class(database_url="sqlite://", log_json=False))


def write_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route that writes, documented or not, however it is included.

    FastAPI keeps included routers whole in `app.routes` (a plain walk of it finds nothing),
    so the routes are read through `iter_route_contexts`, which resolves the prefixes.
    """
    return {
        (method, context.path_format)
        for context in iter_route_contexts(app.routes)
        for method in (context.methods or set()) & WRITE_METHODS
    }


def documented_operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(method, path) -> operation, for the write operations of an OpenAPI document."""
    return {
        (method.upper(), path): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method.upper() in WRITE_METHODS
    }


@asynccontextmanager
async def started(name: str, databases: Databases) -> AsyncIterator[Service]:
    """The service on a broker of its own, with the callers in its directory."""
    broker = Broker().start()
    try:
        settings = settings_for(name, databases, broker)
        _, create = FACTORIES[name]
        app = create(settings)
        async with running(app) as client:
            service = Service(name, app, client, settings)
            await _furnish(service)
            yield service
    finally:
        broker.stop()


async def _furnish(service: Service) -> None:
    bootstrap = service.token(CCO, EMPLOYEE, department="rd")
    for department_id, name in DEPARTMENTS.items():
        if service.name == "people":
            body = {"id": department_id, "name": name}
            await service.call("POST", "/v1/departments", bootstrap, json=body)
        else:
            payload = people_events.DepartmentPayload(id=department_id, name=name)
            service.receive("people.department.created.v1", payload)
    service.callers[CCO] = Person(CCO, "", "rd", (CCO,), bootstrap)
    for role, department_id in HOME.items():
        roles = (role,) if role != EMPLOYEE else ()
        service.callers[role] = await service.hire(department_id, *roles, key=role)
    if _handlers(service.name):
        left = await service.hire("rd", key="leaver")
        service.leaves(left)
        service.callers[LEFT] = left
    service.callers[ANONYMOUS] = Person(ANONYMOUS, "", None, (), {})
    service.callers[SYSTEM] = Person(
        SYSTEM, SYSTEM_CLIENT, None, (SYSTEM,), service.token(SYSTEM, subject=SYSTEM_CLIENT)
    )
