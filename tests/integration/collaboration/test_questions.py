"""Questions: asking, reading, filters and pagination, and every way to ask badly."""

import uuid

import pytest

from tests.support.apps import bearer

pytestmark = pytest.mark.integration


async def test_a_question_is_asked_by_the_caller_from_their_department(api):
    ines = api.member("rd")
    community_id = api.community("Python & data")

    response = await api.client.post(
        "/v1/questions",
        json={
            "title": "  Accéder à l'entrepôt depuis un notebook  ",
            "body": "Sans extraire de CSV.",
            "tags": ["Python", "sql", "python"],
            "community_id": community_id,
        },
        headers={**ines.headers, "X-Request-ID": "ask-1"},
    )

    assert response.status_code == 201, response.text
    question = response.json()
    assert question["title"] == "Accéder à l'entrepôt depuis un notebook"
    assert question["author_id"] == ines.id
    assert question["author_department_id"] == "rd"
    assert question["tags"] == ["python", "sql"]
    assert question["status"] == "open" and question["answers"] == []
    assert question["source"] == "internal" and question["faq_ask_id"] is None
    [event] = api.events("collaboration.question.asked.v1")
    assert event["key"] == event["subject"] == question["id"]
    assert event["source"] == "/services/collaboration"
    assert event["requestid"] == "ask-1"
    assert event["data"] == {
        "id": question["id"],
        "title": question["title"],
        "tags": ["python", "sql"],
        "community_id": community_id,
        "author_id": ines.id,
        "author_department_id": "rd",
        "asked_at": event["data"]["asked_at"],
        "source": "internal",
        "faq_ask_id": None,
    }


async def test_the_department_comes_from_the_directory_not_from_the_token(api):
    ines = api.member("rd")
    headers = bearer(api.settings, "employee", subject=ines.id, department="marketing")

    response = await api.client.post(
        "/v1/questions", json={"title": "Une question", "body": "?"}, headers=headers
    )

    assert response.json()["author_department_id"] == "rd"


async def test_a_person_not_yet_known_writes_with_their_tokens_department(api):
    headers = bearer(api.settings, "employee", subject=str(uuid.uuid4()), department="sales")

    response = await api.client.post(
        "/v1/questions", json={"title": "Une question", "body": "?"}, headers=headers
    )

    assert response.status_code == 201
    assert response.json()["author_department_id"] == "sales"


async def test_without_a_valid_token_is_401(api):
    before = api.snapshot()

    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = await api.client.post(
            "/v1/questions", json={"title": "Une question", "body": "?"}, headers=headers
        )
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        listed = await api.client.get("/v1/questions", headers=headers)
        assert listed.status_code == 401

    assert api.snapshot() == before


async def test_who_cannot_author_is_403_and_changes_nothing(api):
    unknown = bearer(api.settings, "employee", subject=str(uuid.uuid4()))
    system = bearer(api.settings, "system", subject="hr-sync", department="hr")
    gone = api.member("rd")
    api.receive(
        "people.person.deactivated.v1",
        {"id": gone.id, "department_id": "rd", "deactivated_at": "2026-11-01T00:00:00Z"},
    )
    before = api.snapshot()

    for headers in (unknown, system, gone.headers):
        response = await api.client.post(
            "/v1/questions", json={"title": "Une question", "body": "?"}, headers=headers
        )
        assert response.status_code == 403, response.text

    assert api.snapshot() == before


BAD_QUESTIONS = [
    ({"body": "?"}, "title"),
    ({"title": "ab", "body": "?"}, "title"),
    ({"title": "x" * 201, "body": "?"}, "title"),
    ({"title": "Une question"}, "body"),
    ({"title": "Une question", "body": "   "}, "body"),
    ({"title": 42, "body": "?"}, "title"),
    ({"title": "Une question", "body": "?", "tags": "python"}, "tags"),
    ({"title": "Une question", "body": "?", "tags": ["lave linge"]}, "tags.0"),
    ({"title": "Une question", "body": "?", "tags": ["réparer"]}, "tags.0"),
    ({"title": "Une question", "body": "?", "tags": [f"t{i}" for i in range(11)]}, "tags"),
    ({"title": "Une question", "body": "?", "community_id": "nope"}, "community_id"),
    ({"title": "Une question", "body": "?", "author_id": str(uuid.uuid4())}, "author_id"),
    ({"title": "Une question", "body": "?", "author_department_id": "hr"}, "author_department_id"),
    ({"title": "Une question", "body": "?", "status": "answered"}, "status"),
    ({"title": "Une question", "body": "?", "source": "customer-faq"}, "source"),
    ({"title": "Une question", "body": "?", "id": str(uuid.uuid4())}, "id"),
]


async def test_a_bad_question_is_422_and_changes_nothing(api):
    ines = api.member("rd")
    before = api.snapshot()

    for body, field in BAD_QUESTIONS:
        response = await api.client.post("/v1/questions", json=body, headers=ines.headers)

        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [error["field"] for error in response.json()["errors"]], body

    assert api.snapshot() == before


async def test_an_unknown_or_archived_community_is_422(api):
    ines = api.member("rd")
    archived = api.community("Ancienne communauté")
    api.receive("communities.community.archived.v1", {"id": archived})
    before = api.snapshot()

    for community_id in (str(uuid.uuid4()), archived):
        response = await api.client.post(
            "/v1/questions",
            json={"title": "Une question", "body": "?", "community_id": community_id},
            headers=ines.headers,
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "community_id"

    assert api.snapshot() == before


async def test_malformed_json_is_400_other_media_415_and_oversized_413(api):
    ines = api.member("rd")
    before = api.snapshot()

    malformed = await api.client.post(
        "/v1/questions",
        content=b'{"title": "x",',
        headers={**ines.headers, "content-type": "application/json"},
    )
    as_text = await api.client.post(
        "/v1/questions",
        content=b'{"title": "Une question", "body": "?"}',
        headers={**ines.headers, "content-type": "text/plain"},
    )
    oversized = await api.client.post(
        "/v1/questions",
        json={"title": "Une question", "body": "x" * 1_100_000},
        headers=ines.headers,
    )
    not_an_object = await api.client.post("/v1/questions", json=[1, 2], headers=ines.headers)

    assert malformed.status_code == 400
    assert as_text.status_code == 415
    assert oversized.status_code == 413
    assert not_an_object.status_code == 422
    assert api.snapshot() == before


async def test_a_question_is_read_with_its_answers(api):
    ines, mehdi = api.member("rd"), api.member("it")
    question = await api.ask(ines)
    answer = await api.answer(mehdi, question["id"], "Par la vue sav_retours.")

    response = await api.client.get(f"/v1/questions/{question['id']}", headers=mehdi.headers)

    assert response.status_code == 200
    read = response.json()
    assert read["status"] == "answered" and read["answer_count"] == 1
    assert [a["id"] for a in read["answers"]] == [answer["id"]]
    assert read["answers"][0]["author_department_id"] == "it"
    assert read["answers"][0]["accepted"] is False


async def test_unknown_or_malformed_question_ids(api):
    ines = api.member("rd")

    unknown = await api.client.get(f"/v1/questions/{uuid.uuid4()}", headers=ines.headers)
    malformed = await api.client.get("/v1/questions/not-a-uuid", headers=ines.headers)

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert malformed.status_code == 422


async def test_questions_are_filtered(api):
    ines, nadia, mehdi = api.member("rd"), api.member("after-sales"), api.member("it")
    python = api.community("Python & data")
    firmware = await api.ask(nadia, title="Code E21 après mise à jour", tags=["firmware"])
    notebook = await api.ask(
        ines, title="Notebook et entrepôt", tags=["python"], community_id=python
    )
    staffing = await api.ask(nadia, title="Qui anime l'atelier ?", tags=["python", "onboarding"])
    await api.answer(mehdi, notebook["id"])

    assert await api.ids("/v1/questions", ines) == [firmware["id"], notebook["id"], staffing["id"]]
    assert await api.ids("/v1/questions?tag=PYTHON", ines) == [notebook["id"], staffing["id"]]
    assert await api.ids("/v1/questions?status=open", ines) == [firmware["id"], staffing["id"]]
    assert await api.ids("/v1/questions?status=answered", ines) == [notebook["id"]]
    assert await api.ids("/v1/questions?department_id=after-sales", ines) == [
        firmware["id"],
        staffing["id"],
    ]
    assert await api.ids(f"/v1/questions?community_id={python}", ines) == [notebook["id"]]
    assert await api.ids("/v1/questions?tag=python&status=open", ines) == [staffing["id"]]
    assert await api.ids("/v1/questions?tag=nothing", ines) == []


async def test_questions_are_paginated(api):
    ines = api.member("rd")
    asked = [(await api.ask(ines, title=f"Question {n}"))["id"] for n in range(5)]

    first = (await api.client.get("/v1/questions?limit=2", headers=ines.headers)).json()
    second = (
        await api.client.get(
            f"/v1/questions?limit=2&cursor={first['next_cursor']}", headers=ines.headers
        )
    ).json()
    third = (
        await api.client.get(
            f"/v1/questions?limit=2&cursor={second['next_cursor']}", headers=ines.headers
        )
    ).json()

    pages = [first, second, third]
    assert [item["id"] for page in pages for item in page["items"]] == asked
    assert third["next_cursor"] is None


async def test_questions_are_listed_newest_first_on_request(api):
    ines = api.member("rd")
    asked = [(await api.ask(ines, title=f"Question {n}"))["id"] for n in range(5)]

    ids, cursor = [], ""
    for _ in range(3):
        page = (
            await api.client.get(f"/v1/questions?order=desc&limit=2{cursor}", headers=ines.headers)
        ).json()
        ids += [item["id"] for item in page["items"]]
        cursor = f"&cursor={page['next_cursor']}"

    assert ids == asked[::-1]
    assert page["next_cursor"] is None


async def test_bad_list_parameters_are_4xx(api):
    ines = api.member("rd")
    queries = {
        "status=closed": 422,
        "order=newest": 422,
        "limit=0": 422,
        "limit=201": 422,
        "cursor=bm90LWpzb24": 400,
        "community_id=nope": 422,
        "tag=" + "x" * 41: 422,
        "q=" + "x" * 201: 422,
    }

    for query, status in queries.items():
        response = await api.client.get(f"/v1/questions?{query}", headers=ines.headers)

        assert response.status_code == status, (query, response.text)
        assert response.headers["content-type"] == "application/problem+json"
