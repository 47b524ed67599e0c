"""The people service's HTTP API (`/v1/...`): thin views over `people.service`."""

import csv
import uuid
from typing import Annotated, NoReturn

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from people import service
from people.models import (
    DepartmentCreate,
    DepartmentPublic,
    ImportReport,
    PersonCreate,
    PersonPublic,
    PersonUpdate,
    RoleGrantCreate,
    RoleGrantPublic,
    SkillLevel,
    SkillName,
    SkillSet,
)
from shared.auth import CurrentPrincipal, Role, require_roles
from shared.db import SessionDep
from shared.errors import Unprocessable, UnsupportedMediaType
from shared.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/v1")

CCO_ONLY = Depends(require_roles(Role.CCO))
CCO_OR_SYSTEM = Depends(require_roles(Role.SYSTEM))
PersonId = Annotated[uuid.UUID, Path(description="The person's id.")]
CSV_TYPES = ("text/csv", "application/csv", "text/plain")


@router.post(
    "/departments",
    status_code=201,
    dependencies=[CCO_ONLY],
    tags=["departments"],
    responses={409: {"description": "A department has this id already."}},
)
def create_department(data: DepartmentCreate, session: SessionDep) -> DepartmentPublic:
    return DepartmentPublic.model_validate(service.create_department(session, data=data))


@router.get("/departments", tags=["departments"])
def list_departments(
    session: SessionDep, _: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> Page[DepartmentPublic]:
    return service.list_departments(session, limit=limit, cursor=cursor)


@router.post(
    "/people",
    status_code=201,
    dependencies=[CCO_OR_SYSTEM],
    tags=["people"],
    responses={
        409: {"description": "A person has this email already."},
        422: {"description": "A value is invalid, or the department does not exist."},
    },
)
def register_person(data: PersonCreate, session: SessionDep) -> PersonPublic:
    return service.to_public(service.register_person(session, data=data))


@router.get("/people", tags=["people"])
def list_people(
    session: SessionDep,
    _: CurrentPrincipal,
    department_id: Annotated[str | None, Query(max_length=40)] = None,
    skill: Annotated[str | None, Query(max_length=50)] = None,
    role: Annotated[Role | None, Query()] = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
    q: Annotated[str | None, Query(max_length=100, description="Part of a name or email.")] = None,
    include_inactive: bool = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[PersonPublic]:
    return service.list_people(
        session,
        department_id=department_id,
        skill=skill,
        role=role,
        email=email,
        q=q,
        include_inactive=include_inactive,
        limit=limit,
        cursor=cursor,
    )


@router.post(
    "/people/import",
    dependencies=[CCO_OR_SYSTEM],
    tags=["people"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "An HR export with the header "
            + ",".join(service.IMPORT_COLUMNS)
            + "; skills as `python:4;sql:3`.",
        }
    },
)
async def import_people(request: Request, session: SessionDep) -> ImportReport:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in CSV_TYPES:
        raise UnsupportedMediaType("Send the HR export as text/csv.")
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Unprocessable("The file is not UTF-8 text.") from error
    settings = request.app.state.settings
    try:
        return await run_in_threadpool(
            service.import_people, session, text=text, max_rows=settings.import_max_rows
        )
    except csv.Error as error:  # a field over the reader's limit, say: nothing is kept
        raise Unprocessable(f"The file cannot be read as CSV: {error}.") from error


@router.api_route(
    "/people/import",
    methods=["GET", "PATCH", "DELETE"],
    include_in_schema=False,
    response_model=None,
)
def not_a_person() -> NoReturn:
    """`import` is the HR import, never a person's id: other methods than POST are refused."""
    raise HTTPException(405, "The HR import takes POST only.", headers={"Allow": "POST"})


@router.get("/people/{person_id}", tags=["people"])
def get_person(person_id: PersonId, session: SessionDep, _: CurrentPrincipal) -> PersonPublic:
    return service.to_public(service.get_person(session, person_id))


@router.patch(
    "/people/{person_id}",
    tags=["people"],
    responses={
        403: {
            "description": "Not the person themselves, the CCO or an HR system; or a field "
            "people may not change themselves."
        },
        409: {"description": "The person has left the company, or the email is taken."},
    },
)
def update_person(
    person_id: PersonId, data: PersonUpdate, session: SessionDep, actor: CurrentPrincipal
) -> PersonPublic:
    person = service.update_person(session, person_id=person_id, data=data, actor=actor)
    return service.to_public(person)


@router.delete(
    "/people/{person_id}", status_code=204, dependencies=[CCO_OR_SYSTEM], tags=["people"]
)
def deactivate_person(person_id: PersonId, session: SessionDep) -> Response:
    service.deactivate_person(session, person_id=person_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/people/{person_id}/skills/{skill}",
    tags=["skills"],
    responses={
        403: {"description": "Not the person themselves, the CCO or an HR system."},
        409: {"description": "The person has left the company."},
    },
)
def set_skill(
    person_id: PersonId,
    skill: Annotated[SkillName, Path()],
    data: SkillSet,
    session: SessionDep,
    actor: CurrentPrincipal,
) -> SkillLevel:
    return service.set_skill(
        session, person_id=person_id, skill=skill, level=data.level, actor=actor
    )


@router.delete(
    "/people/{person_id}/skills/{skill}",
    status_code=204,
    tags=["skills"],
    responses={
        403: {"description": "Not the person themselves, the CCO or an HR system."},
        404: {"description": "No such person, or they do not declare this skill."},
        409: {"description": "The person has left the company."},
    },
)
def remove_skill(
    person_id: PersonId,
    skill: Annotated[SkillName, Path()],
    session: SessionDep,
    actor: CurrentPrincipal,
) -> Response:
    service.remove_skill(session, person_id=person_id, skill=skill, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/people/{person_id}/roles",
    status_code=201,
    dependencies=[CCO_ONLY],
    tags=["roles"],
    responses={409: {"description": "The person left, or already holds the role there."}},
)
def grant_role(person_id: PersonId, data: RoleGrantCreate, session: SessionDep) -> RoleGrantPublic:
    grant = service.grant_role(session, person_id=person_id, data=data)
    return RoleGrantPublic.model_validate(grant, from_attributes=True)


@router.delete(
    "/people/{person_id}/roles/{role}", status_code=204, dependencies=[CCO_ONLY], tags=["roles"]
)
def revoke_role(
    person_id: PersonId,
    role: Annotated[str, Path(max_length=40)],
    session: SessionDep,
    scope: Annotated[str | None, Query(max_length=64, description="Only this scope.")] = None,
) -> Response:
    service.revoke_role(session, person_id=person_id, role=role, scope=scope)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
