"""The strategy service's app: `uvicorn strategy.main:create_app --factory`."""

from fastapi import FastAPI

from shared.app import Projection, ServiceSpec, Subscription, create_service_app
from strategy import events, handlers, routes
from strategy.models import ProjectionSlot
from strategy.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings,
        ServiceSpec(
            title="Agora strategy",
            description="The unified cross-silo view, built from every service's events.",
            routers=[routes.router],
            events=events.REGISTRY,
            migrations="strategy:migrations",
            subscription=Subscription(group_id="strategy", handlers=handlers.HANDLERS),
            projection=Projection(migrations="strategy:view_migrations", pointer=ProjectionSlot),
        ),
    )
