"""The events the communities service publishes on `communities.events`, keyed by community id."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from shared.events import EventRegistry

REGISTRY = EventRegistry("communities")


class CommunityPayload(BaseModel):
    """The whole public state of a community: consumers keep their copy without calling back."""

    id: uuid.UUID
    name: str
    kind: str
    purpose: str
    owner_department_id: str
    description: str | None
    topics: list[str]
    archived: bool


class CommunityUpdatedPayload(CommunityPayload):
    changed: list[str]
    previous_owner_department_id: str


class CommunityArchivedPayload(BaseModel):
    id: uuid.UUID
    owner_department_id: str
    archived_at: datetime


class ManagerAppointedPayload(BaseModel):
    community_id: uuid.UUID
    person_id: uuid.UUID
    # The manager's department when appointed.
    department_id: str
    kind: str
    owner_department_id: str
    community_experience_years: float
    appointed_at: datetime


class ManagerRemovedPayload(BaseModel):
    community_id: uuid.UUID
    person_id: uuid.UUID
    department_id: str
    reason: Literal["removed", "left_company"]


class MemberJoinedPayload(BaseModel):
    community_id: uuid.UUID
    member_id: uuid.UUID
    person_id: uuid.UUID | None
    external_handle: str | None
    # The member's department when they joined; None for an outside handle.
    department_id: str | None
    owner_department_id: str
    kind: str
    joined_at: datetime


class MemberLeftPayload(BaseModel):
    community_id: uuid.UUID
    member_id: uuid.UUID
    person_id: uuid.UUID | None
    external_handle: str | None
    department_id: str | None
    owner_department_id: str
    reason: Literal["left", "removed", "left_company"]


COMMUNITY_CREATED = REGISTRY.register(
    "communities.community.created.v1", CommunityPayload, "A community joined the registry."
)
COMMUNITY_UPDATED = REGISTRY.register(
    "communities.community.updated.v1",
    CommunityUpdatedPayload,
    "A community's details changed (its owner department included); carries the new state.",
)
COMMUNITY_ARCHIVED = REGISTRY.register(
    "communities.community.archived.v1",
    CommunityArchivedPayload,
    "A community was archived: it is kept, and takes no new members or managers.",
)
MANAGER_APPOINTED = REGISTRY.register(
    "communities.manager.appointed.v1",
    ManagerAppointedPayload,
    "A person became a manager of a community.",
)
MANAGER_REMOVED = REGISTRY.register(
    "communities.manager.removed.v1",
    ManagerRemovedPayload,
    "A person stopped managing a community: removed, or gone from the company.",
)
MEMBER_JOINED = REGISTRY.register(
    "communities.member.joined.v1",
    MemberJoinedPayload,
    "A person of the company, or an outside handle, joined a community.",
)
MEMBER_LEFT = REGISTRY.register(
    "communities.member.left.v1",
    MemberLeftPayload,
    "A member left a community, was removed from it, or left the company.",
)
