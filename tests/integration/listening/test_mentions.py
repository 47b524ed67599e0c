"""Mentions: one or a batch, read (language, sentiment, topics, department), stored once, listed."""

from datetime import timedelta

import pytest

from tests.integration.listening.conftest import NOW, mention

pytestmark = pytest.mark.integration


@pytest.fixture
async def source(api) -> dict:
    await api.rules({"after-sales": ["livraison", "sav", "repair"], "hr": ["recrutement"]})
    return await api.source(keywords=["hestia"])


async def test_a_mention_is_read_routed_and_announced(api, source):
    response = await api.client.post(
        "/v1/mentions",
        json=mention(
            source["id"],
            "Livraisons Hestia toujours en retard, le SAV ne répond jamais. Nul !",
            external_id="tweet-1",
            author="@marie_l",
            url="https://x.example/marie_l/status/1",
        ),
        headers={**api.system, "X-Request-ID": "ingest-1"},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["lang"] == "fr"
    assert body["sentiment"]["label"] == "negative" and -1 <= body["sentiment"]["score"] < 0
    assert body["sentiment"]["source"] == "model"
    assert body["topics"] == ["hestia", "livraison", "sav"]  # "livraisons" found by its stem
    assert body["department_id"] == "after-sales"
    [event] = api.events("listening.mention.ingested.v1")
    assert event["key"] == event["subject"] == source["id"]
    assert event["requestid"] == "ingest-1"
    assert event["data"] == {
        "id": body["id"],
        "source_id": source["id"],
        "community_id": None,
        "channel": "x",
        "lang": "fr",
        "sentiment_score": body["sentiment"]["score"],
        "sentiment_label": "negative",
        "department_id": "after-sales",
        "topics": ["hestia", "livraison", "sav"],
        "published_at": "2026-03-02T11:55:00Z",
    }


async def test_a_given_language_is_kept_and_nothing_matched_goes_to_the_default(api, source):
    body = await api.mention(source["id"], "Great value, love it", lang="en-GB")

    assert body["lang"] == "en"
    assert body["sentiment"]["label"] == "positive"
    assert body["topics"] == []
    assert body["department_id"] == api.settings.default_department_id == "communication"


async def test_the_same_external_id_is_stored_once(api, source):
    first = await api.mention(source["id"], "Hestia repair was quick", external_id="r-1")
    before = api.snapshot()

    again = await api.client.post(
        "/v1/mentions",
        json=mention(source["id"], "Hestia repair was quick", external_id="r-1"),
        headers=api.system,
    )

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert api.snapshot() == before


async def test_a_batch_stores_good_items_and_reports_duplicates_and_bad_ones(api, source):
    stored = await api.mention(source["id"], "Déjà là", external_id="old")
    other = await api.source("Forum", "manual")
    items = [
        mention(source["id"], "Recrutement chez Hestia : super expérience", external_id="a"),
        mention(source["id"], "Same again", external_id="a"),  # a copy in the same batch
        mention(source["id"], "Déjà là", external_id="old"),  # stored before
        mention(source["id"], ""),  # no text
        {**mention(source["id"], "x"), "sentiment": "positive"},  # a read-only field
        mention("01a21d21-3038-7611-bc61-d2f6751b2f41", "unknown source"),
        mention(other["id"], "Terrible repair service", published_at="2026-03-02T11:00:00"),
        mention(other["id"], "Terrible repair service"),  # no external id: always new
        "not a mention",
    ]

    response = await api.ingest(*items)

    assert response.status_code == 201, response.text
    report = response.json()
    assert [(r["index"], r["status"]) for r in report["items"]] == [
        (0, "created"),
        (1, "duplicate"),
        (2, "duplicate"),
        (3, "invalid"),
        (4, "invalid"),
        (5, "invalid"),
        (6, "invalid"),
        (7, "created"),
        (8, "invalid"),
    ]
    results = report["items"]
    assert results[1]["id"] == results[0]["id"]
    assert results[2]["id"] == stored["id"]
    assert [e["field"] for e in results[3]["errors"]] == ["text"]
    assert [e["field"] for e in results[4]["errors"]] == ["sentiment"]
    assert [e["field"] for e in results[5]["errors"]] == ["source_id"]
    assert [e["field"] for e in results[6]["errors"]] == ["published_at"]  # no time zone
    assert "errors" not in results[0]
    assert (report["created"], report["duplicates"], report["invalid"]) == (2, 2, 5)
    ingested = api.events("listening.mention.ingested.v1")
    assert [e["data"]["id"] for e in ingested[1:]] == [results[0]["id"], results[7]["id"]]
    assert ingested[1]["data"]["department_id"] == "hr"


async def test_a_batch_of_nothing_new_answers_200(api, source):
    await api.mention(source["id"], "Hello", external_id="h")

    response = await api.ingest(mention(source["id"], "Hello", external_id="h"))

    assert response.status_code == 200
    assert response.json()["duplicates"] == 1


async def test_a_large_batch_lands_whole_with_one_event_per_mention(api, source):
    items = [
        mention(source["id"], f"Repair number {n} went well", external_id=f"n-{n}")
        for n in range(1000)
    ]

    response = await api.ingest(*items)

    assert response.status_code == 201, response.text
    assert response.json()["created"] == 1000
    assert api.snapshot()["Mention"] == 1000
    assert len(api.events("listening.mention.ingested.v1")) == 1000


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"items": []}, 422),
        ({"items": "all of them"}, 422),
        ({"items": [], "source": "x"}, 422),
        ([{"text": "a list is not a mention"}], 422),
        ({"text": "no source"}, 422),
    ],
)
async def test_bad_bodies_are_refused_and_change_nothing(api, source, body, status):
    before = api.snapshot()

    response = await api.client.post("/v1/mentions", json=body, headers=api.system)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"]
    assert api.snapshot() == before


async def test_a_batch_with_no_valid_item_is_422_and_says_why(api, source):
    before = api.snapshot()

    response = await api.ingest(mention(source["id"], " "), {"source_id": source["id"]})

    assert response.status_code == 422
    problem = response.json()
    assert [item["status"] for item in problem["items"]] == ["invalid", "invalid"]
    assert "items.0.text" in [error["field"] for error in problem["errors"]]
    assert api.snapshot() == before


async def test_more_than_1000_items_is_413(api, source):
    before = api.snapshot()
    items = [mention(source["id"], f"m {n}") for n in range(1001)]

    response = await api.ingest(*items)

    assert response.status_code == 413
    assert api.snapshot() == before


async def test_malformed_json_is_400_and_other_media_types_415(api, source):
    before = api.snapshot()

    malformed = await api.client.post(
        "/v1/mentions",
        content=b'{"items": [',
        headers={**api.system, "content-type": "application/json"},
    )
    as_text = await api.client.post(
        "/v1/mentions", content=b"{}", headers={**api.system, "content-type": "text/plain"}
    )

    assert malformed.status_code == 400
    assert as_text.status_code == 415
    assert api.snapshot() == before


async def test_a_mention_from_the_future_or_of_an_unknown_source_is_422(api, source):
    before = api.snapshot()

    future = await api.client.post(
        "/v1/mentions",
        json=mention(source["id"], "Tomorrow's news", published_at=NOW + timedelta(days=1)),
        headers=api.system,
    )
    unknown = await api.client.post(
        "/v1/mentions",
        json=mention("01a21d21-3038-7611-bc61-d2f6751b2f41", "Hello"),
        headers=api.system,
    )

    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "published_at"
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "source_id"
    assert api.snapshot() == before


async def test_who_may_ingest(api, source):
    body = mention(source["id"], "Hello")

    employee = await api.client.post("/v1/mentions", json=body, headers=api.as_("employee"))
    manager = await api.client.post("/v1/mentions", json=body, headers=api.as_("community_manager"))
    anonymous = await api.client.post("/v1/mentions", json=body)
    voice = await api.client.post(
        "/v1/mentions", json=body, headers=api.as_("conversation_manager")
    )

    assert (employee.status_code, manager.status_code, anonymous.status_code) == (403, 403, 401)
    assert voice.status_code == 201
    assert voice.json()["id"]


async def test_mentions_are_filtered_and_paged(api, source):
    other = await api.source("Avis", "manual")
    old = await api.mention(
        source["id"], "Livraison parfaite", published_at=NOW - timedelta(days=2)
    )
    angry = await api.mention(source["id"], "Livraison ratée, SAV nul, horrible")
    kind = await api.mention(other["id"], "Lovely oven, thank you")

    async def ids(query: str) -> list[str]:
        response = await api.client.get(f"/v1/mentions?{query}", headers=api.as_("employee"))
        assert response.status_code == 200, response.text
        return [m["id"] for m in response.json()["items"]]

    assert await ids("") == [old["id"], angry["id"], kind["id"]]
    assert await ids("since=2026-03-01T00:00:00Z") == [angry["id"], kind["id"]]
    assert await ids("until=2026-03-01T00:00:00%2B00:00") == [old["id"]]
    assert await ids("sentiment=negative") == [angry["id"]]
    assert await ids("department_id=after-sales") == [old["id"], angry["id"]]
    assert await ids(f"source_id={other['id']}") == [kind["id"]]
    assert await ids("lang=en") == [kind["id"]]
    assert await ids("q=OVEN") == [kind["id"]]
    assert await ids("q=100%25") == []
    first = (await api.client.get("/v1/mentions?limit=2", headers=api.cco)).json()
    rest = await api.client.get(f"/v1/mentions?cursor={first['next_cursor']}", headers=api.cco)
    assert [m["id"] for m in first["items"] + rest.json()["items"]] == await ids("")
    one = await api.client.get(f"/v1/mentions/{kind['id']}", headers=api.cco)
    assert one.json() == kind


@pytest.mark.parametrize(
    "query", ["sentiment=angry", "since=yesterday", "limit=0", "cursor=!!", "lang=french"]
)
async def test_bad_filters_are_4xx(api, query):
    response = await api.client.get(f"/v1/mentions?{query}", headers=api.cco)

    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_or_malformed_mention_id(api):
    unknown = await api.client.get(
        "/v1/mentions/01a21d21-3038-7611-bc61-d2f6751b2f41", headers=api.cco
    )
    malformed = await api.client.get("/v1/mentions/42", headers=api.cco)

    assert unknown.status_code == 404
    assert malformed.status_code == 422


async def test_a_nul_character_spoils_its_item_only(api, source):
    response = await api.ingest(
        mention(source["id"], "Bonjour\x00"),
        mention(source["id"], "Bonjour", author="@x\x00"),
        mention(source["id"], "Bonjour", external_id="ok"),
    )

    assert response.status_code == 201, response.text
    statuses = [item["status"] for item in response.json()["items"]]
    assert statuses == ["invalid", "invalid", "created"]
    ask = await api.client.post("/v1/faq/ask", json={"question": "garantie\x00"})
    assert ask.status_code == 422
