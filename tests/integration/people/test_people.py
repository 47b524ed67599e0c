"""People: registration, reading, filters, changes and deactivation, with their events."""

import json

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
async def rd(api):
    await api.department("rd", "R&D")
    await api.department("hr", "Ressources humaines")


async def test_register_person_returns_it_and_emits_registered(api, rd):
    response = await api.client.post(
        "/v1/people",
        json={
            "name": "Inès Lefèvre",
            "email": "Ines.Lefevre@Example.com",
            "department_id": "rd",
            "title": "Ingénieure firmware",
            "community_experience_years": 2.5,
            "languages": ["fr", "en"],
        },
        headers={**api.cco, "X-Request-ID": "req-42"},
    )

    assert response.status_code == 201, response.text
    person = response.json()
    assert person["email"] == "ines.lefevre@example.com"
    assert person["active"] is True
    assert person["skills"] == [] and person["roles"] == []
    assert response.headers["x-request-id"] == "req-42"
    event = api.events()[-1]
    envelope = json.loads(event.value)
    assert envelope["type"] == "people.person.registered.v1"
    assert envelope["specversion"] == "1.0"
    assert envelope["source"] == "/services/people"
    assert envelope["subject"] == person["id"] == event.key
    assert envelope["requestid"] == "req-42"
    assert envelope["data"]["department_id"] == "rd"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "email": "not-an-email", "department_id": "rd"}, "email"),
        ({"name": 42, "email": "x@example.com", "department_id": "rd"}, "name"),
        ({"email": "x@example.com", "department_id": "rd"}, "name"),
        (
            {
                "name": "X",
                "email": "x@example.com",
                "department_id": "rd",
                "community_experience_years": "a lot",
            },
            "community_experience_years",
        ),
        (
            {
                "name": "X",
                "email": "x@example.com",
                "department_id": "rd",
                "community_experience_years": -1,
            },
            "community_experience_years",
        ),
        (
            {"name": "X", "email": "x@example.com", "department_id": "rd", "languages": "fr"},
            "languages",
        ),
        (
            {"name": "X", "email": "x@example.com", "department_id": "rd", "languages": ["french"]},
            "languages.0",
        ),
        ({"name": "X", "email": "x@example.com", "department_id": "rd", "active": False}, "active"),
        ({"name": "X", "email": "x@example.com", "department_id": "rd", "id": "0000"}, "id"),
    ],
)
async def test_bad_person_is_refused_and_changes_nothing(api, rd, body, field):
    before = api.snapshot()

    response = await api.client.post("/v1/people", json=body, headers=api.cco)

    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    assert api.snapshot() == before


async def test_unknown_department_is_422(api, rd):
    before = api.snapshot()

    response = await api.client.post(
        "/v1/people",
        json={"name": "X", "email": "x@example.com", "department_id": "nowhere"},
        headers=api.cco,
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "department_id"
    assert api.snapshot() == before


async def test_duplicate_email_is_409_whatever_its_case(api, rd):
    await api.person("ines@example.com")
    before = api.snapshot()

    response = await api.client.post(
        "/v1/people",
        json={"name": "Other", "email": "INES@example.com", "department_id": "hr"},
        headers=api.cco,
    )

    assert response.status_code == 409
    assert api.snapshot() == before


async def test_malformed_json_is_400_and_other_media_types_415(api, rd):
    before = api.snapshot()
    headers = {**api.cco, "content-type": "application/json"}

    malformed = await api.client.post("/v1/people", content=b'{"name": "X",', headers=headers)
    as_text = await api.client.post(
        "/v1/people", content=b'{"name": "X"}', headers={**api.cco, "content-type": "text/plain"}
    )

    assert malformed.status_code == 400
    assert as_text.status_code == 415
    assert api.snapshot() == before


async def test_oversized_body_is_413(api, rd):
    body = {"name": "X", "email": "x@example.com", "department_id": "rd", "title": "t" * 2_000_000}

    response = await api.client.post("/v1/people", json=body, headers=api.cco)

    assert response.status_code == 413
    assert api.snapshot()["Person"] == 0


async def test_who_may_register_people(api, rd):
    body = {"name": "X", "email": "x@example.com", "department_id": "rd"}

    employee = await api.client.post("/v1/people", json=body, headers=api.as_("employee"))
    system = await api.client.post(
        "/v1/people", json=body, headers=api.as_("system", subject="hr-sync")
    )

    assert employee.status_code == 403
    assert system.status_code == 201


async def test_unknown_or_malformed_person_id(api):
    unknown = await api.client.get(
        "/v1/people/01a21d21-3038-7611-bc61-d2f6751b2f41", headers=api.cco
    )
    malformed = await api.client.get("/v1/people/not-a-uuid", headers=api.cco)

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert malformed.status_code == 422


async def test_people_are_filtered(api, rd):
    ines = await api.person("ines@example.com", "rd", name="Inès Lefèvre")
    sophie = await api.person("sophie@example.com", "hr", name="Sophie Petit")
    await api.client.put(
        f"/v1/people/{ines['id']}/skills/python", json={"level": 4}, headers=api.cco
    )
    await api.client.post(
        f"/v1/people/{sophie['id']}/roles", json={"role": "community_manager"}, headers=api.cco
    )

    async def ids(query: str) -> list[str]:
        response = await api.client.get(f"/v1/people?{query}", headers=api.as_("employee"))
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    assert await ids("department_id=hr") == [sophie["id"]]
    assert await ids("skill=Python") == [ines["id"]]
    assert await ids("role=community_manager") == [sophie["id"]]
    assert await ids("role=employee") == [ines["id"], sophie["id"]]
    assert await ids("email=SOPHIE@example.com") == [sophie["id"]]
    assert await ids("q=lef") == [ines["id"]]
    assert await ids("q=%25") == []
    assert (await api.client.get("/v1/people?role=wizard", headers=api.cco)).status_code == 422


async def test_people_are_listed_page_by_page_in_creation_order(api, rd):
    created = [(await api.person(f"p{i}@example.com"))["id"] for i in range(5)]

    seen, cursor = [], None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await api.client.get(f"/v1/people?{query}", headers=api.cco)).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == created


async def test_cco_moves_a_person_to_another_department(api, rd):
    person = await api.person()

    response = await api.client.patch(
        f"/v1/people/{person['id']}",
        json={"department_id": "hr", "title": "Recruteuse"},
        headers=api.cco,
    )

    assert response.status_code == 200
    assert response.json()["department_id"] == "hr"
    event = json.loads(api.events()[-1].value)
    assert event["type"] == "people.person.updated.v1"
    assert event["data"]["changed"] == ["department_id", "title"]
    assert event["data"]["previous_department_id"] == "rd"


async def test_an_unchanged_patch_emits_nothing(api, rd):
    person = await api.person()
    before = api.snapshot()

    response = await api.client.patch(
        f"/v1/people/{person['id']}", json={"department_id": "rd"}, headers=api.cco
    )

    assert response.status_code == 200
    assert api.snapshot() == before


async def test_people_change_some_of_their_own_details_only(api, rd):
    person = await api.person()
    other = await api.person("other@example.com")
    me = api.as_("employee", subject=person["id"])

    title = await api.client.patch(f"/v1/people/{person['id']}", json={"title": "Lead"}, headers=me)
    move = await api.client.patch(
        f"/v1/people/{person['id']}", json={"department_id": "hr"}, headers=me
    )
    someone_else = await api.client.patch(
        f"/v1/people/{other['id']}", json={"title": "X"}, headers=me
    )

    assert title.status_code == 200
    assert move.status_code == 403
    assert someone_else.status_code == 403


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"department_id": "nowhere"}, 422),
        ({"name": None}, 422),
        ({"email": "bad"}, 422),
        ({"email": "other@example.com"}, 409),
        ({"unknown": 1}, 422),
        ({"active": False}, 422),
    ],
)
async def test_bad_changes_are_refused_and_change_nothing(api, rd, body, status):
    person = await api.person()
    await api.person("other@example.com")
    before = api.snapshot()

    response = await api.client.patch(f"/v1/people/{person['id']}", json=body, headers=api.cco)

    assert response.status_code == status
    assert api.snapshot() == before


async def test_deactivation_keeps_history_and_happens_once(api, rd):
    person = await api.person()

    first = await api.client.delete(f"/v1/people/{person['id']}", headers=api.cco)
    events_after_first = len(api.events())
    second = await api.client.delete(f"/v1/people/{person['id']}", headers=api.cco)

    assert first.status_code == second.status_code == 204
    assert len(api.events()) == events_after_first
    assert json.loads(api.events()[-1].value)["type"] == "people.person.deactivated.v1"
    kept = (await api.client.get(f"/v1/people/{person['id']}", headers=api.cco)).json()
    assert kept["active"] is False and kept["deactivated_at"] is not None
    listed = (await api.client.get("/v1/people", headers=api.cco)).json()["items"]
    assert listed == []
    everyone = (await api.client.get("/v1/people?include_inactive=true", headers=api.cco)).json()[
        "items"
    ]
    assert [p["id"] for p in everyone] == [person["id"]]
    patch = await api.client.patch(
        f"/v1/people/{person['id']}", json={"title": "X"}, headers=api.cco
    )
    assert patch.status_code == 409


async def test_only_the_cco_or_hr_systems_deactivate(api, rd):
    person = await api.person()

    response = await api.client.delete(
        f"/v1/people/{person['id']}", headers=api.as_("employee", subject=person["id"])
    )
    unknown = await api.client.delete(
        "/v1/people/01a21d21-3038-7611-bc61-d2f6751b2f41", headers=api.cco
    )

    assert response.status_code == 403
    assert unknown.status_code == 404
