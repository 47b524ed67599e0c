"""The listening service's app: `uvicorn listening.main:create_app --factory`."""

import functools

from fastapi import FastAPI

from listening import events, handlers, jobs, routes, seed
from listening.service import FaqIndex
from listening.settings import Settings
from shared.app import Periodic, ServiceSpec, Subscription, create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_service_app(
        settings,
        ServiceSpec(
            title="Agora listening",
            description="What the outside says: mentions, their sentiment and routing, "
            "e-reputation and its alerts, and the customers' FAQ.",
            routers=[routes.router],
            events=events.REGISTRY,
            migrations="listening:migrations",
            subscription=Subscription(group_id="listening", handlers=handlers.HANDLERS)
            if settings.follow_communities
            else None,
            seed=functools.partial(seed.seed_demo, settings=settings),
            periodic=[
                Periodic("feed-polling", lambda s: s.feed_poll_seconds, jobs.poll_due_feeds),
                Periodic("spike-check", lambda s: s.spike_check_seconds, jobs.check_for_spike),
            ],
            other_media={"/v1/mentions": settings.ingest_max_bytes},
        ),
    )
    app.state.faq_index = FaqIndex()
    return app
