"""Keyset pagination: `limit` and an opaque `cursor`, answered as `{items, next_cursor}`."""

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, Uuid
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session

from shared.errors import Problem

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None


Limit = Annotated[int, Query(ge=1, le=200, description="Page size.")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="The `next_cursor` of the previous page.")
]


Order = Annotated[
    Literal["asc", "desc"],
    Query(description="`asc`: oldest first; `desc`: newest first (ids are time-ordered)."),
]


class InvalidCursor(Problem):
    status, slug, title = 400, "invalid-cursor", "Invalid cursor"


def encode_cursor(value: Any) -> str:
    raw = json.dumps({"after": str(value)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, python_type: type) -> Any:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return python_type(json.loads(raw)["after"])
    except (binascii.Error, ValueError, TypeError, KeyError) as error:
        raise InvalidCursor("The cursor is not one this list gave out.") from error


def _key_type(key: InstrumentedAttribute[Any]) -> type:
    """Keys are time-ordered UUIDs or slugs."""
    return uuid.UUID if isinstance(key.type, Uuid) else str


def paginate(
    session: Session,
    query: Select[Any],
    *,
    key: InstrumentedAttribute[Any],
    limit: int,
    cursor: str | None,
    to_item: Callable[[Any], Item],
    order: str = "asc",
) -> Page[Item]:
    """One page of `query` ordered by the unique column `key` (`order`), after the cursor's key."""
    descending = order == "desc"
    if cursor:
        after = decode_cursor(cursor, _key_type(key))
        query = query.where(key < after if descending else key > after)
    ordered = query.order_by(key.desc() if descending else key)
    rows: Sequence[Any] = session.scalars(ordered.limit(limit + 1)).all()
    items = [to_item(row) for row in rows[:limit]]
    next_cursor = encode_cursor(getattr(rows[limit - 1], key.key)) if len(rows) > limit else None
    return Page[Any](items=items, next_cursor=next_cursor)
