"""The events the strategy service publishes on `strategy.events`: its programs."""

import uuid
from datetime import date

from pydantic import BaseModel

from shared.events import EventRegistry

REGISTRY = EventRegistry("strategy")


class KpiPayload(BaseModel):
    metric: str
    target: float
    deadline: date


class ProgramPayload(BaseModel):
    id: uuid.UUID
    name: str
    objective: str
    owner_id: uuid.UUID
    budget: float | None
    created_by: str
    kpis: list[KpiPayload]


PROGRAM_CREATED = REGISTRY.register(
    "strategy.program.created.v1",
    ProgramPayload,
    "The chief community officer started a program, with its KPIs (metric, target, deadline).",
)
