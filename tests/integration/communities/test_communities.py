"""Communities: creation, reading, filters, changes and archiving, with their events."""

import json

import pytest

pytestmark = pytest.mark.integration

UNKNOWN_ID = "01a21d21-3038-7611-bc61-d2f6751b2f41"


async def test_create_community_returns_it_and_emits_created(api):
    response = await api.client.post(
        "/v1/communities",
        json={
            "name": "  Qualité & réparabilité ",
            "kind": "internal",
            "purpose": "practice",
            "owner_department_id": "rd",
            "description": "Des appareils qui se réparent.",
            "topics": ["Repairs", "materials", "repairs"],
        },
        headers={**api.cco, "X-Request-ID": "req-7"},
    )

    assert response.status_code == 201, response.text
    community = response.json()
    assert community["name"] == "Qualité & réparabilité"
    assert community["topics"] == ["materials", "repairs"]
    assert community["archived"] is False and community["archived_at"] is None
    assert community["manager_ids"] == []
    assert community["created_by"] == "00000000-0000-0000-0000-000000000001"
    [event] = api.events()
    envelope = json.loads(event.value)
    assert envelope["type"] == "communities.community.created.v1"
    assert envelope["source"] == "/services/communities"
    assert envelope["subject"] == community["id"] == event.key
    assert event.topic == "communities.events"
    assert envelope["requestid"] == "req-7"
    assert envelope["data"] == {
        "id": community["id"],
        "name": "Qualité & réparabilité",
        "kind": "internal",
        "purpose": "practice",
        "owner_department_id": "rd",
        "description": "Des appareils qui se réparent.",
        "topics": ["materials", "repairs"],
        "archived": False,
    }


VALID = {"name": "Club", "kind": "external", "purpose": "support", "owner_department_id": "rd"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in VALID.items() if k != "name"}, "name"),
        ({**VALID, "name": "   "}, "name"),
        ({**VALID, "name": "x" * 121}, "name"),
        ({**VALID, "name": 42}, "name"),
        ({**VALID, "name": "Club\u0000"}, "name"),
        ({**VALID, "description": "Entraide\u0000"}, "description"),
        ({**VALID, "kind": "secret"}, "kind"),
        ({k: v for k, v in VALID.items() if k != "kind"}, "kind"),
        ({**VALID, "purpose": "fun"}, "purpose"),
        ({**VALID, "owner_department_id": "R&D"}, "owner_department_id"),
        ({**VALID, "description": "d" * 2001}, "description"),
        ({**VALID, "topics": "python"}, "topics"),
        ({**VALID, "topics": ["two words"]}, "topics.0"),
        ({**VALID, "topics": [f"t{i}" for i in range(21)]}, "topics"),
        ({**VALID, "archived": True}, "archived"),
        ({**VALID, "id": UNKNOWN_ID}, "id"),
        ({**VALID, "created_by": "someone-else"}, "created_by"),
        ({**VALID, "managers": []}, "managers"),
    ],
)
async def test_bad_community_is_refused_and_changes_nothing(api, body, field):
    before = api.snapshot()

    response = await api.client.post("/v1/communities", json=body, headers=api.cco)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert api.snapshot() == before


async def test_an_owner_department_the_directory_does_not_know_is_422(api):
    before = api.snapshot()

    response = await api.client.post(
        "/v1/communities", json={**VALID, "owner_department_id": "nowhere"}, headers=api.cco
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "owner_department_id"
    assert api.snapshot() == before


async def test_two_open_communities_may_not_share_a_name(api):
    first = await api.community("Python & data")
    before = api.snapshot()

    duplicate = await api.client.post(
        "/v1/communities", json={**VALID, "name": "PYTHON & DATA"}, headers=api.cco
    )
    assert duplicate.status_code == 409
    assert api.snapshot() == before

    await api.client.post(f"/v1/communities/{first['id']}/archive", headers=api.cco)
    again = await api.client.post(
        "/v1/communities", json={**VALID, "name": "Python & data"}, headers=api.cco
    )
    assert again.status_code == 201


async def test_malformed_json_is_400_other_media_types_415_and_huge_bodies_413(api):
    before = api.snapshot()

    malformed = await api.client.post(
        "/v1/communities",
        content=b'{"name": "X",',
        headers={**api.cco, "content-type": "application/json"},
    )
    as_text = await api.client.post(
        "/v1/communities",
        content=json.dumps(VALID).encode(),
        headers={**api.cco, "content-type": "text/plain"},
    )
    huge = await api.client.post(
        "/v1/communities", json={**VALID, "description": "d" * 2_000_000}, headers=api.cco
    )

    assert (malformed.status_code, as_text.status_code, huge.status_code) == (400, 415, 413)
    assert api.snapshot() == before


async def test_who_may_create_communities(api):
    anonymous = await api.client.post("/v1/communities", json=VALID)
    employee = await api.client.post("/v1/communities", json=VALID, headers=api.as_("employee"))
    voice = await api.client.post(
        "/v1/communities", json=VALID, headers=api.as_("conversation_manager", "employee")
    )
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert employee.status_code == voice.status_code == 403
    assert api.snapshot()["Community"] == 0

    manager = await api.client.post(
        "/v1/communities", json=VALID, headers=api.as_("community_manager", "employee")
    )
    assert manager.status_code == 201


async def test_a_community_manager_who_creates_a_community_runs_it(api):
    thomas = api.person("Thomas Moreau", "after-sales", years=6)

    response = await api.client.post(
        "/v1/communities", json=VALID, headers=api.as_("community_manager", subject=thomas)
    )

    assert response.status_code == 201
    community = response.json()
    assert community["manager_ids"] == [thomas]
    created, appointed = api.last_events(2)
    assert created["type"] == "communities.community.created.v1"
    assert appointed["type"] == "communities.manager.appointed.v1"
    assert (appointed["person_id"], appointed["department_id"]) == (thomas, "after-sales")
    changed = await api.client.patch(
        f"/v1/communities/{community['id']}",
        json={"description": "Entraide"},
        headers=api.as_("community_manager", subject=thomas),
    )
    assert changed.status_code == 200


async def test_read_one_community(api):
    community = await api.community()

    found = await api.client.get(f"/v1/communities/{community['id']}", headers=api.as_("employee"))
    unknown = await api.client.get(f"/v1/communities/{UNKNOWN_ID}", headers=api.cco)
    malformed = await api.client.get("/v1/communities/not-a-uuid", headers=api.cco)
    anonymous = await api.client.get(f"/v1/communities/{community['id']}")

    assert found.status_code == 200 and found.json() == community
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert malformed.status_code == 422
    assert anonymous.status_code == 401


async def test_communities_are_filtered(api):
    api.department("marketing", "Marketing")
    ines = api.person("Inès Lefèvre")
    python = await api.community(
        "Python & data", topics=["python", "data"], description="Notebooks et pipelines"
    )
    club = await api.community(
        "Club Utilisateurs",
        kind="external",
        purpose="support",
        owner_department_id="after-sales",
        topics=["repairs"],
    )
    ideas = await api.community(
        "Idées Clients",
        kind="external",
        purpose="innovation",
        owner_department_id="marketing",
        topics=[],
    )
    old = await api.community("Forum 2019", kind="external", purpose="support", topics=["python"])
    await api.client.post(f"/v1/communities/{old['id']}/archive", headers=api.cco)
    await api.member(python["id"], person_id=ines)
    await api.manager(ideas["id"], ines)

    async def ids(query: str) -> list[str]:
        response = await api.client.get(f"/v1/communities?{query}", headers=api.as_("employee"))
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert await ids("") == [python["id"], club["id"], ideas["id"]]
    assert await ids("kind=external") == [club["id"], ideas["id"]]
    assert await ids("purpose=innovation") == [ideas["id"]]
    assert await ids("department_id=after-sales") == [club["id"]]
    assert await ids("topic=Python") == [python["id"]]
    assert await ids("q=pipelines") == [python["id"]]
    assert await ids("q=CLUB") == [club["id"]]
    assert await ids("q=%25") == []
    assert await ids(f"person_id={ines}") == [python["id"], ideas["id"]]
    assert await ids("kind=external&purpose=support") == [club["id"]]
    assert await ids("kind=external&include_archived=true") == [
        club["id"],
        ideas["id"],
        old["id"],
    ]


@pytest.mark.parametrize(
    "query",
    [
        "kind=secret",
        "purpose=fun",
        "person_id=nobody",
        "include_archived=perhaps",
        "limit=0",
        "limit=201",
        "limit=x",
        "cursor=%%%",
        "q=" + "x" * 101,
        "q=%00",
        "topic=two%20words",
        "department_id=R%26D",
    ],
)
async def test_bad_list_parameters_are_client_errors(api, query):
    response = await api.client.get(f"/v1/communities?{query}", headers=api.cco)

    assert response.status_code in (400, 422)
    assert response.json()["status"] == response.status_code


async def test_communities_are_listed_page_by_page_in_creation_order(api):
    created = [(await api.community(f"Community {i}"))["id"] for i in range(5)]

    seen, cursor, pages = [], None, 0
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await api.client.get(f"/v1/communities?{query}", headers=api.cco)).json()
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == created
    assert pages == 3


async def test_cco_changes_a_community(api):
    community = await api.community(topics=["python"])

    response = await api.client.patch(
        f"/v1/communities/{community['id']}",
        json={
            "owner_department_id": "after-sales",
            "topics": ["Data", "python"],
            "kind": "internal",
        },
        headers=api.cco,
    )

    assert response.status_code == 200, response.text
    assert response.json()["owner_department_id"] == "after-sales"
    assert response.json()["topics"] == ["data", "python"]
    [updated] = api.last_events(1)
    assert updated["type"] == "communities.community.updated.v1"
    assert updated["changed"] == ["owner_department_id", "topics"]
    assert updated["previous_owner_department_id"] == "rd"
    assert updated["topics"] == ["data", "python"] and updated["archived"] is False
    listed = await api.client.get("/v1/communities?topic=data", headers=api.cco)
    assert [c["id"] for c in listed.json()["items"]] == [community["id"]]


async def test_description_may_be_cleared_and_topics_emptied(api):
    community = await api.community(description="Old", topics=["python", "sql"])

    response = await api.client.patch(
        f"/v1/communities/{community['id']}",
        json={"description": None, "topics": []},
        headers=api.cco,
    )

    assert response.status_code == 200
    assert (response.json()["description"], response.json()["topics"]) == (None, [])
    assert api.last_events(1)[0]["changed"] == ["description", "topics"]


async def test_an_unchanged_patch_emits_nothing(api):
    community = await api.community(topics=["python"])
    before = api.snapshot()

    response = await api.client.patch(
        f"/v1/communities/{community['id']}",
        json={"name": "Python & data", "topics": ["Python"]},
        headers=api.cco,
    )

    assert response.status_code == 200
    assert api.snapshot() == before


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": None}, 422),
        ({"name": ""}, 422),
        ({"kind": None}, 422),
        ({"kind": "secret"}, 422),
        ({"purpose": "fun"}, 422),
        ({"owner_department_id": "nowhere"}, 422),
        ({"owner_department_id": None}, 422),
        ({"topics": None}, 422),
        ({"topics": ["a b"]}, 422),
        ({"archived": True}, 422),
        ({"unknown": 1}, 422),
        ({"name": "club utilisateurs"}, 409),
    ],
)
async def test_bad_changes_are_refused_and_change_nothing(api, body, status):
    community = await api.community()
    await api.community("Club Utilisateurs", kind="external")
    before = api.snapshot()

    response = await api.client.patch(
        f"/v1/communities/{community['id']}", json=body, headers=api.cco
    )

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert api.snapshot() == before
    unchanged = await api.client.get(f"/v1/communities/{community['id']}", headers=api.cco)
    assert unchanged.json() == community


async def test_a_community_with_outside_members_stays_external(api):
    club = await api.community("Club Utilisateurs", kind="external")
    await api.member(club["id"], external_handle="@marie")
    before = api.snapshot()

    response = await api.client.patch(
        f"/v1/communities/{club['id']}", json={"kind": "internal"}, headers=api.cco
    )

    assert response.status_code == 409
    assert api.snapshot() == before


async def test_who_may_change_a_community(api):
    community = await api.community()
    other = await api.community("Onboarding RH")
    manon = api.person("Manon Chevalier")
    hugo = api.person("Hugo Mercier")
    await api.manager(community["id"], manon)
    await api.manager(other["id"], hugo)
    url = f"/v1/communities/{community['id']}"

    anonymous = await api.client.patch(url, json={"description": "x"})
    employee = await api.client.patch(url, json={"description": "x"}, headers=api.as_("employee"))
    other_manager = await api.client.patch(
        url, json={"description": "x"}, headers=api.as_("community_manager", subject=hugo)
    )
    system = await api.client.patch(
        url, json={"description": "x"}, headers=api.as_("system", subject="hr-sync")
    )
    manager = await api.client.patch(
        url, json={"description": "Entraide"}, headers=api.as_("employee", subject=manon)
    )

    assert anonymous.status_code == 401
    assert employee.status_code == other_manager.status_code == system.status_code == 403
    assert manager.status_code == 200
    assert manager.json()["description"] == "Entraide"


async def test_patch_of_an_unknown_community_is_404(api):
    response = await api.client.patch(
        f"/v1/communities/{UNKNOWN_ID}", json={"description": "x"}, headers=api.cco
    )

    assert response.status_code == 404


async def test_archiving_keeps_the_community_and_happens_once(api):
    community = await api.community()
    ines = api.person()
    await api.member(community["id"], person_id=ines)

    first = await api.client.post(f"/v1/communities/{community['id']}/archive", headers=api.cco)
    events_after_first = len(api.events())
    second = await api.client.post(f"/v1/communities/{community['id']}/archive", headers=api.cco)

    assert first.status_code == second.status_code == 200
    assert first.json()["archived"] is True and first.json()["archived_at"] is not None
    assert len(api.events()) == events_after_first
    [archived] = api.last_events(1)
    assert archived["type"] == "communities.community.archived.v1"
    assert (archived["id"], archived["owner_department_id"]) == (community["id"], "rd")
    kept = await api.client.get(f"/v1/communities/{community['id']}", headers=api.cco)
    assert kept.json()["archived"] is True
    members = await api.client.get(f"/v1/communities/{community['id']}/members", headers=api.cco)
    assert [m["person_id"] for m in members.json()["items"]] == [ines]
    listed = await api.client.get("/v1/communities", headers=api.cco)
    assert listed.json()["items"] == []


async def test_an_archived_community_takes_no_changes_members_or_managers(api):
    community = await api.community()
    ines = api.person()
    await api.client.post(f"/v1/communities/{community['id']}/archive", headers=api.cco)
    before = api.snapshot()
    url = f"/v1/communities/{community['id']}"

    refused = [
        await api.client.patch(url, json={"description": "x"}, headers=api.cco),
        await api.client.post(f"{url}/members", json={"person_id": ines}, headers=api.cco),
        await api.client.post(f"{url}/managers", json={"person_id": ines}, headers=api.cco),
        await api.client.post(
            f"{url}/members", json={"person_id": ines}, headers=api.as_("employee", subject=ines)
        ),
    ]

    assert [r.status_code for r in refused] == [409, 409, 409, 409]
    assert api.snapshot() == before


async def test_who_may_archive(api):
    community = await api.community()
    manon = api.person("Manon Chevalier")
    await api.manager(community["id"], manon)
    url = f"/v1/communities/{community['id']}/archive"

    anonymous = await api.client.post(url)
    employee = await api.client.post(url, headers=api.as_("employee"))
    unknown = await api.client.post(f"/v1/communities/{UNKNOWN_ID}/archive", headers=api.cco)
    assert (anonymous.status_code, employee.status_code, unknown.status_code) == (401, 403, 404)
    assert api.last_events(1)[0]["type"] == "communities.manager.appointed.v1"

    manager = await api.client.post(url, headers=api.as_("employee", subject=manon))
    assert manager.status_code == 200
