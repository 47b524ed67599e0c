"""What the listening service consumes, in one dict: a local copy of the external communities.

A source may belong to a community; mentions no routing rule claims go to the department that
owns it. Payload models name only the fields read here (a tolerant reader).
"""

import uuid

from pydantic import BaseModel
from sqlmodel import Session

from listening.models import Community
from shared.consumer import Handler, ReceivedEvent


class CommunityState(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    owner_department_id: str
    archived: bool = False


class CommunityArchived(BaseModel):
    id: uuid.UUID
    owner_department_id: str


def on_community_state(session: Session, event: ReceivedEvent[CommunityState]) -> None:
    community = session.get(Community, event.data.id) or Community(
        id=event.data.id, name="", kind="", owner_department_id=""
    )
    for field, value in event.data.model_dump().items():
        setattr(community, field, value)
    session.add(community)


def on_community_archived(session: Session, event: ReceivedEvent[CommunityArchived]) -> None:
    community = session.get(Community, event.data.id) or Community(
        id=event.data.id, name="", kind="", owner_department_id=event.data.owner_department_id
    )
    community.archived = True
    session.add(community)


HANDLERS: dict[str, Handler] = {
    "communities.community.created.v1": Handler(CommunityState, on_community_state),
    "communities.community.updated.v1": Handler(CommunityState, on_community_state),
    "communities.community.archived.v1": Handler(CommunityArchived, on_community_archived),
}
