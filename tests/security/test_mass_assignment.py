"""Bodies carry only what a caller may set (OWASP API3, broken object property level
authorization: mass assignment).

One table per service, one row per JSON body a write route takes: a caller who may make the
request, a valid body, and the fields an attacker would add to it: fields the server owns (ids,
timestamps, authors, counters, statuses, labels it computes), fields that belong to someone else
(another person's id, another department), and a field no model has. Each added field alone is
refused with 422 as problem+json naming it (`extra_forbidden`), and nothing is written; the body
without it is then accepted (so the refusal is the field's doing).

The CSV import and the routes that take no body are checked on their own below.
"""

import copy
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.security.inprocess import (
    ANONYMOUS,
    CCO,
    COMMUNITY_MANAGER,
    CONVERSATION_MANAGER,
    EMPLOYEE,
    SYSTEM,
    Service,
    documented_operations,
    offline_app,
)
from tests.security.objects import (
    AUTHOR,
    MANAGER,
    SELF,
    Make,
    a_customer_question,
    a_faq_entry,
    a_mention,
    a_new_community,
    a_new_department,
    a_new_faq_entry,
    a_new_source,
    a_newcomer,
    a_post,
    a_post_to_ingest,
    a_practice,
    a_practice_to_share,
    a_program,
    a_question,
    a_question_to_ask,
    a_role_to_grant,
    a_skill_to_declare,
    a_source,
    adding_a_newcomer,
    an_alert,
    an_answer,
    an_answered_ask,
    an_idea,
    an_idea_to_propose,
    appointing_the_member,
    new_keywords,
    send,
    the_community,
    their_record,
)

# Each xdist worker runs its share on its own copy of each service (conftest.py).
pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
]

UNKNOWN = {"is_admin": True}
WHEN = "2020-01-01T00:00:00Z"
SOMEONE = "01a21d21-3038-7611-bc61-d2f6751b2f41"


@dataclass(frozen=True)
class Body:
    method: str
    path: str
    # A caller who may make the request, and a request with a valid body.
    caller: str
    make: Make
    # Field (a dotted path into the body for nested ones) -> what an attacker would send.
    smuggled: dict[str, Any]
    case: str = ""

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}" + (f" ({self.case})" if self.case else "")


def stamped(**fields: Any) -> dict[str, Any]:
    return {**UNKNOWN, "id": SOMEONE, "created_at": WHEN, **fields}


PEOPLE = [
    Body("POST", "/v1/departments", CCO, a_new_department, {**UNKNOWN, "created_at": WHEN}),
    Body(
        "POST",
        "/v1/people",
        SYSTEM,
        a_newcomer,
        stamped(
            active=False,
            roles=[{"role": "cco", "scope": None}],
            skills=[{"skill": "python", "level": 5}],
            updated_at=WHEN,
            deactivated_at=WHEN,
        ),
    ),
    # A person edits their own record: what HR owns cannot be slipped in by them.
    Body(
        "PATCH",
        "/v1/people/{person_id}",
        SELF,
        their_record(title="Cheffe de projet"),
        stamped(
            roles=[{"role": "cco", "scope": None}],
            skills=[{"skill": "python", "level": 5}],
            active=True,
            updated_at=WHEN,
            deactivated_at=None,
        ),
    ),
    Body(
        "PUT",
        "/v1/people/{person_id}/skills/{skill}",
        SELF,
        a_skill_to_declare,
        {**UNKNOWN, "skill": "sql", "person_id": SOMEONE, "updated_at": WHEN},
    ),
    Body(
        "POST",
        "/v1/people/{person_id}/roles",
        CCO,
        a_role_to_grant,
        {**UNKNOWN, "person_id": SOMEONE, "granted_at": WHEN, "id": SOMEONE},
    ),
]

COMMUNITIES = [
    Body(
        "POST",
        "/v1/communities",
        COMMUNITY_MANAGER,
        a_new_community,
        stamped(
            archived=True,
            created_by=SOMEONE,
            manager_ids=[SOMEONE],
            updated_at=WHEN,
            archived_at=WHEN,
        ),
    ),
    # A manager changes their community: not its managers, its author or its archiving.
    Body(
        "PATCH",
        "/v1/communities/{community_id}",
        MANAGER,
        the_community({"description": "Autre chose"}),
        stamped(archived=True, created_by=SOMEONE, manager_ids=[SOMEONE], updated_at=WHEN),
    ),
    Body(
        "POST",
        "/v1/communities/{community_id}/managers",
        MANAGER,
        appointing_the_member,
        {
            **UNKNOWN,
            "appointed_by": SOMEONE,
            "appointed_at": WHEN,
            "community_id": SOMEONE,
            "department_id": "marketing",
        },
    ),
    # Someone joins by themselves: not as if someone else had added them, nor elsewhere.
    Body(
        "POST",
        "/v1/communities/{community_id}/members",
        SELF,
        adding_a_newcomer("internal"),
        stamped(added_by=SOMEONE, joined_at=WHEN, community_id=SOMEONE),
    ),
]

LISTENING = [
    Body(
        "POST",
        "/v1/sources",
        COMMUNITY_MANAGER,
        a_new_source,
        stamped(
            created_by="someone-else",
            last_polled_at=WHEN,
            last_error=None,
            last_new_mentions=0,
            etag='"x"',
        ),
    ),
    # What the service reads from a mention (its sentiment, its department) is its own.
    Body(
        "POST",
        "/v1/mentions",
        SYSTEM,
        a_post_to_ingest,
        stamped(
            sentiment={"score": 1.0, "label": "positive"},
            sentiment_label="positive",
            human_label="positive",
            model_score=1.0,
            department_id="marketing",
            community_id=SOMEONE,
            topics=["bonus"],
            ingested_at=WHEN,
            ingested_by="someone-else",
        ),
        case="one mention",
    ),
    Body(
        "PATCH",
        "/v1/mentions/{mention_id}",
        CONVERSATION_MANAGER,
        a_mention,
        {
            **UNKNOWN,
            "relabelled_by": "someone-else",
            "sentiment_score": 1.0,
            "model_label": "positive",
            "department_id": "marketing",
        },
    ),
    Body(
        "PUT",
        "/v1/routing-rules/{department_id}",
        COMMUNITY_MANAGER,
        new_keywords,
        {**UNKNOWN, "department_id": "marketing", "updated_by": "someone-else", "updated_at": WHEN},
    ),
    Body(
        "POST",
        "/v1/faq",
        COMMUNITY_MANAGER,
        a_new_faq_entry,
        stamped(created_by="someone-else", updated_by="someone-else", revision=99),
    ),
    Body(
        "PATCH",
        "/v1/faq/{entry_id}",
        COMMUNITY_MANAGER,
        a_faq_entry,
        stamped(created_by="someone-else", updated_by="someone-else", revision=99),
    ),
    # The public FAQ: a customer cannot say they were answered, nor where to escalate.
    Body(
        "POST",
        "/v1/faq/ask",
        ANONYMOUS,
        a_customer_question,
        {
            **UNKNOWN,
            "answered": True,
            "escalated": False,
            "department_id": "marketing",
            "entry_id": SOMEONE,
            "score": 1.0,
            "ask_id": SOMEONE,
            "asked_at": WHEN,
        },
    ),
    Body(
        "POST",
        "/v1/faq/asks/{ask_id}/feedback",
        ANONYMOUS,
        an_answered_ask,
        {**UNKNOWN, "ask_id": SOMEONE, "entry_id": SOMEONE, "feedback_at": WHEN},
    ),
]


COLLABORATION = [
    Body(
        "POST",
        "/v1/questions",
        EMPLOYEE,
        a_question_to_ask,
        stamped(
            author_id=SOMEONE,
            author_department_id="marketing",
            source="customer-faq",
            faq_ask_id="ask-1",
            status="answered",
            answer_count=3,
            accepted_answer_id=SOMEONE,
            asked_at=WHEN,
            escalated_at=WHEN,
        ),
    ),
    Body(
        "POST",
        "/v1/questions/{question_id}/answers",
        EMPLOYEE,
        a_question,
        stamped(
            author_id=SOMEONE,
            author_department_id="marketing",
            question_id=SOMEONE,
            score=10,
            accepted=True,
            accepted_at=WHEN,
            posted_at=WHEN,
        ),
    ),
    Body(
        "POST",
        "/v1/answers/{answer_id}/accept",
        AUTHOR,
        an_answer(),
        {**UNKNOWN, "accepted_by": SOMEONE, "accepted_at": WHEN, "answer_id": SOMEONE},
    ),
    Body(
        "POST",
        "/v1/answers/{answer_id}/votes",
        EMPLOYEE,
        an_answer({"value": 1}),
        {**UNKNOWN, "voter_id": SOMEONE, "score": 100, "answer_id": SOMEONE, "voted_at": WHEN},
    ),
    Body(
        "POST",
        "/v1/practices",
        EMPLOYEE,
        a_practice_to_share,
        stamped(
            author_id=SOMEONE,
            author_department_id="marketing",
            adoption_count=9,
            adoptions=[],
            shared_at=WHEN,
        ),
    ),
    Body(
        "POST",
        "/v1/practices/{practice_id}/adoptions",
        EMPLOYEE,
        a_practice,
        stamped(
            adopted_by=SOMEONE,
            adopted_by_department_id="marketing",
            practice_id=SOMEONE,
            adopted_at=WHEN,
        ),
    ),
    Body(
        "POST",
        "/v1/ideas",
        EMPLOYEE,
        an_idea_to_propose,
        stamped(
            status="accepted",
            outcome="Adoptée",
            author_id=SOMEONE,
            author_department_id="marketing",
            votes=50,
            vote_count=50,
            proposed_at=WHEN,
            status_changed_at=WHEN,
        ),
    ),
    Body(
        "POST",
        "/v1/ideas/{idea_id}/votes",
        EMPLOYEE,
        an_idea(),
        {**UNKNOWN, "voter_id": SOMEONE, "votes": 50, "idea_id": SOMEONE, "voted_at": WHEN},
    ),
    Body(
        "POST",
        "/v1/ideas/{idea_id}/status",
        CCO,
        an_idea({"status": "reviewing"}),
        {
            **UNKNOWN,
            "changed_by": SOMEONE,
            "previous_status": "accepted",
            "status_changed_at": WHEN,
            "author_id": SOMEONE,
            "votes": 50,
        },
    ),
]

STRATEGY = [
    Body(
        "POST",
        "/v1/programs",
        CCO,
        a_program,
        stamped(
            created_by=SOMEONE,
            **{"kpis.0.baseline": 0.9, "kpis.0.current": 0.9, "kpis.0.progress": 1.0},
        ),
    ),
]

TABLES = {
    "people": PEOPLE,
    "communities": COMMUNITIES,
    "listening": LISTENING,
    "collaboration": COLLABORATION,
    "strategy": STRATEGY,
}
# The write routes that take no body (a body sent anyway is not read).
NO_BODY = {
    "people": {
        ("DELETE", "/v1/people/{person_id}"),
        ("DELETE", "/v1/people/{person_id}/skills/{skill}"),
        ("DELETE", "/v1/people/{person_id}/roles/{role}"),
    },
    "communities": {
        ("POST", "/v1/communities/{community_id}/archive"),
        ("DELETE", "/v1/communities/{community_id}/managers/{person_id}"),
        ("DELETE", "/v1/communities/{community_id}/members/{member_id}"),
    },
    "listening": {
        ("POST", "/v1/sources/{source_id}/poll"),
        ("POST", "/v1/alerts/{alert_id}/ack"),
    },
    "collaboration": set(),
    "strategy": {("POST", "/v1/admin/rebuild")},
}
# The routes whose body is no JSON object (checked on its own below).
OTHER_MEDIA = {"people": {("POST", "/v1/people/import")}}


def with_field(body: Any, dotted: str, value: Any) -> Any:
    """`body` with `value` set at `dotted` (`kpis.0.baseline`: into the first KPI)."""
    body = copy.deepcopy(body) if body is not None else {}
    *parents, name = dotted.split(".")
    target = body
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[name] = value
    return body


# The tables against the documents


@pytest.mark.parametrize("service_name", TABLES)
async def test_every_json_body_is_in_a_table(service_name):
    operations = documented_operations(offline_app(service_name).openapi())
    with_json = {
        key
        for key, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    }
    without = {key for key, operation in operations.items() if "requestBody" not in operation}
    other = set(operations) - with_json - without

    tabled = {(body.method, body.path) for body in TABLES[service_name]}
    assert with_json == tabled, (
        f"untabled: {sorted(with_json - tabled)}; stale: {sorted(tabled - with_json)}"
    )
    assert without == NO_BODY[service_name]
    assert other == OTHER_MEDIA.get(service_name, set())


def object_schemas(document: dict[str, Any], schema: dict[str, Any], where: str) -> list:
    """(where, schema) of every object a body schema holds, however deep."""
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    found = []
    if schema.get("type") == "object" or "properties" in schema:
        found.append((where, schema))
    for keyword in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(keyword, []):
            found += object_schemas(document, sub, where)
    for name, sub in schema.get("properties", {}).items():
        found += object_schemas(document, sub, f"{where}.{name}")
    if "items" in schema:
        found += object_schemas(document, schema["items"], f"{where}[]")
    return found


@pytest.mark.parametrize("service_name", TABLES)
async def test_every_object_a_body_holds_forbids_other_fields(service_name):
    document = offline_app(service_name).openapi()
    objects = [
        (f"{method} {path} {where}", schema)
        for (method, path), operation in documented_operations(document).items()
        for media in operation.get("requestBody", {}).get("content", {}).values()
        for where, schema in object_schemas(document, media["schema"], "body")
    ]

    assert objects
    lenient = [
        where for where, schema in objects if schema.get("additionalProperties") is not False
    ]
    assert not lenient, f"objects that take any field: {lenient}"


# The tables against the services


CASES = [
    pytest.param(name, body, id=f"{name} {body.name}")
    for name, bodies in TABLES.items()
    for body in bodies
]


@pytest.mark.parametrize(("service", "body"), CASES, indirect=["service"])
async def test_a_field_the_caller_may_not_set_is_refused_and_nothing_is_written(
    service: Service, body: Body
):
    call = await body.make(service)
    valid = call.json
    problems: list[str] = []

    for dotted, value in body.smuggled.items():
        call.json = with_field(valid, dotted, value)
        before = service.dump()
        response = await send(service, body.method, body.path, call, body.caller)
        if response.status_code != 422:
            problems.append(f"{dotted}: {response.status_code}, not 422: {response.text}")
            continue
        if response.headers["content-type"] != "application/problem+json":
            problems.append(f"{dotted}: answered as {response.headers['content-type']}")
        named = {(e.get("field"), e.get("type")) for e in response.json().get("errors", [])}
        if (dotted, "extra_forbidden") not in named:
            problems.append(f"{dotted}: the problem does not name it: {sorted(named)}")
        if service.dump() != before:
            problems.append(f"{dotted}: refused, yet the database changed")

    call.json = valid
    accepted = await send(service, body.method, body.path, call, body.caller)
    assert not problems, f"{body.name}:\n" + "\n".join(problems)
    assert accepted.is_success, f"the valid body is refused: {accepted.text}"


# A batch of mentions: bad items are reported while good ones land (a documented choice).


async def test_a_batch_whose_every_item_smuggles_a_field_is_refused(listening_service):
    service = listening_service
    source_id = await a_source(service)
    items = [
        a_post(source_id) | {"department_id": "marketing"},
        a_post(source_id) | {"sentiment_label": "positive"},
    ]
    before = service.dump()

    response = await service.client.post(
        "/v1/mentions", json={"items": items}, headers=service.callers[SYSTEM].headers
    )
    top_level = await service.client.post(
        "/v1/mentions",
        json={"items": [a_post(source_id)], "ingested_by": "someone-else"},
        headers=service.callers[SYSTEM].headers,
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    named = {(e["field"], e["type"]) for e in response.json()["errors"]}
    assert named >= {
        ("items.0.department_id", "extra_forbidden"),
        ("items.1.sentiment_label", "extra_forbidden"),
    }
    assert top_level.status_code == 422
    assert ("ingested_by", "extra_forbidden") in {
        (e["field"], e["type"]) for e in top_level.json()["errors"]
    }
    assert service.dump() == before


async def test_in_a_batch_only_the_item_that_smuggles_a_field_is_left_out(listening_service):
    service = listening_service
    source_id = await a_source(service)
    good, smuggling = a_post(source_id), a_post(source_id) | {"department_id": "marketing"}

    response = await service.client.post(
        "/v1/mentions", json={"items": [good, smuggling]}, headers=service.callers[SYSTEM].headers
    )

    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["created"], report["invalid"]) == (1, 1)
    [refused] = [item for item in report["items"] if item["status"] == "invalid"]
    assert refused["index"] == 1
    assert {(e["field"], e["type"]) for e in refused["errors"]} == {
        ("department_id", "extra_forbidden")
    }
    listed = await service.call("GET", f"/v1/mentions?source_id={source_id}", service.cco)
    assert [m["external_id"] for m in listed["items"]] == [good["external_id"]]


# The HR import reads the columns it knows; an export's other columns never reach a record.


async def test_the_hr_import_sets_no_column_it_does_not_know(people_service):
    service = people_service
    email, claimed_id = f"import.{uuid.uuid4().hex[:10]}@example.com", str(uuid.uuid4())
    export = (
        "name,email,department_id,id,active,roles,created_at\n"
        f"Nouvelle Recrue,{email},rd,{claimed_id},false,cco,{WHEN}\n"
    )

    response = await service.client.post(
        "/v1/people/import",
        content=export.encode(),
        headers={**service.callers[SYSTEM].headers, "Content-Type": "text/csv"},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"created": 1, "updated": 0, "errors": []}
    [person] = (await service.call("GET", f"/v1/people?email={email}", service.cco))["items"]
    assert person["id"] != claimed_id
    assert person["active"] is True
    assert person["roles"] == []
    assert not person["created_at"].startswith("2020")


# Routes that take no body do not read one: what it claims is not what happens.


async def test_a_body_sent_to_an_acknowledgement_does_not_say_who_acknowledged(
    listening_service,
):
    service = listening_service
    call = await an_alert(service)
    call.json = {"acknowledged_by": "someone-else", "status": "open"}

    response = await send(service, "POST", "/v1/alerts/{alert_id}/ack", call, CONVERSATION_MANAGER)

    assert response.status_code == 200, response.text
    alert = response.json()
    assert alert["status"] == "acknowledged"
    assert alert["acknowledged_by"] == service.callers[CONVERSATION_MANAGER].id


async def test_a_body_sent_to_an_archiving_does_not_keep_a_community_open(
    communities_service,
):
    service = communities_service
    call = await the_community({"archived": False})(service)

    response = await send(service, "POST", "/v1/communities/{community_id}/archive", call, MANAGER)

    assert response.status_code == 200, response.text
    assert response.json()["archived"] is True
