"""Forwards `/api/<service>/<path>` to the service, streaming both ways."""

import asyncio
import re
from collections.abc import AsyncIterator
from urllib.parse import unquote

import httpx
from asgi_correlation_id import correlation_id
from fastapi import Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from shared.errors import NotFound, Problem

# Headers that describe one connection, not the message (RFC 9110 section 7.6.1).
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
}
_ENCODED_SEPARATOR = re.compile(rb"%(2f|5c|00)", re.IGNORECASE)


class BadPath(Problem):
    status, slug, title = 400, "bad-path", "Bad path"


class UpstreamUnavailable(Problem):
    status, slug, title = 502, "upstream-unavailable", "Service unavailable"


class UpstreamTimeout(Problem):
    status, slug, title = 504, "upstream-timeout", "Service too slow"


def upstream_path(raw_path: bytes, service: str) -> bytes:
    """The path to ask the service for; refuses anything that could leave its route."""
    prefix = f"/api/{service}".encode()
    path = raw_path[len(prefix) :] or b"/"
    if not path.startswith(b"/") or _ENCODED_SEPARATOR.search(path) or b"\\" in path:
        raise BadPath("The path may not contain encoded separators or backslashes.")
    decoded = unquote(path.decode("latin-1"))
    segments = decoded.split("/")[1:]
    if any(segment in ("", ".", "..") for segment in segments[:-1]) or segments[-1] in (".", ".."):
        raise BadPath("The path may not contain empty, '.' or '..' segments.")
    if "://" in decoded or decoded.startswith("//"):
        raise BadPath("The path may not be an absolute URL.")
    return path


# Identity and origin headers a caller may not set for itself: the gateway sets them.
REPLACED = {
    b"authorization",
    b"x-api-key",
    b"x-request-id",
    b"x-forwarded-for",
    b"x-forwarded-host",
    b"x-forwarded-proto",
    b"x-real-ip",
    b"forwarded",
}
# The gateway's server adds its own.
NOT_RETURNED = HOP_BY_HOP | {"x-request-id", "server", "date"}
# Answers up to this size are read whole before they are returned (all of the services' JSON).
BUFFERED_BODY_BYTES = 1 << 20


def upstream_url(request: Request, service: str, routes: dict[str, str]) -> httpx.URL:
    """Where the request goes: a configured service, and only there."""
    base = routes.get(service)
    if base is None:
        raise NotFound(f"No service is named {service!r}.")
    path = upstream_path(request.scope["raw_path"], service)
    query = request.scope.get("query_string", b"")
    return httpx.URL(base).copy_with(raw_path=path + (b"?" + query if query else b""))


async def forward(
    request: Request,
    service: str,
    url: httpx.URL,
    client: httpx.AsyncClient,
    *,
    authorization: str | None,
    in_flight: asyncio.Semaphore,
) -> Response:
    headers = [
        (name, value)
        for name, value in request.headers.raw
        if name.lower() not in REPLACED and name.decode("latin-1").lower() not in HOP_BY_HOP
    ]
    headers.append((b"x-request-id", (correlation_id.get() or "").encode()))
    client_host = request.client.host if request.client else ""
    headers.append((b"x-forwarded-for", client_host.encode()))
    if authorization is not None:
        headers.append((b"authorization", authorization.encode("latin-1")))
    has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
    upstream_request = client.build_request(
        request.method, url, headers=headers, content=request.stream() if has_body else None
    )
    await in_flight.acquire()
    try:
        upstream = await client.send(upstream_request, stream=True)
    except httpx.TimeoutException as error:
        in_flight.release()
        raise UpstreamTimeout(f"The {service} service did not answer in time.") from error
    except httpx.TransportError as error:
        in_flight.release()
        raise UpstreamUnavailable(f"The {service} service cannot be reached.") from error
    except BaseException:
        in_flight.release()
        raise

    closed = False

    async def close() -> None:
        # Called when the body is sent, and again should the client leave midway: once counts.
        nonlocal closed
        if closed:
            return
        closed = True
        try:
            await upstream.aclose()
        finally:
            in_flight.release()

    response_headers = [
        (name, value)
        for name, value in upstream.headers.raw
        if name.decode("latin-1").lower() not in NOT_RETURNED
    ]
    length = upstream.headers.get("content-length", "")
    if length.isdigit() and int(length) <= BUFFERED_BODY_BYTES:
        # Read whole before answering: should the service die midway, the client gets a clean
        # 502 rather than a status followed by a cut body.
        try:
            content = b"".join([chunk async for chunk in upstream.aiter_raw()])
        except httpx.TimeoutException as error:
            raise UpstreamTimeout(f"The {service} service did not answer in time.") from error
        except httpx.TransportError as error:
            raise UpstreamUnavailable(f"The {service} service broke off its answer.") from error
        finally:
            await close()
        response: Response = Response(content, status_code=upstream.status_code)
        response.raw_headers = response_headers
        return response

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        finally:
            await close()

    response = StreamingResponse(
        body(),
        status_code=upstream.status_code,
        background=BackgroundTask(close),
    )
    response.raw_headers = response_headers
    return response
