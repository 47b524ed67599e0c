"""What the strategy service consumes, in one dict: event type -> payload model and projection.

Payload models name only the fields this view reads (a tolerant reader): producers may add
fields without breaking it.
"""

import uuid

from pydantic import BaseModel
from sqlmodel import Session

from shared.consumer import Handler, ReceivedEvent
from strategy.models import DepartmentView, PersonView


class DepartmentCreated(BaseModel):
    id: str
    name: str


class PersonState(BaseModel):
    id: uuid.UUID
    name: str
    department_id: str
    community_experience_years: float = 0
    active: bool = True


class PersonDeactivated(BaseModel):
    id: uuid.UUID
    department_id: str


def on_department_created(session: Session, event: ReceivedEvent[DepartmentCreated]) -> None:
    department = session.get(DepartmentView, event.data.id) or DepartmentView(id=event.data.id)
    department.name = event.data.name
    session.add(department)


def on_person_state(session: Session, event: ReceivedEvent[PersonState]) -> None:
    _known_department(session, event.data.department_id)
    person = session.get(PersonView, event.data.id) or PersonView(
        id=event.data.id, name="", department_id=""
    )
    for field, value in event.data.model_dump().items():
        setattr(person, field, value)
    session.add(person)


def on_person_deactivated(session: Session, event: ReceivedEvent[PersonDeactivated]) -> None:
    person = session.get(PersonView, event.data.id)
    if person is None:
        person = PersonView(id=event.data.id, name="", department_id=event.data.department_id)
    person.active = False
    session.add(person)


def _known_department(session: Session, department_id: str) -> None:
    if session.get(DepartmentView, department_id) is None:
        session.add(DepartmentView(id=department_id))
        session.flush()


HANDLERS: dict[str, Handler] = {
    "people.department.created.v1": Handler(DepartmentCreated, on_department_created),
    "people.person.registered.v1": Handler(PersonState, on_person_state),
    "people.person.updated.v1": Handler(PersonState, on_person_state),
    "people.person.deactivated.v1": Handler(PersonDeactivated, on_person_deactivated),
}
