"""Managers: appointing, listing and removing them, who may, and the events."""

import pytest

pytestmark = pytest.mark.integration

UNKNOWN_ID = "01a21d21-3038-7611-bc61-d2f6751b2f41"


@pytest.fixture
async def club(api):
    return await api.community(
        "Club Utilisateurs", kind="external", purpose="support", owner_department_id="after-sales"
    )


async def test_appoint_a_manager_emits_appointed_with_their_department(api, club):
    nadia = api.person("Nadia Benali", "after-sales", years=3)
    ines = api.person("Inès Lefèvre", "rd", years=2)

    response = await api.client.post(
        f"/v1/communities/{club['id']}/managers", json={"person_id": ines}, headers=api.cco
    )

    assert response.status_code == 201, response.text
    manager = response.json()
    assert manager["person_id"] == ines
    assert (manager["name"], manager["department_id"]) == ("Inès Lefèvre", "rd")
    assert manager["community_experience_years"] == 2
    [appointed] = api.last_events(1)
    assert appointed == {
        "type": "communities.manager.appointed.v1",
        "subject": club["id"],
        "community_id": club["id"],
        "person_id": ines,
        "department_id": "rd",
        "kind": "external",
        "owner_department_id": "after-sales",
        "community_experience_years": 2.0,
        "appointed_at": appointed["appointed_at"],
    }
    await api.manager(club["id"], nadia)
    listed = await api.client.get(
        f"/v1/communities/{club['id']}/managers", headers=api.as_("employee")
    )
    assert sorted(m["person_id"] for m in listed.json()["items"]) == sorted([ines, nadia])
    community = await api.client.get(f"/v1/communities/{club['id']}", headers=api.cco)
    assert sorted(community.json()["manager_ids"]) == sorted([ines, nadia])


@pytest.mark.parametrize(
    "body",
    [{}, {"person_id": "nobody"}, {"person_id": None}, {"person_id": UNKNOWN_ID, "since": "now"}],
)
async def test_a_malformed_appointment_is_422_and_changes_nothing(api, club, body):
    before = api.snapshot()

    response = await api.client.post(
        f"/v1/communities/{club['id']}/managers", json=body, headers=api.cco
    )

    assert response.status_code == 422
    assert response.json()["errors"]
    assert api.snapshot() == before


async def test_a_manager_must_be_a_person_still_in_the_company(api, club):
    gone = api.person("Hugo Mercier")
    api.person_leaves(gone)
    before = api.snapshot()

    unknown = await api.client.post(
        f"/v1/communities/{club['id']}/managers", json={"person_id": UNKNOWN_ID}, headers=api.cco
    )
    left = await api.client.post(
        f"/v1/communities/{club['id']}/managers", json={"person_id": gone}, headers=api.cco
    )

    assert unknown.status_code == left.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "person_id"
    assert api.snapshot() == before


async def test_appointing_a_manager_twice_is_a_conflict(api, club):
    nadia = api.person("Nadia Benali", "after-sales")
    await api.manager(club["id"], nadia)
    before = api.snapshot()

    again = await api.client.post(
        f"/v1/communities/{club['id']}/managers", json={"person_id": nadia}, headers=api.cco
    )

    assert again.status_code == 409
    assert api.snapshot() == before


async def test_managers_of_an_unknown_community_are_404(api):
    nadia = api.person("Nadia Benali", "after-sales")
    url = f"/v1/communities/{UNKNOWN_ID}/managers"

    appoint = await api.client.post(url, json={"person_id": nadia}, headers=api.cco)
    listing = await api.client.get(url, headers=api.cco)
    removal = await api.client.delete(f"{url}/{nadia}", headers=api.cco)

    assert (appoint.status_code, listing.status_code, removal.status_code) == (404, 404, 404)


async def test_who_may_appoint_and_remove_managers(api, club):
    sebastien = api.person("Sébastien Blanc", "after-sales", years=7)
    nadia = api.person("Nadia Benali", "after-sales")
    lucas = api.person("Lucas Garnier", "after-sales")
    await api.manager(club["id"], sebastien)
    url = f"/v1/communities/{club['id']}/managers"
    before = api.snapshot()

    anonymous = await api.client.post(url, json={"person_id": nadia})
    employee = await api.client.post(
        url, json={"person_id": nadia}, headers=api.as_("employee", subject=lucas)
    )
    themselves = await api.client.post(
        url, json={"person_id": lucas}, headers=api.as_("community_manager", subject=lucas)
    )
    removal = await api.client.delete(
        f"{url}/{sebastien}", headers=api.as_("employee", subject=lucas)
    )
    assert anonymous.status_code == 401
    assert employee.status_code == themselves.status_code == removal.status_code == 403
    assert api.snapshot() == before

    by_manager = await api.client.post(
        url, json={"person_id": nadia}, headers=api.as_("employee", subject=sebastien)
    )
    assert by_manager.status_code == 201
    steps_down = await api.client.delete(
        f"{url}/{sebastien}", headers=api.as_("employee", subject=sebastien)
    )
    assert steps_down.status_code == 204


async def test_removing_a_manager_emits_removed(api, club):
    nadia = api.person("Nadia Benali", "after-sales")
    await api.manager(club["id"], nadia)

    response = await api.client.delete(
        f"/v1/communities/{club['id']}/managers/{nadia}", headers=api.cco
    )

    assert response.status_code == 204
    [removed] = api.last_events(1)
    assert removed == {
        "type": "communities.manager.removed.v1",
        "subject": club["id"],
        "community_id": club["id"],
        "person_id": nadia,
        "department_id": "after-sales",
        "reason": "removed",
    }
    listed = await api.client.get(f"/v1/communities/{club['id']}/managers", headers=api.cco)
    assert listed.json() == {"items": [], "next_cursor": None}


async def test_removing_someone_who_is_not_a_manager_is_404(api, club):
    nadia = api.person("Nadia Benali", "after-sales")
    before = api.snapshot()

    not_manager = await api.client.delete(
        f"/v1/communities/{club['id']}/managers/{nadia}", headers=api.cco
    )
    malformed = await api.client.delete(
        f"/v1/communities/{club['id']}/managers/nobody", headers=api.cco
    )

    assert (not_manager.status_code, malformed.status_code) == (404, 422)
    assert api.snapshot() == before


async def test_managers_are_listed_page_by_page(api, club):
    people = sorted(api.person(f"Person {i}", "after-sales") for i in range(3))
    for person in people:
        await api.manager(club["id"], person)
    url = f"/v1/communities/{club['id']}/managers"

    first = (await api.client.get(f"{url}?limit=2", headers=api.cco)).json()
    second = (
        await api.client.get(f"{url}?limit=2&cursor={first['next_cursor']}", headers=api.cco)
    ).json()
    bad = await api.client.get(f"{url}?limit=500", headers=api.cco)

    assert [m["person_id"] for m in first["items"] + second["items"]] == people
    assert second["next_cursor"] is None
    assert bad.status_code == 422
