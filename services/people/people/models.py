"""The people service's tables, and the shapes its API reads and writes."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

import uuid_utils
from pydantic import (
    AfterValidator,
    ConfigDict,
    EmailStr,
    Strict,
    StringConstraints,
    field_validator,
)
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, Relationship, SQLModel


def new_id() -> uuid.UUID:
    """Time-ordered ids: lists page by id in creation order."""
    return uuid.UUID(str(uuid_utils.uuid7()))


class Base(SQLModel, registry=registry()):
    """The people service's tables, in a metadata of their own."""


DepartmentId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Email = Annotated[EmailStr, AfterValidator(str.lower)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
# Skills are compared in lower case: "Python" and "python" are one skill.
SkillName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9+#.\-]{0,49}$"),
    AfterValidator(str.lower),
]
# JSON numbers only (`true` is not 1, "4" is not 4); the CSV import reads text with strict=False.
SkillLevelValue = Annotated[int, Field(ge=1, le=5), Strict()]
ExperienceYears = Annotated[float, Field(ge=0, le=70), Strict()]
GrantableRole = Literal["cco", "community_manager", "conversation_manager", "department_lead"]
Scope = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]

_STRICT = ConfigDict(extra="forbid")


class Department(Base, table=True):
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=120)
    created_at: datetime


class DepartmentCreate(SQLModel):
    model_config = _STRICT
    id: DepartmentId
    name: Name


class DepartmentPublic(SQLModel):
    id: str
    name: str
    created_at: datetime


class Person(Base, table=True):
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=120)
    email: str = Field(max_length=254, unique=True)
    department_id: str = Field(foreign_key="department.id", index=True)
    title: str | None = Field(default=None, max_length=120)
    community_experience_years: float = 0
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    created_at: datetime
    updated_at: datetime
    deactivated_at: datetime | None = None

    skills: list["PersonSkill"] = Relationship(
        sa_relationship_kwargs={"order_by": "PersonSkill.skill", "cascade": "all, delete-orphan"}
    )
    roles: list["RoleGrant"] = Relationship(
        sa_relationship_kwargs={"order_by": "RoleGrant.role", "cascade": "all, delete-orphan"}
    )


class PersonSkill(Base, table=True):
    __tablename__ = "person_skill"

    person_id: uuid.UUID = Field(foreign_key="person.id", primary_key=True)
    skill: str = Field(primary_key=True, max_length=50, index=True)
    level: int
    updated_at: datetime


class RoleGrant(Base, table=True):
    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("person_id", "role", "scope"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=40, index=True)
    # "" rather than NULL for "everywhere", so the unique constraint holds on every database.
    scope: str = Field(default="", max_length=64)
    granted_at: datetime


class PersonCreate(SQLModel):
    model_config = _STRICT
    name: Name
    email: Email
    department_id: DepartmentId
    title: Title | None = None
    community_experience_years: ExperienceYears = 0
    languages: list[Language] = Field(default_factory=list, max_length=10)


class PersonUpdate(SQLModel):
    model_config = _STRICT
    name: Name | None = None
    email: Email | None = None
    department_id: DepartmentId | None = None
    title: Title | None = None
    community_experience_years: ExperienceYears | None = None
    languages: list[Language] | None = Field(default=None, max_length=10)


class SkillLevel(SQLModel):
    skill: str
    level: int


class SkillDeclaration(SQLModel):
    skill: SkillName
    level: SkillLevelValue


class SkillSet(SQLModel):
    model_config = _STRICT
    level: SkillLevelValue


class RoleGrantCreate(SQLModel):
    model_config = _STRICT
    role: GrantableRole
    scope: Scope | None = None


class RoleGrantPublic(SQLModel):
    role: str
    scope: str | None

    @field_validator("scope", mode="before")
    @classmethod
    def _no_scope_is_none(cls, value: str | None) -> str | None:
        return value or None


class PersonPublic(SQLModel):
    id: uuid.UUID
    name: str
    email: str
    department_id: str
    title: str | None
    community_experience_years: float
    languages: list[str]
    active: bool
    skills: list[SkillLevel]
    roles: list[RoleGrantPublic]
    created_at: datetime
    updated_at: datetime
    deactivated_at: datetime | None


class ImportProblem(SQLModel):
    line: int
    error: str


class ImportReport(SQLModel):
    created: int
    updated: int
    errors: list[ImportProblem]
