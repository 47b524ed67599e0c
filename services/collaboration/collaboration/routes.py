"""The collaboration service's HTTP API (`/v1/...`): thin views over `collaboration.service`."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from collaboration import service
from collaboration.models import (
    Acceptance,
    AdoptionCreate,
    AdoptionPublic,
    AnswerCreate,
    AnswerPublic,
    AnswerVoteCreate,
    AnswerVotePublic,
    IdeaCreate,
    IdeaPublic,
    IdeaStatus,
    IdeaStatusChange,
    IdeaVoteCreate,
    IdeaVotePublic,
    PracticeCreate,
    PracticeDetail,
    PracticePublic,
    QuestionCreate,
    QuestionDetail,
    QuestionPublic,
    QuestionStatus,
)
from shared.auth import CurrentPrincipal
from shared.db import SessionDep
from shared.pagination import Cursor, Limit, Order, Page

router = APIRouter(prefix="/v1")

QuestionId = Annotated[uuid.UUID, Path(description="The question's id.")]
AnswerId = Annotated[uuid.UUID, Path(description="The answer's id.")]
PracticeId = Annotated[uuid.UUID, Path(description="The practice's id.")]
IdeaId = Annotated[uuid.UUID, Path(description="The idea's id.")]
TagFilter = Annotated[str | None, Query(max_length=40, description="Only items with this tag.")]
Search = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Words of the title or body, French or English; accents and case ignored.",
    ),
]
DepartmentFilter = Annotated[str | None, Query(max_length=40)]
# Who writes here is a person of the directory (`author_of`).
NOT_A_PERSON = "The caller is no person of the directory (a system client), or has left"
AUTHORS = {403: {"description": f"{NOT_A_PERSON}."}}


# Questions and answers


@router.post("/questions", status_code=201, tags=["questions"], responses=AUTHORS)
def ask_question(
    data: QuestionCreate, session: SessionDep, actor: CurrentPrincipal
) -> QuestionDetail:
    return service.question_detail(service.ask_question(session, data=data, actor=actor))


@router.get("/questions", tags=["questions"])
def list_questions(
    session: SessionDep,
    _: CurrentPrincipal,
    tag: TagFilter = None,
    status: Annotated[QuestionStatus | None, Query(description="Answered: has an answer.")] = None,
    department_id: Annotated[
        str | None, Query(max_length=40, description="The asker's department.")
    ] = None,
    community_id: uuid.UUID | None = None,
    q: Search = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    order: Order = "asc",
) -> Page[QuestionPublic]:
    return service.list_questions(
        session,
        tag=tag,
        status=status,
        department_id=department_id,
        community_id=community_id,
        q=q,
        limit=limit,
        cursor=cursor,
        order=order,
    )


@router.get("/questions/{question_id}", tags=["questions"])
def get_question(
    question_id: QuestionId, session: SessionDep, _: CurrentPrincipal
) -> QuestionDetail:
    return service.question_detail(service.get_question(session, question_id))


@router.post(
    "/questions/{question_id}/answers", status_code=201, tags=["questions"], responses=AUTHORS
)
def post_answer(
    question_id: QuestionId, data: AnswerCreate, session: SessionDep, actor: CurrentPrincipal
) -> AnswerPublic:
    answer = service.post_answer(session, question_id=question_id, data=data, actor=actor)
    return service.answer_public(answer)


@router.post(
    "/answers/{answer_id}/accept",
    tags=["questions"],
    responses={
        403: {
            "description": "Not the question's author, a manager of its community or the CCO "
            "(for a customer's question, its department)."
        }
    },
)
def accept_answer(
    answer_id: AnswerId,
    session: SessionDep,
    actor: CurrentPrincipal,
    _: Acceptance | None = None,
) -> AnswerPublic:
    """By the question's author or a manager of its community; replaces any accepted answer."""
    return service.answer_public(service.accept_answer(session, answer_id=answer_id, actor=actor))


@router.post(
    "/answers/{answer_id}/votes",
    status_code=201,
    tags=["questions"],
    responses={
        200: {"description": "The caller's vote was already there, or was changed."},
        403: {"description": f"The caller's own answer. Or: {NOT_A_PERSON.lower()}."},
    },
)
def vote_on_answer(
    answer_id: AnswerId,
    data: AnswerVoteCreate,
    session: SessionDep,
    actor: CurrentPrincipal,
    response: Response,
) -> AnswerVotePublic:
    """One vote per person, which they may change; not on their own answer."""
    vote, created = service.vote_on_answer(
        session, answer_id=answer_id, value=data.value, actor=actor
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return vote


# Practices


@router.post("/practices", status_code=201, tags=["practices"], responses=AUTHORS)
def share_practice(
    data: PracticeCreate, session: SessionDep, actor: CurrentPrincipal
) -> PracticeDetail:
    return service.practice_detail(service.share_practice(session, data=data, actor=actor))


@router.get("/practices", tags=["practices"])
def list_practices(
    session: SessionDep,
    _: CurrentPrincipal,
    tag: TagFilter = None,
    department_id: Annotated[
        str | None, Query(max_length=40, description="The department it comes from.")
    ] = None,
    q: Search = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    order: Order = "asc",
) -> Page[PracticePublic]:
    return service.list_practices(
        session, tag=tag, department_id=department_id, q=q, limit=limit, cursor=cursor, order=order
    )


@router.get("/practices/{practice_id}", tags=["practices"])
def get_practice(
    practice_id: PracticeId, session: SessionDep, _: CurrentPrincipal
) -> PracticeDetail:
    return service.practice_detail(service.get_practice(session, practice_id))


@router.post(
    "/practices/{practice_id}/adoptions",
    status_code=201,
    tags=["practices"],
    responses={
        **AUTHORS,
        409: {"description": "The department already adopted it."},
        422: {"description": "Unknown department, or the practice's own department."},
    },
)
def adopt_practice(
    practice_id: PracticeId, data: AdoptionCreate, session: SessionDep, actor: CurrentPrincipal
) -> AdoptionPublic:
    """Once per department; the department a practice comes from cannot adopt it (422)."""
    adoption = service.adopt_practice(session, practice_id=practice_id, data=data, actor=actor)
    return service.adoption_public(adoption)


# Ideas


@router.post("/ideas", status_code=201, tags=["ideas"], responses=AUTHORS)
def propose_idea(data: IdeaCreate, session: SessionDep, actor: CurrentPrincipal) -> IdeaPublic:
    return service.idea_public(service.propose_idea(session, data=data, actor=actor))


@router.get("/ideas", tags=["ideas"])
def list_ideas(
    session: SessionDep,
    _: CurrentPrincipal,
    status: IdeaStatus | None = None,
    tag: TagFilter = None,
    community_id: uuid.UUID | None = None,
    q: Search = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    order: Order = "asc",
) -> Page[IdeaPublic]:
    return service.list_ideas(
        session,
        status=status,
        tag=tag,
        community_id=community_id,
        q=q,
        limit=limit,
        cursor=cursor,
        order=order,
    )


@router.get("/ideas/{idea_id}", tags=["ideas"])
def get_idea(idea_id: IdeaId, session: SessionDep, _: CurrentPrincipal) -> IdeaPublic:
    return service.idea_public(service.get_idea(session, idea_id))


@router.post(
    "/ideas/{idea_id}/votes",
    status_code=201,
    tags=["ideas"],
    responses={**AUTHORS, 409: {"description": "The caller already voted for it."}},
)
def vote_for_idea(
    idea_id: IdeaId,
    session: SessionDep,
    actor: CurrentPrincipal,
    _: IdeaVoteCreate | None = None,
) -> IdeaVotePublic:
    return service.vote_for_idea(session, idea_id=idea_id, actor=actor)


@router.post(
    "/ideas/{idea_id}/status",
    tags=["ideas"],
    responses={
        403: {"description": "Not a community manager, a manager of its community or the CCO."},
        409: {"description": "Not a step of the workflow from the idea's status."},
    },
)
def change_idea_status(
    idea_id: IdeaId, data: IdeaStatusChange, session: SessionDep, actor: CurrentPrincipal
) -> IdeaPublic:
    """submitted → reviewing → accepted | rejected, accepted → implemented."""
    idea = service.change_idea_status(session, idea_id=idea_id, data=data, actor=actor)
    return service.idea_public(idea)
