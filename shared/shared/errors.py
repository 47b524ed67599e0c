"""RFC 9457 problem details for every error a service returns."""

import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://agora.example/problems/"
_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


class Problem(Exception):
    """An error the caller can act on; raised by service functions, rendered as problem+json."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class Unprocessable(Problem):
    status, slug, title = 422, "unprocessable", "Unprocessable content"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Forbidden"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


def problem_response(
    status: int, title: str, detail: str, slug: str | None = None, **extensions: Any
) -> JSONResponse:
    body = {
        "type": PROBLEM_BASE + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    fields = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        fields.append(
            {
                "field": (".".join(location[1:]) or location[0]) if location else "",
                "in": location[0] if location else "body",
                "message": item.get("msg", "invalid"),
                "type": item.get("type", "value_error"),
            }
        )
    return fields


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_request: Request, problem: Problem) -> JSONResponse:
        return problem_response(
            problem.status, problem.title, problem.detail, problem.slug, **problem.extensions
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = _field_errors(error)
        if any(e["type"] == "json_invalid" for e in errors):
            return problem_response(
                400,
                "Malformed JSON",
                "The body is not valid JSON.",
                "malformed-json",
                errors=errors,
            )
        return problem_response(
            422, "Validation failed", "Some fields are invalid.", "validation-failed", errors=errors
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> JSONResponse:
        response = problem_response(error.status_code, _title(error.status_code), str(error.detail))
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        if error.status_code == 405 and (allowed := allowed_methods(request)):
            response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    @app.exception_handler(DataError)
    async def _data(_request: Request, error: DataError) -> JSONResponse:
        # A value the database itself refuses (a NUL character in text, say).
        log.info("data error", extra={"error": str(error.orig)})
        return problem_response(
            422, "Validation failed", "A value cannot be stored as given.", "validation-failed"
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, error: IntegrityError) -> JSONResponse:
        # A uniqueness race that the service's own checks could not see coming.
        log.info("integrity error", extra={"error": str(error.orig)})
        return problem_response(
            409, "Conflict", "The change conflicts with existing data.", "conflict"
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_down(_request: Request, error: Exception) -> JSONResponse:
        log.error("database unavailable", extra={"error": str(error)})
        response = problem_response(
            503,
            "Service unavailable",
            "The database is unavailable; nothing was changed.",
            "database-unavailable",
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return problem_response(
            500, "Internal error", "An unexpected error occurred.", "internal-error"
        )


def allowed_methods(request: Request) -> set[str]:
    """The methods the requested path takes, for a 405's `Allow` (RFC 9110, section 15.5.6).

    The router names only the route it found first, while each method of a path is a route of
    its own; and `/v1/people/import` also fits `/v1/people/{person_id}`. The app's OpenAPI
    document says it all.
    """
    return documented_methods(request.app.openapi(), request.url.path)


def documented_methods(document: dict[str, Any], path: str) -> set[str]:
    """The methods of the documented paths with the fewest parameters that fit `path`."""
    fits: dict[int, set[str]] = {}
    for template, operations in document.get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            fits.setdefault(template.count("{"), set()).update(
                method.upper() for method in operations if method in _METHODS
            )
    return fits[min(fits)] if fits else set()


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
