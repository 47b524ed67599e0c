"""The events the people service publishes on `people.events`, keyed by department or person id."""

import uuid
from datetime import datetime

from pydantic import BaseModel

from shared.events import EventRegistry

REGISTRY = EventRegistry("people")


class DepartmentPayload(BaseModel):
    id: str
    name: str


class PersonPayload(BaseModel):
    """The whole public state of a person: consumers keep their copy without calling back."""

    id: uuid.UUID
    name: str
    email: str
    department_id: str
    title: str | None
    community_experience_years: float
    languages: list[str]
    active: bool


class PersonUpdatedPayload(PersonPayload):
    changed: list[str]
    previous_department_id: str


class PersonDeactivatedPayload(BaseModel):
    id: uuid.UUID
    department_id: str
    deactivated_at: datetime


class SkillPayload(BaseModel):
    person_id: uuid.UUID
    department_id: str
    skill: str
    level: int


class SkillRemovedPayload(BaseModel):
    person_id: uuid.UUID
    department_id: str
    skill: str


class RolePayload(BaseModel):
    person_id: uuid.UUID
    role: str
    scope: str | None


DEPARTMENT_CREATED = REGISTRY.register(
    "people.department.created.v1", DepartmentPayload, "A department (a silo) was created."
)
PERSON_REGISTERED = REGISTRY.register(
    "people.person.registered.v1", PersonPayload, "A person joined the company's directory."
)
PERSON_UPDATED = REGISTRY.register(
    "people.person.updated.v1",
    PersonUpdatedPayload,
    "A person's details changed (the department included); carries the new state.",
)
PERSON_DEACTIVATED = REGISTRY.register(
    "people.person.deactivated.v1", PersonDeactivatedPayload, "A person left the company."
)
SKILL_DECLARED = REGISTRY.register(
    "people.person.skill_declared.v1",
    SkillPayload,
    "A person declared a skill, or changed its level.",
)
SKILL_REMOVED = REGISTRY.register(
    "people.person.skill_removed.v1", SkillRemovedPayload, "A person no longer declares a skill."
)
ROLE_GRANTED = REGISTRY.register(
    "people.person.role_granted.v1", RolePayload, "A person was given a role, with its scope."
)
ROLE_REVOKED = REGISTRY.register(
    "people.person.role_revoked.v1", RolePayload, "A person lost a role."
)
