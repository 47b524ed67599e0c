"""Answers: posting, accepting (one per question, replaceable) and voting, with their events."""

import uuid

import pytest

from tests.support.apps import bearer

pytestmark = pytest.mark.integration


async def test_an_answer_names_both_departments(api):
    nadia, ines = api.member("after-sales"), api.member("rd")
    community_id = api.community("Qualité & réparabilité")
    question = await api.ask(nadia, tags=["firmware"], community_id=community_id)

    response = await api.client.post(
        f"/v1/questions/{question['id']}/answers",
        json={"body": "  Recalibrez le pressostat.  "},
        headers=ines.headers,
    )

    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["body"] == "Recalibrez le pressostat."
    assert answer["author_id"] == ines.id and answer["author_department_id"] == "rd"
    assert answer["score"] == 0 and answer["accepted"] is False
    [event] = api.events("collaboration.answer.posted.v1")
    assert event["key"] == question["id"]
    assert event["data"] == {
        "id": answer["id"],
        "question_id": question["id"],
        "author_id": ines.id,
        "author_department_id": "rd",
        "question_author_id": nadia.id,
        "question_author_department_id": "after-sales",
        "tags": ["firmware"],
        "community_id": community_id,
        "question_asked_at": event["data"]["question_asked_at"],
        "posted_at": answer["posted_at"].replace("+00:00", "Z"),
        "first_answer": True,
    }
    assert event["data"]["question_asked_at"] == question["asked_at"].replace("+00:00", "Z")
    await api.answer(api.member("it"), question["id"])
    assert [e["data"]["first_answer"] for e in api.events("collaboration.answer.posted.v1")] == [
        True,
        False,
    ]


async def test_bad_answers_change_nothing(api):
    nadia, ines = api.member("after-sales"), api.member("rd")
    question = await api.ask(nadia)
    before = api.snapshot()
    cases = [
        (f"/v1/questions/{question['id']}/answers", {}, 422),
        (f"/v1/questions/{question['id']}/answers", {"body": ""}, 422),
        (f"/v1/questions/{question['id']}/answers", {"body": "x" * 20_001}, 422),
        (f"/v1/questions/{question['id']}/answers", {"body": "ok", "author_id": nadia.id}, 422),
        (f"/v1/questions/{question['id']}/answers", {"body": "ok", "accepted": True}, 422),
        (f"/v1/questions/{uuid.uuid4()}/answers", {"body": "ok"}, 404),
        ("/v1/questions/not-a-uuid/answers", {"body": "ok"}, 422),
    ]

    for path, body, status in cases:
        response = await api.client.post(path, json=body, headers=ines.headers)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"

    assert api.snapshot() == before


async def test_the_asker_accepts_an_answer(api):
    nadia, ines = api.member("after-sales"), api.member("rd")
    question = await api.ask(nadia, tags=["firmware"])
    answer = await api.answer(ines, question["id"])

    response = await api.client.post(f"/v1/answers/{answer['id']}/accept", headers=nadia.headers)

    assert response.status_code == 200, response.text
    assert response.json()["accepted"] is True
    read = (await api.client.get(f"/v1/questions/{question['id']}", headers=nadia.headers)).json()
    assert read["accepted_answer_id"] == answer["id"]
    [event] = api.events("collaboration.answer.accepted.v1")
    assert event["key"] == question["id"]
    assert event["data"] | {"accepted_at": None} == {
        "answer_id": answer["id"],
        "question_id": question["id"],
        "author_id": ines.id,
        "author_department_id": "rd",
        "question_author_id": nadia.id,
        "question_author_department_id": "after-sales",
        "tags": ["firmware"],
        "community_id": None,
        "accepted_by": nadia.id,
        "accepted_at": None,
        "replaces_answer_id": None,
    }


async def test_accepting_another_answer_replaces_the_first_with_events(api):
    ines, manon, mehdi = api.member("rd"), api.member("rd"), api.member("it")
    question = await api.ask(ines)
    first = await api.answer(manon, question["id"])
    second = await api.answer(mehdi, question["id"])
    await api.client.post(f"/v1/answers/{first['id']}/accept", headers=ines.headers)

    response = await api.client.post(f"/v1/answers/{second['id']}/accept", headers=ines.headers)

    assert response.status_code == 200
    read = (await api.client.get(f"/v1/questions/{question['id']}", headers=ines.headers)).json()
    assert read["accepted_answer_id"] == second["id"]
    assert [a["accepted"] for a in read["answers"]] == [False, True]
    types = [e["type"] for e in api.events() if e["type"].startswith("collaboration.answer.")]
    assert types[-3:] == [
        "collaboration.answer.accepted.v1",
        "collaboration.answer.unaccepted.v1",
        "collaboration.answer.accepted.v1",
    ]
    unaccepted = api.events("collaboration.answer.unaccepted.v1")[0]
    assert unaccepted["key"] == question["id"]
    assert unaccepted["data"]["answer_id"] == first["id"]
    assert unaccepted["data"]["author_id"] == manon.id
    assert unaccepted["data"]["replaced_by_answer_id"] == second["id"]
    assert (
        api.events("collaboration.answer.accepted.v1")[-1]["data"]["replaces_answer_id"]
        == (first["id"])
    )


async def test_accepting_the_accepted_answer_again_changes_nothing(api):
    ines, mehdi = api.member("rd"), api.member("it")
    question = await api.ask(ines)
    answer = await api.answer(mehdi, question["id"])
    await api.client.post(f"/v1/answers/{answer['id']}/accept", headers=ines.headers)
    before = api.snapshot()

    again = await api.client.post(f"/v1/answers/{answer['id']}/accept", headers=ines.headers)

    assert again.status_code == 200 and again.json()["accepted"] is True
    assert api.snapshot() == before


async def test_who_may_accept(api):
    nadia, ines, hugo = api.member("after-sales"), api.member("rd"), api.member("rd")
    manager = api.member("after-sales")
    other_manager = api.member("it", "community_manager")
    community_id = api.community("Qualité & réparabilité", manager)
    question = await api.ask(nadia, community_id=community_id)
    answer = await api.answer(ines, question["id"])
    cco = bearer(api.settings, "cco", subject=str(uuid.uuid4()), department="direction")
    before = api.snapshot()

    # Neither the answer's author, nor a bystander, nor a manager of another community.
    for refused in (ines, hugo, other_manager):
        response = await api.client.post(
            f"/v1/answers/{answer['id']}/accept", headers=refused.headers
        )
        assert response.status_code == 403, response.text
    assert api.snapshot() == before

    by_manager = await api.client.post(
        f"/v1/answers/{answer['id']}/accept", headers=manager.headers
    )
    other = await api.answer(hugo, question["id"])
    by_cco = await api.client.post(f"/v1/answers/{other['id']}/accept", headers=cco)

    assert by_manager.status_code == 200 and by_cco.status_code == 200
    accepted_by = [e["data"]["accepted_by"] for e in api.events("collaboration.answer.accepted.v1")]
    assert accepted_by[0] == manager.id


async def test_a_customers_question_is_accepted_by_its_department(api):
    api.receive(
        "listening.faq.unanswered.v1",
        {
            "ask_id": str(uuid.uuid4()),
            "question": "Comment détartrer ma machine à café ?",
            "lang": "fr",
            "department_id": "after-sales",
            "asked_at": "2026-11-20T10:00:00Z",
        },
    )
    [question] = (await api.client.get("/v1/questions", headers=api.member("rd").headers)).json()[
        "items"
    ]
    answer = await api.answer(api.member("rd"), question["id"])

    outsider = await api.client.post(
        f"/v1/answers/{answer['id']}/accept", headers=api.member("sales").headers
    )
    insider = await api.client.post(
        f"/v1/answers/{answer['id']}/accept", headers=api.member("after-sales").headers
    )

    assert outsider.status_code == 403
    assert insider.status_code == 200


async def test_accept_refuses_unknown_answers_and_bodies_with_fields(api):
    ines, mehdi = api.member("rd"), api.member("it")
    question = await api.ask(ines)
    answer = await api.answer(mehdi, question["id"])
    before = api.snapshot()

    unknown = await api.client.post(f"/v1/answers/{uuid.uuid4()}/accept", headers=ines.headers)
    with_fields = await api.client.post(
        f"/v1/answers/{answer['id']}/accept",
        json={"accepted_by": mehdi.id},
        headers=ines.headers,
    )

    assert unknown.status_code == 404
    assert with_fields.status_code == 422
    assert api.snapshot() == before
    empty = await api.client.post(
        f"/v1/answers/{answer['id']}/accept", json={}, headers=ines.headers
    )
    assert empty.status_code == 200


async def test_one_vote_per_person_which_they_may_change(api):
    ines, mehdi, manon = api.member("rd"), api.member("it"), api.member("rd")
    question = await api.ask(ines, tags=["python"])
    answer = await api.answer(mehdi, question["id"])
    path = f"/v1/answers/{answer['id']}/votes"

    first = await api.client.post(path, json={"value": 1}, headers=ines.headers)
    same = await api.client.post(path, json={"value": 1}, headers=ines.headers)
    other = await api.client.post(path, json={"value": 1}, headers=manon.headers)
    changed = await api.client.post(path, json={"value": -1}, headers=ines.headers)

    assert (first.status_code, first.json()["score"]) == (201, 1)
    assert (same.status_code, same.json()["score"]) == (200, 1)
    assert (other.status_code, other.json()["score"]) == (201, 2)
    assert (changed.status_code, changed.json()["score"]) == (200, 0)
    assert changed.json() == {
        "answer_id": answer["id"],
        "voter_id": ines.id,
        "value": -1,
        "score": 0,
    }
    read = (await api.client.get(f"/v1/questions/{question['id']}", headers=ines.headers)).json()
    assert read["answers"][0]["score"] == 0
    voted = api.events("collaboration.answer.voted.v1")
    assert [(e["data"]["voter_id"], e["data"]["value"]) for e in voted] == [
        (ines.id, 1),
        (manon.id, 1),
        (ines.id, -1),
    ]
    assert voted[-1]["key"] == question["id"]
    assert voted[-1]["data"] | {"voted_at": None} == {
        "answer_id": answer["id"],
        "question_id": question["id"],
        "voter_id": ines.id,
        "voter_department_id": "rd",
        "value": -1,
        "previous_value": 1,
        "author_id": mehdi.id,
        "author_department_id": "it",
        "score": 0,
        "tags": ["python"],
        "voted_at": None,
    }


async def test_bad_votes_change_nothing(api):
    ines, mehdi = api.member("rd"), api.member("it")
    question = await api.ask(ines)
    answer = await api.answer(mehdi, question["id"])
    path = f"/v1/answers/{answer['id']}/votes"
    before = api.snapshot()
    cases = [
        (path, {"value": 0}, ines, 422),
        (path, {"value": 2}, ines, 422),
        (path, {"value": "1"}, ines, 422),
        (path, {"value": True}, ines, 422),
        (path, {}, ines, 422),
        # Another person's vote cannot be cast through a body field.
        (path, {"value": 1, "voter_id": str(uuid.uuid4())}, ines, 422),
        (path, {"value": 1}, mehdi, 403),
        (f"/v1/answers/{uuid.uuid4()}/votes", {"value": 1}, ines, 404),
    ]

    for url, body, voter, status in cases:
        response = await api.client.post(url, json=body, headers=voter.headers)
        assert response.status_code == status, (body, response.text)

    assert api.snapshot() == before
