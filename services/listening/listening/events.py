"""The events the listening service publishes on `listening.events`, keyed by their aggregate id."""

import uuid
from datetime import datetime

from pydantic import BaseModel

from shared.events import EventRegistry

REGISTRY = EventRegistry("listening")


class SourcePayload(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    community_id: uuid.UUID | None
    url: str | None
    keywords: list[str]


class MentionIngestedPayload(BaseModel):
    id: uuid.UUID
    source_id: uuid.UUID
    community_id: uuid.UUID | None
    channel: str
    lang: str
    sentiment_score: float
    sentiment_label: str
    department_id: str
    topics: list[str]
    published_at: datetime


class MentionRelabelledPayload(BaseModel):
    id: uuid.UUID
    lang: str
    model_label: str
    human_label: str
    community_id: uuid.UUID | None
    department_id: str
    relabelled_by: str


class RoutingRulePayload(BaseModel):
    department_id: str
    keywords: list[str]


class AlertRaisedPayload(BaseModel):
    id: uuid.UUID
    department_id: str
    window_start: datetime
    window_end: datetime
    negative_mentions: int
    baseline_per_hour: float
    top_terms: list[str]


class AlertAcknowledgedPayload(BaseModel):
    id: uuid.UUID
    department_id: str
    acknowledged_by: str


class FaqEntryPayload(BaseModel):
    id: uuid.UUID
    lang: str
    department_id: str
    tags: list[str]


class FaqAskedPayload(BaseModel):
    ask_id: uuid.UUID
    lang: str | None
    answered: bool
    entry_id: uuid.UUID | None
    score: float
    department_id: str | None
    asked_at: datetime


class FaqUnansweredPayload(BaseModel):
    ask_id: uuid.UUID
    question: str
    lang: str | None
    department_id: str
    asked_at: datetime


class FaqFeedbackPayload(BaseModel):
    ask_id: uuid.UUID
    helpful: bool
    entry_id: uuid.UUID | None
    department_id: str


SOURCE_CREATED = REGISTRY.register(
    "listening.source.created.v1",
    SourcePayload,
    "A source of mentions (a feed, a webhook) was added.",
)
MENTION_INGESTED = REGISTRY.register(
    "listening.mention.ingested.v1",
    MentionIngestedPayload,
    "A mention came in, read (language, sentiment, topics) and routed to a department; keyed by"
    " its source.",
)
MENTION_RELABELLED = REGISTRY.register(
    "listening.mention.relabelled.v1",
    MentionRelabelledPayload,
    "A person corrected the sentiment the model gave a mention; both labels are kept.",
)
ROUTING_RULE_UPDATED = REGISTRY.register(
    "listening.routing_rule.updated.v1",
    RoutingRulePayload,
    "The keywords that route mentions to a department were set.",
)
ALERT_RAISED = REGISTRY.register(
    "listening.alert.raised.v1",
    AlertRaisedPayload,
    "A spike of negative mentions was detected and routed to the department that owns it.",
)
ALERT_ACKNOWLEDGED = REGISTRY.register(
    "listening.alert.acknowledged.v1", AlertAcknowledgedPayload, "Someone took charge of an alert."
)
FAQ_ENTRY_CREATED = REGISTRY.register(
    "listening.faq.entry_created.v1", FaqEntryPayload, "An FAQ entry was written."
)
FAQ_ENTRY_UPDATED = REGISTRY.register(
    "listening.faq.entry_updated.v1", FaqEntryPayload, "An FAQ entry was changed."
)
FAQ_ASKED = REGISTRY.register(
    "listening.faq.asked.v1",
    FaqAskedPayload,
    "A customer asked the FAQ a question, answered or not (deflection counts these).",
)
FAQ_UNANSWERED = REGISTRY.register(
    "listening.faq.unanswered.v1",
    FaqUnansweredPayload,
    "Nothing in the FAQ answered a customer's question well: it goes to the department guessed"
    " to own it.",
)
FAQ_FEEDBACK = REGISTRY.register(
    "listening.faq.feedback.v1", FaqFeedbackPayload, "A customer said whether an answer helped."
)
