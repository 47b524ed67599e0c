"""The objects the write routes act on, each made afresh for one request, and who they make.

A maker takes a running service (inprocess.py) and returns a `Call`: the path parameters and
body of a request about a new object, and the callers that object makes (the person a profile
is of, a manager of the community, a question's author...), with their tokens.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from listening.models import Alert
from tests.security.inprocess import COMMUNITY_MANAGER, NOW, SYSTEM, Person, Service
from tests.support.apps import eventually
from tests.support.broker import free_port

# Callers the object makes
SELF = "the person themselves"
MANAGER = "a manager of the community"
MEMBER = "the member concerned"
FELLOW = "a fellow member"
AUTHOR = "the author"
ANSWERER = "the answer's author"
OTHER_MANAGER = "a manager of another community"


@dataclass
class Call:
    """One request of a row, on an object made for it: what to send, and who the object makes."""

    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    actors: dict[str, Person] = field(default_factory=dict)
    # Read as the CCO before and after a refused request: it must read the same.
    show: str | None = None
    # Awaited after an allowed request, before the next one (a rebuild that must finish).
    settle: Callable[[Service, httpx.Response], Awaitable[None]] | None = None


Make = Callable[[Service], Awaitable[Call]]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def nothing(_: Service) -> Call:
    return Call(json={})


def headers_of(service: Service, call: Call, caller: str) -> dict[str, str]:
    person = call.actors.get(caller) or service.callers[caller]
    return dict(person.headers)


async def send(
    service: Service, method: str, template: str, call: Call, caller: str
) -> httpx.Response:
    """The call's request to `template` (its path parameters filled in), as `caller`."""
    headers = headers_of(service, call, caller)
    path = template.format(**call.params)
    if call.content is not None:
        headers["Content-Type"] = call.content_type or "application/octet-stream"
        return await service.client.request(method, path, content=call.content, headers=headers)
    return await service.client.request(method, path, json=call.json, headers=headers)


async def show(service: Service, call: Call) -> tuple[int, Any] | None:
    """What the object reads as, to the CCO."""
    if call.show is None:
        return None
    response = await service.client.get(call.show, headers=service.cco)
    return response.status_code, response.json()


# People


async def a_new_department(_: Service) -> Call:
    return Call(json={"id": unique("d"), "name": "Juridique"})


async def a_newcomer(_: Service) -> Call:
    email = f"{unique('newcomer')}@example.com"
    return Call(json={"name": "Nouvelle Recrue", "email": email, "department_id": "rd"})


async def an_hr_export(_: Service) -> Call:
    export = f"name,email,department_id\nNouvelle Recrue,{unique('hr')}@example.com,rd\n"
    return Call(content=export.encode(), content_type="text/csv")


async def someone_in_rd(service: Service) -> Call:
    person = await service.hire("rd", key="owner")
    return Call(
        params={"person_id": person.id}, actors={SELF: person}, show=f"/v1/people/{person.id}"
    )


def their_record(**change: object) -> Make:
    """A PATCH of a person of rd (the department lead's); callable values are made per call."""

    async def make(service: Service) -> Call:
        call = await someone_in_rd(service)
        call.json = {name: value() if callable(value) else value for name, value in change.items()}
        return call

    return make


async def a_skill_to_declare(service: Service) -> Call:
    call = await someone_in_rd(service)
    call.params["skill"], call.json = "python", {"level": 4}
    return call


async def a_declared_skill(service: Service) -> Call:
    call = await someone_in_rd(service)
    path = f"/v1/people/{call.params['person_id']}/skills/python"
    await service.call("PUT", path, service.cco, json={"level": 3})
    call.params["skill"] = "python"
    return call


async def a_role_to_grant(service: Service) -> Call:
    call = await someone_in_rd(service)
    call.json = {"role": "cco"}
    return call


async def a_granted_role(service: Service) -> Call:
    call = await someone_in_rd(service)
    path = f"/v1/people/{call.params['person_id']}/roles"
    await service.call("POST", path, service.cco, json={"role": "community_manager"})
    call.params["role"] = "community_manager"
    return call


# Communities


async def a_new_community(_: Service) -> Call:
    return Call(
        json={
            "name": unique("Community"),
            "kind": "internal",
            "purpose": "practice",
            "owner_department_id": "rd",
            "topics": ["python"],
        }
    )


async def a_community(service: Service, kind: str = "internal") -> tuple[str, Call]:
    """A community of rd with two managers and two members, each a caller of the call."""
    body = (await a_new_community(service)).json | {"kind": kind}
    community_id = (await service.call("POST", "/v1/communities", service.cco, json=body))["id"]
    manager = await service.hire("rd", COMMUNITY_MANAGER, key="manager")
    co_manager = await service.hire("after-sales", COMMUNITY_MANAGER, key="co-manager")
    member = await service.hire("after-sales", key="member")
    fellow = await service.hire("rd", key="fellow")
    base = f"/v1/communities/{community_id}"
    for person in (manager, co_manager):
        await service.call("POST", f"{base}/managers", service.cco, json={"person_id": person.id})
    memberships = {}
    for person in (member, fellow):
        added = await service.call(
            "POST", f"{base}/members", service.cco, json={"person_id": person.id}
        )
        memberships[person.key] = added["id"]
    call = Call(
        params={
            "community_id": community_id,
            "co_manager": co_manager.id,
            "membership": memberships["member"],
        },
        actors={MANAGER: manager, MEMBER: member, FELLOW: fellow},
        show=base,
    )
    return base, call


def the_community(json: Any = None) -> Make:
    async def make(service: Service) -> Call:
        _, call = await a_community(service)
        call.json = json
        return call

    return make


async def appointing_the_member(service: Service) -> Call:
    """The member is appointed a manager: they may not appoint themselves."""
    base, call = await a_community(service)
    call.json, call.show = {"person_id": call.actors[MEMBER].id}, f"{base}/managers"
    return call


async def removing_a_manager(service: Service) -> Call:
    base, call = await a_community(service)
    call.params["person_id"], call.show = call.params["co_manager"], f"{base}/managers"
    return call


def adding_a_newcomer(kind: str) -> Make:
    async def make(service: Service) -> Call:
        base, call = await a_community(service, kind)
        newcomer = await service.hire("marketing", key="newcomer")
        call.json, call.show = {"person_id": newcomer.id}, f"{base}/members"
        call.actors[SELF] = newcomer
        return call

    return make


async def removing_the_member(service: Service) -> Call:
    base, call = await a_community(service)
    call.params["member_id"], call.show = call.params["membership"], f"{base}/members"
    return call


# Listening

NEGATIVE = "Mon lave-linge est en panne depuis une semaine, service client absent."


async def a_new_source(_: Service) -> Call:
    return Call(json={"name": unique("Source"), "kind": "webhook"})


async def a_source(service: Service, kind: str = "webhook", **fields: object) -> str:
    body = {"name": unique("Source"), "kind": kind, **fields}
    return (await service.call("POST", "/v1/sources", service.cco, json=body))["id"]


async def a_feed(service: Service) -> Call:
    # Nothing listens there: the poll reports the failure on the source.
    source_id = await a_source(service, "rss", url=f"http://127.0.0.1:{free_port()}/feed.xml")
    return Call(params={"source_id": source_id}, show=f"/v1/sources/{source_id}")


def a_post(source_id: str) -> dict[str, str]:
    return {
        "source_id": source_id,
        "external_id": unique("post"),
        "channel": "x",
        "text": NEGATIVE,
        "published_at": NOW.isoformat(),
    }


async def a_post_to_ingest(service: Service) -> Call:
    return Call(json=a_post(await a_source(service)))


async def a_mention(service: Service) -> Call:
    post = a_post(await a_source(service))
    mention = await service.call("POST", "/v1/mentions", service.callers[SYSTEM].headers, json=post)
    return Call(
        params={"mention_id": mention["id"]},
        json={"sentiment_label": "positive"},
        show=f"/v1/mentions/{mention['id']}",
    )


async def new_keywords(_: Service) -> Call:
    return Call(params={"department_id": "rd"}, json={"keywords": [unique("prototype")]})


async def an_alert(service: Service) -> Call:
    alert = Alert(
        status="open",
        department_id="rd",
        window_start=NOW,
        window_end=NOW,
        negative_mentions=12,
        baseline_per_hour=1.0,
        explanation={},
        raised_at=NOW,
        last_seen_at=NOW,
    )
    with service.app.state.database.transaction() as session:
        session.add(alert)
        session.flush()
        alert_id = str(alert.id)
    return Call(params={"alert_id": alert_id}, show=f"/v1/alerts/{alert_id}")


def a_faq_body() -> dict[str, Any]:
    return {
        "question": f"Comment activer la garantie {unique('modèle')} ?",
        "answer": "Avec la facture, sur le site.",
        "lang": "fr",
        "department_id": "after-sales",
        "tags": ["garantie"],
    }


async def a_new_faq_entry(_: Service) -> Call:
    return Call(json=a_faq_body())


async def a_faq_entry(service: Service) -> Call:
    entry = await service.call("POST", "/v1/faq", service.cco, json=a_faq_body())
    return Call(
        params={"entry_id": entry["id"]},
        json={"answer": "Avec la facture, en magasin."},
        show=f"/v1/faq/{entry['id']}",
    )


async def a_customer_question(_: Service) -> Call:
    return Call(json={"question": "Comment activer la garantie de mon lave-linge ?"})


async def an_answered_ask(service: Service) -> Call:
    body = (await a_customer_question(service)).json
    ask = await service.call("POST", "/v1/faq/ask", {}, json=body)
    return Call(params={"ask_id": ask["ask_id"]}, json={"helpful": True})


# Collaboration


async def a_question_to_ask(_: Service) -> Call:
    return Call(json={"title": "Comment réparer le lave-linge ?", "body": "Code E21."})


async def a_question(service: Service) -> Call:
    author = await service.hire("rd", key="author")
    question = await service.call(
        "POST", "/v1/questions", author.headers, json=(await a_question_to_ask(service)).json
    )
    return Call(
        params={"question_id": question["id"]},
        json={"body": "Changer le joint."},
        actors={AUTHOR: author},
        show=f"/v1/questions/{question['id']}",
    )


async def communities_with_managers(service: Service) -> tuple[str, dict[str, Person]]:
    """A community managed by a plain employee, and another community's manager."""
    community_id, elsewhere = service.community_created(), service.community_created()
    manager = await service.hire("marketing", key="manager")
    other_manager = await service.hire("marketing", key="other-manager")
    service.manager_appointed(community_id, manager)
    service.manager_appointed(elsewhere, other_manager)
    return community_id, {MANAGER: manager, OTHER_MANAGER: other_manager}


def an_answer(json: Any = None) -> Make:
    """An answer by someone of after-sales to a question asked in a community."""

    async def make(service: Service) -> Call:
        community_id, managers = await communities_with_managers(service)
        author = await service.hire("rd", key="author")
        answerer = await service.hire("after-sales", key="answerer")
        question = await service.call(
            "POST",
            "/v1/questions",
            author.headers,
            json=(await a_question_to_ask(service)).json | {"community_id": community_id},
        )
        answer = await service.call(
            "POST",
            f"/v1/questions/{question['id']}/answers",
            answerer.headers,
            json={"body": "Changer le joint."},
        )
        return Call(
            params={"answer_id": answer["id"]},
            json=json,
            actors={AUTHOR: author, ANSWERER: answerer, **managers},
            show=f"/v1/questions/{question['id']}",
        )

    return make


async def a_practice_to_share(_: Service) -> Call:
    return Call(json={"title": "Diagnostic à distance", "body": "Un appel vidéo d'abord."})


async def a_practice(service: Service) -> Call:
    author = await service.hire("rd", key="author")
    practice = await service.call(
        "POST", "/v1/practices", author.headers, json=(await a_practice_to_share(service)).json
    )
    return Call(
        params={"practice_id": practice["id"]},
        json={"department_id": "marketing"},
        actors={AUTHOR: author},
        show=f"/v1/practices/{practice['id']}",
    )


async def an_idea_to_propose(_: Service) -> Call:
    return Call(json={"title": "Programme de reprise", "body": "Reprendre les anciens."})


def an_idea(json: Any = None) -> Make:
    """An idea proposed in a community run by a plain employee."""

    async def make(service: Service) -> Call:
        community_id, managers = await communities_with_managers(service)
        author = await service.hire("rd", key="author")
        body = (await an_idea_to_propose(service)).json | {"community_id": community_id}
        idea = await service.call("POST", "/v1/ideas", author.headers, json=body)
        return Call(
            params={"idea_id": idea["id"]},
            json=json,
            actors={AUTHOR: author, **managers},
            show=f"/v1/ideas/{idea['id']}",
        )

    return make


# Strategy


async def a_program(service: Service) -> Call:
    owner = await service.hire("rd", key="owner")
    kpi = {"metric": "cross_silo_ratio", "target": 0.5, "deadline": "2027-01-01"}
    body = {"name": "Ouvrir les silos", "objective": "Plus d'entraide.", "owner_id": owner.id}
    return Call(json=body | {"kpis": [kpi]})


async def rebuilt(service: Service, response: httpx.Response) -> None:
    async def done() -> None:
        job = await service.call("GET", response.headers["location"], service.cco)
        assert job["status"] == "done", job

    await eventually(done)


async def a_rebuild(_: Service) -> Call:
    return Call(settle=rebuilt)
