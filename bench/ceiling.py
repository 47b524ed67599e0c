"""The ceiling: what a bare FastAPI app reaches under uvicorn, with the services' own settings.

`uvicorn bench.ceiling:create_app --factory`. Each route does only what HTTP, FastAPI and
pydantic must do for the service route it stands beside, and nothing of the platform
(no middleware, token, database or outbox): a service's figure over this one is the share of
the Python stack's ceiling it reaches on the same machine, in the same run.
"""

import uuid
from typing import Annotated

from fastapi import FastAPI
from pydantic import AwareDatetime, BaseModel, EmailStr, Field, StringConstraints

CONSTANT = {"status": "ok"}


class Person(BaseModel):
    """The shape of `POST /v1/people`'s body."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    email: EmailStr
    department_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]


class Mention(BaseModel):
    """The shape of one item of `POST /v1/mentions`."""

    source_id: uuid.UUID
    external_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    channel: Annotated[str, StringConstraints(max_length=40)]
    author: Annotated[str, StringConstraints(max_length=200)] | None = None
    text: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    published_at: AwareDatetime


class Batch(BaseModel):
    items: Annotated[list[Mention], Field(max_length=1000)]


def create_app() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/constant")
    async def constant() -> dict[str, str]:
        return CONSTANT

    @app.post("/constant", status_code=201)
    async def accept(_: Person) -> dict[str, str]:
        return CONSTANT

    @app.post("/mentions", status_code=201)
    async def mentions(batch: Batch) -> dict[str, int]:
        return {"created": len(batch.items)}

    return app
