"""What the communities service consumes, in one dict: the people service's directory.

Payload models name only the fields this service reads (a tolerant reader): producers may
add fields without breaking it.
"""

import uuid

from pydantic import BaseModel
from sqlmodel import Session

from communities import service
from communities.models import KnownDepartment, KnownPerson
from shared.consumer import Handler, ReceivedEvent


class DepartmentCreated(BaseModel):
    id: str
    name: str


class PersonState(BaseModel):
    id: uuid.UUID
    name: str
    email: str | None = None
    department_id: str
    community_experience_years: float = 0
    active: bool = True


class PersonDeactivated(BaseModel):
    id: uuid.UUID
    department_id: str


def on_department_created(session: Session, event: ReceivedEvent[DepartmentCreated]) -> None:
    department = session.get(KnownDepartment, event.data.id) or KnownDepartment(id=event.data.id)
    department.name = event.data.name
    session.add(department)


def on_person_state(session: Session, event: ReceivedEvent[PersonState]) -> None:
    _know_department(session, event.data.department_id)
    person = session.get(KnownPerson, event.data.id)
    if person is None:
        person = KnownPerson(id=event.data.id, name="", department_id="")
    was_active = person.active
    for field, value in event.data.model_dump().items():
        setattr(person, field, value)
    session.add(person)
    session.flush()
    if was_active and not person.active:
        service.person_left_company(session, person=person)


def on_person_deactivated(session: Session, event: ReceivedEvent[PersonDeactivated]) -> None:
    _know_department(session, event.data.department_id)
    person = session.get(KnownPerson, event.data.id)
    if person is None:
        person = KnownPerson(id=event.data.id, name="", department_id=event.data.department_id)
    person.active = False
    session.add(person)
    session.flush()
    service.person_left_company(session, person=person)


def _know_department(session: Session, department_id: str) -> None:
    """A person's department exists even before its own event arrives (another partition)."""
    if session.get(KnownDepartment, department_id) is None:
        session.add(KnownDepartment(id=department_id))
        session.flush()


HANDLERS: dict[str, Handler] = {
    "people.department.created.v1": Handler(DepartmentCreated, on_department_created),
    "people.person.registered.v1": Handler(PersonState, on_person_state),
    "people.person.updated.v1": Handler(PersonState, on_person_state),
    "people.person.deactivated.v1": Handler(PersonDeactivated, on_person_deactivated),
}
