"""The people service's app: `uvicorn people.main:create_app --factory`."""

from fastapi import FastAPI

from people import events, routes, seed
from people.settings import Settings
from shared.app import ServiceSpec, create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings,
        ServiceSpec(
            title="Agora people",
            description="Departments (the silos), people, their skills, roles and seniority.",
            routers=[routes.router],
            events=events.REGISTRY,
            migrations="people:migrations",
            seed=seed.seed_demo,
            other_media={"/v1/people/import": settings.import_max_bytes},
        ),
    )
