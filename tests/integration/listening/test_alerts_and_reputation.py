"""Negative spikes raise one alert each, explained and routed; reputation over time in buckets."""

import asyncio
from datetime import timedelta

import pytest

from listening import jobs
from tests.integration.listening.conftest import NOW, mention

pytestmark = pytest.mark.integration

DELIVERY = [
    "Frigo livré cassé, technicien jamais venu, service horrible",
    "Encore un frigo cassé à la livraison, c'est nul",
    "Livraison ratée et frigo cassé, horrible",
]
PRICES = "Prix scandaleux, c'est nul"


@pytest.fixture
async def source(api) -> dict:
    await api.rules({"after-sales": ["livraison", "frigo"], "marketing": ["prix"]})
    return await api.source()


def negatives(source: dict, count: int, start, step: timedelta, text: str | None = None) -> list:
    return [
        mention(
            source["id"],
            text or DELIVERY[n % len(DELIVERY)],
            lang="fr",
            author=f"@client{n % 4}",
            published_at=start + step * n,
        )
        for n in range(count)
    ]


async def alerts(api, query: str = "") -> list[dict]:
    response = await api.client.get(f"/v1/alerts{query}", headers=api.as_("employee"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def check(api) -> None:
    await asyncio.to_thread(jobs.check_for_spike, api.app.state.database, api.settings)


async def test_a_spike_raises_one_explained_alert_for_its_owner(api, source):
    # A negative mention an hour for the 12 hours before: the baseline.
    app_bugs = "L'appli plante encore, nul"
    await api.ingest(
        *negatives(source, 12, NOW - timedelta(hours=13), timedelta(hours=1), app_bugs)
    )
    assert await alerts(api) == []
    spike = negatives(source, 9, NOW - timedelta(minutes=50), timedelta(minutes=5))
    spike += negatives(source, 3, NOW - timedelta(minutes=40), timedelta(minutes=5), PRICES)

    response = await api.ingest(*spike)

    spike_ids = {item["id"] for item in response.json()["items"]}
    [alert] = await alerts(api)
    assert alert["status"] == "open"
    assert alert["department_id"] == "after-sales"  # 9 of the 12 negative mentions
    assert (alert["window_start"], alert["window_end"]) == (
        "2026-03-02T11:00:00Z",
        "2026-03-02T12:00:00Z",
    )
    assert (alert["negative_mentions"], alert["baseline_per_hour"]) == (12, 1.0)
    explanation = alert["explanation"]
    assert explanation["baseline"]["negative_mentions"] == 12
    assert explanation["baseline"]["start"] == "2026-03-01T23:00:00+00:00"
    assert explanation["ratio_to_baseline"] == 12.0
    assert explanation["departments"] == [
        {"department_id": "after-sales", "negative_mentions": 9},
        {"department_id": "marketing", "negative_mentions": 3},
    ]
    assert {"frigo", "casse"} <= set(explanation["top_terms"][:4])
    assert explanation["top_authors"][0] == {"author": "@client0", "mentions": 4}
    assert 0 < len(explanation["sample_mention_ids"]) <= 5
    assert set(explanation["sample_mention_ids"]) <= spike_ids
    [event] = api.events("listening.alert.raised.v1")
    assert event["subject"] == alert["id"]
    assert event["data"] | {"top_terms": []} == {
        "id": alert["id"],
        "department_id": "after-sales",
        "window_start": "2026-03-02T11:00:00Z",
        "window_end": "2026-03-02T12:00:00Z",
        "negative_mentions": 12,
        "baseline_per_hour": 1.0,
        "top_terms": [],
    }


async def test_a_spike_that_goes_on_is_still_one_alert_and_a_later_one_is_another(api, source):
    await api.ingest(*negatives(source, 12, NOW - timedelta(minutes=55), timedelta(minutes=4)))
    await check(api)
    api.at(NOW + timedelta(minutes=20))
    await api.ingest(*negatives(source, 6, NOW + timedelta(minutes=5), timedelta(minutes=2)))
    await check(api)
    api.at(NOW + timedelta(minutes=50))
    await check(api)

    assert len(await alerts(api)) == 1

    api.at(NOW + timedelta(hours=4))  # the spike is over
    await check(api)
    assert len(await alerts(api)) == 1
    later = NOW + timedelta(hours=3, minutes=10)
    await api.ingest(*negatives(source, 15, later, timedelta(minutes=3)))
    assert len(await alerts(api)) == 2
    assert len(api.events("listening.alert.raised.v1")) == 2


@pytest.mark.parametrize(
    ("baseline", "in_window", "label"),
    [
        (0, 9, "negative"),  # under the minimum volume
        (48, 11, "negative"),  # 4 an hour before: 11 is not 3 times as many
        (0, 20, "positive"),  # praise is no spike
    ],
)
async def test_what_is_not_a_spike(api, source, baseline, in_window, label):
    text = "Livraison parfaite, frigo génial, merci" if label == "positive" else None
    if baseline:
        start = NOW - timedelta(hours=13)
        await api.ingest(*negatives(source, baseline, start, timedelta(minutes=15)))
    await api.ingest(
        *negatives(source, in_window, NOW - timedelta(minutes=55), timedelta(minutes=2), text)
    )
    await check(api)

    assert await alerts(api) == []


async def test_the_periodic_check_raises_what_ingest_did_not_see(api, source):
    # Mentions stamped ahead of the clock: no spike yet when they land.
    await api.ingest(*negatives(source, 12, NOW + timedelta(minutes=10), timedelta(minutes=1)))
    assert await alerts(api) == []

    api.at(NOW + timedelta(minutes=30))
    await check(api)

    assert len(await alerts(api)) == 1


async def test_an_alert_is_acknowledged_once(api, source):
    await api.ingest(*negatives(source, 12, NOW - timedelta(minutes=55), timedelta(minutes=4)))
    [alert] = await alerts(api)
    employee = await api.client.post(f"/v1/alerts/{alert['id']}/ack", headers=api.as_("employee"))

    response = await api.client.post(
        f"/v1/alerts/{alert['id']}/ack", headers=api.as_("conversation_manager", subject="elodie")
    )
    before = api.snapshot()
    again = await api.client.post(f"/v1/alerts/{alert['id']}/ack", headers=api.cco)

    assert employee.status_code == 403
    assert response.status_code == 200, response.text
    acknowledged = response.json()
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["acknowledged_by"] == "elodie"
    assert acknowledged["acknowledged_at"] == "2026-03-02T12:00:00Z"
    assert again.status_code == 409
    assert api.snapshot() == before
    [event] = api.events("listening.alert.acknowledged.v1")
    assert event["data"] == {
        "id": alert["id"],
        "department_id": "after-sales",
        "acknowledged_by": "elodie",
    }
    assert await alerts(api, "?status=open") == []
    assert [a["id"] for a in await alerts(api, "?status=acknowledged")] == [alert["id"]]
    assert [a["id"] for a in await alerts(api, "?department_id=after-sales")] == [alert["id"]]
    assert await alerts(api, "?department_id=hr") == []
    one = await api.client.get(f"/v1/alerts/{alert['id']}", headers=api.cco)
    assert one.json() == acknowledged


async def test_unknown_alerts_and_bad_filters(api):
    unknown = await api.client.post(
        "/v1/alerts/01a21d21-3038-7611-bc61-d2f6751b2f41/ack", headers=api.cco
    )
    malformed = await api.client.post("/v1/alerts/nope/ack", headers=api.cco)
    status = await api.client.get("/v1/alerts?status=closed", headers=api.cco)

    assert (unknown.status_code, malformed.status_code, status.status_code) == (404, 422, 422)


async def test_reputation_counts_mentions_per_bucket(api, source):
    community = "01a21d21-3038-7611-bc61-d2f6751b2f41"
    club = await api.source("Club", "manual", community_id=community)
    items = [
        mention(source["id"], "Livraison parfaite, merci", published_at=NOW - timedelta(hours=30)),
        mention(source["id"], "Frigo cassé, horrible", published_at=NOW - timedelta(hours=3)),
        mention(source["id"], "Prix corrects", published_at=NOW - timedelta(hours=2, minutes=30)),
        mention(club["id"], "Super club, génial", published_at=NOW - timedelta(minutes=30)),
    ]
    items = [item | {"lang": "fr"} for item in items]
    created = (await api.ingest(*items)).json()["items"]
    scores = []
    for item in created:
        body = (await api.client.get(f"/v1/mentions/{item['id']}", headers=api.cco)).json()
        scores.append(body["sentiment"]["score"])

    async def reputation(query: str) -> dict:
        response = await api.client.get(f"/v1/reputation?{query}", headers=api.as_("employee"))
        assert response.status_code == 200, response.text
        return response.json()

    days = await reputation("from=2026-03-01T00:00:00Z&to=2026-03-02T12:00:00Z&bucket=day")
    assert [(b["start"], b["mentions"], b["negative_mentions"]) for b in days["buckets"]] == [
        ("2026-03-01T00:00:00Z", 1, 0),
        ("2026-03-02T00:00:00Z", 3, 1),
    ]
    today = days["buckets"][1]
    assert today["sentiment_avg"] == pytest.approx(sum(scores[1:]) / 3, abs=1e-4)
    assert today["negative_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert (days["mentions"], days["negative_share"]) == (4, 0.25)
    hours = await reputation("from=2026-03-02T08:30:00Z&to=2026-03-02T12:00:00Z&bucket=hour")
    assert [(b["start"][11:16], b["mentions"]) for b in hours["buckets"]] == [
        ("08:00", 0),
        ("09:00", 2),
        ("10:00", 0),
        ("11:00", 1),
    ]
    assert hours["buckets"][0]["sentiment_avg"] is None
    assert hours["buckets"][0]["negative_share"] is None
    club_only = await reputation(f"community_id={community}&bucket=day")
    assert club_only["mentions"] == 1
    assert club_only["sentiment_avg"] == pytest.approx(scores[3], abs=1e-4)
    marketing = await reputation("department_id=marketing")
    assert marketing["mentions"] == 1
    week = await reputation("")
    assert week["bucket"] == "day"
    assert (week["from"], week["to"]) == ("2026-02-23T12:00:00Z", "2026-03-02T12:00:00Z")
    assert len(week["buckets"]) == 8 and week["mentions"] == 4


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
        "bucket=week",
        "from=2020-01-01T00:00:00Z&bucket=hour",
        "from=last-monday",
        "community_id=club",
    ],
)
async def test_bad_reputation_queries_are_422(api, query):
    response = await api.client.get(f"/v1/reputation?{query}", headers=api.cco)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
