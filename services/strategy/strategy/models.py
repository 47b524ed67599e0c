"""The strategy service's tables: its own (programs, rebuilds) and the projection's, and the
shapes of its API."""

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import uuid_utils
from pydantic import ConfigDict, Strict, StringConstraints
from sqlalchemy import JSON, Column
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


def new_id() -> uuid.UUID:
    return uuid.UUID(str(uuid_utils.uuid7()))


class Base(SQLModel, registry=registry()):
    """The strategy service's own tables (programs, rebuild jobs): never rebuilt."""


class ViewBase(SQLModel, registry=registry()):
    """The projection's tables, built from events only: a rebuild replays them from scratch."""


# The service's own data


class Program(Base, table=True):
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=200)
    objective: str = Field(max_length=2000)
    owner_id: uuid.UUID
    budget: float | None = None
    created_by: str = Field(max_length=64)
    created_at: datetime


class ProgramKpi(Base, table=True):
    __tablename__ = "program_kpi"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id", index=True)
    metric: str = Field(max_length=200)
    target: float
    deadline: date
    # The metric's value when the KPI was set: progress runs from it to the target.
    baseline: float


class RebuildJob(Base, table=True):
    __tablename__ = "rebuild_job"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    status: str = Field(max_length=20)
    progress: float = 0.0
    error: str | None = Field(default=None, max_length=2000)
    requested_by: str = Field(max_length=64)
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None


class ProjectionSlot(Base, table=True):
    """Which slot of the projection serves (see shared.projection)."""

    __tablename__ = "projection_slot"

    id: int = Field(default=1, primary_key=True)
    slot: str = Field(max_length=1)
    swapped_at: datetime


# The projection


class DepartmentView(ViewBase, table=True):
    __tablename__ = "department_view"

    id: str = Field(primary_key=True, max_length=40)
    # Unknown until the department's own event arrives (it may come after its people's).
    name: str | None = Field(default=None, max_length=120)


class PersonView(ViewBase, table=True):
    __tablename__ = "person_view"

    id: uuid.UUID = Field(primary_key=True)
    name: str = Field(max_length=120)
    department_id: str = Field(index=True, max_length=40)
    community_experience_years: float = 0
    active: bool = True
    # An audit of the person's events the view applied: how many, and a digest chaining their
    # ids in the order applied (`handlers.history_digest`). Whoever holds the person's history
    # (the people service's outbox) can check each event was applied once, in order.
    applied_events: int = 0
    applied_digest: str = Field(default="", max_length=64)


class SkillView(ViewBase, table=True):
    __tablename__ = "skill_view"

    person_id: uuid.UUID = Field(primary_key=True)
    skill: str = Field(primary_key=True, max_length=50, index=True)
    level: int


class CommunityView(ViewBase, table=True):
    __tablename__ = "community_view"

    id: uuid.UUID = Field(primary_key=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    purpose: str = Field(max_length=20)
    owner_department_id: str = Field(max_length=40, index=True)
    archived: bool = False
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ManagerView(ViewBase, table=True):
    __tablename__ = "manager_view"

    community_id: uuid.UUID = Field(primary_key=True)
    person_id: uuid.UUID = Field(primary_key=True)
    department_id: str | None = Field(default=None, max_length=40)


class ManagerDeparture(ViewBase, table=True):
    """A manager removed because they left the company: a staffing risk for a while."""

    __tablename__ = "manager_departure"

    community_id: uuid.UUID = Field(primary_key=True)
    person_id: uuid.UUID = Field(primary_key=True)
    left_at: datetime


class MemberView(ViewBase, table=True):
    __tablename__ = "member_view"

    community_id: uuid.UUID = Field(primary_key=True)
    member_id: uuid.UUID = Field(primary_key=True)
    person_id: uuid.UUID | None = Field(default=None, index=True)
    department_id: str | None = Field(default=None, max_length=40)
    external_handle: str | None = Field(default=None, max_length=200)
    joined_at: datetime


class CommunityActivity(ViewBase, table=True):
    """When a person last did something in a community (asked, answered, proposed, joined)."""

    __tablename__ = "community_activity"

    community_id: uuid.UUID = Field(primary_key=True)
    person_id: uuid.UUID = Field(primary_key=True)
    last_active_at: datetime


class Interaction(ViewBase, table=True):
    """One department helping another: the matrix is counted from these."""

    __tablename__ = "interaction"

    event_id: uuid.UUID = Field(primary_key=True)
    kind: str = Field(max_length=20)
    occurred_at: datetime = Field(index=True)
    helper_department_id: str = Field(max_length=40)
    helped_department_id: str = Field(max_length=40)


class QuestionView(ViewBase, table=True):
    __tablename__ = "question_view"

    id: uuid.UUID = Field(primary_key=True)
    title: str = Field(default="", max_length=300)
    community_id: uuid.UUID | None = Field(default=None, index=True)
    author_id: uuid.UUID | None = None
    author_department_id: str | None = Field(default=None, max_length=40)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    asked_at: datetime
    first_answer_at: datetime | None = None
    answers: int = 0
    escalated_at: datetime | None = None


class Evidence(ViewBase, table=True):
    """Demonstrated expertise of a person on a topic: an answer, an accepted answer, a practice
    adopted by another department."""

    __tablename__ = "evidence"

    source_id: uuid.UUID = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=20)
    topic: str = Field(primary_key=True, max_length=50, index=True)
    person_id: uuid.UUID = Field(index=True)
    helped_department_id: str | None = Field(default=None, max_length=40)
    occurred_at: datetime


class PracticeView(ViewBase, table=True):
    __tablename__ = "practice_view"

    id: uuid.UUID = Field(primary_key=True)
    department_id: str = Field(max_length=40)
    author_id: uuid.UUID
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class MentionView(ViewBase, table=True):
    __tablename__ = "mention_view"

    id: uuid.UUID = Field(primary_key=True)
    published_at: datetime = Field(index=True)
    department_id: str | None = Field(default=None, max_length=40)
    community_id: uuid.UUID | None = Field(default=None, index=True)
    score: float
    label: str = Field(max_length=10)


class MentionCorrection(ViewBase, table=True):
    """A person's label for a mention. Kept apart from the mention: the correction (keyed by
    the mention) and the mention (keyed by its source) travel on different partitions."""

    __tablename__ = "mention_correction"

    id: uuid.UUID = Field(primary_key=True)
    label: str = Field(max_length=10)


class AlertView(ViewBase, table=True):
    __tablename__ = "alert_view"

    id: uuid.UUID = Field(primary_key=True)
    department_id: str | None = Field(default=None, max_length=40)
    raised_at: datetime
    acknowledged_at: datetime | None = None


class FaqAskView(ViewBase, table=True):
    __tablename__ = "faq_ask_view"

    ask_id: uuid.UUID = Field(primary_key=True)
    answered: bool
    department_id: str | None = Field(default=None, max_length=40)
    asked_at: datetime = Field(index=True)
    helpful: bool | None = None


# The API's shapes

_STRICT = ConfigDict(extra="forbid")
Metric = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class KpiCreate(SQLModel):
    model_config = _STRICT
    metric: Metric
    # JSON numbers only: `true` is not 1.
    target: Annotated[float, Strict()]
    deadline: date


class ProgramCreate(SQLModel):
    model_config = _STRICT
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    objective: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
    ]
    owner_id: uuid.UUID
    budget: Annotated[float, Field(ge=0), Strict()] | None = None
    kpis: list[KpiCreate] = Field(min_length=1, max_length=20)


class KpiPublic(SQLModel):
    metric: str
    target: float
    deadline: date
    baseline: float
    current: float | None
    progress: float


class ProgramPublic(SQLModel):
    id: uuid.UUID
    name: str
    objective: str
    owner_id: uuid.UUID
    budget: float | None
    created_at: datetime
    kpis: list[KpiPublic]


class DepartmentSummary(SQLModel):
    id: str
    name: str
    headcount: int
    cross_silo_ratio: float | None
    interactions_in: int
    interactions_out: int


class Matrix(SQLModel):
    departments: list[str]
    # cells[i][j]: help that department j gave department i.
    cells: list[list[int]]
    window: dict[str, datetime]


class CommunityHealth(SQLModel):
    community_id: uuid.UUID
    name: str
    kind: str
    owner_department_id: str
    members: int
    active_members_30d: int
    cross_department_member_share: float | None
    questions: int
    answer_rate: float | None
    median_time_to_first_answer_hours: float | None
    mentions_30d: int | None
    sentiment_avg_30d: float | None
    score: float


class StaffingRisk(SQLModel):
    kind: Literal["no_manager", "junior_managers", "manager_left"]
    community_id: uuid.UUID
    community_name: str
    owner_department_id: str
    detail: str
    managers: list[dict]


class ReputationDay(SQLModel):
    day: date
    mentions: int
    sentiment_avg: float | None
    net_sentiment: float | None


class Reputation(SQLModel):
    days: list[ReputationDay]
    mentions_7d: int
    sentiment_avg_7d: float | None
    net_sentiment_7d: float | None
    open_alerts: dict[str, int]


class FaqFigures(SQLModel):
    asked: int
    deflected: int
    deflection_rate: float | None


class TrendPoint(SQLModel):
    week_start: date
    cross_silo_ratio: float | None
    interactions: int


class Overview(SQLModel):
    as_of: datetime
    window: dict[str, datetime]
    cross_silo_ratio: float | None
    departments: list[DepartmentSummary]
    matrix: Matrix
    trend: list[TrendPoint]
    communities: list[CommunityHealth]
    reputation: Reputation
    faq: FaqFigures
    staffing_risks: list[StaffingRisk]
    programs: list[ProgramPublic]


class ExpertReasons(SQLModel):
    declared_level: int | None
    answers: int
    accepted_answers: int
    practices_adopted: int
    departments_helped: list[str]
    demonstrated: float


class Expert(SQLModel):
    person_id: uuid.UUID
    name: str
    department_id: str
    score: float
    reasons: ExpertReasons


class Experts(SQLModel):
    topic: str
    items: list[Expert]


class Escalation(SQLModel):
    question_id: uuid.UUID
    title: str
    tags: list[str]
    author_department_id: str | None
    asked_at: datetime
    escalated_at: datetime
    suggested_experts: list[Expert]


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


class RebuildPublic(SQLModel):
    id: uuid.UUID
    status: str
    progress: float
    error: str | None
    started_at: datetime
    finished_at: datetime | None
