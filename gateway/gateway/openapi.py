"""One OpenAPI document for the platform: each service's own, under its `/api/<service>` prefix."""

import asyncio
import copy
import time
from typing import Any

import httpx

SCHEMA_REF = "#/components/schemas/"


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
        paths[f"/api/{service}{path}"] = operations
    components = document.get("components", {})
    schemas = {f"{service}.{name}": body for name, body in components.get("schemas", {}).items()}
    return {
        "paths": paths,
        "schemas": schemas,
        "security_schemes": components.get("securitySchemes", {}),
    }


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
        documents = await asyncio.gather(*(self._document(name) for name in names))
        return dict(zip(names, documents, strict=True))

    async def _document(self, service: str) -> dict[str, Any] | None:
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
