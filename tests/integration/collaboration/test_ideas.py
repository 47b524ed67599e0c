"""Ideas: proposing, one vote per person, and the review workflow with its events."""

import uuid

import pytest

pytestmark = pytest.mark.integration


async def test_an_idea_is_proposed_as_submitted(api):
    camille = api.member("marketing")
    community_id = api.community("Idées Clients")

    response = await api.client.post(
        "/v1/ideas",
        json={
            "title": "Programme de reprise",
            "body": "Reprendre les anciens appareils.",
            "tags": ["circular-economy"],
            "community_id": community_id,
        },
        headers=camille.headers,
    )

    assert response.status_code == 201, response.text
    idea = response.json()
    assert idea["status"] == "submitted" and idea["votes"] == 0 and idea["outcome"] is None
    assert idea["author_id"] == camille.id and idea["author_department_id"] == "marketing"
    [event] = api.events("collaboration.idea.proposed.v1")
    assert event["key"] == idea["id"]
    assert event["data"] == {
        "id": idea["id"],
        "title": "Programme de reprise",
        "tags": ["circular-economy"],
        "community_id": community_id,
        "author_id": camille.id,
        "author_department_id": "marketing",
        "status": "submitted",
        "proposed_at": event["data"]["proposed_at"],
    }
    read = await api.client.get(f"/v1/ideas/{idea['id']}", headers=camille.headers)
    assert read.json() == idea


async def test_bad_ideas_change_nothing(api):
    camille = api.member("marketing")
    before = api.snapshot()
    good = {"title": "Programme de reprise", "body": "Reprendre."}
    cases = [
        ({**good, "status": "accepted"}, 422),
        ({**good, "author_id": str(uuid.uuid4())}, 422),
        ({**good, "votes": 100}, 422),
        ({**good, "community_id": str(uuid.uuid4())}, 422),
        ({**good, "tags": [""]}, 422),
        ({"title": "Programme de reprise"}, 422),
    ]

    for body, status in cases:
        response = await api.client.post("/v1/ideas", json=body, headers=camille.headers)
        assert response.status_code == status, (body, response.text)

    assert api.snapshot() == before


async def test_one_vote_per_person(api):
    camille, nicolas, chloe = api.member("marketing"), api.member("marketing"), api.member("sales")
    idea = await api.propose(camille)
    path = f"/v1/ideas/{idea['id']}/votes"

    first = await api.client.post(path, headers=nicolas.headers)
    second = await api.client.post(path, json={}, headers=chloe.headers)
    before = api.snapshot()
    twice = await api.client.post(path, headers=nicolas.headers)
    for_someone_else = await api.client.post(
        path, json={"voter_id": camille.id}, headers=camille.headers
    )
    unknown = await api.client.post(f"/v1/ideas/{uuid.uuid4()}/votes", headers=chloe.headers)

    assert first.status_code == 201 and first.json()["votes"] == 1
    assert second.status_code == 201 and second.json() == {
        "idea_id": idea["id"],
        "voter_id": chloe.id,
        "votes": 2,
    }
    assert twice.status_code == 409
    assert for_someone_else.status_code == 422
    assert unknown.status_code == 404
    assert api.snapshot() == before
    read = (await api.client.get(f"/v1/ideas/{idea['id']}", headers=chloe.headers)).json()
    assert read["votes"] == 2
    voted = api.events("collaboration.idea.voted.v1")
    assert [(e["key"], e["data"]["voter_id"], e["data"]["votes"]) for e in voted] == [
        (idea["id"], nicolas.id, 1),
        (idea["id"], chloe.id, 2),
    ]
    assert voted[1]["data"]["voter_department_id"] == "sales"


async def test_the_workflow_from_submitted_to_implemented(api):
    camille = api.member("marketing")
    karim = api.member("hr", "community_manager")
    idea = await api.propose(camille, tags=["open-innovation"])
    path = f"/v1/ideas/{idea['id']}/status"

    steps = [
        ({"status": "reviewing"}, None),
        ({"status": "accepted", "outcome": "Pilote validé."}, "Pilote validé."),
        (
            {"status": "implemented", "outcome": "Lancé dans 40 magasins."},
            "Lancé dans 40 magasins.",
        ),
    ]
    for body, outcome in steps:
        response = await api.client.post(path, json=body, headers=karim.headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == body["status"]
        assert response.json()["outcome"] == outcome

    changed = api.events("collaboration.idea.status_changed.v1")
    assert [(e["data"]["previous_status"], e["data"]["status"]) for e in changed] == [
        ("submitted", "reviewing"),
        ("reviewing", "accepted"),
        ("accepted", "implemented"),
    ]
    assert changed[-1]["key"] == idea["id"]
    assert changed[-1]["data"] | {"changed_at": None} == {
        "idea_id": idea["id"],
        "status": "implemented",
        "previous_status": "accepted",
        "outcome": "Lancé dans 40 magasins.",
        "community_id": None,
        "changed_by": karim.id,
        "author_id": camille.id,
        "author_department_id": "marketing",
        "tags": ["open-innovation"],
        "changed_at": None,
    }


async def test_illegal_transitions_are_409_and_change_nothing(api):
    camille, cco = api.member("marketing"), api.member("direction", "cco")
    submitted = await api.propose(camille)
    rejected = await api.propose(camille)
    for status in ("reviewing", "rejected"):
        await api.client.post(
            f"/v1/ideas/{rejected['id']}/status", json={"status": status}, headers=cco.headers
        )
    before = api.snapshot()
    cases = [
        (submitted, "accepted"),
        (submitted, "implemented"),
        (submitted, "rejected"),
        (submitted, "submitted"),
        (rejected, "accepted"),
        (rejected, "reviewing"),
        (rejected, "rejected"),
    ]

    for idea, status in cases:
        response = await api.client.post(
            f"/v1/ideas/{idea['id']}/status", json={"status": status}, headers=cco.headers
        )
        assert response.status_code == 409, (idea["status"], status, response.text)

    assert api.snapshot() == before


async def test_who_may_change_an_idea_status(api):
    camille, bystander = api.member("marketing"), api.member("sales")
    community_manager = api.member("marketing")
    community_id = api.community("Idées Clients", community_manager)
    idea = await api.propose(camille, community_id=community_id)
    other = await api.propose(camille)
    before = api.snapshot()

    for refused, target in ((camille, idea), (bystander, idea), (community_manager, other)):
        response = await api.client.post(
            f"/v1/ideas/{target['id']}/status",
            json={"status": "reviewing"},
            headers=refused.headers,
        )
        assert response.status_code == 403, response.text
    assert api.snapshot() == before

    by_manager = await api.client.post(
        f"/v1/ideas/{idea['id']}/status",
        json={"status": "reviewing"},
        headers=community_manager.headers,
    )
    assert by_manager.status_code == 200


async def test_bad_status_changes_are_4xx(api):
    cco = api.member("direction", "cco")
    idea = await api.propose(api.member("marketing"))
    path = f"/v1/ideas/{idea['id']}/status"
    before = api.snapshot()
    cases = [
        (path, {"status": "done"}, 422),
        (path, {}, 422),
        (path, {"status": "reviewing", "outcome": "x" * 2001}, 422),
        (path, {"status": "reviewing", "changed_by": cco.id}, 422),
        (f"/v1/ideas/{uuid.uuid4()}/status", {"status": "reviewing"}, 404),
    ]

    for url, body, status in cases:
        response = await api.client.post(url, json=body, headers=cco.headers)
        assert response.status_code == status, (body, response.text)

    assert api.snapshot() == before


async def test_ideas_are_filtered(api):
    camille, cco = api.member("marketing"), api.member("direction", "cco")
    community_id = api.community("Idées Clients")
    recycling = await api.propose(camille, title="Reprise des appareils", community_id=community_id)
    videos = await api.propose(camille, title="Tutoriels vidéo", tags=["repairs"])
    await api.client.post(
        f"/v1/ideas/{videos['id']}/status", json={"status": "reviewing"}, headers=cco.headers
    )

    assert await api.ids("/v1/ideas", camille) == [recycling["id"], videos["id"]]
    assert await api.ids("/v1/ideas?status=reviewing", camille) == [videos["id"]]
    assert await api.ids("/v1/ideas?status=submitted", camille) == [recycling["id"]]
    assert await api.ids("/v1/ideas?tag=repairs", camille) == [videos["id"]]
    assert await api.ids(f"/v1/ideas?community_id={community_id}", camille) == [recycling["id"]]
    assert await api.ids("/v1/ideas?q=vidéos", camille) == [videos["id"]]
    bad = await api.client.get("/v1/ideas?status=done", headers=camille.headers)
    assert bad.status_code == 422
