"""The listening service's tables, and the shapes its API reads and writes."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import uuid_utils
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    ConfigDict,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.timestamps import AwareTimestamp


def new_id() -> uuid.UUID:
    """Time-ordered ids: lists page by id in creation order."""
    return uuid.UUID(str(uuid_utils.uuid7()))


class Base(SQLModel, registry=registry()):
    """The listening service's tables, in a metadata of their own."""


SourceKind = Literal["rss", "webhook", "manual"]
SentimentLabel = Literal["negative", "neutral", "positive"]
AlertStatus = Literal["open", "acknowledged"]
Bucket = Literal["hour", "day"]

DepartmentId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]


def _has_a_word(value: str) -> str:
    if not any(character.isalnum() for character in value):
        raise ValueError("must contain a letter or a digit")
    return value


def _storable(value: str) -> str:
    # PostgreSQL refuses NUL in text; in a batch it would fail every item, not just this one.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _base_language(value: str) -> str:
    """Reads "fr-FR", "en_GB" and "FR" as their base language."""
    return value.replace("_", "-").split("-")[0].lower()


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
    AfterValidator(_storable),
]
Keyword = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    AfterValidator(str.lower),
    AfterValidator(_has_a_word),
    AfterValidator(_storable),
]
Keywords = Annotated[list[Keyword], Field(max_length=100)]
Tag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"),
    AfterValidator(str.lower),
]
Tags = Annotated[list[Tag], Field(max_length=20)]
Language = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$"),
    AfterValidator(_base_language),
]
_HTTP_URL = TypeAdapter(AnyHttpUrl)


def _http_url(value: str) -> str:
    try:
        return str(_HTTP_URL.validate_python(value))
    except ValidationError as error:
        raise ValueError("must be an http or https URL") from error


Url = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2_000), AfterValidator(_http_url)
]
Channel = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9][a-z0-9_.-]{0,39}$"),
]
MentionText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000),
    AfterValidator(_has_a_word),
    AfterValidator(_storable),
]
ExternalId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    AfterValidator(_storable),
]
Author = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_storable),
]
Question = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1_000),
    AfterValidator(_has_a_word),
    AfterValidator(_storable),
]
Answer = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000),
    AfterValidator(_storable),
]

_STRICT = ConfigDict(extra="forbid")


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


# Sources


class Source(Base, table=True):
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    kind: str = Field(max_length=10)
    url: str | None = Field(default=None, max_length=2_000)
    community_id: uuid.UUID | None = Field(default=None, index=True)
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    created_by: str = Field(max_length=200)
    last_polled_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=1_000)
    last_new_mentions: int | None = None
    # Validators of the last fetch, so an unchanged feed answers 304 and costs nothing.
    etag: str | None = Field(default=None, max_length=300)
    modified: str | None = Field(default=None, max_length=100)


class SourceCreate(SQLModel):
    model_config = _STRICT
    name: Name
    kind: SourceKind
    url: Url | None = None
    community_id: uuid.UUID | None = None
    keywords: Keywords = Field(default_factory=list)

    @model_validator(mode="after")
    def _rss_needs_a_url(self) -> "SourceCreate":
        if self.kind == "rss" and self.url is None:
            raise ValueError("an rss source needs the url of its feed")
        self.keywords = _unique(self.keywords)
        return self


class SourcePublic(SQLModel):
    id: uuid.UUID
    name: str
    kind: str
    url: str | None
    community_id: uuid.UUID | None
    keywords: list[str]
    created_at: datetime
    created_by: str
    last_polled_at: datetime | None
    last_error: str | None
    last_new_mentions: int | None


class PollReport(SQLModel):
    source_id: uuid.UUID
    polled_at: datetime
    items: int
    created: int
    duplicates: int
    skipped: int
    error: str | None


# Mentions


class Mention(Base, table=True):
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        # Spike checks and negative filters read negative mentions by time.
        Index("ix_mention_sentiment_label_published_at", "sentiment_label", "published_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    source_id: uuid.UUID = Field(foreign_key="source.id")
    external_id: str | None = Field(default=None, max_length=300)
    channel: str = Field(max_length=40)
    author: str | None = Field(default=None, max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    url: str | None = Field(default=None, max_length=2_000)
    lang: str = Field(max_length=8)
    model_score: float
    model_label: str = Field(max_length=10)
    human_label: str | None = Field(default=None, max_length=10)
    # What the mention counts as: the model's reading until a person corrects it.
    sentiment_score: float
    sentiment_label: str = Field(max_length=10)
    relabelled_by: str | None = Field(default=None, max_length=200)
    relabelled_at: datetime | None = None
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    department_id: str = Field(max_length=40, index=True)
    community_id: uuid.UUID | None = Field(default=None, index=True)
    published_at: datetime = Field(index=True)
    # Hours since the epoch: reputation buckets group on it the same way on every database.
    published_hour: int
    ingested_at: datetime
    ingested_by: str = Field(max_length=200)


class MentionCreate(SQLModel):
    model_config = _STRICT
    source_id: uuid.UUID
    external_id: ExternalId | None = None
    channel: Channel
    author: Author | None = None
    text: MentionText
    url: Url | None = None
    lang: Language | None = None
    published_at: AwareTimestamp


class SentimentPublic(SQLModel):
    score: float
    label: str
    source: Literal["model", "human"]
    model_label: str
    model_score: float


class MentionPublic(SQLModel):
    id: uuid.UUID
    source_id: uuid.UUID
    external_id: str | None
    channel: str
    author: str | None
    text: str
    url: str | None
    lang: str
    sentiment: SentimentPublic
    topics: list[str]
    department_id: str
    community_id: uuid.UUID | None
    published_at: datetime
    ingested_at: datetime


class MentionRelabel(SQLModel):
    model_config = _STRICT
    sentiment_label: SentimentLabel


class FieldError(SQLModel):
    field: str
    message: str
    type: str


class ItemResult(SQLModel):
    index: int
    status: Literal["created", "duplicate", "invalid"]
    id: uuid.UUID | None = None
    errors: list[FieldError] | None = None


class IngestReport(SQLModel):
    created: int
    duplicates: int
    invalid: int
    items: list[ItemResult]


# Routing rules


class RoutingRule(Base, table=True):
    __tablename__ = "routing_rule"

    department_id: str = Field(primary_key=True, max_length=40)
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime
    updated_by: str = Field(max_length=200)


class RoutingRuleUpdate(SQLModel):
    model_config = _STRICT
    keywords: Keywords

    @model_validator(mode="after")
    def _once_each(self) -> "RoutingRuleUpdate":
        self.keywords = _unique(self.keywords)
        return self


class RoutingRulePublic(SQLModel):
    department_id: str
    keywords: list[str]
    updated_at: datetime
    updated_by: str


class RoutingRules(SQLModel):
    default_department_id: str
    rules: list[RoutingRulePublic]


# Communities (a local copy of the communities service's registry)


class Community(Base, table=True):
    id: uuid.UUID = Field(primary_key=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    owner_department_id: str = Field(max_length=40)
    archived: bool = False


# Sentiment quality and reputation


class LabelPair(SQLModel):
    model_label: str
    human_label: str
    mentions: int


class LanguageQuality(SQLModel):
    lang: str
    corrections: int
    agreements: int
    agreement: float | None
    pairs: list[LabelPair]


class SentimentQuality(SQLModel):
    corrections: int
    agreements: int
    agreement: float | None
    languages: list[LanguageQuality]


class ReputationBucket(SQLModel):
    start: datetime
    mentions: int
    negative_mentions: int
    sentiment_avg: float | None
    negative_share: float | None


class Reputation(SQLModel):
    from_: datetime = Field(alias="from")
    to: datetime
    bucket: str
    mentions: int
    sentiment_avg: float | None
    negative_share: float | None
    buckets: list[ReputationBucket]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


# Alerts


class Alert(Base, table=True):
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    status: str = Field(max_length=20, index=True)
    department_id: str = Field(max_length=40, index=True)
    window_start: datetime
    window_end: datetime
    negative_mentions: int
    baseline_per_hour: float
    explanation: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    raised_at: datetime
    # The last check that still saw this spike: a spike seen again within a window is the same.
    last_seen_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = Field(default=None, max_length=200)


class AlertPublic(SQLModel):
    id: uuid.UUID
    status: str
    department_id: str
    window_start: datetime
    window_end: datetime
    negative_mentions: int
    baseline_per_hour: float
    explanation: dict[str, Any]
    raised_at: datetime
    last_seen_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


# FAQ


class FaqEntry(Base, table=True):
    __tablename__ = "faq_entry"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    question: str = Field(max_length=1_000)
    answer: str = Field(sa_column=Column(Text, nullable=False))
    lang: str = Field(max_length=8, index=True)
    department_id: str = Field(max_length=40, index=True)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    created_by: str = Field(max_length=200)
    updated_at: datetime
    updated_by: str = Field(max_length=200)
    # Counts the entry's versions: the matcher is rebuilt when the entries' sum of them moves.
    revision: int = 1


class FaqEntryCreate(SQLModel):
    model_config = _STRICT
    question: Question
    answer: Answer
    lang: Language
    department_id: DepartmentId
    tags: Tags = Field(default_factory=list)


class FaqEntryUpdate(SQLModel):
    model_config = _STRICT
    question: Question | None = None
    answer: Answer | None = None
    lang: Language | None = None
    department_id: DepartmentId | None = None
    tags: Tags | None = None


class FaqEntryPublic(SQLModel):
    id: uuid.UUID
    question: str
    answer: str
    lang: str
    department_id: str
    tags: list[str]
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class FaqAsk(Base, table=True):
    __tablename__ = "faq_ask"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    question: str = Field(max_length=1_000)
    lang: str | None = Field(default=None, max_length=8)
    answered: bool = Field(index=True)
    entry_id: uuid.UUID | None = None
    score: float
    # The answering entry's department, or the best guess of who should answer.
    department_id: str = Field(max_length=40, index=True)
    escalated: bool
    asked_at: datetime
    helpful: bool | None = None
    feedback_at: datetime | None = None


class AskCreate(SQLModel):
    model_config = _STRICT
    question: Question
    lang: Language | None = None


class FaqMatchPublic(SQLModel):
    id: uuid.UUID
    question: str
    answer: str
    score: float


class AskResult(SQLModel):
    answered: bool
    matches: list[FaqMatchPublic]
    ask_id: uuid.UUID


class AskFeedback(SQLModel):
    model_config = _STRICT
    helpful: Annotated[bool, Strict()]


class FaqAskPublic(SQLModel):
    id: uuid.UUID
    question: str
    lang: str | None
    answered: bool
    entry_id: uuid.UUID | None
    score: float
    department_id: str
    escalated: bool
    asked_at: datetime
    helpful: bool | None
