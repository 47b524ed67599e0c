"""Queries over the strategy view."""

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from shared.consumer import EventConsumer
from shared.errors import NotFound
from strategy.models import (
    DepartmentSummary,
    DepartmentView,
    Lag,
    Overview,
    PartitionLagPublic,
    PersonView,
)


def overview(session: Session, *, department_id: str | None) -> Overview:
    headcount = (
        select(PersonView.department_id, func.count().label("headcount"))
        .where(col(PersonView.active))
        .group_by(PersonView.department_id)
        .subquery()
    )
    query = (
        select(DepartmentView.id, DepartmentView.name, func.coalesce(headcount.c.headcount, 0))
        .outerjoin(headcount, headcount.c.department_id == DepartmentView.id)
        .order_by(DepartmentView.id)
    )
    if department_id is not None:
        query = query.where(DepartmentView.id == department_id)
    departments = [
        DepartmentSummary(id=id_, name=name or id_, headcount=count)
        for id_, name, count in session.execute(query)
    ]
    if department_id is not None and not departments:
        raise NotFound(f"Department {department_id!r} is not in the view.")
    return Overview(as_of=datetime.now(UTC), departments=departments)


async def lag(consumer: EventConsumer | None) -> Lag:
    partitions = await consumer.lag() if consumer else []
    newest = consumer.newest_event_time if consumer else None
    return Lag(
        partitions=[
            PartitionLagPublic(
                topic=p.topic, partition=p.partition, position=p.position, end=p.end, lag=p.lag
            )
            for p in partitions
        ],
        total=sum(p.lag for p in partitions),
        newest_event_at=newest,
        newest_event_age_seconds=(datetime.now(UTC) - newest).total_seconds() if newest else None,
    )
