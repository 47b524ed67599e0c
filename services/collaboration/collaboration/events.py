"""The events the collaboration service publishes on `collaboration.events`.

Questions and their answers are keyed by the question's id (one aggregate, in order),
practices by the practice's id, ideas by the idea's id. Each event names the people and
departments involved, so that a view of who helped whom never calls back.
"""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from shared.events import EventRegistry

REGISTRY = EventRegistry("collaboration")


class QuestionAskedPayload(BaseModel):
    id: uuid.UUID
    title: str
    tags: list[str]
    community_id: uuid.UUID | None
    author_id: uuid.UUID | None
    author_department_id: str | None
    asked_at: datetime
    source: Literal["internal", "customer-faq"]
    faq_ask_id: str | None


class AnswerPostedPayload(BaseModel):
    id: uuid.UUID
    question_id: uuid.UUID
    author_id: uuid.UUID
    author_department_id: str
    question_author_id: uuid.UUID | None
    question_author_department_id: str | None
    tags: list[str]
    community_id: uuid.UUID | None
    question_asked_at: datetime
    posted_at: datetime
    # The question's first answer: the time to a first answer is measured from it.
    first_answer: bool


class AnswerAcceptedPayload(BaseModel):
    answer_id: uuid.UUID
    question_id: uuid.UUID
    author_id: uuid.UUID
    author_department_id: str
    question_author_id: uuid.UUID | None
    question_author_department_id: str | None
    tags: list[str]
    community_id: uuid.UUID | None
    accepted_by: uuid.UUID
    accepted_at: datetime
    # The answer this one replaces as the accepted one, if any.
    replaces_answer_id: uuid.UUID | None


class AnswerUnacceptedPayload(BaseModel):
    answer_id: uuid.UUID
    question_id: uuid.UUID
    author_id: uuid.UUID
    author_department_id: str
    question_author_department_id: str | None
    tags: list[str]
    community_id: uuid.UUID | None
    unaccepted_by: uuid.UUID
    unaccepted_at: datetime
    replaced_by_answer_id: uuid.UUID


class AnswerVotedPayload(BaseModel):
    answer_id: uuid.UUID
    question_id: uuid.UUID
    voter_id: uuid.UUID
    voter_department_id: str
    value: int
    previous_value: int | None
    author_id: uuid.UUID
    author_department_id: str
    score: int
    tags: list[str]
    voted_at: datetime


class QuestionEscalatedPayload(BaseModel):
    question_id: uuid.UUID
    title: str
    tags: list[str]
    community_id: uuid.UUID | None
    author_id: uuid.UUID | None
    author_department_id: str | None
    source: Literal["internal", "customer-faq"]
    asked_at: datetime
    escalated_at: datetime


class PracticeSharedPayload(BaseModel):
    id: uuid.UUID
    title: str
    tags: list[str]
    department_id: str
    author_id: uuid.UUID
    author_department_id: str
    shared_at: datetime


class PracticeAdoptedPayload(BaseModel):
    id: uuid.UUID
    practice_id: uuid.UUID
    adopting_department_id: str
    origin_department_id: str
    adopted_by: uuid.UUID
    adopted_by_department_id: str
    note: str | None
    tags: list[str]
    adopted_at: datetime


class IdeaProposedPayload(BaseModel):
    id: uuid.UUID
    title: str
    tags: list[str]
    community_id: uuid.UUID | None
    author_id: uuid.UUID
    author_department_id: str
    status: str
    proposed_at: datetime


class IdeaVotedPayload(BaseModel):
    idea_id: uuid.UUID
    voter_id: uuid.UUID
    voter_department_id: str
    author_id: uuid.UUID
    author_department_id: str
    community_id: uuid.UUID | None
    votes: int
    voted_at: datetime


class IdeaStatusChangedPayload(BaseModel):
    idea_id: uuid.UUID
    status: str
    previous_status: str
    outcome: str | None
    community_id: uuid.UUID | None
    changed_by: uuid.UUID
    author_id: uuid.UUID
    author_department_id: str
    tags: list[str]
    changed_at: datetime


QUESTION_ASKED = REGISTRY.register(
    "collaboration.question.asked.v1",
    QuestionAskedPayload,
    "Someone asked a question, or a customer's unanswered FAQ ask became one (source).",
)
ANSWER_POSTED = REGISTRY.register(
    "collaboration.answer.posted.v1",
    AnswerPostedPayload,
    "Someone answered a question; names both departments (who helped whom). Key: question id.",
)
ANSWER_ACCEPTED = REGISTRY.register(
    "collaboration.answer.accepted.v1",
    AnswerAcceptedPayload,
    "The answer was accepted as the question's answer. Key: question id.",
)
ANSWER_UNACCEPTED = REGISTRY.register(
    "collaboration.answer.unaccepted.v1",
    AnswerUnacceptedPayload,
    "Another answer was accepted in place of this one. Key: question id.",
)
ANSWER_VOTED = REGISTRY.register(
    "collaboration.answer.voted.v1",
    AnswerVotedPayload,
    "Someone voted on an answer, or changed their vote. Key: question id.",
)
QUESTION_ESCALATED = REGISTRY.register(
    "collaboration.question.escalated.v1",
    QuestionEscalatedPayload,
    "A question had no answer within the answer SLA (sent once per question).",
)
PRACTICE_SHARED = REGISTRY.register(
    "collaboration.practice.shared.v1",
    PracticeSharedPayload,
    "A department's good practice was shared.",
)
PRACTICE_ADOPTED = REGISTRY.register(
    "collaboration.practice.adopted.v1",
    PracticeAdoptedPayload,
    "Another department adopted a practice. Key: practice id.",
)
IDEA_PROPOSED = REGISTRY.register(
    "collaboration.idea.proposed.v1", IdeaProposedPayload, "Someone proposed an idea."
)
IDEA_VOTED = REGISTRY.register(
    "collaboration.idea.voted.v1", IdeaVotedPayload, "Someone voted for an idea."
)
IDEA_STATUS_CHANGED = REGISTRY.register(
    "collaboration.idea.status_changed.v1",
    IdeaStatusChangedPayload,
    "An idea moved in its workflow: submitted, reviewing, accepted or rejected, implemented.",
)
