"""An OpenAPI document that says what a service really answers.

FastAPI documents a 422 with its own body shape, and nothing else that can go wrong. Every
error here is problem+json (`shared.errors`), and some are certain by construction: a body
may be too large (413) or not JSON (415) on any write, a JSON body may be malformed (400), a
cursor may not be one the list gave out (400), a secured operation refuses a missing or bad
token (401), an operation behind `require_roles` refuses other roles (403), an id in the path
may name nothing (404). `document_problems` adds those, and gives every error response,
including the ones routes declare themselves (`responses={409: {"description": ...}}`), the
problem+json media type and schema.
"""

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from shared.errors import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error, as RFC 9457 problem details.",
    "type": "object",
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "errors": {
            "type": "array",
            "description": "Each field that is invalid.",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "in": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
    "additionalProperties": True,
}
DESCRIPTIONS = {
    400: "Malformed JSON, or a cursor this list did not give out.",
    401: "No token, or one that is not valid.",
    403: "The caller's roles, or their relation to this object, do not allow it.",
    404: "Nothing has this id.",
    409: "The change conflicts with the object's current state.",
    413: "The body is larger than this path accepts.",
    415: "The body's media type is not the one this path takes.",
    422: "A value is invalid; `errors` names each one.",
    503: "A dependency is unavailable; nothing was changed.",
}
WRITES = {"post", "put", "patch"}
# FastAPI's own shapes for its 422, replaced by the problem.
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def role_checked(check: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a dependency that refuses some roles (403), for the document to say so."""
    check.refuses_roles = True  # type: ignore[attr-defined]
    return check


def install(app: FastAPI) -> None:
    """The app's `openapi()` returns the document with its problems declared."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(generate(), role_checked_operations(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def role_checked_operations(app: FastAPI) -> set[tuple[str, str]]:
    """(path, method) of the operations behind a role check."""
    checked = set()
    # Included routers stay whole in `app.routes`: `iter_route_contexts` resolves them.
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and any(
            getattr(d.call, "refuses_roles", False) for d in _dependants(route.dependant)
        ):
            checked |= {(context.path_format, method.lower()) for method in context.methods or ()}
    return checked


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependants(sub)


def document_problems(
    document: dict[str, Any], role_checked: set[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """Declares the errors each operation can answer, every one as problem+json."""
    role_checked = role_checked or set()
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in _certain_errors(path, method, operation, role_checked):
                responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
            for status, response in responses.items():
                if status[0] in "45":
                    _as_problem(int(status), response, secured=bool(operation.get("security")))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    return document


def _certain_errors(
    path: str, method: str, operation: dict[str, Any], role_checked: set[tuple[str, str]]
) -> Iterator[int]:
    parameters = operation.get("parameters", [])
    body = operation.get("requestBody")
    if method in WRITES:
        yield from (413, 415)
    if body is not None:
        if any(_is_json(media_type) for media_type in body.get("content", {})):
            yield 400
        yield 422
    if parameters:
        yield 422
    if any(p.get("in") == "query" and p.get("name") == "cursor" for p in parameters):
        yield 400
    if operation.get("security"):
        yield 401
    if (path, method) in role_checked:
        yield 403
    if any(_is_id(p) for p in parameters if p.get("in") == "path"):
        yield 404


def _as_problem(status: int, response: dict[str, Any], *, secured: bool) -> None:
    if response.get("description") in (None, "", "Validation Error", "Additional Response"):
        response["description"] = DESCRIPTIONS.get(status, "An error.")
    response["content"] = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
    if status == 401 and secured:
        # The bearer check says how to authenticate.
        response.setdefault("headers", {})["WWW-Authenticate"] = {
            "description": "How to authenticate: `Bearer`.",
            "schema": {"type": "string"},
        }


def _is_id(parameter: dict[str, Any]) -> bool:
    return parameter.get("schema", {}).get("format") == "uuid"


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")
