"""The gateway's app: `uvicorn gateway.main:create_app --factory`."""

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import APIRouter, FastAPI, HTTPException, Request
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway import identity, proxy, throttle
from gateway.authentication import Authenticator, unauthorized
from gateway.body_limit import BodyLimitMiddleware
from gateway.dashboard import DashboardFiles, compressed
from gateway.openapi import ServiceDocuments, merge
from gateway.settings import Settings
from gateway.throttle import Throttle, client_ip
from shared.errors import NotFound, documented_methods, install_problem_handlers
from shared.http import is_acceptable_request_id
from shared.logging import configure_logging
from shared.metrics import Metrics, MetricsMiddleware, metrics_router
from shared.openapi import install as document_problems

router = APIRouter()
PROXIED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
FORWARDED = re.compile(r"/api/(?P<service>[^/]+)(?P<path>/.*)", re.DOTALL)


class AnyPath(Convertor[str]):
    """A path's rest, whatever it holds (`path` stops at a line break): the gateway forwards
    it as it came, and the service says what it makes of it."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", AnyPath())

# What anyone may call without credentials: customers ask the FAQ; probes check health.
PUBLIC_FAQ = re.compile(r"^v1/faq/(ask|asks/[^/]+/feedback)$")
PUBLIC_HEALTH = {"healthz", "readyz"}


def is_public(method: str, service: str, path: str) -> bool:
    if method == "GET" and path in PUBLIC_HEALTH:
        return True
    return is_public_faq(method, service, path)


def is_public_faq(method: str, service: str, path: str) -> bool:
    return method == "POST" and service == "listening" and bool(PUBLIC_FAQ.match(path))


@router.post(
    "/auth/token",
    tags=["identity"],
    summary="A token of the built-in issuer",
    responses={
        401: {"description": "Unknown email or wrong password."},
        404: {"description": "The built-in issuer is off: sign in with the identity provider."},
        429: {
            "description": "Too many sign-ins from this address; see `Retry-After`.",
            "headers": {"Retry-After": {"required": True, "schema": {"type": "string"}}},
        },
        502: {"description": "The people service cannot be reached."},
        504: {"description": "The people service did not answer in time."},
    },
)
async def token(credentials: identity.Credentials, request: Request) -> identity.TokenResponse:
    state = request.app.state
    await state.throttle.check(state.throttle.sign_in, "sign-in", client_ip(request))
    try:
        return await identity.issue(credentials, state.settings, state.client)
    except httpx.TimeoutException as error:
        raise proxy.UpstreamTimeout("The people service did not answer in time.") from error
    except httpx.HTTPError as error:
        raise proxy.UpstreamUnavailable("The people service cannot be reached.") from error


@router.api_route("/api/{service}/{path:anypath}", methods=PROXIED_METHODS, include_in_schema=False)
async def forward(service: str, path: str, request: Request) -> Response:
    state = request.app.state
    ip = client_ip(request)
    await state.throttle.check(state.throttle.per_ip, "ip", ip)
    url = proxy.upstream_url(request, service, state.settings.routes)
    caller = await state.authenticator.authenticate(request.headers)
    if caller is None and not is_public(request.method, service, path):
        raise unauthorized("A bearer token or an API key is required.")
    if caller is not None:
        await state.throttle.check(state.throttle.per_client, "client", caller.principal.subject)
    if is_public_faq(request.method, service, path):
        await state.throttle.check(state.throttle.faq_ask, "ip", ip)
    return await proxy.forward(
        request,
        service,
        url,
        state.client,
        authorization=caller.authorization if caller else None,
        in_flight=state.in_flight[service],
    )


async def not_forwarded(request: Request) -> Response:
    """A request no route took under `/api` or `/auth` (a method nothing takes there, such as
    TRACE, or an unknown path): 405 with the methods that the gateway or the service documents
    for the path, or 404 when none documents it."""
    state = request.app.state
    await state.throttle.check(state.throttle.per_ip, "ip", client_ip(request))
    path = request.url.path
    forwarded = FORWARDED.fullmatch(path)
    if forwarded is None:
        document, path = request.app.openapi(), path
    elif forwarded["service"] in state.settings.routes:
        document = await state.service_documents.document(forwarded["service"])
        path = forwarded["path"]
    else:
        document = None
    allowed = documented_methods(document, path) if document else set()
    if not allowed:
        raise NotFound("Nothing is served at this path.")
    raise HTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})


class Fallback:
    """What no route took: the API's paths answer 404 or 405, any other is the dashboard's."""

    def __init__(self, dashboard: ASGIApp) -> None:
        self.dashboard = dashboard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(("/api/", "/auth/")):
            response = await not_forwarded(Request(scope, receive))
            await response(scope, receive, send)
        else:
            await self.dashboard(scope, receive, send)


@router.get("/api/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> dict[str, Any]:
    state = request.app.state
    await state.throttle.check(state.throttle.per_ip, "ip", client_ip(request))
    return merge(request.app.openapi(), await state.service_documents.all())


@router.get("/api/docs", include_in_schema=False)
async def docs(request: Request) -> Response:
    return request.app.state.dashboard_files.page("docs.html")


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
            app.state.authenticator = Authenticator(settings, client)
            app.state.throttle = Throttle(settings)
            app.state.in_flight = {
                service: asyncio.Semaphore(settings.upstream_concurrency)
                for service in settings.routes
            }
            app.state.service_documents = ServiceDocuments(
                client, settings.routes, settings.openapi_cache_seconds
            )
            yield

    app = FastAPI(
        title="Agora",
        description="The platform's API through its gateway: `/api/<service>/...`.",
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.dashboard_files = DashboardFiles(settings.web_dir)
    install_problem_handlers(app)
    throttle.install_handler(app)
    app.add_middleware(
        BodyLimitMiddleware, default_limit=settings.max_body_bytes, limits=settings.body_limits
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(
        CorrelationIdMiddleware, header_name="X-Request-ID", validator=is_acceptable_request_id
    )
    app.include_router(metrics_router)
    app.include_router(router)
    app.include_router(_gateway_health)
    document_problems(app)
    app.mount("/", Fallback(compressed(app.state.dashboard_files)), name="dashboard")
    return app


_gateway_health = APIRouter(tags=["operations"])


@_gateway_health.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@_gateway_health.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ready"}
