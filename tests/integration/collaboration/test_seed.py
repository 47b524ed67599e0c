"""The demo exchange: seeded once the demo people and communities are known, never twice."""

import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from collaboration import seed
from collaboration.main import create_app, escalate_overdue_questions
from collaboration.models import Adoption, Answer, Idea, Practice, Question
from people.seed import PEOPLE
from tests.integration.collaboration.conftest import CollaborationApi, collaboration_settings
from tests.support.apps import eventually, running

pytestmark = pytest.mark.integration


def announce_demo_people(api: CollaborationApi) -> None:
    """The people service's demo directory, as its events bring it."""
    for name, email, department_id, *_ in PEOPLE:
        api.receive(
            "people.person.registered.v1",
            {
                "id": str(uuid.uuid4()),
                "name": name,
                "email": email,
                "department_id": department_id,
                "active": True,
            },
        )


def announce_demo_communities(api: CollaborationApi) -> dict[str, str]:
    return {name: api.community(name) for name in seed.COMMUNITIES}


def attempt(api: CollaborationApi, demo_seed: seed.DemoSeed) -> bool:
    with api.app.state.database.transaction() as session:
        return demo_seed(session)


def read(api: CollaborationApi, model: type) -> list:
    with api.app.state.database.sessions() as session:
        return list(session.scalars(select(model)))


async def test_the_demo_waits_for_people_and_communities_then_seeds_once(api):
    demo_seed = seed.DemoSeed(community_wait_seconds=3600)
    empty = api.snapshot()

    assert attempt(api, demo_seed) is False
    announce_demo_people(api)
    assert attempt(api, demo_seed) is False  # the communities are still to come
    assert api.snapshot() == empty
    communities = announce_demo_communities(api)
    assert attempt(api, demo_seed) is True
    seeded = api.snapshot()
    assert attempt(api, demo_seed) is True
    assert api.snapshot() == seeded

    questions, answers = read(api, Question), read(api, Answer)
    by_question = {q.id: q for q in questions}
    helped = Counter(
        (a.author_department_id, by_question[a.question_id].author_department_id)
        for a in answers
        if a.author_department_id != by_question[a.question_id].author_department_id
    )
    assert {("rd", "after-sales"), ("it", "rd"), ("rd", "it")} <= set(helped)
    accepted = [q for q in questions if q.accepted_answer_id is not None]
    open_ = [q for q in questions if q.answer_count == 0]
    assert len(accepted) >= 3 and len(open_) >= 2
    assert str(communities["Python & data"]) in {str(q.community_id) for q in questions}
    assert api.events("collaboration.answer.unaccepted.v1")
    adoptions = read(api, Adoption)
    origin = {p.id: p.department_id for p in read(api, Practice)}
    assert adoptions and all(a.department_id != origin[a.practice_id] for a in adoptions)
    assert {i.status for i in read(api, Idea)} == {
        "submitted",
        "reviewing",
        "accepted",
        "implemented",
        "rejected",
    }
    # The demo history spreads over the past weeks: the oldest open question is overdue.
    escalate_overdue_questions(api.app.state.database, api.settings)
    [escalated] = api.events("collaboration.question.escalated.v1")
    overdue = by_question[uuid.UUID(escalated["data"]["question_id"])]
    assert overdue.title.startswith("Qui peut animer un atelier Python")


async def test_a_community_that_never_comes_is_left_out(api):
    demo_seed = seed.DemoSeed(community_wait_seconds=0)
    announce_demo_people(api)

    assert attempt(api, demo_seed) is True

    assert read(api, Question) and all(q.community_id is None for q in read(api, Question))


async def test_the_running_service_seeds_once_the_directory_arrives(databases, broker):
    settings = collaboration_settings(
        databases, broker, seed_demo=True, seed_community_wait_seconds=60
    )
    app = create_app(settings)
    async with running(app) as client:
        api = CollaborationApi(client, app, settings)
        announce_demo_people(api)
        announce_demo_communities(api)

        async def seeded() -> None:
            assert len(read(api, Practice)) == len(seed.PRACTICES)

        await eventually(seeded)
        reader = api.member("rd")
        questions = (await client.get("/v1/questions?limit=200", headers=reader.headers)).json()

    assert len(questions["items"]) == len(seed.QUESTIONS)
