"""The collaboration service's app: `uvicorn collaboration.main:create_app --factory`."""

from datetime import timedelta

from fastapi import FastAPI

from collaboration import events, handlers, routes, seed, service
from collaboration.settings import Settings
from shared.app import Periodic, ServiceSpec, Subscription, create_service_app
from shared.db import Database


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings,
        ServiceSpec(
            title="Agora collaboration",
            description="Questions and answers across departments, best practices and their "
            "adoptions, ideas: the exchange between silos, and who helped whom.",
            routers=[routes.router],
            events=events.REGISTRY,
            migrations="collaboration:migrations",
            subscription=Subscription(group_id="collaboration", handlers=handlers.HANDLERS),
            seed=seed.DemoSeed(community_wait_seconds=settings.seed_community_wait_seconds),
            periodic=[
                Periodic(
                    "answer-sla",
                    interval=lambda s: s.sla_check_seconds,
                    job=escalate_overdue_questions,
                )
            ],
        ),
    )


def escalate_overdue_questions(database: Database, settings: Settings) -> None:
    """The answer SLA's periodic check; it takes the write lock only when a question is due."""
    sla = timedelta(hours=settings.answer_sla_hours)
    with database.sessions() as session:
        if not service.overdue_questions_exist(session, sla=sla):
            return
    with database.transaction() as session:
        service.escalate_overdue_questions(session, sla=sla)
