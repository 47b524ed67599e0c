"""The communities service's tables, and the shapes its API reads and writes."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

import uuid_utils
from pydantic import AfterValidator, ConfigDict, StringConstraints, conlist, model_validator
from sqlalchemy import Index, UniqueConstraint, text
from sqlalchemy.orm import registry
from sqlmodel import Field, Relationship, SQLModel


def new_id() -> uuid.UUID:
    """Time-ordered ids: lists page by id in creation order."""
    return uuid.UUID(str(uuid_utils.uuid7()))


class Base(SQLModel, registry=registry()):
    """The communities service's tables, in a metadata of their own."""


Kind = Literal["internal", "external"]
Purpose = Literal[
    "practice", "innovation", "support", "reputation", "recruitment", "brand", "other"
]
DEPARTMENT_ID = r"^[a-z0-9][a-z0-9-]{0,39}$"
TOPIC = r"^[A-Za-z0-9][A-Za-z0-9+#.\-]{0,49}$"
# Control characters are refused: PostgreSQL cannot store NUL, and none belongs in a name.
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
DepartmentId = Annotated[str, StringConstraints(pattern=DEPARTMENT_ID)]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=ONE_LINE),
]
Description = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=2000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
    ),
]


def _sorted_once(values: list[str]) -> list[str]:
    return sorted(set(values))


# Topics are written like the people service's skills, so that a topic and a skill can meet.
Topic = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=TOPIC),
    AfterValidator(str.lower),
]
Topics = Annotated[conlist(Topic, max_length=20), AfterValidator(_sorted_once)]
# A handle on an outside platform (`@marie`, `linkedin:camille-dev`); handles ignore case.
ExternalHandle = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[^\s\x00-\x1f\x7f]{1,100}$"),
    AfterValidator(str.lower),
]

_STRICT = ConfigDict(extra="forbid")


# Local copies of the people service's directory, kept from its events.


class KnownDepartment(Base, table=True):
    __tablename__ = "known_department"

    id: str = Field(primary_key=True, max_length=40)
    # Unknown until the department's own event arrives (it may come after its people's).
    name: str | None = Field(default=None, max_length=120)


class KnownPerson(Base, table=True):
    __tablename__ = "known_person"

    id: uuid.UUID = Field(primary_key=True)
    name: str = Field(max_length=120)
    # None only for someone known from their departure alone.
    email: str | None = Field(default=None, max_length=254, index=True)
    department_id: str = Field(max_length=40, index=True)
    active: bool = True
    community_experience_years: float = 0


# The registry


class Community(Base, table=True):
    # Two open communities may not share a name; an archived one leaves its name free.
    __table_args__ = (
        Index(
            "ix_community_open_name",
            "name",
            unique=True,
            sqlite_where=text("NOT archived"),
            postgresql_where=text("NOT archived"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=20, index=True)
    purpose: str = Field(max_length=20, index=True)
    owner_department_id: str = Field(max_length=40, index=True)
    description: str | None = Field(default=None, max_length=2000)
    archived: bool = False
    created_by: str = Field(max_length=128)
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None

    topic_rows: list["CommunityTopic"] = Relationship(
        sa_relationship_kwargs={
            "order_by": "CommunityTopic.topic",
            "cascade": "all, delete-orphan",
            "lazy": "selectin",
        }
    )
    managers: list["CommunityManager"] = Relationship(
        sa_relationship_kwargs={"order_by": "CommunityManager.person_id", "lazy": "selectin"}
    )

    @property
    def topics(self) -> list[str]:
        return [row.topic for row in self.topic_rows]


class CommunityTopic(Base, table=True):
    __tablename__ = "community_topic"

    community_id: uuid.UUID = Field(foreign_key="community.id", primary_key=True)
    topic: str = Field(primary_key=True, max_length=50, index=True)


class CommunityManager(Base, table=True):
    __tablename__ = "community_manager"

    community_id: uuid.UUID = Field(foreign_key="community.id", primary_key=True)
    person_id: uuid.UUID = Field(foreign_key="known_person.id", primary_key=True, index=True)
    appointed_by: str = Field(max_length=128)
    appointed_at: datetime

    person: KnownPerson = Relationship(sa_relationship_kwargs={"lazy": "joined"})


class Membership(Base, table=True):
    """A person of the company, or someone from outside known by a handle, in one community."""

    __table_args__ = (
        UniqueConstraint("community_id", "person_id"),
        UniqueConstraint("community_id", "external_handle"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    community_id: uuid.UUID = Field(foreign_key="community.id", index=True)
    person_id: uuid.UUID | None = Field(default=None, foreign_key="known_person.id", index=True)
    external_handle: str | None = Field(default=None, max_length=100)
    added_by: str = Field(max_length=128)
    joined_at: datetime

    person: KnownPerson | None = Relationship(sa_relationship_kwargs={"lazy": "joined"})


# What the API reads and writes


class CommunityCreate(SQLModel):
    model_config = _STRICT
    name: Name
    kind: Kind
    purpose: Purpose
    owner_department_id: DepartmentId
    description: Description | None = None
    topics: Topics = Field(default_factory=list)


class CommunityUpdate(SQLModel):
    model_config = _STRICT
    name: Name | None = None
    kind: Kind | None = None
    purpose: Purpose | None = None
    owner_department_id: DepartmentId | None = None
    description: Description | None = None
    topics: Topics | None = None


class CommunityPublic(SQLModel):
    id: uuid.UUID
    name: str
    kind: str
    purpose: str
    owner_department_id: str
    description: str | None
    topics: list[str]
    archived: bool
    manager_ids: list[uuid.UUID]
    created_by: str
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


class ManagerAppointment(SQLModel):
    model_config = _STRICT
    person_id: uuid.UUID


class ManagerPublic(SQLModel):
    community_id: uuid.UUID
    person_id: uuid.UUID
    name: str
    department_id: str
    community_experience_years: float
    appointed_at: datetime


class MembershipCreate(SQLModel):
    """Either a person of the company or an outside handle, never both."""

    model_config = _STRICT
    person_id: uuid.UUID | None = None
    external_handle: ExternalHandle | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "MembershipCreate":
        if (self.person_id is None) == (self.external_handle is None):
            raise ValueError("give exactly one of person_id and external_handle")
        return self


class MemberPublic(SQLModel):
    id: uuid.UUID
    community_id: uuid.UUID
    person_id: uuid.UUID | None
    external_handle: str | None
    # The person's name and department today; None for outside handles.
    name: str | None
    department_id: str | None
    joined_at: datetime
