"""The communities service's HTTP API (`/v1/...`): thin views over `communities.service`."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from communities import service
from communities.models import (
    DEPARTMENT_ID,
    ONE_LINE,
    TOPIC,
    CommunityCreate,
    CommunityPublic,
    CommunityUpdate,
    Kind,
    ManagerAppointment,
    ManagerPublic,
    MemberPublic,
    MembershipCreate,
    Purpose,
)
from shared.auth import CurrentPrincipal, Principal, Role, require_roles
from shared.db import SessionDep
from shared.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/v1", tags=["communities"])

CommunityId = Annotated[uuid.UUID, Path(description="The community's id.")]
MayCreate = Annotated[Principal, Depends(require_roles(Role.COMMUNITY_MANAGER))]
NOT_RUNNING_IT = {403: {"description": "Not the CCO, nor a manager of this community."}}
ARCHIVED = "the community is archived"


@router.post(
    "/communities",
    status_code=201,
    responses={409: {"description": "An open community has this name already."}},
)
def create_community(
    data: CommunityCreate, session: SessionDep, actor: MayCreate
) -> CommunityPublic:
    return service.to_public(service.create_community(session, data=data, actor=actor))


@router.get("/communities")
def list_communities(
    session: SessionDep,
    _: CurrentPrincipal,
    kind: Annotated[Kind | None, Query()] = None,
    purpose: Annotated[Purpose | None, Query()] = None,
    department_id: Annotated[
        str | None, Query(pattern=DEPARTMENT_ID, description="The owner department.")
    ] = None,
    topic: Annotated[str | None, Query(pattern=TOPIC)] = None,
    person_id: Annotated[
        uuid.UUID | None, Query(description="Communities this person belongs to or manages.")
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=100, pattern=ONE_LINE, description="Part of a name or description."),
    ] = None,
    include_archived: bool = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CommunityPublic]:
    return service.list_communities(
        session,
        kind=kind,
        purpose=purpose,
        department_id=department_id,
        topic=topic,
        person_id=person_id,
        q=q,
        include_archived=include_archived,
        limit=limit,
        cursor=cursor,
    )


@router.get("/communities/{community_id}")
def get_community(
    community_id: CommunityId, session: SessionDep, _: CurrentPrincipal
) -> CommunityPublic:
    return service.to_public(service.get_community(session, community_id))


@router.patch(
    "/communities/{community_id}",
    responses={
        **NOT_RUNNING_IT,
        409: {
            "description": f"{ARCHIVED.capitalize()}, the name is taken, or it has outside "
            "members and is made internal."
        },
    },
)
def update_community(
    community_id: CommunityId, data: CommunityUpdate, session: SessionDep, actor: CurrentPrincipal
) -> CommunityPublic:
    community = service.update_community(session, community_id=community_id, data=data, actor=actor)
    return service.to_public(community)


@router.post("/communities/{community_id}/archive", responses=NOT_RUNNING_IT)
def archive_community(
    community_id: CommunityId, session: SessionDep, actor: CurrentPrincipal
) -> CommunityPublic:
    community = service.archive_community(session, community_id=community_id, actor=actor)
    return service.to_public(community)


@router.get("/communities/{community_id}/managers", tags=["managers"])
def list_managers(
    community_id: CommunityId,
    session: SessionDep,
    _: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ManagerPublic]:
    return service.list_managers(session, community_id=community_id, limit=limit, cursor=cursor)


@router.post(
    "/communities/{community_id}/managers",
    status_code=201,
    tags=["managers"],
    responses={
        **NOT_RUNNING_IT,
        409: {"description": f"{ARCHIVED.capitalize()}, or the person manages it already."},
    },
)
def appoint_manager(
    community_id: CommunityId,
    data: ManagerAppointment,
    session: SessionDep,
    actor: CurrentPrincipal,
) -> ManagerPublic:
    manager = service.appoint_manager(
        session, community_id=community_id, person_id=data.person_id, actor=actor
    )
    return service.manager_public(manager)


@router.delete(
    "/communities/{community_id}/managers/{person_id}",
    status_code=204,
    tags=["managers"],
    responses=NOT_RUNNING_IT,
)
def remove_manager(
    community_id: CommunityId,
    person_id: Annotated[uuid.UUID, Path(description="The manager's person id.")],
    session: SessionDep,
    actor: CurrentPrincipal,
) -> Response:
    service.remove_manager(session, community_id=community_id, person_id=person_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/communities/{community_id}/members", tags=["members"])
def list_members(
    community_id: CommunityId,
    session: SessionDep,
    _: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[MemberPublic]:
    return service.list_members(session, community_id=community_id, limit=limit, cursor=cursor)


@router.post(
    "/communities/{community_id}/members",
    status_code=201,
    tags=["members"],
    responses={
        403: {
            "description": "Not the CCO, nor a manager of this community (people join "
            "internal communities themselves)."
        },
        409: {"description": f"{ARCHIVED.capitalize()}, or this member is in it already."},
    },
)
def add_member(
    community_id: CommunityId,
    data: MembershipCreate,
    session: SessionDep,
    actor: CurrentPrincipal,
) -> MemberPublic:
    membership = service.add_member(session, community_id=community_id, data=data, actor=actor)
    return service.member_public(membership)


@router.delete(
    "/communities/{community_id}/members/{member_id}",
    status_code=204,
    tags=["members"],
    responses={403: {"description": "Not the CCO, a manager of it, nor the member leaving."}},
)
def remove_member(
    community_id: CommunityId,
    member_id: Annotated[uuid.UUID, Path(description="The membership's id.")],
    session: SessionDep,
    actor: CurrentPrincipal,
) -> Response:
    service.remove_member(session, community_id=community_id, member_id=member_id, actor=actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
