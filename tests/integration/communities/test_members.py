"""Members: people of the company and outside handles joining and leaving, who may, events."""

import pytest

pytestmark = pytest.mark.integration

UNKNOWN_ID = "01a21d21-3038-7611-bc61-d2f6751b2f41"


@pytest.fixture
async def python(api):
    return await api.community("Python & data", kind="internal", owner_department_id="rd")


@pytest.fixture
async def club(api):
    return await api.community(
        "Club Utilisateurs", kind="external", purpose="support", owner_department_id="after-sales"
    )


async def test_a_person_joins_with_their_department_of_the_day(api, club):
    ines = api.person("Inès Lefèvre", "rd")

    response = await api.client.post(
        f"/v1/communities/{club['id']}/members", json={"person_id": ines}, headers=api.cco
    )

    assert response.status_code == 201, response.text
    member = response.json()
    assert (member["person_id"], member["external_handle"]) == (ines, None)
    assert (member["name"], member["department_id"]) == ("Inès Lefèvre", "rd")
    [joined] = api.last_events(1)
    assert joined == {
        "type": "communities.member.joined.v1",
        "subject": club["id"],
        "community_id": club["id"],
        "member_id": member["id"],
        "person_id": ines,
        "external_handle": None,
        "department_id": "rd",
        "owner_department_id": "after-sales",
        "kind": "external",
        "joined_at": joined["joined_at"],
    }


async def test_an_outside_handle_joins_an_external_community(api, club):
    response = await api.client.post(
        f"/v1/communities/{club['id']}/members",
        json={"external_handle": " @Marie_Bricole "},
        headers=api.cco,
    )

    assert response.status_code == 201, response.text
    member = response.json()
    assert member["external_handle"] == "@marie_bricole"
    assert member["person_id"] is member["name"] is member["department_id"] is None
    [joined] = api.last_events(1)
    assert (joined["person_id"], joined["external_handle"], joined["department_id"]) == (
        None,
        "@marie_bricole",
        None,
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"person_id": None, "external_handle": None},
        {"person_id": "nobody"},
        {"external_handle": "two words"},
        {"external_handle": ""},
        {"external_handle": "x" * 101},
        {"external_handle": "@marie\u0000"},
        {"person_id": UNKNOWN_ID, "external_handle": "@marie"},
        {"external_handle": "@marie", "role": "vip"},
    ],
)
async def test_a_malformed_membership_is_422_and_changes_nothing(api, club, body):
    before = api.snapshot()

    response = await api.client.post(
        f"/v1/communities/{club['id']}/members", json=body, headers=api.cco
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"]
    assert api.snapshot() == before


async def test_members_must_be_people_still_in_the_company(api, club):
    gone = api.person("Hugo Mercier")
    api.person_leaves(gone)
    before = api.snapshot()

    unknown = await api.client.post(
        f"/v1/communities/{club['id']}/members", json={"person_id": UNKNOWN_ID}, headers=api.cco
    )
    left = await api.client.post(
        f"/v1/communities/{club['id']}/members", json={"person_id": gone}, headers=api.cco
    )

    assert unknown.status_code == left.status_code == 422
    assert left.json()["errors"][0]["field"] == "person_id"
    assert api.snapshot() == before


async def test_outside_handles_do_not_join_internal_communities(api, python):
    before = api.snapshot()

    response = await api.client.post(
        f"/v1/communities/{python['id']}/members",
        json={"external_handle": "@marie"},
        headers=api.cco,
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "external_handle"
    assert api.snapshot() == before


async def test_already_a_member_is_a_conflict(api, club):
    ines = api.person()
    await api.member(club["id"], person_id=ines)
    await api.member(club["id"], external_handle="@marie")
    before = api.snapshot()

    person_again = await api.client.post(
        f"/v1/communities/{club['id']}/members", json={"person_id": ines}, headers=api.cco
    )
    handle_again = await api.client.post(
        f"/v1/communities/{club['id']}/members", json={"external_handle": "@MARIE"}, headers=api.cco
    )

    assert person_again.status_code == handle_again.status_code == 409
    assert api.snapshot() == before


async def test_an_employee_joins_and_leaves_an_internal_community_by_themselves(api, python):
    ines = api.person()
    me = api.as_("employee", subject=ines)

    joined = await api.client.post(
        f"/v1/communities/{python['id']}/members", json={"person_id": ines}, headers=me
    )
    assert joined.status_code == 201, joined.text
    member_id = joined.json()["id"]

    left = await api.client.delete(
        f"/v1/communities/{python['id']}/members/{member_id}", headers=me
    )
    assert left.status_code == 204
    [event] = api.last_events(1)
    assert event == {
        "type": "communities.member.left.v1",
        "subject": python["id"],
        "community_id": python["id"],
        "member_id": member_id,
        "person_id": ines,
        "external_handle": None,
        "department_id": "rd",
        "owner_department_id": "rd",
        "reason": "left",
    }
    listed = await api.client.get(f"/v1/communities/{python['id']}/members", headers=me)
    assert listed.json()["items"] == []


async def test_what_an_employee_may_not_do_alone(api, python, club):
    ines = api.person("Inès Lefèvre")
    hugo = api.person("Hugo Mercier")
    hugo_member = await api.member(python["id"], person_id=hugo)
    me = api.as_("employee", subject=ines)
    before = api.snapshot()

    external = await api.client.post(
        f"/v1/communities/{club['id']}/members", json={"person_id": ines}, headers=me
    )
    someone_else = await api.client.post(
        f"/v1/communities/{python['id']}/members",
        json={"person_id": api.person("Léa Fontaine")},
        headers=me,
    )
    remove_someone = await api.client.delete(
        f"/v1/communities/{python['id']}/members/{hugo_member['id']}", headers=me
    )
    anonymous = await api.client.post(
        f"/v1/communities/{python['id']}/members", json={"person_id": ines}
    )

    assert external.status_code == someone_else.status_code == remove_someone.status_code == 403
    assert anonymous.status_code == 401
    assert api.snapshot()["Membership"] == before["Membership"]
    assert api.snapshot()["OutboxMessage"] == before["OutboxMessage"]


async def test_a_manager_adds_and_removes_members(api, club):
    nadia = api.person("Nadia Benali", "after-sales")
    lucas = api.person("Lucas Garnier", "after-sales")
    await api.manager(club["id"], nadia)
    as_nadia = api.as_("employee", subject=nadia)

    added = await api.client.post(
        f"/v1/communities/{club['id']}/members", json={"person_id": lucas}, headers=as_nadia
    )
    handle = await api.client.post(
        f"/v1/communities/{club['id']}/members",
        json={"external_handle": "@jp_electro"},
        headers=as_nadia,
    )
    assert added.status_code == handle.status_code == 201

    removed = await api.client.delete(
        f"/v1/communities/{club['id']}/members/{handle.json()['id']}", headers=as_nadia
    )
    assert removed.status_code == 204
    [left] = api.last_events(1)
    assert (left["type"], left["reason"], left["external_handle"], left["department_id"]) == (
        "communities.member.left.v1",
        "removed",
        "@jp_electro",
        None,
    )


async def test_removing_an_unknown_member_is_404(api, club, python):
    ines = api.person()
    elsewhere = await api.member(python["id"], person_id=ines)
    before = api.snapshot()

    unknown = await api.client.delete(
        f"/v1/communities/{club['id']}/members/{UNKNOWN_ID}", headers=api.cco
    )
    other_community = await api.client.delete(
        f"/v1/communities/{club['id']}/members/{elsewhere['id']}", headers=api.cco
    )
    unknown_community = await api.client.delete(
        f"/v1/communities/{UNKNOWN_ID}/members/{elsewhere['id']}", headers=api.cco
    )
    malformed = await api.client.delete(
        f"/v1/communities/{club['id']}/members/nobody", headers=api.cco
    )

    assert [
        unknown.status_code,
        other_community.status_code,
        unknown_community.status_code,
        malformed.status_code,
    ] == [404, 404, 404, 422]
    assert api.snapshot() == before


async def test_members_of_an_unknown_community_are_404(api):
    ines = api.person()

    add = await api.client.post(
        f"/v1/communities/{UNKNOWN_ID}/members", json={"person_id": ines}, headers=api.cco
    )
    listing = await api.client.get(f"/v1/communities/{UNKNOWN_ID}/members", headers=api.cco)

    assert add.status_code == listing.status_code == 404


async def test_members_are_listed_page_by_page_in_joining_order(api, club):
    joined = [
        (await api.member(club["id"], person_id=api.person(f"P{i} X")))["id"] for i in range(3)
    ]
    joined += [(await api.member(club["id"], external_handle=f"@fan{i}"))["id"] for i in range(2)]

    seen, cursor = [], None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        response = await api.client.get(
            f"/v1/communities/{club['id']}/members?{query}", headers=api.as_("employee")
        )
        assert response.status_code == 200
        seen += [m["id"] for m in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert seen == joined
    bad = await api.client.get(f"/v1/communities/{club['id']}/members?cursor=%%%", headers=api.cco)
    assert bad.status_code == 400
