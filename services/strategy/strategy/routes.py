"""The strategy service's HTTP API (`/v1/...`)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlmodel import Session

from shared.auth import CurrentPrincipal, Principal, Role, require_roles
from shared.db import REQUEST_CONCURRENCY, SessionDep, ended_in_a_worker_thread
from shared.errors import Conflict, NotFound
from shared.projection import ProjectionRebuild
from shared.timestamps import Timestamp
from strategy import service
from strategy.models import (
    CommunityHealth,
    Escalation,
    Experts,
    Lag,
    Matrix,
    Overview,
    ProgramCreate,
    ProgramPublic,
    RebuildJob,
    RebuildPublic,
    StaffingRisk,
)

router = APIRouter(prefix="/v1")

DepartmentQuery = Annotated[
    str | None,
    Query(max_length=40, description="One department's slice (a department lead's own)."),
]
From = Annotated[
    Timestamp | None, Query(alias="from", description="Start of the window (RFC 3339).")
]
To = Annotated[Timestamp | None, Query(alias="to", description="End of the window (RFC 3339).")]


async def _view_session(request: Request) -> AsyncIterator[Session]:
    async with ended_in_a_worker_thread(request.app.state.projection.transaction(False)) as session:
        yield session


# The projection, read-only; the limit keeps requests from starving the consumer of connections.
ViewDep = Annotated[
    Session, Depends(_view_session, scope="function", max_concurrency=REQUEST_CONCURRENCY)
]


@router.get(
    "/overview",
    tags=["view"],
    response_model=Overview,
    responses={
        304: {"description": "Not changed since the answer whose ETag was given."},
        404: {"description": "The department is not in the view."},
    },
)
def overview(
    request: Request,
    response: Response,
    session: SessionDep,
    view: ViewDep,
    _: CurrentPrincipal,
    department_id: DepartmentQuery = None,
    start: From = None,
    end: To = None,
) -> Overview | Response:
    """Everything the CCO's dashboard opens on. Asked again with the `ETag` it answered in
    `If-None-Match`, it answers 304 Not Modified while no event or program changed it."""
    settings = request.app.state.settings
    version = service.overview_version(
        session,
        view,
        slot=request.app.state.projection.active_slot,
        now=datetime.now(UTC),
        query=str(request.query_params),
    )
    headers = {"ETag": f'W/"{version}"', "Cache-Control": "private, no-cache"}
    if _matches(request.headers.get("if-none-match"), version):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return service.overview(
        session,
        view,
        settings=settings,
        window=service.Window.of(settings, start, end),
        department_id=department_id,
    )


@router.get("/matrix", tags=["view"])
def matrix(
    request: Request,
    view: ViewDep,
    _: CurrentPrincipal,
    department_id: DepartmentQuery = None,
    start: From = None,
    end: To = None,
) -> Matrix:
    window = service.Window.of(request.app.state.settings, start, end)
    return service.matrix(view, window=window, department_id=department_id)


@router.get("/experts", tags=["view"])
def experts(
    request: Request,
    view: ViewDep,
    _: CurrentPrincipal,
    topic: Annotated[str, Query(min_length=1, max_length=50, description="A skill or a tag.")],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Experts:
    return service.experts(view, topic=topic, settings=request.app.state.settings, limit=limit)


@router.get("/escalations", tags=["view"])
def escalations(
    request: Request,
    view: ViewDep,
    _: CurrentPrincipal,
    department_id: DepartmentQuery = None,
) -> list[Escalation]:
    return service.escalations(
        view, settings=request.app.state.settings, department_id=department_id
    )


@router.get("/communities/health", tags=["view"])
def communities_health(
    view: ViewDep, _: CurrentPrincipal, department_id: DepartmentQuery = None
) -> list[CommunityHealth]:
    return service.communities_health(view, department_id=department_id)


@router.get("/staffing", tags=["view"])
def staffing(
    request: Request,
    view: ViewDep,
    _: CurrentPrincipal,
    department_id: DepartmentQuery = None,
) -> list[StaffingRisk]:
    return service.staffing(view, settings=request.app.state.settings, department_id=department_id)


@router.post("/programs", status_code=201, tags=["programs"])
def create_program(
    request: Request,
    data: ProgramCreate,
    session: SessionDep,
    view: ViewDep,
    actor: Annotated[Principal, Depends(require_roles(Role.CCO))],
) -> ProgramPublic:
    return service.create_program(
        session, view, data=data, actor=actor, settings=request.app.state.settings
    )


@router.get("/programs", tags=["programs"])
def programs(
    request: Request, session: SessionDep, view: ViewDep, _: CurrentPrincipal
) -> list[ProgramPublic]:
    return service.programs(session, view, settings=request.app.state.settings)


@router.get("/programs/{program_id}", tags=["programs"])
def program(
    request: Request, program_id: uuid.UUID, session: SessionDep, view: ViewDep, _: CurrentPrincipal
) -> ProgramPublic:
    return service.program(
        session, view, program_id=program_id, settings=request.app.state.settings
    )


@router.post(
    "/admin/rebuild",
    status_code=202,
    tags=["operations"],
    responses={409: {"description": "A rebuild is running already."}},
)
async def rebuild(
    request: Request, actor: Annotated[Principal, Depends(require_roles(Role.CCO))]
) -> JSONResponse:
    """Rebuilds the whole view from the beginning of the topics; it keeps serving meanwhile."""
    state = request.app.state
    if state.rebuild is not None and not state.rebuild[1].done():
        raise Conflict("A rebuild is already running.", rebuild_id=str(state.rebuild_id))
    now = datetime.now(UTC)
    job = RebuildJob(status="running", requested_by=actor.subject, started_at=now, updated_at=now)
    await asyncio.to_thread(_save, state.database, job)
    worker = ProjectionRebuild(state.projection, state.consumer, _reporter(state.database, job.id))
    state.rebuild = (worker, asyncio.create_task(worker.run(), name="projection-rebuild"))
    state.rebuild_id = job.id
    body = RebuildPublic.model_validate(job, from_attributes=True).model_dump(mode="json")
    return JSONResponse(body, status_code=202, headers={"Location": f"/v1/admin/rebuild/{job.id}"})


@router.get("/admin/rebuild/{rebuild_id}", tags=["operations"])
def rebuild_status(
    rebuild_id: uuid.UUID,
    session: SessionDep,
    _: Annotated[Principal, Depends(require_roles(Role.CCO))],
) -> RebuildPublic:
    job = session.get(RebuildJob, rebuild_id)
    if job is None:
        raise NotFound(f"Rebuild {rebuild_id} does not exist.")
    return RebuildPublic.model_validate(job, from_attributes=True)


@router.get("/lag", tags=["operations"])
async def lag(request: Request, _: CurrentPrincipal) -> Lag:
    return await service.lag(request.app.state.consumer)


def _matches(if_none_match: str | None, version: str) -> bool:
    """Whether an `If-None-Match` header names this version (compared weakly, as RFC 9110 says)."""
    if if_none_match is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return f'"{version}"' in tags


def _save(database, job: RebuildJob) -> None:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        session.add(job)


def _reporter(database, job_id: uuid.UUID):  # type: ignore[no-untyped-def]
    def report(status: str, progress: float, error: str | None) -> None:
        with database.transaction() as session:
            job = session.get(RebuildJob, job_id)
            if job is None:
                return
            now = datetime.now(UTC)
            job.status, job.progress, job.error, job.updated_at = status, progress, error, now
            if status in ("done", "failed"):
                job.finished_at = now
            session.add(job)

    return report
