"""The gateway's app: `uvicorn gateway.main:create_app --factory`."""

import contextlib
from collections.abc import AsyncIterator

import httpx
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from gateway import identity, proxy
from gateway.settings import Settings
from shared.errors import install_problem_handlers
from shared.http import is_acceptable_request_id
from shared.logging import configure_logging
from shared.metrics import Metrics, MetricsMiddleware, metrics_router

router = APIRouter()
PROXIED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.post("/auth/token", tags=["identity"])
async def token(credentials: identity.Credentials, request: Request) -> identity.TokenResponse:
    state = request.app.state
    try:
        return await identity.issue(credentials, state.settings, state.client)
    except httpx.TimeoutException as error:
        raise proxy.UpstreamTimeout("The people service did not answer in time.") from error
    except httpx.HTTPError as error:
        raise proxy.UpstreamUnavailable("The people service cannot be reached.") from error


@router.api_route("/api/{service}/{path:path}", methods=PROXIED_METHODS, include_in_schema=False)
async def forward(service: str, path: str, request: Request) -> Response:
    state = request.app.state
    return await proxy.forward(request, service, state.client, state.settings.routes)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings)
    metrics = Metrics(settings.service_name)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = httpx.Timeout(
            settings.upstream_timeout_seconds, connect=settings.upstream_connect_seconds
        )
        limits = httpx.Limits(
            max_connections=settings.upstream_max_connections,
            max_keepalive_connections=settings.upstream_max_connections,
        )
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
            app.state.client = client
            yield

    app = FastAPI(
        title="Agora gateway", version="1.0.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.state.metrics = metrics
    install_problem_handlers(app)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(
        CorrelationIdMiddleware, header_name="X-Request-ID", validator=is_acceptable_request_id
    )
    app.include_router(metrics_router)
    app.include_router(router)
    app.include_router(_gateway_health)
    return app


_gateway_health = APIRouter(tags=["operations"])


@_gateway_health.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@_gateway_health.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ready"}
