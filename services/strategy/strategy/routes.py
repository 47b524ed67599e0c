"""The strategy service's HTTP API (`/v1/...`)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from shared.auth import CurrentPrincipal
from shared.db import SessionDep
from strategy import service
from strategy.models import Lag, Overview

router = APIRouter(prefix="/v1")


@router.get("/overview", tags=["view"])
def overview(
    session: SessionDep,
    _: CurrentPrincipal,
    department_id: Annotated[
        str | None, Query(max_length=40, description="One department's slice.")
    ] = None,
) -> Overview:
    return service.overview(session, department_id=department_id)


@router.get("/lag", tags=["operations"])
async def lag(request: Request, _: CurrentPrincipal) -> Lag:
    return await service.lag(request.app.state.consumer)
