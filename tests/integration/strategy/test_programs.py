"""Programs: KPIs read from the view itself, with their progress from a baseline to a target."""

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from shared.outbox import OutboxMessage
from tests.support.apps import bearer, eventually

pytestmark = pytest.mark.integration


def program(owner_id, *kpis: tuple[str, float]) -> dict:
    return {
        "name": "Ponts R&D – SAV",
        "objective": "Que la R&D et le SAV s'aident chaque semaine",
        "owner_id": str(owner_id),
        "budget": 12000,
        "kpis": [{"metric": m, "target": t, "deadline": "2027-06-30"} for m, t in kpis],
    }


async def test_a_program_follows_its_kpis_from_the_view(view, story):
    await view.tell(story.scenario)
    body = program(
        story.ines.id,
        ("cross_silo_ratio", 0.9),
        ("cross_silo_ratio:rd", 1.0),
        ("help:it->rd", 5),
        (f"community_health:{story.quality}", 80),
        ("faq_deflection_rate", 0.9),
        ("sentiment_avg", 0.5),
    )

    created = await view.client.post("/v1/programs", json=body, headers=view.cco)

    assert created.status_code == 201, created.text
    kpis = {k["metric"]: k for k in created.json()["kpis"]}
    assert (
        kpis["cross_silo_ratio"]["baseline"]
        == kpis["cross_silo_ratio"]["current"]
        == round(8 / 11, 4)
    )
    assert kpis["cross_silo_ratio"]["progress"] == 0.0
    assert kpis["help:it->rd"]["current"] == 3
    assert kpis["faq_deflection_rate"]["current"] == 0.75
    assert kpis["sentiment_avg"]["current"] == 0.0
    [event] = _outbox(view)
    assert json.loads(event.value)["type"] == "strategy.program.created.v1"

    # Mehdi (it) answers Lucas (after-sales): one more cross-silo interaction, 9 of 12.
    question = story.scenario.question(story.lucas, ["python"], story.now - timedelta(hours=2))
    story.scenario.answer(question, story.mehdi, story.now - timedelta(hours=1))
    await story.scenario.publish(view.broker, story.scenario.messages[-2:])
    await view.wait_for(len(story.scenario.messages))

    [listed] = await view.get("/v1/programs")
    kpis = {k["metric"]: k for k in listed["kpis"]}
    assert kpis["cross_silo_ratio"]["current"] == 0.75
    expected = (0.75 - round(8 / 11, 4)) / (0.9 - round(8 / 11, 4))
    assert kpis["cross_silo_ratio"]["progress"] == pytest.approx(expected, abs=1e-3)
    assert (await view.get(f"/v1/programs/{listed['id']}"))["name"] == "Ponts R&D – SAV"
    overview = await view.get("/v1/overview")
    assert [p["id"] for p in overview["programs"]] == [listed["id"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"kpis": [{"metric": "happiness", "target": 1, "deadline": "2027-01-01"}]},
            "kpis.0.metric",
        ),
        ({"kpis": [{"metric": "help:it", "target": 1, "deadline": "2027-01-01"}]}, "kpis.0.metric"),
        ({"kpis": []}, "kpis"),
        ({"owner_id": "not-a-uuid"}, "owner_id"),
        ({"owner_id": str(uuid.uuid4())}, "owner_id"),
        ({"budget": -1}, "budget"),
        ({"name": ""}, "name"),
        ({"created_by": "someone"}, "created_by"),
    ],
)
async def test_bad_programs_are_refused_and_emit_nothing(view, story, change, field):
    await view.tell(story.scenario)

    response = await view.client.post(
        "/v1/programs",
        json=program(story.ines.id, ("cross_silo_ratio", 0.9)) | change,
        headers=view.cco,
    )

    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert _outbox(view) == []
    assert await view.get("/v1/programs") == []


async def test_only_the_cco_creates_programs(view, story):
    await view.tell(story.scenario)
    body = program(story.ines.id, ("cross_silo_ratio", 0.9))

    for roles in (
        ("employee",),
        ("community_manager", "employee"),
        ("department_lead",),
        ("system",),
    ):
        response = await view.client.post(
            "/v1/programs", json=body, headers=bearer(view.settings, *roles)
        )
        assert response.status_code == 403
    assert (await view.client.post("/v1/programs", json=body)).status_code == 401
    unknown = await view.client.get(f"/v1/programs/{uuid.uuid4()}", headers=view.cco)
    assert unknown.status_code == 404


async def test_lag_reports_each_partition_and_the_newest_event(view, story):
    await view.tell(story.scenario)

    async def caught_up() -> dict:
        lag = await view.get("/v1/lag")
        assert lag["partitions"] and lag["total"] == 0
        return lag

    lag = await eventually(caught_up)
    assert {p["topic"] for p in lag["partitions"]} >= {"people.events", "collaboration.events"}
    assert lag["newest_event_at"] is not None and lag["newest_event_age_seconds"] >= 0


def _outbox(view) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with view.app.state.database.sessions() as session:
        return list(session.scalars(select(OutboxMessage)))
