"""The communities service's rules. Functions add rows and outbox events to the session; the
request's session commits them together."""

import uuid
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import exists, func, select
from sqlmodel import Session

from communities import events
from communities.models import (
    Community,
    CommunityCreate,
    CommunityManager,
    CommunityPublic,
    CommunityTopic,
    CommunityUpdate,
    KnownDepartment,
    KnownPerson,
    ManagerPublic,
    MemberPublic,
    Membership,
    MembershipCreate,
)
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from shared.outbox import enqueue
from shared.pagination import Page, paginate

LeaveReason = Literal["left", "removed", "left_company"]


def _now() -> datetime:
    return datetime.now(UTC)


# Communities


def create_community(session: Session, *, data: CommunityCreate, actor: Principal) -> Community:
    """A community manager who creates a community becomes its first manager."""
    _require_department(session, data.owner_department_id)
    _ensure_name_free(session, data.name)
    now = _now()
    community = Community(
        **data.model_dump(exclude={"topics"}),
        created_by=actor.subject,
        created_at=now,
        updated_at=now,
    )
    community.topic_rows = [CommunityTopic(topic=topic) for topic in data.topics]
    session.add(community)
    session.flush()
    enqueue(session, events.COMMUNITY_CREATED, subject=str(community.id), data=_payload(community))
    if Role.COMMUNITY_MANAGER in actor.roles:
        creator_id = _as_person_id(actor.subject)
        creator = session.get(KnownPerson, creator_id) if creator_id else None
        if creator is not None and creator.active:
            _appoint(session, community, creator, actor)
    return community


def get_community(session: Session, community_id: uuid.UUID) -> Community:
    community = session.get(Community, community_id)
    if community is None:
        raise NotFound(f"Community {community_id} does not exist.")
    return community


def list_communities(
    session: Session,
    *,
    kind: str | None,
    purpose: str | None,
    department_id: str | None,
    topic: str | None,
    person_id: uuid.UUID | None,
    q: str | None,
    include_archived: bool,
    limit: int,
    cursor: str | None,
) -> Page[CommunityPublic]:
    query = select(Community)
    if not include_archived:
        query = query.where(~Community.archived)
    if kind:
        query = query.where(Community.kind == kind)
    if purpose:
        query = query.where(Community.purpose == purpose)
    if department_id:
        query = query.where(Community.owner_department_id == department_id)
    if topic:
        query = query.where(
            exists().where(
                CommunityTopic.community_id == Community.id,
                CommunityTopic.topic == topic.strip().lower(),
            )
        )
    if person_id:
        query = query.where(
            exists().where(
                Membership.community_id == Community.id, Membership.person_id == person_id
            )
            | exists().where(
                CommunityManager.community_id == Community.id,
                CommunityManager.person_id == person_id,
            )
        )
    if q:
        needle = q.strip().lower()
        query = query.where(
            func.lower(Community.name).contains(needle, autoescape=True)
            | func.lower(Community.description).contains(needle, autoescape=True)
        )
    return paginate(session, query, key=Community.id, limit=limit, cursor=cursor, to_item=to_public)


def update_community(
    session: Session, *, community_id: uuid.UUID, data: CommunityUpdate, actor: Principal
) -> Community:
    community = get_community(session, community_id)
    _ensure_may_run(session, community, actor)
    _ensure_open(community)
    changes = data.model_dump(exclude_unset=True)
    emptied = sorted(f for f, value in changes.items() if value is None and f != "description")
    if emptied:
        raise Unprocessable(
            f"{', '.join(emptied)} cannot be emptied.",
            errors=[{"field": f, "message": "cannot be emptied"} for f in emptied],
        )
    if "owner_department_id" in changes:
        _require_department(session, changes["owner_department_id"])
    if "name" in changes:
        _ensure_name_free(session, changes["name"], other_than=community.id)
    if changes.get("kind") == "internal" and _has_outside_members(session, community.id):
        raise Conflict(
            "This community has outside members (handles); remove them before making it internal."
        )
    current = _payload(community).model_dump()
    changed = sorted(f for f, value in changes.items() if current[f] != value)
    if not changed:
        return community
    previous_owner = community.owner_department_id
    for field in changed:
        if field == "topics":
            _replace_topics(community, changes["topics"])
        else:
            setattr(community, field, changes[field])
    community.updated_at = _now()
    session.add(community)
    session.flush()
    enqueue(
        session,
        events.COMMUNITY_UPDATED,
        subject=str(community.id),
        data=events.CommunityUpdatedPayload(
            **_payload(community).model_dump(),
            changed=changed,
            previous_owner_department_id=previous_owner,
        ),
    )
    return community


def archive_community(session: Session, *, community_id: uuid.UUID, actor: Principal) -> Community:
    """Communities are archived rather than deleted; archiving twice changes nothing."""
    community = get_community(session, community_id)
    _ensure_may_run(session, community, actor)
    if community.archived:
        return community
    community.archived = True
    community.archived_at = community.updated_at = _now()
    session.add(community)
    enqueue(
        session,
        events.COMMUNITY_ARCHIVED,
        subject=str(community.id),
        data=events.CommunityArchivedPayload(
            id=community.id,
            owner_department_id=community.owner_department_id,
            archived_at=community.archived_at,
        ),
    )
    return community


# Managers


def appoint_manager(
    session: Session, *, community_id: uuid.UUID, person_id: uuid.UUID, actor: Principal
) -> CommunityManager:
    community = get_community(session, community_id)
    _ensure_may_run(session, community, actor)
    _ensure_open(community)
    person = _require_active_person(session, person_id)
    if session.get(CommunityManager, (community.id, person.id)) is not None:
        raise Conflict(f"{person.name} already manages this community.")
    return _appoint(session, community, person, actor)


def remove_manager(
    session: Session, *, community_id: uuid.UUID, person_id: uuid.UUID, actor: Principal
) -> None:
    community = get_community(session, community_id)
    _ensure_may_run(session, community, actor)
    manager = session.get(CommunityManager, (community.id, person_id))
    if manager is None:
        raise NotFound(f"Person {person_id} does not manage this community.")
    _unappoint(session, community, manager, reason="removed")


def list_managers(
    session: Session, *, community_id: uuid.UUID, limit: int, cursor: str | None
) -> Page[ManagerPublic]:
    get_community(session, community_id)
    return paginate(
        session,
        select(CommunityManager).where(CommunityManager.community_id == community_id),
        key=CommunityManager.person_id,
        limit=limit,
        cursor=cursor,
        to_item=manager_public,
    )


# Members


def add_member(
    session: Session, *, community_id: uuid.UUID, data: MembershipCreate, actor: Principal
) -> Membership:
    """Managers add anyone; a person may join an internal community by themselves."""
    community = get_community(session, community_id)
    joins_by_themselves = (
        data.person_id is not None
        and str(data.person_id) == actor.subject
        and community.kind == "internal"
    )
    if not joins_by_themselves:
        _ensure_may_run(session, community, actor)
    _ensure_open(community)
    person = None
    if data.person_id is not None:
        person = _require_active_person(session, data.person_id)
        already = select(Membership).where(
            Membership.community_id == community.id, Membership.person_id == person.id
        )
        if session.scalar(already) is not None:
            raise Conflict(f"{person.name} is already a member of this community.")
    else:
        if community.kind == "internal":
            raise Unprocessable(
                "Outside handles join external communities only.",
                errors=[{"field": "external_handle", "message": "internal community"}],
            )
        already = select(Membership).where(
            Membership.community_id == community.id,
            Membership.external_handle == data.external_handle,
        )
        if session.scalar(already) is not None:
            raise Conflict(f"{data.external_handle} is already a member of this community.")
    membership = Membership(
        community_id=community.id,
        person_id=data.person_id,
        external_handle=data.external_handle,
        added_by=actor.subject,
        joined_at=_now(),
    )
    membership.person = person
    session.add(membership)
    session.flush()
    enqueue(
        session,
        events.MEMBER_JOINED,
        subject=str(community.id),
        data=events.MemberJoinedPayload(
            community_id=community.id,
            member_id=membership.id,
            person_id=membership.person_id,
            external_handle=membership.external_handle,
            department_id=person.department_id if person else None,
            owner_department_id=community.owner_department_id,
            kind=community.kind,
            joined_at=membership.joined_at,
        ),
    )
    return membership


def remove_member(
    session: Session, *, community_id: uuid.UUID, member_id: uuid.UUID, actor: Principal
) -> None:
    """Managers remove anyone; members may leave by themselves."""
    community = get_community(session, community_id)
    membership = session.get(Membership, member_id)
    if membership is None or membership.community_id != community.id:
        raise NotFound(f"Member {member_id} is not in this community.")
    leaves = membership.person_id is not None and str(membership.person_id) == actor.subject
    if not leaves:
        _ensure_may_run(session, community, actor)
    _leave(session, community, membership, reason="left" if leaves else "removed")


def list_members(
    session: Session, *, community_id: uuid.UUID, limit: int, cursor: str | None
) -> Page[MemberPublic]:
    get_community(session, community_id)
    return paginate(
        session,
        select(Membership).where(Membership.community_id == community_id),
        key=Membership.id,
        limit=limit,
        cursor=cursor,
        to_item=member_public,
    )


# People who leave the company


def person_left_company(session: Session, *, person: KnownPerson) -> None:
    """They stop managing and belonging everywhere, each with its event."""
    managing = select(CommunityManager).where(CommunityManager.person_id == person.id)
    for manager in session.scalars(managing).all():
        community = get_community(session, manager.community_id)
        _unappoint(session, community, manager, reason="left_company")
    belonging = select(Membership).where(Membership.person_id == person.id)
    for membership in session.scalars(belonging).all():
        community = get_community(session, membership.community_id)
        _leave(session, community, membership, reason="left_company")


# Helpers


def _appoint(
    session: Session, community: Community, person: KnownPerson, actor: Principal
) -> CommunityManager:
    manager = CommunityManager(person=person, appointed_by=actor.subject, appointed_at=_now())
    community.managers.append(manager)
    session.flush()
    enqueue(
        session,
        events.MANAGER_APPOINTED,
        subject=str(community.id),
        data=events.ManagerAppointedPayload(
            community_id=community.id,
            person_id=person.id,
            department_id=person.department_id,
            kind=community.kind,
            owner_department_id=community.owner_department_id,
            community_experience_years=person.community_experience_years,
            appointed_at=manager.appointed_at,
        ),
    )
    return manager


def _unappoint(
    session: Session,
    community: Community,
    manager: CommunityManager,
    *,
    reason: Literal["removed", "left_company"],
) -> None:
    community.managers.remove(manager)
    session.delete(manager)
    enqueue(
        session,
        events.MANAGER_REMOVED,
        subject=str(community.id),
        data=events.ManagerRemovedPayload(
            community_id=community.id,
            person_id=manager.person_id,
            department_id=manager.person.department_id,
            reason=reason,
        ),
    )


def _leave(
    session: Session, community: Community, membership: Membership, *, reason: LeaveReason
) -> None:
    session.delete(membership)
    enqueue(
        session,
        events.MEMBER_LEFT,
        subject=str(community.id),
        data=events.MemberLeftPayload(
            community_id=community.id,
            member_id=membership.id,
            person_id=membership.person_id,
            external_handle=membership.external_handle,
            department_id=membership.person.department_id if membership.person else None,
            owner_department_id=community.owner_department_id,
            reason=reason,
        ),
    )


def _ensure_may_run(session: Session, community: Community, actor: Principal) -> None:
    """The CCO runs every community; its managers run theirs."""
    if Role.CCO in actor.roles:
        return
    person_id = _as_person_id(actor.subject)
    if person_id is None or session.get(CommunityManager, (community.id, person_id)) is None:
        raise Forbidden("Only the CCO or a manager of this community may do this.")


def _ensure_open(community: Community) -> None:
    if community.archived:
        raise Conflict("This community is archived: it takes no changes, members or managers.")


def _ensure_name_free(session: Session, name: str, other_than: uuid.UUID | None = None) -> None:
    query = select(Community.id).where(
        func.lower(Community.name) == name.lower(), ~Community.archived
    )
    if other_than is not None:
        query = query.where(Community.id != other_than)
    if session.scalar(query) is not None:
        raise Conflict(f"A community named {name!r} already exists.")


def _require_department(session: Session, department_id: str) -> None:
    if session.get(KnownDepartment, department_id) is None:
        raise Unprocessable(
            f"Department {department_id!r} is not known.",
            errors=[{"field": "owner_department_id", "message": "unknown department"}],
        )


def _as_person_id(subject: str) -> uuid.UUID | None:
    """People's tokens carry their id; system clients' carry a name."""
    try:
        return uuid.UUID(subject)
    except ValueError:
        return None


def _require_active_person(session: Session, person_id: uuid.UUID) -> KnownPerson:
    person = session.get(KnownPerson, person_id)
    if person is None or not person.active:
        state = "is not known" if person is None else "has left the company"
        raise Unprocessable(
            f"Person {person_id} {state}.",
            errors=[{"field": "person_id", "message": "unknown or inactive person"}],
        )
    return person


def _has_outside_members(session: Session, community_id: uuid.UUID) -> bool:
    query = select(Membership.id).where(
        Membership.community_id == community_id, Membership.external_handle.is_not(None)
    )
    return session.scalar(query.limit(1)) is not None


def _replace_topics(community: Community, topics: list[str]) -> None:
    # Rows that stay are kept: deleting and re-adding one key in a flush would collide.
    kept = {row.topic: row for row in community.topic_rows if row.topic in topics}
    community.topic_rows = [kept.get(topic) or CommunityTopic(topic=topic) for topic in topics]


def _payload(community: Community) -> events.CommunityPayload:
    return events.CommunityPayload.model_validate(community, from_attributes=True)


def to_public(community: Community) -> CommunityPublic:
    return CommunityPublic.model_validate(
        {
            **_payload(community).model_dump(),
            "manager_ids": [manager.person_id for manager in community.managers],
            "created_by": community.created_by,
            "created_at": community.created_at,
            "updated_at": community.updated_at,
            "archived_at": community.archived_at,
        }
    )


def manager_public(manager: CommunityManager) -> ManagerPublic:
    return ManagerPublic(
        community_id=manager.community_id,
        person_id=manager.person_id,
        name=manager.person.name,
        department_id=manager.person.department_id,
        community_experience_years=manager.person.community_experience_years,
        appointed_at=manager.appointed_at,
    )


def member_public(membership: Membership) -> MemberPublic:
    person = membership.person
    return MemberPublic(
        id=membership.id,
        community_id=membership.community_id,
        person_id=membership.person_id,
        external_handle=membership.external_handle,
        name=person.name if person else None,
        department_id=person.department_id if person else None,
        joined_at=membership.joined_at,
    )
