"""Departments: creation, duplicates, validation, roles, pagination."""

import pytest

pytestmark = pytest.mark.integration


async def test_create_department_emits_its_event(api):
    response = await api.client.post(
        "/v1/departments",
        json={"id": "after-sales", "name": "Service après-vente"},
        headers=api.cco,
    )

    assert response.status_code == 201
    assert response.json()["id"] == "after-sales"
    [event] = api.events()
    assert (event.event_type, event.key, event.topic) == (
        "people.department.created.v1",
        "after-sales",
        "people.events",
    )


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"id": "R&D", "name": "R&D"}, 422, "id"),
        ({"id": "-rd", "name": "R&D"}, 422, "id"),
        ({"id": "rd"}, 422, "name"),
        ({"id": "rd", "name": "   "}, 422, "name"),
        ({"id": 12, "name": "R&D"}, 422, "id"),
        ({"id": "rd", "name": "R&D", "created_at": "2020-01-01T00:00:00Z"}, 422, "created_at"),
    ],
)
async def test_bad_department_is_refused_and_changes_nothing(api, body, status, field):
    before = api.snapshot()

    response = await api.client.post("/v1/departments", json=body, headers=api.cco)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert api.snapshot() == before


async def test_duplicate_department_is_a_conflict(api):
    await api.department("rd")
    before = api.snapshot()

    response = await api.client.post(
        "/v1/departments", json={"id": "rd", "name": "Other"}, headers=api.cco
    )

    assert response.status_code == 409
    assert api.snapshot() == before


async def test_only_the_cco_creates_departments(api):
    body = {"id": "rd", "name": "R&D"}
    anonymous = await api.client.post("/v1/departments", json=body)
    employee = await api.client.post("/v1/departments", json=body, headers=api.as_("employee"))

    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert employee.status_code == 403
    assert api.snapshot()["Department"] == 0


async def test_departments_are_listed_page_by_page(api):
    for id_ in ("rd", "hr", "it"):
        await api.department(id_, id_.upper())

    first = (await api.client.get("/v1/departments?limit=2", headers=api.as_("employee"))).json()
    second = (
        await api.client.get(
            f"/v1/departments?limit=2&cursor={first['next_cursor']}", headers=api.as_("employee")
        )
    ).json()

    assert [d["id"] for d in first["items"]] == ["hr", "it"]
    assert [d["id"] for d in second["items"]] == ["rd"]
    assert second["next_cursor"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=x", "cursor=%%%"])
async def test_bad_page_parameters_are_client_errors(api, query):
    response = await api.client.get(f"/v1/departments?{query}", headers=api.cco)

    assert response.status_code in (400, 422)
    assert response.json()["status"] == response.status_code
