"""The whole platform for the attack suites, with a small company in it.

The five services and the gateway are served over real HTTP by one event loop in a thread of
its own (as `make run` serves them, each with its lifespan: migrations, outbox relay, consumer),
on a broker of their own (Tansu) and real databases (SQLite, or PostgreSQL with
TEST_DATABASE_URL). Tests talk to them from the main thread, synchronously: schemathesis and
Hypothesis drive them like any other client. The company is made through the public API, and
travels between services as events, as it would in production.
"""

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlmodel import SQLModel

from collaboration import models as collaboration_models
from collaboration.main import create_app as create_collaboration
from collaboration.settings import Settings as CollaborationSettings
from communities import models as communities_models
from communities.main import create_app as create_communities
from communities.settings import Settings as CommunitiesSettings
from gateway.main import create_app as create_gateway
from gateway.settings import Settings as GatewaySettings
from listening import models as listening_models
from listening.main import create_app as create_listening
from listening.settings import Settings as ListeningSettings
from people import models as people_models
from people.main import create_app as create_people
from people.settings import Settings as PeopleSettings
from shared.auth import issue_token
from shared.outbox import OutboxMessage
from strategy.main import create_app as create_strategy
from strategy.settings import Settings as StrategySettings
from tests.support.apps import service_settings, serving
from tests.support.broker import Broker
from tests.support.databases import Databases

T = TypeVar("T")

SERVICES = ("people", "communities", "listening", "collaboration", "strategy")
FACTORIES: dict[str, tuple[type, Callable[[Any], FastAPI]]] = {
    "people": (PeopleSettings, create_people),
    "communities": (CommunitiesSettings, create_communities),
    "listening": (ListeningSettings, create_listening),
    "collaboration": (CollaborationSettings, create_collaboration),
    "strategy": (StrategySettings, create_strategy),
}
# Every table of each service (and its outbox): what a refused request must leave as it was.
TABLES: dict[str, tuple[type[SQLModel], ...]] = {
    "people": (
        people_models.Department,
        people_models.Person,
        people_models.PersonSkill,
        people_models.RoleGrant,
    ),
    "communities": (
        communities_models.Community,
        communities_models.CommunityTopic,
        communities_models.CommunityManager,
        communities_models.Membership,
        communities_models.KnownPerson,
        communities_models.KnownDepartment,
    ),
    "listening": (
        listening_models.Source,
        listening_models.Mention,
        listening_models.RoutingRule,
        listening_models.Community,
        listening_models.Alert,
        listening_models.FaqEntry,
        listening_models.FaqAsk,
    ),
    "collaboration": (
        collaboration_models.Question,
        collaboration_models.QuestionTag,
        collaboration_models.Answer,
        collaboration_models.AnswerVote,
        collaboration_models.Practice,
        collaboration_models.PracticeTag,
        collaboration_models.Adoption,
        collaboration_models.Idea,
        collaboration_models.IdeaTag,
        collaboration_models.IdeaVote,
        collaboration_models.Person,
        collaboration_models.Community,
        collaboration_models.CommunityManager,
    ),
    "strategy": (),
}
GENEROUS = "1000000/minute"
WAIT_SECONDS = 60.0


class BackgroundLoop:
    """An event loop in a daemon thread; coroutines are handed to it from the main thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="platform", daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass
class Person:
    """Someone of the company: their id, department and roles, and a token of theirs."""

    key: str
    id: str
    email: str
    department_id: str
    roles: tuple[str, ...]
    headers: dict[str, str]


@dataclass
class LivePlatform:
    urls: dict[str, str]
    apps: dict[str, FastAPI]
    gateway_settings: GatewaySettings
    people: dict[str, Person] = field(default_factory=dict)
    # Ids of what the company holds, by kind ("person", "community", "question", ...).
    ids: dict[str, list[str]] = field(default_factory=dict)

    @property
    def settings(self) -> GatewaySettings:
        """Every process shares the JWT settings; the gateway's stand for all."""
        return self.gateway_settings

    def client(self, service: str) -> httpx.Client:
        return httpx.Client(base_url=self.urls[service], timeout=30)

    def token(
        self,
        *roles: str,
        subject: str | None = None,
        department: str | None = None,
    ) -> dict[str, str]:
        token = issue_token(
            self.settings,
            subject=subject or str(uuid.uuid4()),
            roles=list(roles),
            department=department,
        )
        return {"Authorization": f"Bearer {token}"}

    @property
    def cco(self) -> dict[str, str]:
        return self.people["cco"].headers

    @property
    def system(self) -> dict[str, str]:
        return self.token("system", subject="hr-sync")

    def snapshot(self, service: str) -> dict[str, int]:
        """Row counts of every table of a service and of its outbox."""
        database = self.apps[service].state.database
        with database.sessions() as session:
            return {
                model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (*TABLES[service], OutboxMessage)
            }

    def count(self, service: str, model: type[SQLModel], *where: Any) -> int:
        database = self.apps[service].state.database
        with database.sessions() as session:
            query = select(func.count()).select_from(model)
            for condition in where:
                query = query.where(condition)
            return session.scalar(query) or 0

    def wait_for(self, check: Callable[[], bool], what: str) -> None:
        """Until `check()` holds: events travel between services in their own time."""
        deadline = time.monotonic() + WAIT_SECONDS
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"never happened: {what}")
            time.sleep(0.05)

    # The company, made through the public API

    def call(
        self,
        service: str,
        method: str,
        path: str,
        headers: dict[str, str],
        json: Any = None,
        expected: int = 201,
    ) -> Any:
        with self.client(service) as client:
            response = client.request(method, path, json=json, headers=headers)
        assert response.status_code == expected, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def hire(
        self,
        key: str,
        department_id: str,
        *roles: str,
        scope: str | None = None,
        wait: bool = True,
    ) -> Person:
        """A new person of the people service, with roles, known everywhere once `wait`."""
        email = f"{key}.{uuid.uuid4().hex[:8]}@example.com"
        body = {"name": key.capitalize(), "email": email, "department_id": department_id}
        person = self.call("people", "POST", "/v1/people", self.cco_or_bootstrap(), json=body)
        for role in roles:
            grant = {"role": role, "scope": scope} if scope else {"role": role}
            self.call(
                "people",
                "POST",
                f"/v1/people/{person['id']}/roles",
                self.cco_or_bootstrap(),
                json=grant,
            )
        all_roles = tuple(sorted({*roles, "employee"}))
        headers = self.token(*all_roles, subject=person["id"], department=department_id)
        hired = Person(key, person["id"], email, department_id, all_roles, headers)
        self.people[key] = hired
        self.ids.setdefault("person", []).append(person["id"])
        if wait:
            self.wait_until_known(hired)
        return hired

    def cco_or_bootstrap(self) -> dict[str, str]:
        if "cco" in self.people:
            return self.cco
        return self.token("cco", subject="00000000-0000-0000-0000-0000000000c0")

    def wait_until_known(self, *people: Person) -> None:
        ids = [uuid.UUID(person.id) for person in people]
        self.wait_for(
            lambda: (
                self.count(
                    "communities",
                    communities_models.KnownPerson,
                    communities_models.KnownPerson.id.in_(ids),
                )
                == len(ids)
                and self.count(
                    "collaboration",
                    collaboration_models.Person,
                    collaboration_models.Person.id.in_(ids),
                )
                == len(ids)
            ),
            "the people reached the communities and collaboration services",
        )

    def community(self, owner: str = "rd", *, kind: str = "internal", manager: Person) -> str:
        """A community run by `manager`, known to the listening and collaboration services."""
        body = {
            "name": f"Community {uuid.uuid4().hex[:8]}",
            "kind": kind,
            "purpose": "practice" if kind == "internal" else "support",
            "owner_department_id": owner,
            "topics": ["python"],
        }
        community = self.call("communities", "POST", "/v1/communities", self.cco, json=body)
        self.call(
            "communities",
            "POST",
            f"/v1/communities/{community['id']}/managers",
            self.cco,
            json={"person_id": manager.id},
        )
        community_id = uuid.UUID(community["id"])
        manager_key = (community_id, uuid.UUID(manager.id))
        self.wait_for(
            lambda: (
                self._has("collaboration", collaboration_models.CommunityManager, manager_key)
                and self._has("collaboration", collaboration_models.Community, community_id)
                and self._has("listening", listening_models.Community, community_id)
            ),
            "the community and its manager reached collaboration and listening",
        )
        self.ids.setdefault("community", []).append(community["id"])
        return community["id"]

    def _has(self, service: str, model: type[SQLModel], key: Any) -> bool:
        with self.apps[service].state.database.sessions() as session:
            return session.get(model, key) is not None

    def member(self, community_id: str, person: Person) -> str:
        membership = self.call(
            "communities",
            "POST",
            f"/v1/communities/{community_id}/members",
            self.cco,
            json={"person_id": person.id},
        )
        self.ids.setdefault("member", []).append(membership["id"])
        return membership["id"]

    def question(self, author: Person, community_id: str | None = None) -> str:
        body: dict[str, Any] = {"title": "Comment réparer ?", "body": "Code E21.", "tags": ["e21"]}
        if community_id:
            body["community_id"] = community_id
        question = self.call("collaboration", "POST", "/v1/questions", author.headers, json=body)
        self.ids.setdefault("question", []).append(question["id"])
        return question["id"]

    def answer(self, author: Person, question_id: str) -> str:
        answer = self.call(
            "collaboration",
            "POST",
            f"/v1/questions/{question_id}/answers",
            author.headers,
            json={"body": "Changer le joint."},
        )
        self.ids.setdefault("answer", []).append(answer["id"])
        return answer["id"]

    def practice(self, author: Person) -> str:
        body = {"title": "Diagnostic à distance", "body": "Un appel vidéo d'abord."}
        practice = self.call("collaboration", "POST", "/v1/practices", author.headers, json=body)
        self.ids.setdefault("practice", []).append(practice["id"])
        return practice["id"]

    def idea(self, author: Person, community_id: str | None = None) -> str:
        body: dict[str, Any] = {"title": "Programme de reprise", "body": "Reprendre les anciens."}
        if community_id:
            body["community_id"] = community_id
        idea = self.call("collaboration", "POST", "/v1/ideas", author.headers, json=body)
        self.ids.setdefault("idea", []).append(idea["id"])
        return idea["id"]

    def source(self, community_id: str | None = None) -> str:
        body: dict[str, Any] = {"name": f"Source {uuid.uuid4().hex[:8]}", "kind": "webhook"}
        if community_id:
            body["community_id"] = community_id
        source = self.call("listening", "POST", "/v1/sources", self.cco, json=body)
        self.ids.setdefault("source", []).append(source["id"])
        return source["id"]

    def mention(self, source_id: str) -> str:
        body = {
            "source_id": source_id,
            "external_id": uuid.uuid4().hex,
            "channel": "twitter",
            "text": "Mon lave-linge est en panne depuis une semaine, service client absent.",
            "published_at": "2026-03-02T10:00:00Z",
        }
        mention = self.call("listening", "POST", "/v1/mentions", self.system, json=body)
        self.ids.setdefault("mention", []).append(mention["id"])
        return mention["id"]

    def faq_entry(self) -> str:
        body = {
            "question": "Comment activer la garantie ?",
            "answer": "Avec la facture, sur le site.",
            "lang": "fr",
            "department_id": "after-sales",
            "tags": ["garantie"],
        }
        entry = self.call("listening", "POST", "/v1/faq", self.cco, json=body)
        self.ids.setdefault("faq_entry", []).append(entry["id"])
        return entry["id"]

    def ask(self) -> str:
        result = self.call(
            "listening",
            "POST",
            "/v1/faq/ask",
            {},
            json={"question": "Comment activer la garantie de mon lave-linge ?"},
            expected=200,
        )
        self.ids.setdefault("ask", []).append(result["ask_id"])
        return result["ask_id"]

    def program(self) -> str:
        body = {
            "name": "Ouvrir les silos",
            "objective": "Plus d'entraide entre R&D et SAV.",
            "owner_id": self.people["cco"].id,
            "kpis": [{"metric": "cross_silo_ratio", "target": 0.5, "deadline": "2027-01-01"}],
        }
        program = self.call("strategy", "POST", "/v1/programs", self.cco, json=body)
        self.ids.setdefault("program", []).append(program["id"])
        return program["id"]


DEPARTMENTS = {
    "rd": "R&D",
    "after-sales": "Service après-vente",
    "marketing": "Marketing",
    "communication": "Communication",
}


def seed(platform: LivePlatform) -> None:
    """A small company: departments, people of every role, and something of each kind."""
    bootstrap = platform.cco_or_bootstrap()
    for department_id, name in DEPARTMENTS.items():
        platform.call(
            "people", "POST", "/v1/departments", bootstrap, json={"id": department_id, "name": name}
        )
        platform.ids.setdefault("department", []).append(department_id)
    platform.hire("cco", "rd", "cco", wait=False)
    everyone = [
        platform.people["cco"],
        platform.hire("alice", "rd", wait=False),
        platform.hire("bob", "after-sales", wait=False),
        platform.hire("carol", "marketing", "community_manager", wait=False),
        platform.hire("dave", "communication", "conversation_manager", wait=False),
        platform.hire("erin", "rd", "department_lead", scope="rd", wait=False),
    ]
    platform.wait_until_known(*everyone)
    people = platform.people
    community_id = platform.community("rd", manager=people["carol"])
    platform.community("marketing", kind="external", manager=people["carol"])
    platform.member(community_id, people["alice"])
    question_id = platform.question(people["alice"], community_id)
    platform.answer(people["bob"], question_id)
    platform.practice(people["bob"])
    platform.idea(people["alice"], community_id)
    source_id = platform.source()
    platform.mention(source_id)
    platform.faq_entry()
    platform.ask()
    platform.program()


@contextmanager
def live_platform(folder: str, *, seeded: bool = True, **gateway: Any) -> Iterator[LivePlatform]:
    """Starts everything, seeds the company, and stops everything at the end."""
    broker = Broker().start()
    databases = Databases(folder)
    background = BackgroundLoop()
    stack = AsyncExitStack()
    try:
        apps = {
            name: create(service_settings(settings_class, databases, broker, seed_demo=False))
            for name, (settings_class, create) in FACTORIES.items()
        }

        async def start() -> dict[str, str]:
            urls = {}
            for name, app in apps.items():
                urls[name] = await stack.enter_async_context(serving(app))
            return urls

        urls = background.run(start())
        settings = GatewaySettings(
            log_json=False,
            rate_limit_per_ip=GENEROUS,
            rate_limit_per_client=GENEROUS,
            rate_limit_sign_in=GENEROUS,
            rate_limit_faq_ask=GENEROUS,
            web_dir=f"{folder}/no-dashboard",
            **{f"{name}_url": url for name, url in urls.items()},
            **gateway,
        )
        gateway_app = create_gateway(settings)
        urls["gateway"] = background.run(stack.enter_async_context(serving(gateway_app)))
        apps["gateway"] = gateway_app
        platform = LivePlatform(urls, apps, settings)
        if seeded:
            seed(platform)
        yield platform
    finally:
        background.run(stack.aclose())
        background.close()
        broker.stop()
        databases.drop_all()
