"""The demo communities: seeded once the demo people are known, with staffing risks to show."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from communities import handlers, seed
from communities.models import Community, CommunityManager, KnownPerson, Membership
from people import seed as people_seed
from shared.consumer import ReceivedEvent
from shared.db import Database
from shared.outbox import OutboxMessage


@pytest.fixture
def database(databases) -> Database:
    database = Database(databases.url("communities"))
    database.migrate("communities:migrations")
    yield database
    database.dispose()


def apply(database: Database, event_type: str, **payload) -> None:
    handler = handlers.HANDLERS[event_type]
    event = ReceivedEvent(
        id=uuid.uuid4(),
        type=event_type,
        subject=None,
        time=datetime.now(UTC),
        request_id=None,
        data=handler.payload.model_validate(payload),
    )
    with database.transaction() as session:
        handler.apply(session, event)


def the_demo_company_arrives(database: Database, *, but: str | None = None) -> None:
    """The people service's demo directory, as its events would bring it."""
    for department_id, name in people_seed.DEPARTMENTS:
        apply(database, "people.department.created.v1", id=department_id, name=name)
    for name, email, department_id, _title, years, *_ in people_seed.PEOPLE:
        if email != but:
            apply(
                database,
                "people.person.registered.v1",
                id=str(uuid.uuid4()),
                name=name,
                email=email,
                department_id=department_id,
                community_experience_years=years,
            )


def seed_once(database: Database) -> bool:
    with database.transaction() as session:
        return seed.seed_demo(session)


def count(database: Database, model) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_nothing_is_seeded_until_the_demo_people_are_known(database):
    assert seed_once(database) is False

    the_demo_company_arrives(database, but="karim.haddad@example.com")
    assert seed_once(database) is False
    assert count(database, Community) == count(database, OutboxMessage) == 0


def test_the_demo_tells_its_story_once(database):
    the_demo_company_arrives(database)

    assert seed_once(database) is True
    events = count(database, OutboxMessage)
    assert seed_once(database) is True
    assert count(database, OutboxMessage) == events

    with database.sessions() as session:
        communities = {c.name: c for c in session.scalars(select(Community))}
        people = {p.id: p for p in session.scalars(select(KnownPerson))}
        managers = {
            name: [people[m.person_id] for m in community.managers]
            for name, community in communities.items()
        }
        members = {
            name: session.scalars(
                select(Membership).where(Membership.community_id == community.id)
            ).all()
            for name, community in communities.items()
        }
    assert len(communities) == 8
    assert {"Python & data", "Qualité & réparabilité", "Club Utilisateurs", "Idées Clients"} <= set(
        communities
    )
    assert communities["Club Utilisateurs"].owner_department_id == "after-sales"
    assert communities["Idées Clients"].owner_department_id == "marketing"
    assert communities["Talents"].owner_department_id == "hr"
    assert {p.department_id for m in members["Python & data"] if (p := m.person)} >= {"rd", "it"}
    assert {p.department_id for m in members["Qualité & réparabilité"] if (p := m.person)} >= {
        "rd",
        "after-sales",
    }
    unmanaged = [name for name, staff in managers.items() if not staff]
    assert len(unmanaged) == 1
    junior_only = [
        name
        for name, staff in managers.items()
        if staff
        and communities[name].kind == "external"
        and all(p.community_experience_years < 3 for p in staff)
    ]
    assert junior_only == ["Talents"]
    assert [p.email for p in managers["Talents"]] == ["karim.haddad@example.com"]
    for name, community in communities.items():
        handles = [m.external_handle for m in members[name] if m.external_handle]
        assert bool(handles) == (community.kind == "external"), name
        departments = {m.person.department_id for m in members[name] if m.person}
        assert len(departments) >= 2, name
    assert {c.kind for c in communities.values()} == {"internal", "external"}
    assert count(database, CommunityManager) == sum(len(staff) for staff in managers.values())
