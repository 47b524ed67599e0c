"""The listening service running in-process on a real database and a real broker."""

import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from listening.main import create_app
from listening.models import Alert, Community, FaqAsk, FaqEntry, Mention, RoutingRule, Source
from listening.settings import Settings
from shared.outbox import OutboxMessage
from tests.support.apps import bearer, running, service_settings
from tests.support.broker import Broker, free_port
from tests.support.databases import Databases

# The service's clock in these tests: every time is said relative to it.
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TABLES = (Source, Mention, RoutingRule, Community, Alert, FaqEntry, FaqAsk, OutboxMessage)


@dataclass
class ListeningApi:
    client: httpx.AsyncClient
    app: FastAPI
    settings: Settings

    def as_(self, *roles: str, subject: str = "00000000-0000-0000-0000-0000000000c1") -> dict:
        return bearer(self.settings, *roles, subject=subject)

    @property
    def cco(self) -> dict[str, str]:
        return self.as_("cco", "employee")

    @property
    def system(self) -> dict[str, str]:
        return self.as_("system", subject="social-listening-connector")

    def at(self, moment: datetime) -> None:
        """Sets the service's clock."""
        self.settings.clock_fixed_at = moment

    def snapshot(self) -> dict[str, int]:
        """Row counts of every table and the outbox: what a rejected request must not change."""
        with self.app.state.database.sessions() as session:
            return {
                model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in TABLES
            }

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """The CloudEvents in the outbox, oldest first."""
        with self.app.state.database.sessions() as session:
            rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            envelopes = [json.loads(row.value) | {"key": row.key} for row in rows]
        return [e for e in envelopes if event_type is None or e["type"] == event_type]

    async def source(self, name: str = "X @HestiaFR", kind: str = "webhook", **fields: Any) -> dict:
        body = {"name": name, "kind": kind, **fields}
        response = await self.client.post("/v1/sources", json=body, headers=self.cco)
        assert response.status_code == 201, response.text
        return response.json()

    async def ingest(self, *items: dict, headers: dict | None = None) -> httpx.Response:
        return await self.client.post(
            "/v1/mentions", json={"items": list(items)}, headers=headers or self.system
        )

    async def mention(self, source_id: str, text: str, **fields: Any) -> dict:
        response = await self.client.post(
            "/v1/mentions", json=mention(source_id, text, **fields), headers=self.system
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def rules(self, rules: dict[str, list[str]]) -> None:
        for department_id, keywords in rules.items():
            response = await self.client.put(
                f"/v1/routing-rules/{department_id}", json={"keywords": keywords}, headers=self.cco
            )
            assert response.status_code == 200, response.text


def mention(source_id: str, text: str, **fields: Any) -> dict[str, Any]:
    published_at = fields.pop("published_at", NOW - timedelta(minutes=5))
    if isinstance(published_at, datetime):
        published_at = published_at.isoformat()
    return {
        "source_id": source_id,
        "channel": "x",
        "text": text,
        "published_at": published_at,
    } | fields


def listening_settings(databases: Databases, broker: Broker, **overrides: Any) -> Settings:
    defaults: dict[str, Any] = {
        "clock_fixed_at": NOW,
        # The tests run the periodic jobs themselves, when they mean to.
        "feed_poll_seconds": 3_600,
        "spike_check_seconds": 3_600,
        "feed_max_bytes": 65_536,
        "feed_timeout_seconds": 2,
        # The tests' feeds are served on 127.0.0.1.
        "feed_private_networks": True,
        # Most tests need no consumer (joining a group takes seconds); the event flow's do.
        "follow_communities": False,
    }
    return service_settings(Settings, databases, broker, **(defaults | overrides))


@pytest.fixture
async def api(databases: Databases, shared_broker: Broker) -> AsyncIterator[ListeningApi]:
    settings = listening_settings(databases, shared_broker)
    app = create_app(settings)
    async with running(app) as client:
        yield ListeningApi(client, app, settings)


@dataclass
class FeedServer:
    """A local web server the tests put feeds on: path -> (status, headers, body)."""

    base_url: str
    pages: dict[str, "Page"] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)

    def put(
        self,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        declare_length: bool = True,
    ) -> str:
        self.pages[path] = Page(status, headers or {}, body, declare_length)
        return self.base_url + path


@dataclass(frozen=True)
class Page:
    status: int
    headers: dict[str, str]
    body: bytes
    # Without Content-Length (HTTP/1.0), the body ends when the connection closes.
    declare_length: bool = True


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer(base_url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            server.requests.append({"path": self.path, **dict(self.headers.items())})
            page = server.pages.get(self.path, Page(404, {}, b"not found"))
            etag = page.headers.get("ETag")
            if etag and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(page.status)
            for name, value in page.headers.items():
                self.send_header(name, value)
            if page.declare_length:
                self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            self.wfile.write(page.body)

        def log_message(self, *_args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    httpd.server_close()
