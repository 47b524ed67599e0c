"""The strategy service's projection tables, and the shapes of its API."""

import uuid
from datetime import datetime

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    """The strategy service's tables, in a metadata of their own."""


class DepartmentView(Base, table=True):
    __tablename__ = "department_view"

    id: str = Field(primary_key=True, max_length=40)
    # Unknown until the department's own event arrives (it may come after its people's).
    name: str | None = Field(default=None, max_length=120)


class PersonView(Base, table=True):
    __tablename__ = "person_view"

    id: uuid.UUID = Field(primary_key=True)
    name: str = Field(max_length=120)
    department_id: str = Field(index=True, max_length=40)
    community_experience_years: float = 0
    active: bool = True


class DepartmentSummary(SQLModel):
    id: str
    name: str
    headcount: int


class Overview(SQLModel):
    as_of: datetime
    departments: list[DepartmentSummary]


class PartitionLagPublic(SQLModel):
    topic: str
    partition: int
    position: int
    end: int
    lag: int


class Lag(SQLModel):
    partitions: list[PartitionLagPublic]
    total: int
    newest_event_at: datetime | None
    newest_event_age_seconds: float | None
