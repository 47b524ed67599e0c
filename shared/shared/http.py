"""HTTP plumbing every service mounts: health, readiness, event schemas, request ids, bodies."""

import asyncio
import re
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import problem_response

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def is_acceptable_request_id(value: str) -> bool:
    """Callers' request ids are kept when they are short, printable tokens (not only UUIDs)."""
    return bool(_REQUEST_ID.match(value))


health_router = APIRouter(tags=["operations"])


@health_router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@health_router.get(
    "/readyz",
    summary="The database and the broker are reachable",
    responses={503: {"description": "The database or the broker is unreachable."}},
)
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(2):
            await asyncio.to_thread(state.database.ping)
        checks["database"] = "ok"
    except Exception as error:  # any failure means "not ready", and says why
        checks["database"] = f"unreachable: {type(error).__name__}"
    checks["broker"] = "ok" if await state.relay.broker_reachable() else "unreachable"
    if all(value == "ok" for value in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    response = problem_response(
        503, "Not ready", "A dependency is unreachable.", "not-ready", checks=checks
    )
    return response


events_router = APIRouter(tags=["events"])


@events_router.get("/v1/events/schemas", summary="The JSON Schema of each event type published")
async def event_schemas(request: Request) -> dict[str, Any]:
    registry = request.app.state.event_registry
    return {
        "topic": registry.topic,
        "types": [
            {"type": t.name, "description": t.description, "schema": t.json_schema()}
            for t in registry
        ],
    }


class RequestBodyMiddleware:
    """Refuses bodies over the size limit (413), and bodies that are not JSON (415).

    `other_media` names the paths that take another media type (a CSV import), each with
    its own size limit; those routes check the media type themselves.
    """

    def __init__(self, app: ASGIApp, default_limit: int, other_media: dict[str, int]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.other_media = other_media

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = self.other_media.get(scope["path"], self.default_limit)
        declared = headers.get(b"content-length", b"")
        has_body = (declared.isdigit() and int(declared) > 0) or b"transfer-encoding" in headers
        if declared.isdigit() and int(declared) > limit:
            too_large = problem_response(
                413, "Payload too large", f"The body exceeds {limit} bytes.", "payload-too-large"
            )
            await too_large(scope, receive, send)
            return
        if has_body and scope["path"] not in self.other_media and not _is_json(headers):
            not_json = problem_response(
                415,
                "Unsupported media type",
                "Send the body as application/json.",
                "unsupported-media-type",
            )
            await not_json(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            # A body sent without Content-Length is counted as it arrives.
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, f"The body exceeds {limit} bytes.")
            return message

        await self.app(scope, limited_receive, send)


def _is_json(headers: dict[bytes, bytes]) -> bool:
    media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    return media_type == b"application/json" or media_type.endswith(b"+json")
