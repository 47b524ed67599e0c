"""The strategy view of a story told through a real broker: the exact figures, and the same
figures after a duplicate delivery, a restart mid-stream and a rebuild."""

from collections import defaultdict
from datetime import UTC, datetime

import httpx
import pytest

from strategy.settings import Settings
from tests.integration.strategy.conftest import View, strategy_view
from tests.support.apps import eventually, service_settings
from tests.support.broker import Broker
from tests.support.history import Message

pytestmark = pytest.mark.integration

HALF_LIFE_DAYS = 180.0


def fading(at: datetime) -> float:
    return 0.5 ** ((datetime.now(UTC) - at).total_seconds() / 86400 / HALF_LIFE_DAYS)


async def figures(view: View) -> dict:
    """Everything the view shows, minus the clock."""
    overview = await view.get("/v1/overview")
    for volatile in ("as_of", "window"):
        overview.pop(volatile)
    overview["matrix"].pop("window")
    return {
        "overview": overview,
        "experts": await view.get("/v1/experts?topic=python"),
        "escalations": await view.get("/v1/escalations"),
        "staffing": await view.get("/v1/staffing"),
    }


async def test_the_matrix_and_the_cross_silo_ratios(view, story):
    await view.tell(story.scenario)

    overview = await view.get("/v1/overview")
    matrix = overview["matrix"]

    assert matrix["departments"] == ["after-sales", "external", "hr", "it", "rd"]
    # cells[i][j]: help that department j gave department i
    assert matrix["cells"] == [
        [2, 0, 0, 1, 1],  # after-sales: by itself (a member, an answer), by it, by rd
        [1, 0, 0, 0, 0],  # the customers: by after-sales (an escalated FAQ ask)
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
        [2, 0, 0, 3, 1],  # rd: by after-sales (2 members), by it (member, answer, adoption)
    ]
    assert overview["cross_silo_ratio"] == round(8 / 11, 4)
    departments = {d["id"]: d for d in overview["departments"]}
    assert departments["rd"] == {
        "id": "rd",
        "name": "R&D",
        "headcount": 1,
        "cross_silo_ratio": round(6 / 7, 4),
        "interactions_in": 6,
        "interactions_out": 2,
    }
    after_sales = departments["after-sales"]
    assert (after_sales["cross_silo_ratio"], after_sales["interactions_in"]) == (round(5 / 7, 4), 4)
    assert after_sales["interactions_out"] == 5
    assert (departments["it"]["cross_silo_ratio"], departments["it"]["interactions_out"]) == (
        1.0,
        4,
    )
    assert departments["hr"]["cross_silo_ratio"] is None
    headcounts = {id_: d["headcount"] for id_, d in departments.items()}
    assert headcounts == {"after-sales": 2, "hr": 0, "it": 1, "rd": 1}  # Sophie left


async def test_experts_rank_declared_and_fading_demonstrated_help(view, story):
    await view.tell(story.scenario)

    experts = (await view.get("/v1/experts?topic=Python"))["items"]

    assert [e["name"] for e in experts] == ["Mehdi", "Ines"]
    mehdi, ines = experts
    demonstrated = 4 * fading(story.q2_answered_at) + 4 * fading(story.practice_adopted_at)
    assert mehdi["reasons"] == {
        "declared_level": 5,
        "answers": 1,
        "accepted_answers": 1,
        "practices_adopted": 2,
        "departments_helped": ["after-sales", "rd"],
        "demonstrated": pytest.approx(demonstrated, abs=1e-3),
    }
    assert mehdi["score"] == pytest.approx(5 + demonstrated, abs=1e-3)
    assert ines["score"] == 4 and ines["reasons"]["answers"] == 0
    escalation = (await view.get("/v1/escalations"))[0]
    assert escalation["author_department_id"] == "hr"
    assert [e["name"] for e in escalation["suggested_experts"]] == ["Mehdi", "Ines"]


async def test_community_health(view, story):
    await view.tell(story.scenario)

    health = {c["name"]: c for c in await view.get("/v1/communities/health")}

    quality = health["Qualité"]
    assert (quality["members"], quality["active_members_30d"], quality["questions"]) == (4, 4, 2)
    assert quality["cross_department_member_share"] == 0.75
    assert quality["answer_rate"] == 1.0
    assert quality["median_time_to_first_answer_hours"] == 1.5
    # 4 members of 25, all active, 2 questions of 10, all answered within 4 h, 3 of 4 from
    # other departments
    expected = 100 * (0.2 * 4 / 25 + 0.2 + 0.15 * 2 / 10 + 0.15 + 0.15 + 0.15 * 0.75)
    assert quality["score"] == pytest.approx(expected, abs=0.06)
    club = health["Club"]
    assert (club["members"], club["mentions_30d"], club["sentiment_avg_30d"]) == (3, 4, 0.0)
    # external: 4 mentions of 50 for content, what they say (0 on -1..1) for diversity
    expected = 100 * (0.2 * 3 / 25 + 0.2 + 0.15 * 4 / 50 + 0.15 * 0.5)
    assert club["score"] == pytest.approx(expected, abs=0.06)
    assert health["Talents"]["score"] == 0.0


async def test_staffing_risks(view, story):
    await view.tell(story.scenario)

    risks = {(r["community_name"], r["kind"]) for r in await view.get("/v1/staffing")}

    assert risks == {
        ("Club", "junior_managers"),  # the company's voice outside: a one-year junior
        ("Talents", "no_manager"),
        ("Onboarding", "no_manager"),
        ("Onboarding", "manager_left"),
    }


async def test_reputation_and_the_faq(view, story):
    await view.tell(story.scenario)

    overview = await view.get("/v1/overview")

    reputation = overview["reputation"]
    # labels after a person's correction: positive, neutral, positive, negative
    assert reputation["mentions_7d"] == 4
    assert (reputation["sentiment_avg_7d"], reputation["net_sentiment_7d"]) == (0.0, 0.25)
    assert reputation["open_alerts"] == {"after-sales": 1}
    assert overview["faq"] == {"asked": 4, "deflected": 3, "deflection_rate": 0.75}


async def test_a_department_slice(view, story):
    await view.tell(story.scenario)

    overview = await view.get("/v1/overview?department_id=hr")
    unknown = await view.client.get("/v1/overview?department_id=nowhere", headers=view.cco)

    assert [d["id"] for d in overview["departments"]] == ["hr"]
    assert {c["name"] for c in overview["communities"]} == {"Talents", "Onboarding"}
    assert {r["community_name"] for r in overview["staffing_risks"]} == {"Talents", "Onboarding"}
    assert sum(map(sum, overview["matrix"]["cells"])) == 0
    assert unknown.status_code == 404


async def test_the_overview_is_not_sent_again_until_an_event_changes_it(view, story):
    messages = story.scenario.messages
    await view.tell(story.scenario, messages[:-1])

    async def asked_twice() -> tuple[httpx.Response, httpx.Response]:
        # The version holds the minute (windows end now): it may turn once between two asks.
        for _ in range(2):
            first = await view.client.get("/v1/overview", headers=view.cco)
            etag = first.headers["etag"]
            again = await view.client.get(
                "/v1/overview", headers=view.cco | {"If-None-Match": etag}
            )
            if again.status_code == 304 or again.headers.get("etag") == etag:
                return first, again
        raise AssertionError("the overview was not answered 304")

    first, again = await asked_twice()
    assert first.status_code == 200 and first.headers["cache-control"] == "private, no-cache"
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]

    await story.scenario.publish(view.broker, messages[-1:])
    await view.wait_for(len(messages))
    changed = await view.client.get(
        "/v1/overview", headers=view.cco | {"If-None-Match": first.headers["etag"]}
    )
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]
    # An ETag names one answer: another slice's, or a department not in the view, is not it.
    for path in ("/v1/overview?department_id=hr", "/v1/overview?department_id=nowhere"):
        other = await view.client.get(
            path, headers=view.cco | {"If-None-Match": changed.headers["etag"]}
        )
        assert other.status_code == (200 if path.endswith("hr") else 404)


async def test_a_duplicate_delivery_changes_nothing(view, story):
    await view.tell(story.scenario)
    before = await figures(view)

    await story.scenario.publish(view.broker)  # every event a second time

    async def dropped_and_unchanged() -> None:
        duplicates = view.app.state.metrics.registry.get_sample_value(
            "consumer_events_total", {"topic": "collaboration.events", "outcome": "duplicate"}
        )
        assert duplicates and duplicates >= 10
        assert await figures(view) == before

    await eventually(dropped_and_unchanged)


def each_subject_backwards(messages: list[Message]) -> list[Message]:
    """The same messages, each subject's in reverse order, in the places its messages held."""
    places: dict[tuple[str, bytes], list[int]] = defaultdict(list)
    for index, (topic, key, _) in enumerate(messages):
        places[(topic, key)].append(index)
    scrambled = list(messages)
    for indexes in places.values():
        for index, source in zip(indexes, reversed(indexes), strict=True):
            scrambled[index] = messages[source]
    return scrambled


async def test_a_story_read_out_of_each_subjects_order_shows_the_same_figures(
    view, story, databases
):
    story.scenario.moves(story.lucas, "it")
    story.scenario.moves(story.lucas, "hr")
    # As a broker that lost its log can deliver them: a batch in flight ahead of the rest.
    scrambled = each_subject_backwards(story.scenario.messages)
    assert scrambled != story.scenario.messages

    await view.tell(story.scenario, scrambled)

    in_order = Broker().start()
    try:
        settings = service_settings(
            Settings, databases, in_order, database_url=databases.url("in_order")
        )
        async with strategy_view(settings, in_order) as reference:
            await reference.tell(story.scenario)
            assert await figures(view) == await figures(reference)
    finally:
        in_order.stop()


async def test_a_restart_mid_stream_misses_nothing_and_counts_nothing_twice(
    strategy_settings, story, broker, databases
):
    messages = story.scenario.messages
    half = len(messages) // 2
    async with strategy_view(strategy_settings, broker) as first:
        await first.tell(story.scenario, messages[:half])

    await story.scenario.publish(broker, messages[half:])  # while the view is down
    async with strategy_view(strategy_settings, broker) as restarted:
        await restarted.wait_for(len(messages))
        after_restart = await figures(restarted)

    fresh = service_settings(Settings, databases, broker, database_url=databases.url("fresh"))
    async with strategy_view(fresh, broker) as from_scratch:
        await from_scratch.wait_for(len(messages))
        assert await figures(from_scratch) == after_restart


async def test_a_rebuild_swaps_in_a_view_equal_to_the_live_one(view, story):
    await view.tell(story.scenario)
    live = await figures(view)
    serving_before = view.app.state.projection.active_slot

    started = await view.client.post("/v1/admin/rebuild", headers=view.cco)
    again = await view.client.post("/v1/admin/rebuild", headers=view.cco)

    assert started.status_code == 202
    assert again.status_code == 409
    rebuild_id = started.json()["id"]

    async def done() -> dict:
        job = await view.get(f"/v1/admin/rebuild/{rebuild_id}")
        assert job["status"] == "done", job
        return job

    job = await eventually(done)
    assert job["progress"] == 1.0
    assert view.app.state.projection.active_slot != serving_before
    assert await figures(view) == live
    # The live consumer reads on into the rebuilt view.
    story.scenario.messages.clear()
    story.scenario.department("legal", "Juridique")
    await story.scenario.publish(view.broker)

    async def legal_counted() -> None:
        departments = [d["id"] for d in (await view.get("/v1/overview"))["departments"]]
        assert "legal" in departments

    await eventually(legal_counted)


async def test_only_the_cco_rebuilds(view):
    from tests.support.apps import bearer

    employee = bearer(view.settings, "employee")

    assert (await view.client.post("/v1/admin/rebuild", headers=employee)).status_code == 403
    missing = await view.client.get(
        "/v1/admin/rebuild/01a21d21-3038-7611-bc61-d2f6751b2f41", headers=view.cco
    )
    assert missing.status_code == 404
