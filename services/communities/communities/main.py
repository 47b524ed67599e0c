"""The communities service's app: `uvicorn communities.main:create_app --factory`."""

from fastapi import FastAPI

from communities import events, handlers, routes, seed
from communities.settings import Settings
from shared.app import ServiceSpec, Subscription, create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings,
        ServiceSpec(
            title="Agora communities",
            description="The registry of every community, internal and external: owners, "
            "managers and members.",
            routers=[routes.router],
            events=events.REGISTRY,
            migrations="communities:migrations",
            subscription=Subscription(group_id="communities", handlers=handlers.HANDLERS),
            seed=seed.seed_demo,
        ),
    )
