"""What the collaboration service consumes, in one dict: event type -> payload model and function.

Payload models name only the fields this service reads (a tolerant reader): producers may add
fields without breaking it. Events of one aggregate arrive in order, but not across
aggregates: a community's manager may be known before the community itself.
"""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import Session

from collaboration import service
from collaboration.models import Community, CommunityManager, Department, Person
from shared.consumer import Handler, ReceivedEvent


class DepartmentCreated(BaseModel):
    id: str
    name: str


class PersonState(BaseModel):
    id: uuid.UUID
    name: str
    email: str | None = None
    department_id: str
    active: bool = True


class PersonDeactivated(BaseModel):
    id: uuid.UUID
    department_id: str


class CommunityState(BaseModel):
    id: uuid.UUID
    name: str
    kind: str | None = None
    owner_department_id: str | None = None
    archived: bool = False


class CommunityArchived(BaseModel):
    id: uuid.UUID


class ManagerChange(BaseModel):
    community_id: uuid.UUID
    person_id: uuid.UUID


class FaqUnanswered(BaseModel):
    ask_id: str = Field(min_length=1, max_length=100)
    question: str = Field(min_length=1)
    lang: str | None = None
    department_id: str | None = None
    asked_at: datetime


def on_department_created(session: Session, event: ReceivedEvent[DepartmentCreated]) -> None:
    department = session.get(Department, event.data.id) or Department(id=event.data.id)
    department.name = event.data.name[:120]
    session.add(department)


def on_person_state(session: Session, event: ReceivedEvent[PersonState]) -> None:
    _known_department(session, event.data.department_id)
    person = session.get(Person, event.data.id) or Person(
        id=event.data.id, name="", department_id=""
    )
    person.name = event.data.name[:120]
    person.email = event.data.email.lower() if event.data.email else None
    person.department_id = event.data.department_id
    person.active = event.data.active
    session.add(person)


def on_person_deactivated(session: Session, event: ReceivedEvent[PersonDeactivated]) -> None:
    person = session.get(Person, event.data.id) or Person(
        id=event.data.id, name="", department_id=event.data.department_id
    )
    person.active = False
    session.add(person)


def on_community_state(session: Session, event: ReceivedEvent[CommunityState]) -> None:
    community = session.get(Community, event.data.id) or Community(id=event.data.id, name="")
    community.name = event.data.name[:200]
    community.kind = event.data.kind
    community.owner_department_id = event.data.owner_department_id
    community.archived = event.data.archived
    session.add(community)


def on_community_archived(session: Session, event: ReceivedEvent[CommunityArchived]) -> None:
    community = session.get(Community, event.data.id)
    if community is not None:
        community.archived = True
        session.add(community)


def on_manager_appointed(session: Session, event: ReceivedEvent[ManagerChange]) -> None:
    key = (event.data.community_id, event.data.person_id)
    if session.get(CommunityManager, key) is None:
        session.add(CommunityManager(community_id=key[0], person_id=key[1]))


def on_manager_removed(session: Session, event: ReceivedEvent[ManagerChange]) -> None:
    manager = session.get(CommunityManager, (event.data.community_id, event.data.person_id))
    if manager is not None:
        session.delete(manager)


def on_faq_unanswered(session: Session, event: ReceivedEvent[FaqUnanswered]) -> None:
    service.question_from_faq(
        session,
        ask_id=event.data.ask_id,
        text=event.data.question,
        department_id=event.data.department_id,
        asked_at=event.data.asked_at,
    )


def _known_department(session: Session, department_id: str) -> None:
    if session.get(Department, department_id) is None:
        session.add(Department(id=department_id))
        session.flush()


HANDLERS: dict[str, Handler] = {
    "people.department.created.v1": Handler(DepartmentCreated, on_department_created),
    "people.person.registered.v1": Handler(PersonState, on_person_state),
    "people.person.updated.v1": Handler(PersonState, on_person_state),
    "people.person.deactivated.v1": Handler(PersonDeactivated, on_person_deactivated),
    "communities.community.created.v1": Handler(CommunityState, on_community_state),
    "communities.community.updated.v1": Handler(CommunityState, on_community_state),
    "communities.community.archived.v1": Handler(CommunityArchived, on_community_archived),
    "communities.manager.appointed.v1": Handler(ManagerChange, on_manager_appointed),
    "communities.manager.removed.v1": Handler(ManagerChange, on_manager_removed),
    "listening.faq.unanswered.v1": Handler(FaqUnanswered, on_faq_unanswered),
}
