"""Nothing a caller sends makes a service do unbounded work (OWASP API4, unrestricted resource
consumption): pages, bodies, batches, periods and every field have a ceiling, and going over it
is refused before anything is done.

Covered elsewhere, and not repeated here:

- rate limits at the gateway, per caller, per address, and stricter on the public FAQ and
  sign-in, answered 429 with `Retry-After`, the refused write changing nothing
  (tests/integration/gateway/test_security.py);
- bodies over the gateway's limit, declared or streamed, and the HR import's larger limit at the
  gateway (same file);
- a batch of more than 1000 mentions (413; tests/integration/listening/test_mentions.py);
- an HR export over its size (413) or its row count (the rows over it reported, not read;
  tests/integration/people/test_import.py).
"""

import csv
import re
import typing
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from annotated_types import Le

from shared.http import RequestBodyMiddleware
from shared.pagination import Limit
from tests.security.inprocess import (
    SYSTEM,
    WRITE_METHODS,
    Service,
    documented_operations,
    offline_app,
)
from tests.security.objects import a_new_community, a_source

# Each xdist worker runs its share on its own copy of each service (conftest.py).
pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
]

SERVICES = ("people", "communities", "listening", "collaboration", "strategy")
DOCUMENTS = {name: offline_app(name).openapi() for name in SERVICES}
PAGE_MAX = next(m.le for m in typing.get_args(Limit)[1].metadata if isinstance(m, Le))
# Lists that are not paged, and why they stay small.
BOUNDED_BY_NATURE = {
    ("strategy", "/v1/escalations"): "open escalations of the period, per department",
    ("strategy", "/v1/communities/health"): "one row per community",
    ("strategy", "/v1/staffing"): "one row per community at risk",
    ("strategy", "/v1/programs"): "the CCO's programs, which only the CCO creates",
}
# Values for the required parameters of a list (path ids are made by `fill`).
REQUIRED = {"topic": "python"}
SOME_ID = "01a21d21-3038-7611-bc61-d2f6751b2f41"
PATH_VALUES = {"department_id": "rd", "skill": "python", "role": "community_manager"}


def paged_lists() -> list[Any]:
    return [
        pytest.param(name, path, parameter, id=f"{name} GET {path}")
        for name, document in DOCUMENTS.items()
        for path, operations in document["paths"].items()
        if "get" in operations
        for parameter in operations["get"].get("parameters", [])
        if parameter["name"] == "limit"
    ]


def json_writes() -> list[Any]:
    return [
        pytest.param(name, method, path, id=f"{name} {method} {path}")
        for name, document in DOCUMENTS.items()
        for (method, path), operation in documented_operations(document).items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


async def fill(service: Service, path: str) -> str:
    """The path with real ids where a list is about something, placeholders elsewhere."""
    if "{community_id}" in path:
        body = (await a_new_community(service)).json
        community = await service.call("POST", "/v1/communities", service.cco, json=body)
        path = path.replace("{community_id}", community["id"])
    for name, value in PATH_VALUES.items():
        path = path.replace(f"{{{name}}}", value)
    return re.sub(r"\{[a-z_]+\}", SOME_ID, path)


def assert_problem(response, status: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


# Pages


@pytest.mark.parametrize(("service", "path", "parameter"), paged_lists(), indirect=["service"])
async def test_a_page_over_the_maximum_is_refused(service: Service, path: str, parameter: dict):
    maximum = parameter["schema"]["maximum"]
    url = await fill(service, path)
    query = "&".join(f"{name}={value}" for name, value in REQUIRED.items() if f"{name}=" not in url)
    before = service.dump()

    over = await service.client.get(f"{url}?limit={maximum + 1}&{query}", headers=service.cco)
    zero = await service.client.get(f"{url}?limit=0&{query}", headers=service.cco)
    most = await service.client.get(f"{url}?limit={maximum}&{query}", headers=service.cco)
    one = await service.client.get(f"{url}?limit=1&{query}", headers=service.cco)

    for refused in (over, zero):
        errors = assert_problem(refused, 422)["errors"]
        assert [(e["field"], e["in"]) for e in errors] == [("limit", "query")]
    assert most.status_code == 200, most.text
    assert one.status_code == 200, one.text
    assert len(one.json()["items"]) <= 1
    assert service.dump() == before


async def test_the_shared_page_size_is_what_every_page_says():
    maximums = {
        (name, path): parameter["schema"]["maximum"] for name, path, parameter in _paged_values()
    }
    paged = {key for key in maximums if key[0] != "strategy"}

    assert paged, "no paged list found"
    assert PAGE_MAX == 200
    assert {maximums[key] for key in paged} == {PAGE_MAX}
    # The experts are ranked, not paged: a shorter list of its own.
    assert maximums[("strategy", "/v1/experts")] == 100


def _paged_values() -> list[tuple[str, str, dict]]:
    return [tuple(param.values) for param in paged_lists()]  # type: ignore[misc]


async def test_a_long_list_is_cut_at_the_page_size_and_continues(people_service):
    # The directory holds the callers of inprocess.py: more than one person.
    first = await people_service.call("GET", "/v1/people?limit=1", people_service.cco)
    second = await people_service.call(
        "GET", f"/v1/people?limit=1&cursor={first['next_cursor']}", people_service.cco
    )

    assert len(first["items"]) == len(second["items"]) == 1
    assert first["items"][0]["id"] != second["items"][0]["id"]


@pytest.mark.parametrize("name", SERVICES)
async def test_every_list_is_paged_or_bounded_by_nature(name: str):
    unbounded = []
    for path, operations in DOCUMENTS[name]["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        schema = (
            operation["responses"]
            .get("200", {})
            .get("content", {})
            .get("application/json", {})
            .get("schema", {})
        )
        is_page = schema.get("$ref", "").rsplit("/", 1)[-1].startswith("Page_")
        parameters = {p["name"]: p for p in operation.get("parameters", [])}
        if is_page and "maximum" not in parameters.get("limit", {}).get("schema", {}):
            unbounded.append(f"{path}: a page without a bounded limit")
        if schema.get("type") == "array" and (name, path) not in BOUNDED_BY_NATURE:
            unbounded.append(f"{path}: a list without paging")

    assert not unbounded, unbounded


# Bodies


@pytest.mark.parametrize(("service", "method", "path"), json_writes(), indirect=["service"])
async def test_a_body_over_the_limit_is_refused(service: Service, method: str, path: str):
    limit = body_limits(service).get(path, service.settings.max_body_bytes)
    url = await fill(service, path)
    padding = limit + 1 - len(b'{"x": ""}')
    declared = b'{"x": "' + b"a" * padding + b'"}'
    json = {"Content-Type": "application/json"}
    before = service.dump()

    # Refused on the declared length alone, before the token is looked at.
    anonymous = await service.client.request(method, url, content=declared, headers=json)
    streamed = await service.client.request(
        method, url, content=chunks(limit + 1), headers={**service.cco, **json}
    )

    assert len(declared) == limit + 1
    assert "content-length" not in streamed.request.headers
    assert_problem(anonymous, 413)
    assert_problem(streamed, 413)
    assert service.dump() == before


def body_limits(service: Service) -> dict[str, int]:
    """The paths with a body limit of their own (a batch of mentions), as the app applies them."""
    [middleware] = [m for m in service.app.user_middleware if m.cls is RequestBodyMiddleware]
    return middleware.kwargs["other_media"]


async def chunks(size: int, chunk: int = 65_536) -> AsyncIterator[bytes]:
    """A JSON string of `size` bytes, sent without a Content-Length."""
    yield b'{"x": "'
    left = size - len(b'{"x": ""}')
    while left > 0:
        yield b"a" * min(chunk, left)
        left -= chunk
    yield b'"}'


async def test_a_batch_of_mentions_has_a_larger_limit_of_its_own(listening_service):
    service = listening_service
    settings = service.settings
    assert settings.max_body_bytes < settings.ingest_max_bytes  # type: ignore[attr-defined]
    assert body_limits(service) == {"/v1/mentions": settings.ingest_max_bytes}  # type: ignore[attr-defined]
    source_id = await a_source(service)
    # As many items as a batch may hold, each one invalid (no channel): nothing can land.
    item = {"source_id": source_id, "text": "x" * 1_200, "published_at": "2026-03-02T10:00:00Z"}
    batch = {"items": [item] * settings.ingest_max_items}  # type: ignore[attr-defined]
    system = service.callers[SYSTEM].headers
    before = service.dump()

    within = await service.client.post("/v1/mentions", json=batch, headers=system)
    padded = batch | {"items": [item | {"text": "x" * 1_600}] * len(batch["items"])}
    over = await service.client.post("/v1/mentions", json=padded, headers=system)

    assert settings.max_body_bytes < len(within.request.content) < settings.ingest_max_bytes
    assert len(over.request.content) > settings.ingest_max_bytes
    # Read whole: every item reported invalid, not refused as too large.
    assert assert_problem(within, 422)["detail"] == "No item of the batch is valid."
    assert_problem(over, 413)
    assert service.dump() == before


async def test_the_documented_batch_size_is_the_one_enforced(listening_service):
    ingest = DOCUMENTS["listening"]["paths"]["/v1/mentions"]["post"]
    schemas = ingest["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    [batch] = [schema for schema in schemas if "items" in schema.get("properties", {})]

    assert batch["properties"]["items"]["maxItems"] == listening_service.settings.ingest_max_items


# Periods


async def test_a_period_of_more_buckets_than_the_maximum_is_refused(listening_service):
    service = listening_service
    year = "from=2025-03-02T00:00:00Z&to=2026-03-02T00:00:00Z"

    hourly = await service.client.get(f"/v1/reputation?{year}&bucket=hour", headers=service.cco)
    daily = await service.client.get(f"/v1/reputation?{year}&bucket=day", headers=service.cco)

    errors = assert_problem(hourly, 422)["errors"]
    assert [error["field"] for error in errors] == ["from"]
    assert daily.status_code == 200, daily.text
    assert len(daily.json()["buckets"]) == 365


# Fields: every string and list a caller sends has a ceiling the document states


def unbounded_quantifier(pattern: str) -> bool:
    """Whether a pattern lets a value grow without end (`*`, `+`, `{n,}`), or is unanchored."""
    anchored = pattern.startswith("^") and pattern.endswith("$")
    # Escapes and character classes hold no quantifier (`[+#]` is a plus sign).
    bare = re.sub(r"\[(?:\\.|[^\]\\])*\]", "C", re.sub(r"\\.", "E", pattern))
    return not anchored or bool(re.search(r"[*+]|\{\d+,\}", bare))


def unbounded_fields(document: dict[str, Any], schema: dict[str, Any], where: str) -> list[str]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    found: list[str] = []
    for keyword in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(keyword, []):
            found += unbounded_fields(document, sub, where)
    kind = schema.get("type")
    if kind == "string":
        bounded = (
            "maxLength" in schema
            or "enum" in schema
            or "const" in schema
            or schema.get("format") in ("uuid", "date", "date-time", "email")
            or ("pattern" in schema and not unbounded_quantifier(schema["pattern"]))
        )
        if not bounded:
            found.append(where)
    elif kind == "array":
        if "maxItems" not in schema:
            found.append(where)
        found += unbounded_fields(document, schema.get("items", {}), f"{where}[]")
    for name, sub in schema.get("properties", {}).items():
        found += unbounded_fields(document, sub, f"{where}.{name}")
    return found


@pytest.mark.parametrize("name", SERVICES)
async def test_every_field_and_parameter_has_a_ceiling(name: str):
    document = DOCUMENTS[name]
    found: list[str] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                found += unbounded_fields(
                    document, parameter["schema"], f"{where} {parameter['name']}"
                )
            if method.upper() not in WRITE_METHODS:
                continue
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                if media == "application/json":
                    found += unbounded_fields(document, content["schema"], f"{where} body")

    assert not found, f"no ceiling: {found}"


async def test_an_email_has_a_ceiling_though_the_document_says_only_its_format(people_service):
    service = people_service
    local = "a" * 64
    long_email = f"{local}@{'b' * 63}.{'c' * 63}.{'d' * 63}.{'e' * 50}.example.com"
    body = {"name": "Trop Long", "email": long_email, "department_id": "rd"}
    before = service.dump()

    response = await service.client.post("/v1/people", json=body, headers=service.cco)

    assert len(long_email) > 254
    errors = assert_problem(response, 422)["errors"]
    assert [error["field"] for error in errors] == ["email"]
    assert service.dump() == before


async def test_the_ceiling_check_sees_an_unbounded_field():
    document: dict[str, Any] = {"components": {"schemas": {}}}
    schema = {
        "type": "object",
        "properties": {
            "free": {"type": "string"},
            "slug": {"type": "string", "pattern": "^[a-z]+$"},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}},
            "ok": {"type": "string", "pattern": "^[a-z+*]{1,5}\\+?$"},
            "open": {"type": "string", "pattern": "^a{2,}$"},
        },
    }

    assert unbounded_fields(document, schema, "body") == [
        "body.free",
        "body.slug",
        "body.tags",
        "body.open",
    ]


# The HR import


async def test_an_export_with_a_field_over_the_csv_readers_limit_is_refused(people_service):
    """Under the import's size limit, one field may still be larger than the CSV reader takes
    (128 KiB): that is a file the service cannot read (422), not its failure (500)."""
    service = people_service
    email = f"big.{uuid.uuid4().hex[:10]}@example.com"
    skills = ";".join(f"skill{n}:3" for n in range(20_000))
    export = f"name,email,department_id,skills\nGrosse Ligne,{email},rd,{skills}\n".encode()
    headers = {**service.cco, "Content-Type": "text/csv"}
    before = service.dump()

    response = await service.client.post("/v1/people/import", content=export, headers=headers)

    assert csv.field_size_limit() < len(skills)
    assert len(export) < service.settings.import_max_bytes  # type: ignore[attr-defined]
    assert "CSV" in assert_problem(response, 422)["detail"]
    assert service.dump() == before
