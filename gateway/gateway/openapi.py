"""One OpenAPI document for the platform: each service's own, under its `/api/<service>` prefix."""

import asyncio
import copy
import time
from typing import Any

import httpx

from shared.errors import PROBLEM_JSON
from shared.openapi import PROBLEM_REF, PROBLEM_SCHEMA

SCHEMA_REF = "#/components/schemas/"
# What the gateway itself may answer on any path it forwards, besides what the service answers.
GATEWAY_ERRORS = {
    "400": "A path the gateway does not forward (encoded separators, dot segments, an absolute "
    "URL), or a token and an API key together.",
    "401": "Credentials that are sent are checked, on public paths too: a bad token or an "
    "unknown API key.",
    "429": "Over a rate limit; `Retry-After` says in how many seconds to try again.",
    "502": "The service cannot be reached.",
    "504": "The service did not answer in time.",
}
HEADERS = {
    "401": {"WWW-Authenticate": {"description": "`Bearer`.", "schema": {"type": "string"}}},
    "429": {
        "Retry-After": {
            "description": "Seconds to wait.",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        }
    },
}


def under_prefix(service: str, document: dict[str, Any]) -> dict[str, Any]:
    """A service's document rewritten as the gateway serves it: paths, operation ids, schemas."""
    document = _renamed_refs(service, copy.deepcopy(document))
    paths = {}
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            if "operationId" in operation:
                operation["operationId"] = f"{service}_{operation['operationId']}"
            operation["tags"] = [f"{service}: {tag}" for tag in operation.get("tags", [])] or [
                service
            ]
            _gateway_errors(operation)
        paths[f"/api/{service}{path}"] = operations
    components = document.get("components", {})
    schemas = {f"{service}.{name}": body for name, body in components.get("schemas", {}).items()}
    return {
        "paths": paths,
        "schemas": schemas,
        "security_schemes": components.get("securitySchemes", {}),
    }


def _gateway_errors(operation: dict[str, Any]) -> None:
    """The gateway's own answers, and its other credentials: a system client's API key."""
    responses = operation.setdefault("responses", {})
    for status, description in GATEWAY_ERRORS.items():
        response = responses.setdefault(status, {"description": description})
        response.setdefault("content", {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}})
        if status in HEADERS:
            response["headers"] = {**response.get("headers", {}), **HEADERS[status]}
    if operation.get("security"):
        operation["security"] = [*operation["security"], {"ApiKey": []}]


def _renamed_refs(service: str, node: Any) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMA_REF):
            node["$ref"] = f"{SCHEMA_REF}{service}.{ref[len(SCHEMA_REF) :]}"
        for value in node.values():
            _renamed_refs(service, value)
    elif isinstance(node, list):
        for item in node:
            _renamed_refs(service, item)
    return node


def merge(own: dict[str, Any], services: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """The gateway's own document with every service's; a service that did not answer is named."""
    merged = copy.deepcopy(own)
    components = merged.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.setdefault("Problem", PROBLEM_SCHEMA)
    security_schemes = components.setdefault("securitySchemes", {})
    security_schemes["ApiKey"] = {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A system client's key; the gateway passes on a token for it.",
    }
    missing = []
    for service, document in services.items():
        if document is None:
            missing.append(service)
            continue
        part = under_prefix(service, document)
        merged.setdefault("paths", {}).update(part["paths"])
        schemas.update(part["schemas"])
        for name, scheme in part["security_schemes"].items():
            security_schemes.setdefault(name, scheme)
    if missing:
        note = "Not answering now, so not described here: " + ", ".join(missing) + "."
        merged["info"]["description"] = f"{merged['info'].get('description', '')}\n\n{note}"
        merged["info"]["x-unavailable-services"] = missing
    return merged


class ServiceDocuments:
    """Fetches each service's `/openapi.json` concurrently, and keeps the answers a while."""

    def __init__(self, client: httpx.AsyncClient, routes: dict[str, str], ttl: float) -> None:
        self.client = client
        self.routes = routes
        self.ttl = ttl
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    async def all(self) -> dict[str, dict[str, Any] | None]:
        names = list(self.routes)
        documents = await asyncio.gather(*(self.document(name) for name in names))
        return dict(zip(names, documents, strict=True))

    async def document(self, service: str) -> dict[str, Any] | None:
        cached = self._cache.get(service)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        try:
            response = await self.client.get(f"{self.routes[service]}/openapi.json", timeout=3.0)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError):
            return None
        if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
            return None
        self._cache[service] = (time.monotonic(), document)
        return document
