"""The communities service's copy of the people directory, and what a departure does."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from communities import handlers, service
from communities.models import (
    CommunityCreate,
    CommunityManager,
    KnownDepartment,
    KnownPerson,
    Membership,
    MembershipCreate,
)
from shared.auth import Principal, Role
from shared.consumer import ReceivedEvent
from shared.db import Database
from shared.outbox import OutboxMessage

CCO = Principal(subject="cco", roles=frozenset({Role.CCO}))


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


def register(database: Database, name: str, department_id: str, **fields) -> uuid.UUID:
    person_id = uuid.uuid4()
    apply(
        database,
        "people.person.registered.v1",
        id=str(person_id),
        name=name,
        email=f"{name.lower()}@example.com",
        department_id=department_id,
        # Fields this service does not read are ignored (a tolerant reader).
        title="Ingénieure",
        languages=["fr"],
        **fields,
    )
    return person_id


def outbox(database: Database) -> list[dict]:
    with database.sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [{"type": r.event_type, **json.loads(r.value)["data"]} for r in rows]


def test_people_are_known_before_their_department_is(database):
    ines = register(database, "Ines", "rd", community_experience_years=2.5)

    with database.sessions() as session:
        person = session.get(KnownPerson, ines)
        assert (person.name, person.email, person.department_id) == (
            "Ines",
            "ines@example.com",
            "rd",
        )
        assert person.active and person.community_experience_years == 2.5
        assert session.get(KnownDepartment, "rd").name is None

    apply(database, "people.department.created.v1", id="rd", name="R&D")

    with database.sessions() as session:
        assert session.get(KnownDepartment, "rd").name == "R&D"


def test_a_move_is_copied_and_later_events_carry_the_new_department(database):
    ines = register(database, "Ines", "rd")
    apply(
        database,
        "people.person.updated.v1",
        id=str(ines),
        name="Ines",
        email="ines@example.com",
        department_id="after-sales",
        community_experience_years=4,
        active=True,
        changed=["department_id"],
        previous_department_id="rd",
    )

    with database.transaction() as session:
        community = service.create_community(
            session,
            data=CommunityCreate(
                name="Club", kind="external", purpose="support", owner_department_id="rd"
            ),
            actor=CCO,
        )
        service.appoint_manager(session, community_id=community.id, person_id=ines, actor=CCO)

    appointed = outbox(database)[-1]
    assert (appointed["department_id"], appointed["community_experience_years"]) == (
        "after-sales",
        4,
    )


def test_someone_who_leaves_stops_managing_and_belonging_everywhere(database):
    apply(database, "people.department.created.v1", id="rd", name="R&D")
    ines = register(database, "Ines", "rd")
    hugo = register(database, "Hugo", "rd")
    with database.transaction() as session:
        communities = [
            service.create_community(
                session,
                data=CommunityCreate(
                    name=name, kind="external", purpose="support", owner_department_id="rd"
                ),
                actor=CCO,
            )
            for name in ("Club", "Talents")
        ]
        for community in communities:
            service.appoint_manager(session, community_id=community.id, person_id=ines, actor=CCO)
            for person_id in (ines, hugo):
                service.add_member(
                    session,
                    community_id=community.id,
                    data=MembershipCreate(person_id=person_id),
                    actor=CCO,
                )
    before = len(outbox(database))

    apply(database, "people.person.deactivated.v1", id=str(ines), department_id="rd")

    departures = outbox(database)[before:]
    assert sorted((e["type"], e["community_id"], e["reason"]) for e in departures) == sorted(
        (kind, str(community.id), "left_company")
        for community in communities
        for kind in ("communities.manager.removed.v1", "communities.member.left.v1")
    )
    assert {(e["person_id"], e["department_id"]) for e in departures} == {(str(ines), "rd")}
    with database.sessions() as session:
        assert session.get(KnownPerson, ines).active is False
        assert session.scalars(select(CommunityManager)).all() == []
        assert [m.person_id for m in session.scalars(select(Membership))] == [hugo, hugo]


def test_a_departure_of_someone_never_seen_is_remembered(database):
    stranger = uuid.uuid4()

    apply(database, "people.person.deactivated.v1", id=str(stranger), department_id="qa")

    with database.sessions() as session:
        person = session.get(KnownPerson, stranger)
        assert (person.active, person.department_id) == (False, "qa")
    assert outbox(database) == []


def test_a_state_that_says_inactive_is_a_departure_too(database):
    ines = register(database, "Ines", "rd")
    with database.transaction() as session:
        community = service.create_community(
            session,
            data=CommunityCreate(
                name="Python", kind="internal", purpose="practice", owner_department_id="rd"
            ),
            actor=CCO,
        )
        service.add_member(
            session, community_id=community.id, data=MembershipCreate(person_id=ines), actor=CCO
        )

    apply(
        database,
        "people.person.updated.v1",
        id=str(ines),
        name="Ines",
        department_id="rd",
        active=False,
    )

    assert outbox(database)[-1]["type"] == "communities.member.left.v1"
    assert outbox(database)[-1]["reason"] == "left_company"
