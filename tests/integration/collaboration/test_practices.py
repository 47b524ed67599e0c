"""Practices: sharing, reading, and adoptions by other departments (once each), with events."""

import uuid

import pytest

pytestmark = pytest.mark.integration


async def test_a_practice_comes_from_its_authors_department_unless_named(api):
    sebastien, julie = api.member("after-sales"), api.member("it")
    api.member("rd")

    own = await api.client.post(
        "/v1/practices",
        json={"title": "Diagnostic à distance", "body": "Un appel vidéo.", "tags": ["diagnostics"]},
        headers={**sebastien.headers, "X-Request-ID": "share-1"},
    )
    for_rd = await api.share(julie, department_id="rd")

    assert own.status_code == 201, own.text
    practice = own.json()
    assert practice["department_id"] == "after-sales"
    assert practice["author_id"] == sebastien.id
    assert practice["adoption_count"] == 0 and practice["adoptions"] == []
    assert (for_rd["department_id"], for_rd["author_department_id"]) == ("rd", "it")
    first, second = api.events("collaboration.practice.shared.v1")
    assert first["key"] == practice["id"] and first["requestid"] == "share-1"
    assert first["data"] == {
        "id": practice["id"],
        "title": "Diagnostic à distance",
        "tags": ["diagnostics"],
        "department_id": "after-sales",
        "author_id": sebastien.id,
        "author_department_id": "after-sales",
        "shared_at": first["data"]["shared_at"],
    }
    assert second["data"]["department_id"] == "rd"


async def test_bad_practices_change_nothing(api):
    sebastien = api.member("after-sales")
    before = api.snapshot()
    good = {"title": "Diagnostic à distance", "body": "Un appel vidéo."}
    cases = [
        ({"body": "x"}, 422),
        ({**good, "title": ""}, 422),
        ({**good, "tags": ["Pas un slug"]}, 422),
        ({**good, "department_id": "Not A Slug"}, 422),
        ({**good, "department_id": "nowhere"}, 422),
        ({**good, "author_id": str(uuid.uuid4())}, 422),
        ({**good, "adoption_count": 3}, 422),
    ]

    for body, status in cases:
        response = await api.client.post("/v1/practices", json=body, headers=sebastien.headers)
        assert response.status_code == status, (body, response.text)

    assert api.snapshot() == before


async def test_another_department_adopts_a_practice_once(api):
    sebastien, chloe, maxime = api.member("after-sales"), api.member("sales"), api.member("sales")
    practice = await api.share(sebastien, tags=["diagnostics"])
    path = f"/v1/practices/{practice['id']}/adoptions"

    adopted = await api.client.post(
        path,
        json={"department_id": "sales", "note": " Avant chaque devis. "},
        headers=chloe.headers,
    )
    before = api.snapshot()
    again = await api.client.post(path, json={"department_id": "sales"}, headers=maxime.headers)

    assert adopted.status_code == 201, adopted.text
    adoption = adopted.json()
    assert adoption["department_id"] == "sales" and adoption["note"] == "Avant chaque devis."
    assert adoption["adopted_by"] == chloe.id
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert api.snapshot() == before
    read = (await api.client.get(f"/v1/practices/{practice['id']}", headers=chloe.headers)).json()
    assert read["adoption_count"] == 1
    assert [a["id"] for a in read["adoptions"]] == [adoption["id"]]
    [event] = api.events("collaboration.practice.adopted.v1")
    assert event["key"] == practice["id"]
    assert event["data"] == {
        "id": adoption["id"],
        "practice_id": practice["id"],
        "adopting_department_id": "sales",
        "origin_department_id": "after-sales",
        "adopted_by": chloe.id,
        "adopted_by_department_id": "sales",
        "note": "Avant chaque devis.",
        "tags": ["diagnostics"],
        "adopted_at": event["data"]["adopted_at"],
    }


async def test_bad_adoptions_change_nothing(api):
    sebastien, chloe = api.member("after-sales"), api.member("sales")
    practice = await api.share(sebastien)
    path = f"/v1/practices/{practice['id']}/adoptions"
    before = api.snapshot()
    cases = [
        # The department a practice comes from does not adopt it: 422, naming the field.
        (path, {"department_id": "after-sales"}, 422),
        (path, {"department_id": "nowhere"}, 422),
        (path, {"department_id": "Sales!"}, 422),
        (path, {}, 422),
        (path, {"department_id": "sales", "note": "x" * 2001}, 422),
        (path, {"department_id": "sales", "adopted_by": sebastien.id}, 422),
        (f"/v1/practices/{uuid.uuid4()}/adoptions", {"department_id": "sales"}, 404),
        ("/v1/practices/nope/adoptions", {"department_id": "sales"}, 422),
    ]

    for url, body, status in cases:
        response = await api.client.post(url, json=body, headers=chloe.headers)
        assert response.status_code == status, (body, response.text)
        if status == 422 and body.get("department_id") == "after-sales":
            assert response.json()["errors"][0]["field"] == "department_id"

    assert api.snapshot() == before


async def test_practices_are_filtered_and_read(api):
    sebastien, julie, antoine = api.member("after-sales"), api.member("it"), api.member("rd")
    remote = await api.share(sebastien, title="Diagnostic à distance", tags=["diagnostics"])
    notebooks = await api.share(julie, title="Notebooks versionnés", tags=["python", "data"])
    review = await api.share(antoine, title="Revue de réparabilité", tags=["repairability"])

    assert await api.ids("/v1/practices", julie) == [remote["id"], notebooks["id"], review["id"]]
    assert await api.ids("/v1/practices?tag=python", julie) == [notebooks["id"]]
    assert await api.ids("/v1/practices?department_id=rd", julie) == [review["id"]]
    assert await api.ids("/v1/practices?q=notebook", julie) == [notebooks["id"]]
    unknown = await api.client.get(f"/v1/practices/{uuid.uuid4()}", headers=julie.headers)
    assert unknown.status_code == 404
