"""Prometheus metrics of one service, in a registry of its own (nothing is created at import)."""

import time
from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"registry": self.registry}
        self.requests = Counter(
            "http_requests_total", "HTTP requests served.", ["method", "route", "status"], **labels
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to serve an HTTP request.",
            ["method", "route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            **labels,
        )
        self.outbox_backlog = Gauge(
            "outbox_backlog", "Events written to the outbox and not yet published.", **labels
        )
        self.relay_published = Counter(
            "relay_published_total", "Events the outbox relay published to Kafka.", **labels
        )
        self.relay_errors = Counter(
            "relay_errors_total", "Failed attempts of the outbox relay to publish.", **labels
        )
        self.relay_resets = Counter(
            "relay_log_resets_total",
            "Times the broker's log was found shorter than what was published, and re-published.",
            **labels,
        )
        self.consumer_lag = Gauge(
            "consumer_lag", "Messages not yet consumed.", ["topic", "partition"], **labels
        )
        self.parked_events = Gauge(
            "consumer_parked_events",
            "Events read ahead of an earlier one about their subject, waiting for it.",
            ["topic", "partition"],
            **labels,
        )
        self.consumed = Counter(
            "consumer_events_total",
            "Events read by the consumer, by outcome.",
            ["topic", "outcome"],
            **labels,
        )
        self.handler_failures = Counter(
            "consumer_handler_failures_total",
            "Events whose handler failed, sent to the dead-letter topic.",
            ["type"],
            **labels,
        )
        self.dead_letters = Counter(
            "consumer_dead_letters_total",
            "Messages sent to a dead-letter topic.",
            ["topic", "reason"],
            **labels,
        )
        Gauge("service_info", "The service this process runs.", ["service"], **labels).labels(
            service
        ).set(1)

    def watch_backlog(self, count: Callable[[], int]) -> None:
        self.outbox_backlog.set_function(count)


class MetricsMiddleware:
    """Counts requests and their latency by route template (never by raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    # The router records the route it matched in the scope.
    return getattr(scope.get("route"), "path", "unmatched")


metrics_router = APIRouter(include_in_schema=False)


@metrics_router.get("/metrics")
def metrics_endpoint(request: Request) -> Response:
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
