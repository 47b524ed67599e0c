"""The collaboration service's tables, its local copies of others' data, and its API's shapes."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

import uuid_utils
from pydantic import AfterValidator, BeforeValidator, ConfigDict, StringConstraints
from sqlalchemy import Column, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, Relationship, SQLModel


def new_id(at: datetime | None = None) -> uuid.UUID:
    """Time-ordered ids: lists page by id in creation order (backdated demo data included)."""
    if at is None:
        return uuid.UUID(str(uuid_utils.uuid7()))
    return uuid.UUID(str(uuid_utils.uuid7(nanoseconds=int(at.timestamp() * 1_000_000_000))))


class Base(SQLModel, registry=registry()):
    """The collaboration service's tables, in a metadata of their own."""


def _unique(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


def _integer(value: object) -> object:
    """JSON `true` and "1" are not the number 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be the number 1 or -1")
    return value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


# Tags are lower-case slugs; "Python " is taken as "python", "lave linge" is refused.
Tag = Annotated[
    str,
    StringConstraints(max_length=40, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$"),
    BeforeValidator(_lower),
]
Tags = Annotated[list[Tag], Field(max_length=10), AfterValidator(_unique)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_000)]
DepartmentId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
QuestionSource = Literal["internal", "customer-faq"]
QuestionStatus = Literal["open", "answered"]
IdeaStatus = Literal["submitted", "reviewing", "accepted", "implemented", "rejected"]

# What each idea status may become; any other change is refused.
IDEA_TRANSITIONS: dict[str, set[str]] = {
    "submitted": {"reviewing"},
    "reviewing": {"accepted", "rejected"},
    "accepted": {"implemented"},
    "implemented": set(),
    "rejected": set(),
}

_STRICT = ConfigDict(extra="forbid")


# Local copies of what other services publish (people.events, communities.events)


class Department(Base, table=True):
    """A department as the people service announced it (or as its people named it)."""

    id: str = Field(primary_key=True, max_length=40)
    name: str | None = Field(default=None, max_length=120)


class Person(Base, table=True):
    """A person of the directory: where their department is read when they write."""

    id: uuid.UUID = Field(primary_key=True)
    name: str = Field(max_length=120)
    email: str | None = Field(default=None, max_length=254, index=True)
    department_id: str = Field(max_length=40)
    active: bool = True


class Community(Base, table=True):
    """A community as the communities service announced it."""

    id: uuid.UUID = Field(primary_key=True)
    name: str = Field(max_length=200, index=True)
    kind: str | None = Field(default=None, max_length=40)
    owner_department_id: str | None = Field(default=None, max_length=40)
    archived: bool = False


class CommunityManager(Base, table=True):
    """Who manages a community; may arrive before the community itself."""

    __tablename__ = "community_manager"

    community_id: uuid.UUID = Field(primary_key=True)
    person_id: uuid.UUID = Field(primary_key=True)


# The service's own records


class SearchTerm(Base, table=True):
    """One form of one word of a question, practice or idea: the full-text index."""

    __tablename__ = "search_term"

    kind: str = Field(primary_key=True, max_length=20)
    term: str = Field(primary_key=True, max_length=60)
    entity_id: uuid.UUID = Field(primary_key=True)


class Question(Base, table=True):
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    community_id: uuid.UUID | None = Field(default=None, index=True)
    # None when a customer asked (through the listening service's FAQ).
    author_id: uuid.UUID | None = Field(default=None, index=True)
    author_department_id: str | None = Field(default=None, max_length=40, index=True)
    source: str = Field(max_length=20)
    faq_ask_id: str | None = Field(default=None, max_length=100, unique=True)
    answer_count: int = 0
    # No foreign key: question and answer would point at each other.
    accepted_answer_id: uuid.UUID | None = None
    asked_at: datetime = Field(index=True)
    escalated_at: datetime | None = None

    tags: list["QuestionTag"] = Relationship(
        sa_relationship_kwargs={"order_by": "QuestionTag.tag", "cascade": "all, delete-orphan"}
    )
    answers: list["Answer"] = Relationship(sa_relationship_kwargs={"order_by": "Answer.id"})


class QuestionTag(Base, table=True):
    __tablename__ = "question_tag"

    question_id: uuid.UUID = Field(foreign_key="question.id", primary_key=True)
    tag: str = Field(primary_key=True, max_length=40, index=True)


class Answer(Base, table=True):
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    question_id: uuid.UUID = Field(foreign_key="question.id", index=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    author_id: uuid.UUID = Field(index=True)
    author_department_id: str = Field(max_length=40)
    score: int = 0
    posted_at: datetime
    accepted_at: datetime | None = None


class AnswerVote(Base, table=True):
    __tablename__ = "answer_vote"

    answer_id: uuid.UUID = Field(foreign_key="answer.id", primary_key=True)
    voter_id: uuid.UUID = Field(primary_key=True)
    value: int
    voted_at: datetime


class Practice(Base, table=True):
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    # The department the practice comes from.
    department_id: str = Field(max_length=40, index=True)
    author_id: uuid.UUID = Field(index=True)
    author_department_id: str = Field(max_length=40)
    adoption_count: int = 0
    shared_at: datetime

    tags: list["PracticeTag"] = Relationship(
        sa_relationship_kwargs={"order_by": "PracticeTag.tag", "cascade": "all, delete-orphan"}
    )
    adoptions: list["Adoption"] = Relationship(sa_relationship_kwargs={"order_by": "Adoption.id"})


class PracticeTag(Base, table=True):
    __tablename__ = "practice_tag"

    practice_id: uuid.UUID = Field(foreign_key="practice.id", primary_key=True)
    tag: str = Field(primary_key=True, max_length=40, index=True)


class Adoption(Base, table=True):
    __tablename__ = "practice_adoption"
    __table_args__ = (UniqueConstraint("practice_id", "department_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    practice_id: uuid.UUID = Field(foreign_key="practice.id", index=True)
    department_id: str = Field(max_length=40)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    adopted_by: uuid.UUID
    adopted_by_department_id: str = Field(max_length=40)
    adopted_at: datetime


class Idea(Base, table=True):
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    community_id: uuid.UUID | None = Field(default=None, index=True)
    author_id: uuid.UUID = Field(index=True)
    author_department_id: str = Field(max_length=40)
    status: str = Field(default="submitted", max_length=20, index=True)
    outcome: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    vote_count: int = 0
    proposed_at: datetime
    status_changed_at: datetime

    tags: list["IdeaTag"] = Relationship(
        sa_relationship_kwargs={"order_by": "IdeaTag.tag", "cascade": "all, delete-orphan"}
    )


class IdeaTag(Base, table=True):
    __tablename__ = "idea_tag"

    idea_id: uuid.UUID = Field(foreign_key="idea.id", primary_key=True)
    tag: str = Field(primary_key=True, max_length=40, index=True)


class IdeaVote(Base, table=True):
    __tablename__ = "idea_vote"

    idea_id: uuid.UUID = Field(foreign_key="idea.id", primary_key=True)
    voter_id: uuid.UUID = Field(primary_key=True)
    voted_at: datetime


# What the API reads


class QuestionCreate(SQLModel):
    model_config = _STRICT
    title: Title
    body: Body
    tags: Tags = Field(default_factory=list)
    community_id: uuid.UUID | None = None


class AnswerCreate(SQLModel):
    model_config = _STRICT
    body: Body


class Acceptance(SQLModel):
    """Accepting takes no fields; a body naming any is refused."""

    model_config = _STRICT


class AnswerVoteCreate(SQLModel):
    model_config = _STRICT
    value: Annotated[Literal[1, -1], BeforeValidator(_integer)]


class PracticeCreate(SQLModel):
    model_config = _STRICT
    title: Title
    body: Body
    tags: Tags = Field(default_factory=list)
    department_id: DepartmentId | None = None


class AdoptionCreate(SQLModel):
    model_config = _STRICT
    department_id: DepartmentId
    note: Note | None = None


class IdeaCreate(SQLModel):
    model_config = _STRICT
    title: Title
    body: Body
    tags: Tags = Field(default_factory=list)
    community_id: uuid.UUID | None = None


class IdeaVoteCreate(SQLModel):
    """A vote on an idea takes no fields: the voter is the caller."""

    model_config = _STRICT


class IdeaStatusChange(SQLModel):
    model_config = _STRICT
    status: IdeaStatus
    outcome: Note | None = None


# What the API answers


class AnswerPublic(SQLModel):
    id: uuid.UUID
    question_id: uuid.UUID
    body: str
    author_id: uuid.UUID
    author_department_id: str
    score: int
    accepted: bool
    posted_at: datetime
    accepted_at: datetime | None


class QuestionPublic(SQLModel):
    id: uuid.UUID
    title: str
    body: str
    tags: list[str]
    community_id: uuid.UUID | None
    author_id: uuid.UUID | None
    author_department_id: str | None
    source: QuestionSource
    faq_ask_id: str | None
    status: QuestionStatus
    answer_count: int
    accepted_answer_id: uuid.UUID | None
    asked_at: datetime
    escalated_at: datetime | None


class QuestionDetail(QuestionPublic):
    answers: list[AnswerPublic]


class AnswerVotePublic(SQLModel):
    answer_id: uuid.UUID
    voter_id: uuid.UUID
    value: int
    score: int


class AdoptionPublic(SQLModel):
    id: uuid.UUID
    practice_id: uuid.UUID
    department_id: str
    note: str | None
    adopted_by: uuid.UUID
    adopted_at: datetime


class PracticePublic(SQLModel):
    id: uuid.UUID
    title: str
    body: str
    tags: list[str]
    department_id: str
    author_id: uuid.UUID
    author_department_id: str
    adoption_count: int
    shared_at: datetime


class PracticeDetail(PracticePublic):
    adoptions: list[AdoptionPublic]


class IdeaPublic(SQLModel):
    id: uuid.UUID
    title: str
    body: str
    tags: list[str]
    community_id: uuid.UUID | None
    author_id: uuid.UUID
    author_department_id: str
    status: IdeaStatus
    outcome: str | None
    votes: int
    proposed_at: datetime
    status_changed_at: datetime


class IdeaVotePublic(SQLModel):
    idea_id: uuid.UUID
    voter_id: uuid.UUID
    votes: int
