"""What the strategy service consumes, in one dict: event type -> payload model and projection.

Payload models name only the fields this view reads (a tolerant reader): producers may add
fields without breaking it. Every event carries the departments as they were when it happened,
so the view never calls a service back. Each handler names the rows it reads by primary key
(`*_reads`), and changes rows through `shared.rows` only: a batch of events is read and written
in bulk.
"""

import hashlib
import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, select

from shared.consumer import Handler, ReceivedEvent
from shared.rows import Key, Row, rows
from strategy.models import (
    AlertView,
    CommunityActivity,
    CommunityView,
    DepartmentView,
    Evidence,
    FaqAskView,
    Interaction,
    ManagerDeparture,
    ManagerView,
    MemberView,
    MentionCorrection,
    MentionView,
    PersonView,
    PracticeView,
    QuestionView,
    SkillView,
)

# The outside world (customers asking the FAQ) in the matrix, beside the departments.
EXTERNAL = "external"


# people.events


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


class SkillDeclared(BaseModel):
    person_id: uuid.UUID
    skill: str
    level: int


class SkillRemoved(BaseModel):
    person_id: uuid.UUID
    skill: str


def on_department_created(session: Session, event: ReceivedEvent[DepartmentCreated]) -> None:
    rows(session).put(DepartmentView, id=event.data.id, name=event.data.name)


def department_reads(event: ReceivedEvent[DepartmentCreated]) -> list[Key]:
    return [(DepartmentView, event.data.id)]


def on_person_state(session: Session, event: ReceivedEvent[PersonState]) -> None:
    _known_department(session, event.data.department_id)
    person = rows(session).put(PersonView, **event.data.model_dump())
    _audit(person, event)


def person_reads(event: ReceivedEvent[PersonState]) -> list[Key]:
    return [(PersonView, event.data.id), (DepartmentView, event.data.department_id)]


def on_person_deactivated(session: Session, event: ReceivedEvent[PersonDeactivated]) -> None:
    batch = rows(session)
    person = batch.get(PersonView, event.data.id) or batch.add(
        PersonView, id=event.data.id, name="", department_id=event.data.department_id
    )
    person["active"] = False
    _audit(person, event)


def deactivation_reads(event: ReceivedEvent[PersonDeactivated]) -> list[Key]:
    return [(PersonView, event.data.id)]


def history_digest(previous: str, event_id: uuid.UUID) -> str:
    """The digest of a person's applied events once `event_id` is applied after `previous`'s."""
    return hashlib.sha256(f"{previous}{event_id}".encode()).hexdigest()


def _audit(person: Row, event: ReceivedEvent) -> None:
    # A lost, repeated or reordered event shows in the count or the digest (see PersonView).
    person["applied_events"] += 1
    person["applied_digest"] = history_digest(person["applied_digest"], event.id)


def on_skill_declared(session: Session, event: ReceivedEvent[SkillDeclared]) -> None:
    data = event.data
    rows(session).put(SkillView, person_id=data.person_id, skill=data.skill, level=data.level)


def on_skill_removed(session: Session, event: ReceivedEvent[SkillRemoved]) -> None:
    rows(session).delete(SkillView, (event.data.person_id, event.data.skill))


def skill_reads(event: ReceivedEvent[SkillDeclared] | ReceivedEvent[SkillRemoved]) -> list[Key]:
    return [(SkillView, (event.data.person_id, event.data.skill))]


# communities.events


class CommunityState(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    purpose: str = "other"
    owner_department_id: str
    topics: list[str] = []
    archived: bool = False


class CommunityArchived(BaseModel):
    id: uuid.UUID


class ManagerAppointed(BaseModel):
    community_id: uuid.UUID
    person_id: uuid.UUID
    department_id: str | None = None


class ManagerRemoved(BaseModel):
    community_id: uuid.UUID
    person_id: uuid.UUID
    reason: str = "removed"


class MemberJoined(BaseModel):
    community_id: uuid.UUID
    member_id: uuid.UUID
    person_id: uuid.UUID | None = None
    external_handle: str | None = None
    department_id: str | None = None
    owner_department_id: str
    joined_at: datetime


class MemberLeft(BaseModel):
    community_id: uuid.UUID
    member_id: uuid.UUID


def on_community_state(session: Session, event: ReceivedEvent[CommunityState]) -> None:
    rows(session).put(CommunityView, **event.data.model_dump())


def on_community_archived(session: Session, event: ReceivedEvent[CommunityArchived]) -> None:
    community = rows(session).get(CommunityView, event.data.id)
    if community is not None:
        community["archived"] = True


def community_reads(
    event: ReceivedEvent[CommunityState] | ReceivedEvent[CommunityArchived],
) -> list[Key]:
    return [(CommunityView, event.data.id)]


def on_manager_appointed(session: Session, event: ReceivedEvent[ManagerAppointed]) -> None:
    data, batch = event.data, rows(session)
    batch.put(
        ManagerView,
        community_id=data.community_id,
        person_id=data.person_id,
        department_id=data.department_id,
    )
    batch.delete(ManagerDeparture, (data.community_id, data.person_id))


def on_manager_removed(session: Session, event: ReceivedEvent[ManagerRemoved]) -> None:
    data, batch = event.data, rows(session)
    batch.delete(ManagerView, (data.community_id, data.person_id))
    if data.reason == "left_company":
        batch.put(
            ManagerDeparture,
            community_id=data.community_id,
            person_id=data.person_id,
            left_at=event.time,
        )


def manager_reads(
    event: ReceivedEvent[ManagerAppointed] | ReceivedEvent[ManagerRemoved],
) -> list[Key]:
    key = (event.data.community_id, event.data.person_id)
    return [(ManagerView, key), (ManagerDeparture, key)]


def on_member_joined(session: Session, event: ReceivedEvent[MemberJoined]) -> None:
    data = event.data
    rows(session).put(
        MemberView,
        community_id=data.community_id,
        member_id=data.member_id,
        person_id=data.person_id,
        department_id=data.department_id,
        external_handle=data.external_handle,
        joined_at=data.joined_at,
    )
    if data.person_id is not None:
        _active(session, data.community_id, data.person_id, data.joined_at)
    if data.department_id is not None:
        # A member from B in a community owned by A: B's people bring their help to A.
        _interaction(
            session,
            event,
            "membership",
            data.joined_at,
            data.department_id,
            data.owner_department_id,
        )


def member_reads(event: ReceivedEvent[MemberJoined]) -> list[Key]:
    data = event.data
    keys: list[Key] = [(MemberView, (data.community_id, data.member_id))]
    if data.person_id is not None:
        keys.append((CommunityActivity, (data.community_id, data.person_id)))
    return keys


def on_member_left(session: Session, event: ReceivedEvent[MemberLeft]) -> None:
    rows(session).delete(MemberView, (event.data.community_id, event.data.member_id))


def departure_reads(event: ReceivedEvent[MemberLeft]) -> list[Key]:
    return [(MemberView, (event.data.community_id, event.data.member_id))]


# collaboration.events


class QuestionAsked(BaseModel):
    id: uuid.UUID
    title: str = ""
    tags: list[str] = []
    community_id: uuid.UUID | None = None
    author_id: uuid.UUID | None = None
    author_department_id: str | None = None
    asked_at: datetime


class AnswerPosted(BaseModel):
    id: uuid.UUID
    question_id: uuid.UUID
    author_id: uuid.UUID
    author_department_id: str
    question_author_department_id: str | None = None
    tags: list[str] = []
    community_id: uuid.UUID | None = None
    question_asked_at: datetime
    posted_at: datetime


class AnswerAccepted(BaseModel):
    answer_id: uuid.UUID
    author_id: uuid.UUID
    question_author_department_id: str | None = None
    tags: list[str] = []
    accepted_at: datetime


class AnswerUnaccepted(BaseModel):
    answer_id: uuid.UUID


class QuestionEscalated(BaseModel):
    question_id: uuid.UUID
    title: str = ""
    tags: list[str] = []
    community_id: uuid.UUID | None = None
    author_department_id: str | None = None
    asked_at: datetime
    escalated_at: datetime


class PracticeShared(BaseModel):
    id: uuid.UUID
    tags: list[str] = []
    department_id: str
    author_id: uuid.UUID


class PracticeAdopted(BaseModel):
    practice_id: uuid.UUID
    adopting_department_id: str
    origin_department_id: str
    tags: list[str] = []
    adopted_at: datetime


class IdeaProposed(BaseModel):
    id: uuid.UUID
    community_id: uuid.UUID | None = None
    author_id: uuid.UUID
    proposed_at: datetime | None = None


def on_question_asked(session: Session, event: ReceivedEvent[QuestionAsked]) -> None:
    data = event.data
    rows(session).put(
        QuestionView,
        id=data.id,
        title=data.title,
        tags=data.tags,
        community_id=data.community_id,
        author_id=data.author_id,
        author_department_id=data.author_department_id,
        asked_at=data.asked_at,
    )
    if data.community_id is not None and data.author_id is not None:
        _active(session, data.community_id, data.author_id, data.asked_at)


def question_reads(event: ReceivedEvent[QuestionAsked]) -> list[Key]:
    data = event.data
    keys: list[Key] = [(QuestionView, data.id)]
    if data.community_id is not None and data.author_id is not None:
        keys.append((CommunityActivity, (data.community_id, data.author_id)))
    return keys


def on_answer_posted(session: Session, event: ReceivedEvent[AnswerPosted]) -> None:
    data, batch = event.data, rows(session)
    question = batch.get(QuestionView, data.question_id) or batch.add(
        QuestionView,
        id=data.question_id,
        tags=data.tags,
        community_id=data.community_id,
        author_department_id=data.question_author_department_id,
        asked_at=data.question_asked_at,
    )
    question["answers"] += 1
    first = question["first_answer_at"]
    if first is None or data.posted_at < first:
        question["first_answer_at"] = data.posted_at
    if data.community_id is not None:
        _active(session, data.community_id, data.author_id, data.posted_at)
    if data.question_author_department_id is not None:
        _interaction(
            session,
            event,
            "answer",
            data.posted_at,
            data.author_department_id,
            data.question_author_department_id,
        )
    _evidence(
        session,
        data.id,
        "answer",
        data.tags,
        data.author_id,
        data.question_author_department_id,
        data.posted_at,
    )


def answer_reads(event: ReceivedEvent[AnswerPosted]) -> list[Key]:
    data = event.data
    keys: list[Key] = [(QuestionView, data.question_id)]
    if data.community_id is not None:
        keys.append((CommunityActivity, (data.community_id, data.author_id)))
    return keys + _evidence_keys(data.id, "answer", data.tags)


def on_answer_accepted(session: Session, event: ReceivedEvent[AnswerAccepted]) -> None:
    data = event.data
    _evidence(
        session,
        data.answer_id,
        "accepted_answer",
        data.tags,
        data.author_id,
        data.question_author_department_id,
        data.accepted_at,
    )


def acceptance_reads(event: ReceivedEvent[AnswerAccepted]) -> list[Key]:
    return _evidence_keys(event.data.answer_id, "accepted_answer", event.data.tags)


def on_answer_unaccepted(session: Session, event: ReceivedEvent[AnswerUnaccepted]) -> None:
    batch = rows(session)
    batch.write()  # the acceptance may be in this batch: the query below must see it
    topics = session.scalars(
        select(Evidence.topic).where(
            Evidence.source_id == event.data.answer_id, Evidence.kind == "accepted_answer"
        )
    )
    for topic in topics:
        batch.delete(Evidence, (event.data.answer_id, "accepted_answer", topic))


def on_question_escalated(session: Session, event: ReceivedEvent[QuestionEscalated]) -> None:
    data, batch = event.data, rows(session)
    question = batch.get(QuestionView, data.question_id) or batch.add(
        QuestionView,
        id=data.question_id,
        title=data.title,
        tags=data.tags,
        community_id=data.community_id,
        author_department_id=data.author_department_id,
        asked_at=data.asked_at,
    )
    question["escalated_at"] = data.escalated_at


def escalation_reads(event: ReceivedEvent[QuestionEscalated]) -> list[Key]:
    return [(QuestionView, event.data.question_id)]


def on_practice_shared(session: Session, event: ReceivedEvent[PracticeShared]) -> None:
    data = event.data
    rows(session).put(
        PracticeView,
        id=data.id,
        department_id=data.department_id,
        author_id=data.author_id,
        tags=data.tags,
    )


def practice_reads(event: ReceivedEvent[PracticeShared]) -> list[Key]:
    return [(PracticeView, event.data.id)]


def on_practice_adopted(session: Session, event: ReceivedEvent[PracticeAdopted]) -> None:
    data = event.data
    _interaction(
        session,
        event,
        "adoption",
        data.adopted_at,
        data.origin_department_id,
        data.adopting_department_id,
    )
    practice = rows(session).get(PracticeView, data.practice_id)
    if practice is not None:
        # The adoption is evidence of the author's expertise, on each of the practice's tags.
        _evidence(
            session,
            event.id,
            "practice_adopted",
            data.tags or practice["tags"],
            practice["author_id"],
            data.adopting_department_id,
            data.adopted_at,
        )


def adoption_reads(event: ReceivedEvent[PracticeAdopted]) -> list[Key]:
    data = event.data
    return [
        (PracticeView, data.practice_id),
        *_evidence_keys(event.id, "practice_adopted", data.tags),
    ]


def on_idea_proposed(session: Session, event: ReceivedEvent[IdeaProposed]) -> None:
    data = event.data
    if data.community_id is not None:
        _active(session, data.community_id, data.author_id, data.proposed_at or event.time)


def idea_reads(event: ReceivedEvent[IdeaProposed]) -> list[Key]:
    data = event.data
    if data.community_id is None:
        return []
    return [(CommunityActivity, (data.community_id, data.author_id))]


# listening.events


class MentionIngested(BaseModel):
    id: uuid.UUID
    community_id: uuid.UUID | None = None
    sentiment_score: float
    sentiment_label: str
    department_id: str | None = None
    published_at: datetime


class MentionRelabelled(BaseModel):
    id: uuid.UUID
    model_label: str
    human_label: str


class AlertRaised(BaseModel):
    id: uuid.UUID
    department_id: str | None = None


class AlertAcknowledged(BaseModel):
    id: uuid.UUID


class FaqAsked(BaseModel):
    ask_id: uuid.UUID
    answered: bool
    department_id: str | None = None
    asked_at: datetime


class FaqUnanswered(BaseModel):
    ask_id: uuid.UUID
    department_id: str
    asked_at: datetime


class FaqFeedback(BaseModel):
    ask_id: uuid.UUID
    helpful: bool


def on_mention_ingested(session: Session, event: ReceivedEvent[MentionIngested]) -> None:
    data = event.data
    rows(session).put(
        MentionView,
        id=data.id,
        published_at=data.published_at,
        department_id=data.department_id,
        community_id=data.community_id,
        score=data.sentiment_score,
        label=data.sentiment_label,
    )


def mention_reads(event: ReceivedEvent[MentionIngested]) -> list[Key]:
    return [(MentionView, event.data.id)]


def on_mention_relabelled(session: Session, event: ReceivedEvent[MentionRelabelled]) -> None:
    rows(session).put(MentionCorrection, id=event.data.id, label=event.data.human_label)


def correction_reads(event: ReceivedEvent[MentionRelabelled]) -> list[Key]:
    return [(MentionCorrection, event.data.id)]


def on_alert_raised(session: Session, event: ReceivedEvent[AlertRaised]) -> None:
    data = event.data
    rows(session).put(AlertView, id=data.id, department_id=data.department_id, raised_at=event.time)


def on_alert_acknowledged(session: Session, event: ReceivedEvent[AlertAcknowledged]) -> None:
    alert = rows(session).get(AlertView, event.data.id)
    if alert is not None:
        alert["acknowledged_at"] = event.time


def alert_reads(event: ReceivedEvent[AlertRaised] | ReceivedEvent[AlertAcknowledged]) -> list[Key]:
    return [(AlertView, event.data.id)]


def on_faq_asked(session: Session, event: ReceivedEvent[FaqAsked]) -> None:
    data = event.data
    rows(session).put(
        FaqAskView,
        ask_id=data.ask_id,
        answered=data.answered,
        department_id=data.department_id,
        asked_at=data.asked_at,
    )


def on_faq_unanswered(session: Session, event: ReceivedEvent[FaqUnanswered]) -> None:
    data = event.data
    # The customers asked, the department it was escalated to answers them.
    _interaction(session, event, "faq_escalation", data.asked_at, data.department_id, EXTERNAL)


def on_faq_feedback(session: Session, event: ReceivedEvent[FaqFeedback]) -> None:
    ask = rows(session).get(FaqAskView, event.data.ask_id)
    if ask is not None:
        ask["helpful"] = event.data.helpful


def ask_reads(event: ReceivedEvent[FaqAsked] | ReceivedEvent[FaqFeedback]) -> list[Key]:
    return [(FaqAskView, event.data.ask_id)]


# Helpers


def _known_department(session: Session, department_id: str) -> None:
    batch = rows(session)
    if batch.get(DepartmentView, department_id) is None:
        batch.add(DepartmentView, id=department_id)


def _active(session: Session, community_id: uuid.UUID, person_id: uuid.UUID, at: datetime) -> None:
    batch = rows(session)
    activity = batch.get(CommunityActivity, (community_id, person_id))
    if activity is None:
        batch.add(
            CommunityActivity, community_id=community_id, person_id=person_id, last_active_at=at
        )
    else:
        activity["last_active_at"] = max(activity["last_active_at"], at)


def _interaction(
    session: Session, event: ReceivedEvent, kind: str, at: datetime, helper: str, helped: str
) -> None:
    # New: keyed by the event, which is applied once.
    rows(session).add(
        Interaction,
        event_id=event.id,
        kind=kind,
        occurred_at=at,
        helper_department_id=helper,
        helped_department_id=helped,
    )


def _evidence(
    session: Session,
    source_id: uuid.UUID,
    kind: str,
    topics: list[str],
    person_id: uuid.UUID,
    helped_department_id: str | None,
    at: datetime,
) -> None:
    batch = rows(session)
    for topic in set(topics):
        batch.put(
            Evidence,
            source_id=source_id,
            kind=kind,
            topic=topic,
            person_id=person_id,
            helped_department_id=helped_department_id,
            occurred_at=at,
        )


def _evidence_keys(source_id: uuid.UUID, kind: str, topics: list[str]) -> list[Key]:
    return [(Evidence, (source_id, kind, topic)) for topic in set(topics)]


def no_reads(event: ReceivedEvent) -> list[Key]:
    """For handlers that only add rows keyed by their event (applied once)."""
    return []


HANDLERS: dict[str, Handler] = {
    "people.department.created.v1": Handler(
        DepartmentCreated, on_department_created, department_reads
    ),
    "people.person.registered.v1": Handler(PersonState, on_person_state, person_reads),
    "people.person.updated.v1": Handler(PersonState, on_person_state, person_reads),
    "people.person.deactivated.v1": Handler(
        PersonDeactivated, on_person_deactivated, deactivation_reads
    ),
    "people.person.skill_declared.v1": Handler(SkillDeclared, on_skill_declared, skill_reads),
    "people.person.skill_removed.v1": Handler(SkillRemoved, on_skill_removed, skill_reads),
    "communities.community.created.v1": Handler(
        CommunityState, on_community_state, community_reads
    ),
    "communities.community.updated.v1": Handler(
        CommunityState, on_community_state, community_reads
    ),
    "communities.community.archived.v1": Handler(
        CommunityArchived, on_community_archived, community_reads
    ),
    "communities.manager.appointed.v1": Handler(
        ManagerAppointed, on_manager_appointed, manager_reads
    ),
    "communities.manager.removed.v1": Handler(ManagerRemoved, on_manager_removed, manager_reads),
    "communities.member.joined.v1": Handler(MemberJoined, on_member_joined, member_reads),
    "communities.member.left.v1": Handler(MemberLeft, on_member_left, departure_reads),
    "collaboration.question.asked.v1": Handler(QuestionAsked, on_question_asked, question_reads),
    "collaboration.answer.posted.v1": Handler(AnswerPosted, on_answer_posted, answer_reads),
    "collaboration.answer.accepted.v1": Handler(
        AnswerAccepted, on_answer_accepted, acceptance_reads
    ),
    "collaboration.answer.unaccepted.v1": Handler(AnswerUnaccepted, on_answer_unaccepted, no_reads),
    "collaboration.question.escalated.v1": Handler(
        QuestionEscalated, on_question_escalated, escalation_reads
    ),
    "collaboration.practice.shared.v1": Handler(PracticeShared, on_practice_shared, practice_reads),
    "collaboration.practice.adopted.v1": Handler(
        PracticeAdopted, on_practice_adopted, adoption_reads
    ),
    "collaboration.idea.proposed.v1": Handler(IdeaProposed, on_idea_proposed, idea_reads),
    "listening.mention.ingested.v1": Handler(MentionIngested, on_mention_ingested, mention_reads),
    "listening.mention.relabelled.v1": Handler(
        MentionRelabelled, on_mention_relabelled, correction_reads
    ),
    "listening.alert.raised.v1": Handler(AlertRaised, on_alert_raised, alert_reads),
    "listening.alert.acknowledged.v1": Handler(
        AlertAcknowledged, on_alert_acknowledged, alert_reads
    ),
    "listening.faq.asked.v1": Handler(FaqAsked, on_faq_asked, ask_reads),
    "listening.faq.unanswered.v1": Handler(FaqUnanswered, on_faq_unanswered, no_reads),
    "listening.faq.feedback.v1": Handler(FaqFeedback, on_faq_feedback, ask_reads),
}
