"""Skills (levels 1..5) and roles (with a scope), with who may change them."""

import json

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
async def person(api):
    await api.department("rd", "R&D")
    return await api.person()


async def test_a_person_declares_and_removes_a_skill(api, person):
    me = api.as_("employee", subject=person["id"])

    declared = await api.client.put(
        f"/v1/people/{person['id']}/skills/Embedded-C", json={"level": 4}, headers=me
    )
    same_again = await api.client.put(
        f"/v1/people/{person['id']}/skills/embedded-c", json={"level": 4}, headers=me
    )
    shown = (await api.client.get(f"/v1/people/{person['id']}", headers=me)).json()["skills"]
    removed = await api.client.delete(f"/v1/people/{person['id']}/skills/embedded-c", headers=me)

    assert declared.status_code == 200
    assert declared.json() == {"skill": "embedded-c", "level": 4}
    assert same_again.status_code == 200
    assert shown == [{"skill": "embedded-c", "level": 4}]
    assert removed.status_code == 204
    types = [json.loads(e.value)["type"] for e in api.events()]
    assert types[-2:] == ["people.person.skill_declared.v1", "people.person.skill_removed.v1"]
    assert types.count("people.person.skill_declared.v1") == 1


@pytest.mark.parametrize(
    ("skill", "body"),
    [
        ("python", {"level": 0}),
        ("python", {"level": 6}),
        ("python", {"level": "high"}),
        ("python", {}),
        ("not a skill!", {"level": 3}),
        ("python", {"level": 3, "person_id": "x"}),
    ],
)
async def test_bad_skills_are_refused(api, person, skill, body):
    before = api.snapshot()

    response = await api.client.put(
        f"/v1/people/{person['id']}/skills/{skill}", json=body, headers=api.cco
    )

    assert response.status_code == 422
    assert api.snapshot() == before


async def test_nobody_changes_another_persons_skills(api, person):
    other = api.as_("employee", "community_manager", subject="01a21d21-3038-7611-bc61-d2f6751b2f41")

    put = await api.client.put(
        f"/v1/people/{person['id']}/skills/python", json={"level": 5}, headers=other
    )
    delete = await api.client.delete(f"/v1/people/{person['id']}/skills/python", headers=other)
    missing = await api.client.delete(f"/v1/people/{person['id']}/skills/python", headers=api.cco)

    assert (put.status_code, delete.status_code, missing.status_code) == (403, 403, 404)


async def test_cco_grants_and_revokes_roles(api, person):
    url = f"/v1/people/{person['id']}/roles"

    granted = await api.client.post(
        url, json={"role": "department_lead", "scope": "rd"}, headers=api.cco
    )
    manager = await api.client.post(url, json={"role": "community_manager"}, headers=api.cco)
    duplicate = await api.client.post(url, json={"role": "community_manager"}, headers=api.cco)
    shown = (await api.client.get(f"/v1/people/{person['id']}", headers=api.cco)).json()["roles"]
    revoked = await api.client.delete(f"{url}/community_manager", headers=api.cco)
    not_held = await api.client.delete(f"{url}/community_manager", headers=api.cco)

    assert granted.status_code == 201
    assert granted.json() == {"role": "department_lead", "scope": "rd"}
    assert manager.status_code == 201
    assert duplicate.status_code == 409
    assert {(r["role"], r["scope"]) for r in shown} == {
        ("department_lead", "rd"),
        ("community_manager", None),
    }
    assert revoked.status_code == 204
    assert not_held.status_code == 404
    types = [json.loads(e.value)["type"] for e in api.events()]
    assert types.count("people.person.role_granted.v1") == 2
    assert types.count("people.person.role_revoked.v1") == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"role": "wizard"}, 422),
        ({"role": "system"}, 422),
        ({"role": "employee"}, 422),
        ({"role": "department_lead"}, 422),
        ({"role": "department_lead", "scope": "nowhere"}, 422),
        ({"role": "cco", "scope": ""}, 422),
    ],
)
async def test_bad_role_grants_are_refused(api, person, body, status):
    before = api.snapshot()

    response = await api.client.post(f"/v1/people/{person['id']}/roles", json=body, headers=api.cco)

    assert response.status_code == status
    assert api.snapshot() == before


async def test_only_the_cco_manages_roles(api, person):
    url = f"/v1/people/{person['id']}/roles"
    for roles in (("employee",), ("community_manager",), ("system",)):
        response = await api.client.post(
            url, json={"role": "cco"}, headers=api.as_(*roles, subject=person["id"])
        )
        assert response.status_code == 403
