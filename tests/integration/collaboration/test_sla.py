"""The answer SLA: a question still unanswered after ANSWER_SLA_HOURS is escalated, once."""

from datetime import UTC, datetime, timedelta

import pytest

from collaboration import service
from collaboration.main import create_app, escalate_overdue_questions
from tests.integration.collaboration.conftest import CollaborationApi, collaboration_settings
from tests.support.apps import eventually, running

pytestmark = pytest.mark.integration

ESCALATED = "collaboration.question.escalated.v1"


async def test_an_unanswered_question_is_escalated_once_with_a_short_sla(databases, broker):
    settings = collaboration_settings(
        databases, broker, answer_sla_hours=1 / 3600, sla_check_seconds=0.1
    )
    app = create_app(settings)
    async with running(app) as client:
        api = CollaborationApi(client, app, settings)
        nadia = api.member("after-sales")
        community_id = api.community("Qualité & réparabilité")
        question = await api.ask(nadia, tags=["firmware"], community_id=community_id)

        async def escalated() -> list[dict]:
            events = api.events(ESCALATED)
            assert events
            return events

        [event] = await eventually(escalated)
        # Run again, as every replica's job does: nothing more is escalated.
        escalate_overdue_questions(app.state.database, settings)
        assert len(api.events(ESCALATED)) == 1
        read = await client.get(f"/v1/questions/{question['id']}", headers=nadia.headers)

    assert event["key"] == question["id"]
    assert event["data"] | {"escalated_at": None} == {
        "question_id": question["id"],
        "title": question["title"],
        "tags": ["firmware"],
        "community_id": community_id,
        "author_id": nadia.id,
        "author_department_id": "after-sales",
        "source": "internal",
        "asked_at": question["asked_at"].replace("+00:00", "Z"),
        "escalated_at": None,
    }
    assert read.json()["escalated_at"] is not None
    assert read.json()["status"] == "open"


async def test_only_questions_without_an_answer_past_the_sla_are_escalated(api):
    nadia, ines = api.member("after-sales"), api.member("rd")
    waiting = await api.ask(nadia, title="Sans réponse")
    answered = await api.ask(nadia, title="Avec réponse")
    await api.answer(ines, answered["id"])
    sla = timedelta(hours=api.settings.answer_sla_hours)
    database = api.app.state.database
    now = datetime.now(UTC)

    with database.transaction() as session:
        too_early = service.escalate_overdue_questions(session, sla=sla, at=now + sla / 2)
    with database.transaction() as session:
        due = service.escalate_overdue_questions(session, sla=sla, at=now + sla * 2)
    with database.transaction() as session:
        again = service.escalate_overdue_questions(session, sla=sla, at=now + sla * 3)

    assert (too_early, due, again) == (0, 1, 0)
    assert [e["data"]["question_id"] for e in api.events(ESCALATED)] == [waiting["id"]]
    # An answer may still come after the escalation.
    late = await api.answer(ines, waiting["id"])
    assert late["question_id"] == waiting["id"]
