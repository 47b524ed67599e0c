"""The collaboration service's rules. Functions add rows and outbox events to the session; the
request's session (or the consumer's, or a job's) commits them together.

The author of anything is the caller; their department is read from the local copy of the
directory (people.events), or from their token while that copy has not caught up.
`at` backdates a record: the demo seed spreads its history over past weeks.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, false, select
from sqlalchemy.orm import selectinload
from sqlmodel import Session

from collaboration import events, search
from collaboration.models import (
    IDEA_TRANSITIONS,
    Adoption,
    AdoptionCreate,
    AdoptionPublic,
    Answer,
    AnswerCreate,
    AnswerPublic,
    AnswerVote,
    AnswerVotePublic,
    Community,
    CommunityManager,
    Department,
    Idea,
    IdeaCreate,
    IdeaPublic,
    IdeaStatusChange,
    IdeaTag,
    IdeaVote,
    IdeaVotePublic,
    Person,
    Practice,
    PracticeCreate,
    PracticeDetail,
    PracticePublic,
    PracticeTag,
    Question,
    QuestionCreate,
    QuestionDetail,
    QuestionPublic,
    QuestionTag,
    SearchTerm,
    new_id,
)
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from shared.outbox import enqueue
from shared.pagination import Page, paginate

FAQ_TAG = "customer-faq"
# Overdue questions escalated per run of the SLA job; the rest wait for the next run.
ESCALATION_BATCH = 500


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Author:
    id: uuid.UUID
    department_id: str


def author_of(session: Session, actor: Principal) -> Author:
    """The caller as the author of what they write, with their department."""
    try:
        person_id = uuid.UUID(actor.subject)
    except ValueError:
        raise Forbidden("Only people of the directory may write here.") from None
    person = session.get(Person, person_id)
    if person is not None:
        if not person.active:
            raise Forbidden("This person has left the company.")
        return Author(person.id, person.department_id)
    if actor.department:
        return Author(person_id, actor.department)
    raise Forbidden(
        "Your department is not known here yet (the directory is still arriving); try again."
    )


def _require_community(session: Session, community_id: uuid.UUID) -> None:
    community = session.get(Community, community_id)
    if community is None or community.archived:
        state = "is not known" if community is None else "is archived"
        raise Unprocessable(
            f"Community {community_id} {state}.",
            errors=[{"field": "community_id", "message": f"the community {state}"}],
        )


def _require_department(session: Session, department_id: str) -> None:
    if session.get(Department, department_id) is None:
        raise Unprocessable(
            f"Department {department_id!r} is not known.",
            errors=[{"field": "department_id", "message": "unknown department"}],
        )


def _manages(session: Session, community_id: uuid.UUID | None, person_id: uuid.UUID) -> bool:
    return (
        community_id is not None
        and session.get(CommunityManager, (community_id, person_id)) is not None
    )


def _index(session: Session, kind: str, entity_id: uuid.UUID, *texts: str) -> None:
    session.add_all(
        SearchTerm(kind=kind, term=term, entity_id=entity_id)
        for term in search.document_forms(*texts)
    )


def _matching(kind: str, entity_id: ColumnElement[uuid.UUID], q: str) -> ColumnElement[bool]:
    """Rows holding, for each word of `q`, one of its forms."""
    groups = search.query_forms(q)
    if not groups:
        return false()
    return and_(
        *(
            entity_id.in_(
                select(SearchTerm.entity_id).where(
                    SearchTerm.kind == kind, SearchTerm.term.in_(sorted(group))
                )
            )
            for group in groups
        )
    )


def _tags(rows: list) -> list[str]:
    return sorted(row.tag for row in rows)


# Questions


def ask_question(
    session: Session, *, data: QuestionCreate, actor: Principal, at: datetime | None = None
) -> Question:
    author = author_of(session, actor)
    if data.community_id is not None:
        _require_community(session, data.community_id)
    asked_at = at or _now()
    question = Question(
        id=new_id(at),
        title=data.title,
        body=data.body,
        community_id=data.community_id,
        author_id=author.id,
        author_department_id=author.department_id,
        source="internal",
        asked_at=asked_at,
        tags=[QuestionTag(tag=tag) for tag in data.tags],
    )
    return _record_question(session, question)


def question_from_faq(
    session: Session,
    *,
    ask_id: str,
    text: str,
    department_id: str | None,
    asked_at: datetime,
) -> Question | None:
    """A customer's ask that the FAQ could not answer, as a question for its department."""
    if session.scalar(select(Question.id).where(Question.faq_ask_id == ask_id)) is not None:
        return None
    text = " ".join(text.split())
    title = text if len(text) <= 200 else text[:199].rsplit(" ", 1)[0] + "…"
    question = Question(
        id=new_id(),
        title=title,
        body=text[:20_000],
        author_id=None,
        author_department_id=department_id,
        source="customer-faq",
        faq_ask_id=ask_id,
        asked_at=asked_at,
        tags=[QuestionTag(tag=FAQ_TAG)],
    )
    return _record_question(session, question)


def _record_question(session: Session, question: Question) -> Question:
    session.add(question)
    _index(session, "question", question.id, question.title, question.body)
    session.flush()
    enqueue(
        session,
        events.QUESTION_ASKED,
        subject=str(question.id),
        data=events.QuestionAskedPayload(
            id=question.id,
            title=question.title,
            tags=_tags(question.tags),
            community_id=question.community_id,
            author_id=question.author_id,
            author_department_id=question.author_department_id,
            asked_at=question.asked_at,
            source=question.source,
            faq_ask_id=question.faq_ask_id,
        ),
    )
    return question


def get_question(session: Session, question_id: uuid.UUID, *, for_update: bool = False) -> Question:
    question = session.get(
        Question,
        question_id,
        options=[selectinload(Question.tags), selectinload(Question.answers)],
        with_for_update=for_update,
    )
    if question is None:
        raise NotFound(f"Question {question_id} does not exist.")
    return question


def list_questions(
    session: Session,
    *,
    tag: str | None,
    status: str | None,
    department_id: str | None,
    community_id: uuid.UUID | None,
    q: str | None,
    limit: int,
    cursor: str | None,
    order: str = "asc",
) -> Page[QuestionPublic]:
    query = select(Question).options(selectinload(Question.tags))
    if tag:
        query = query.where(
            exists().where(
                QuestionTag.question_id == Question.id, QuestionTag.tag == tag.strip().lower()
            )
        )
    if status == "open":
        query = query.where(Question.answer_count == 0)
    elif status == "answered":
        query = query.where(Question.answer_count > 0)
    if department_id:
        query = query.where(Question.author_department_id == department_id)
    if community_id:
        query = query.where(Question.community_id == community_id)
    if q and q.strip():
        query = query.where(_matching("question", Question.id, q))
    return paginate(
        session,
        query,
        key=Question.id,
        limit=limit,
        cursor=cursor,
        to_item=question_public,
        order=order,
    )


def question_public(question: Question) -> QuestionPublic:
    return QuestionPublic.model_validate(
        {
            **question.model_dump(),
            "tags": _tags(question.tags),
            "status": "answered" if question.answer_count else "open",
        }
    )


def question_detail(question: Question) -> QuestionDetail:
    return QuestionDetail.model_validate(
        {
            **question_public(question).model_dump(),
            "answers": [answer_public(answer) for answer in question.answers],
        }
    )


# Answers


def post_answer(
    session: Session,
    *,
    question_id: uuid.UUID,
    data: AnswerCreate,
    actor: Principal,
    at: datetime | None = None,
) -> Answer:
    question = get_question(session, question_id, for_update=True)
    author = author_of(session, actor)
    answer = Answer(
        id=new_id(at),
        question_id=question.id,
        body=data.body,
        author_id=author.id,
        author_department_id=author.department_id,
        posted_at=at or _now(),
    )
    first_answer = question.answer_count == 0
    question.answer_count += 1
    session.add_all([answer, question])
    session.flush()
    enqueue(
        session,
        events.ANSWER_POSTED,
        subject=str(question.id),
        data=events.AnswerPostedPayload(
            id=answer.id,
            question_id=question.id,
            author_id=answer.author_id,
            author_department_id=answer.author_department_id,
            question_author_id=question.author_id,
            question_author_department_id=question.author_department_id,
            tags=_tags(question.tags),
            community_id=question.community_id,
            question_asked_at=question.asked_at,
            posted_at=answer.posted_at,
            first_answer=first_answer,
        ),
    )
    return answer


def _get_answer(session: Session, answer_id: uuid.UUID) -> Answer:
    answer = session.get(Answer, answer_id, with_for_update=True)
    if answer is None:
        raise NotFound(f"Answer {answer_id} does not exist.")
    return answer


def accept_answer(
    session: Session, *, answer_id: uuid.UUID, actor: Principal, at: datetime | None = None
) -> Answer:
    """Accepts the answer as its question's one accepted answer, in place of any other."""
    answer = _get_answer(session, answer_id)
    question = get_question(session, answer.question_id, for_update=True)
    accepter = author_of(session, actor)
    _ensure_may_accept(session, question, actor, accepter)
    if question.accepted_answer_id == answer.id:
        return answer
    now = at or _now()
    tags = _tags(question.tags)
    if question.accepted_answer_id is not None:
        replaced = _get_answer(session, question.accepted_answer_id)
        replaced.accepted_at = None
        session.add(replaced)
        enqueue(
            session,
            events.ANSWER_UNACCEPTED,
            subject=str(question.id),
            data=events.AnswerUnacceptedPayload(
                answer_id=replaced.id,
                question_id=question.id,
                author_id=replaced.author_id,
                author_department_id=replaced.author_department_id,
                question_author_department_id=question.author_department_id,
                tags=tags,
                community_id=question.community_id,
                unaccepted_by=accepter.id,
                unaccepted_at=now,
                replaced_by_answer_id=answer.id,
            ),
        )
    replaces = question.accepted_answer_id
    answer.accepted_at = now
    question.accepted_answer_id = answer.id
    session.add_all([answer, question])
    enqueue(
        session,
        events.ANSWER_ACCEPTED,
        subject=str(question.id),
        data=events.AnswerAcceptedPayload(
            answer_id=answer.id,
            question_id=question.id,
            author_id=answer.author_id,
            author_department_id=answer.author_department_id,
            question_author_id=question.author_id,
            question_author_department_id=question.author_department_id,
            tags=tags,
            community_id=question.community_id,
            accepted_by=accepter.id,
            accepted_at=now,
            replaces_answer_id=replaces,
        ),
    )
    return answer


def _ensure_may_accept(
    session: Session, question: Question, actor: Principal, accepter: Author
) -> None:
    if actor.has_any(Role.CCO):
        return
    if question.author_id is not None and question.author_id == accepter.id:
        return
    # A customer cannot accept: the department their ask was routed to stands in for them.
    if question.author_id is None and accepter.department_id == question.author_department_id:
        return
    if _manages(session, question.community_id, accepter.id):
        return
    raise Forbidden(
        "Only the question's author or a manager of its community may accept an answer."
    )


def vote_on_answer(
    session: Session,
    *,
    answer_id: uuid.UUID,
    value: int,
    actor: Principal,
    at: datetime | None = None,
) -> tuple[AnswerVotePublic, bool]:
    """Records the caller's vote, or changes it; says whether the vote is a new one."""
    answer = _get_answer(session, answer_id)
    voter = author_of(session, actor)
    if answer.author_id == voter.id:
        raise Forbidden("You cannot vote on your own answer.")
    vote = session.get(AnswerVote, (answer.id, voter.id))
    previous = vote.value if vote is not None else None
    if previous == value:
        return _vote_public(answer, voter.id, value), False
    now = at or _now()
    if vote is None:
        vote = AnswerVote(answer_id=answer.id, voter_id=voter.id, value=value, voted_at=now)
    vote.value, vote.voted_at = value, now
    answer.score += value - (previous or 0)
    session.add_all([vote, answer])
    question = get_question(session, answer.question_id)
    enqueue(
        session,
        events.ANSWER_VOTED,
        subject=str(answer.question_id),
        data=events.AnswerVotedPayload(
            answer_id=answer.id,
            question_id=answer.question_id,
            voter_id=voter.id,
            voter_department_id=voter.department_id,
            value=value,
            previous_value=previous,
            author_id=answer.author_id,
            author_department_id=answer.author_department_id,
            score=answer.score,
            tags=_tags(question.tags),
            voted_at=now,
        ),
    )
    return _vote_public(answer, voter.id, value), previous is None


def _vote_public(answer: Answer, voter_id: uuid.UUID, value: int) -> AnswerVotePublic:
    return AnswerVotePublic(answer_id=answer.id, voter_id=voter_id, value=value, score=answer.score)


def answer_public(answer: Answer) -> AnswerPublic:
    return AnswerPublic.model_validate(
        {**answer.model_dump(), "accepted": answer.accepted_at is not None}
    )


# The answer SLA


def overdue_questions_exist(session: Session, *, sla: timedelta) -> bool:
    return session.scalar(select(_overdue(sla, _now()).exists())) or False


def escalate_overdue_questions(
    session: Session, *, sla: timedelta, at: datetime | None = None
) -> int:
    """Escalates, once each, the questions still unanswered `sla` after they were asked."""
    now = at or _now()
    query = (
        _overdue(sla, now)
        .options(selectinload(Question.tags))
        .order_by(Question.asked_at)
        .limit(ESCALATION_BATCH)
        # Replicas sharing a PostgreSQL database escalate disjoint questions.
        .with_for_update(skip_locked=True)
    )
    questions = list(session.scalars(query))
    for question in questions:
        question.escalated_at = now
        session.add(question)
        enqueue(
            session,
            events.QUESTION_ESCALATED,
            subject=str(question.id),
            data=events.QuestionEscalatedPayload(
                question_id=question.id,
                title=question.title,
                tags=_tags(question.tags),
                community_id=question.community_id,
                author_id=question.author_id,
                author_department_id=question.author_department_id,
                source=question.source,
                asked_at=question.asked_at,
                escalated_at=now,
            ),
        )
    return len(questions)


def _overdue(sla: timedelta, now: datetime):  # type: ignore[no-untyped-def]
    return select(Question).where(
        Question.answer_count == 0,
        Question.escalated_at.is_(None),
        Question.asked_at <= now - sla,
    )


# Practices


def share_practice(
    session: Session, *, data: PracticeCreate, actor: Principal, at: datetime | None = None
) -> Practice:
    author = author_of(session, actor)
    if data.department_id is not None:
        _require_department(session, data.department_id)
    practice = Practice(
        id=new_id(at),
        title=data.title,
        body=data.body,
        department_id=data.department_id or author.department_id,
        author_id=author.id,
        author_department_id=author.department_id,
        shared_at=at or _now(),
        tags=[PracticeTag(tag=tag) for tag in data.tags],
    )
    session.add(practice)
    _index(session, "practice", practice.id, practice.title, practice.body)
    session.flush()
    enqueue(
        session,
        events.PRACTICE_SHARED,
        subject=str(practice.id),
        data=events.PracticeSharedPayload(
            id=practice.id,
            title=practice.title,
            tags=_tags(practice.tags),
            department_id=practice.department_id,
            author_id=practice.author_id,
            author_department_id=practice.author_department_id,
            shared_at=practice.shared_at,
        ),
    )
    return practice


def get_practice(session: Session, practice_id: uuid.UUID, *, for_update: bool = False) -> Practice:
    practice = session.get(
        Practice,
        practice_id,
        options=[selectinload(Practice.tags), selectinload(Practice.adoptions)],
        with_for_update=for_update,
    )
    if practice is None:
        raise NotFound(f"Practice {practice_id} does not exist.")
    return practice


def list_practices(
    session: Session,
    *,
    tag: str | None,
    department_id: str | None,
    q: str | None,
    limit: int,
    cursor: str | None,
    order: str = "asc",
) -> Page[PracticePublic]:
    query = select(Practice).options(selectinload(Practice.tags))
    if tag:
        query = query.where(
            exists().where(
                PracticeTag.practice_id == Practice.id, PracticeTag.tag == tag.strip().lower()
            )
        )
    if department_id:
        query = query.where(Practice.department_id == department_id)
    if q and q.strip():
        query = query.where(_matching("practice", Practice.id, q))
    return paginate(
        session,
        query,
        key=Practice.id,
        limit=limit,
        cursor=cursor,
        to_item=practice_public,
        order=order,
    )


def adopt_practice(
    session: Session,
    *,
    practice_id: uuid.UUID,
    data: AdoptionCreate,
    actor: Principal,
    at: datetime | None = None,
) -> Adoption:
    """Records that a department adopted the practice: once per department, never its own."""
    practice = get_practice(session, practice_id, for_update=True)
    adopter = author_of(session, actor)
    _require_department(session, data.department_id)
    if data.department_id == practice.department_id:
        raise Unprocessable(
            "A practice is adopted by other departments than the one it comes from.",
            errors=[{"field": "department_id", "message": "the practice's own department"}],
        )
    if any(adoption.department_id == data.department_id for adoption in practice.adoptions):
        raise Conflict(f"Department {data.department_id!r} already adopted this practice.")
    adoption = Adoption(
        id=new_id(at),
        practice_id=practice.id,
        department_id=data.department_id,
        note=data.note or None,
        adopted_by=adopter.id,
        adopted_by_department_id=adopter.department_id,
        adopted_at=at or _now(),
    )
    practice.adoption_count += 1
    session.add_all([adoption, practice])
    session.flush()
    enqueue(
        session,
        events.PRACTICE_ADOPTED,
        subject=str(practice.id),
        data=events.PracticeAdoptedPayload(
            id=adoption.id,
            practice_id=practice.id,
            adopting_department_id=adoption.department_id,
            origin_department_id=practice.department_id,
            adopted_by=adoption.adopted_by,
            adopted_by_department_id=adoption.adopted_by_department_id,
            note=adoption.note,
            tags=_tags(practice.tags),
            adopted_at=adoption.adopted_at,
        ),
    )
    return adoption


def practice_public(practice: Practice) -> PracticePublic:
    return PracticePublic.model_validate({**practice.model_dump(), "tags": _tags(practice.tags)})


def practice_detail(practice: Practice) -> PracticeDetail:
    return PracticeDetail.model_validate(
        {
            **practice_public(practice).model_dump(),
            "adoptions": [adoption_public(adoption) for adoption in practice.adoptions],
        }
    )


def adoption_public(adoption: Adoption) -> AdoptionPublic:
    return AdoptionPublic.model_validate(adoption, from_attributes=True)


# Ideas


def propose_idea(
    session: Session, *, data: IdeaCreate, actor: Principal, at: datetime | None = None
) -> Idea:
    author = author_of(session, actor)
    if data.community_id is not None:
        _require_community(session, data.community_id)
    proposed_at = at or _now()
    idea = Idea(
        id=new_id(at),
        title=data.title,
        body=data.body,
        community_id=data.community_id,
        author_id=author.id,
        author_department_id=author.department_id,
        status="submitted",
        proposed_at=proposed_at,
        status_changed_at=proposed_at,
        tags=[IdeaTag(tag=tag) for tag in data.tags],
    )
    session.add(idea)
    _index(session, "idea", idea.id, idea.title, idea.body)
    session.flush()
    enqueue(
        session,
        events.IDEA_PROPOSED,
        subject=str(idea.id),
        data=events.IdeaProposedPayload(
            id=idea.id,
            title=idea.title,
            tags=_tags(idea.tags),
            community_id=idea.community_id,
            author_id=idea.author_id,
            author_department_id=idea.author_department_id,
            status=idea.status,
            proposed_at=idea.proposed_at,
        ),
    )
    return idea


def get_idea(session: Session, idea_id: uuid.UUID, *, for_update: bool = False) -> Idea:
    idea = session.get(Idea, idea_id, options=[selectinload(Idea.tags)], with_for_update=for_update)
    if idea is None:
        raise NotFound(f"Idea {idea_id} does not exist.")
    return idea


def list_ideas(
    session: Session,
    *,
    status: str | None,
    tag: str | None,
    community_id: uuid.UUID | None,
    q: str | None,
    limit: int,
    cursor: str | None,
    order: str = "asc",
) -> Page[IdeaPublic]:
    query = select(Idea).options(selectinload(Idea.tags))
    if status:
        query = query.where(Idea.status == status)
    if tag:
        query = query.where(
            exists().where(IdeaTag.idea_id == Idea.id, IdeaTag.tag == tag.strip().lower())
        )
    if community_id:
        query = query.where(Idea.community_id == community_id)
    if q and q.strip():
        query = query.where(_matching("idea", Idea.id, q))
    return paginate(
        session, query, key=Idea.id, limit=limit, cursor=cursor, to_item=idea_public, order=order
    )


def vote_for_idea(
    session: Session, *, idea_id: uuid.UUID, actor: Principal, at: datetime | None = None
) -> IdeaVotePublic:
    idea = get_idea(session, idea_id, for_update=True)
    voter = author_of(session, actor)
    if session.get(IdeaVote, (idea.id, voter.id)) is not None:
        raise Conflict("You already voted for this idea.")
    now = at or _now()
    idea.vote_count += 1
    session.add_all([IdeaVote(idea_id=idea.id, voter_id=voter.id, voted_at=now), idea])
    enqueue(
        session,
        events.IDEA_VOTED,
        subject=str(idea.id),
        data=events.IdeaVotedPayload(
            idea_id=idea.id,
            voter_id=voter.id,
            voter_department_id=voter.department_id,
            author_id=idea.author_id,
            author_department_id=idea.author_department_id,
            community_id=idea.community_id,
            votes=idea.vote_count,
            voted_at=now,
        ),
    )
    return IdeaVotePublic(idea_id=idea.id, voter_id=voter.id, votes=idea.vote_count)


def change_idea_status(
    session: Session,
    *,
    idea_id: uuid.UUID,
    data: IdeaStatusChange,
    actor: Principal,
    at: datetime | None = None,
) -> Idea:
    """Moves the idea along its workflow; community managers (and the CCO) decide."""
    idea = get_idea(session, idea_id, for_update=True)
    changer = author_of(session, actor)
    if not (
        actor.has_any(Role.COMMUNITY_MANAGER) or _manages(session, idea.community_id, changer.id)
    ):
        raise Forbidden("Only community managers and the CCO may change an idea's status.")
    if data.status not in IDEA_TRANSITIONS[idea.status]:
        allowed = ", ".join(sorted(IDEA_TRANSITIONS[idea.status])) or "nothing else"
        raise Conflict(
            f"An idea {idea.status} cannot become {data.status}; it may become: {allowed}."
        )
    previous = idea.status
    idea.status = data.status
    if data.outcome is not None:
        idea.outcome = data.outcome or None
    idea.status_changed_at = at or _now()
    session.add(idea)
    enqueue(
        session,
        events.IDEA_STATUS_CHANGED,
        subject=str(idea.id),
        data=events.IdeaStatusChangedPayload(
            idea_id=idea.id,
            status=idea.status,
            previous_status=previous,
            outcome=idea.outcome,
            community_id=idea.community_id,
            changed_by=changer.id,
            author_id=idea.author_id,
            author_department_id=idea.author_department_id,
            tags=_tags(idea.tags),
            changed_at=idea.status_changed_at,
        ),
    )
    return idea


def idea_public(idea: Idea) -> IdeaPublic:
    return IdeaPublic.model_validate(
        {**idea.model_dump(), "tags": _tags(idea.tags), "votes": idea.vote_count}
    )
