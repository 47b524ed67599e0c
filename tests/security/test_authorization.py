"""Who may call each write route of each service: object- and function-level authorization
(OWASP API1, broken object level authorization; API5, broken function level authorization).

One table per service, one row per write route (several when who may depends on what the request
changes). A row names the callers allowed and the callers refused, among every role of
`shared.auth.Role` (see inprocess.py) and the callers the object itself makes: the person a
profile is of, a manager of the community, the member concerned, a question's or an idea's
author, the author of an answer, a manager of another community, a fellow member.

Each row runs against the real service, in-process: every refused caller gets 401 (no token) or
403 as problem+json, and leaves every row of every table as it was (and the object reads the
same); every allowed caller gets a 2xx that changes something. Each caller acts on an object
made for them alone, so the table's calls never depend on one another.

A route no row names fails `test_every_write_route_of_every_service_is_in_a_table`.
"""

from dataclasses import dataclass

import pytest

from tests.security.inprocess import (
    ANONYMOUS,
    CCO,
    COMMUNITY_MANAGER,
    CONVERSATION_MANAGER,
    DEPARTMENT_LEAD,
    EMPLOYEE,
    GLOBAL_CALLERS,
    LEFT,
    SYSTEM,
    Service,
    documented_operations,
    offline_app,
    write_routes,
)
from tests.security.objects import (
    ANSWERER,
    AUTHOR,
    FELLOW,
    MANAGER,
    MEMBER,
    OTHER_MANAGER,
    SELF,
    Make,
    a_customer_question,
    a_declared_skill,
    a_faq_entry,
    a_feed,
    a_granted_role,
    a_mention,
    a_new_community,
    a_new_department,
    a_new_faq_entry,
    a_new_source,
    a_newcomer,
    a_post_to_ingest,
    a_practice,
    a_practice_to_share,
    a_program,
    a_question,
    a_question_to_ask,
    a_rebuild,
    a_role_to_grant,
    a_skill_to_declare,
    adding_a_newcomer,
    an_alert,
    an_answer,
    an_answered_ask,
    an_hr_export,
    an_idea,
    an_idea_to_propose,
    appointing_the_member,
    new_keywords,
    nothing,
    removing_a_manager,
    removing_the_member,
    send,
    show,
    someone_in_rd,
    the_community,
    their_record,
    unique,
)

# Each xdist worker runs its share on its own copy of each service (conftest.py).
pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="session"),
]


@dataclass(frozen=True)
class Rule:
    method: str
    path: str
    allowed: tuple[str, ...]
    refused: tuple[str, ...]
    make: Make
    case: str = ""
    # What refused callers get: 403 (401 without a token), or 405 for every caller.
    refusal: int = 403

    @classmethod
    def unserved(cls, method: str, path: str) -> "Rule":
        """A method a path answers with 405 whoever calls (a guard against ids like `import`)."""
        return cls(method, path, (), GLOBAL_CALLERS, nothing, "not served", 405)

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}" + (f" ({self.case})" if self.case else "")


# People: HR (the CCO and system clients) runs the directory; people edit a few fields of
# their own record and their skills; only the CCO grants roles.

HR = (CCO, SYSTEM)
# Each of them someone else than the person concerned; the department lead leads their
# department (rd) and still may not change their record.
NOT_HR = (ANONYMOUS, EMPLOYEE, COMMUNITY_MANAGER, CONVERSATION_MANAGER, DEPARTMENT_LEAD)


PEOPLE = [
    Rule("POST", "/v1/departments", (CCO,), (*NOT_HR, SYSTEM), a_new_department),
    Rule("POST", "/v1/people", HR, NOT_HR, a_newcomer),
    Rule("POST", "/v1/people/import", HR, NOT_HR, an_hr_export),
    Rule.unserved("PATCH", "/v1/people/import"),
    Rule.unserved("DELETE", "/v1/people/import"),
    Rule(
        "PATCH",
        "/v1/people/{person_id}",
        (SELF, *HR),
        NOT_HR,
        their_record(title="Cheffe de projet", languages=["fr", "en"]),
        case="their title and languages",
    ),
    Rule(
        "PATCH",
        "/v1/people/{person_id}",
        HR,
        (SELF, *NOT_HR),
        their_record(department_id="after-sales"),
        case="their department",
    ),
    Rule(
        "PATCH",
        "/v1/people/{person_id}",
        HR,
        (SELF, *NOT_HR),
        their_record(email=lambda: f"{unique('renamed')}@example.com"),
        case="their email, what they sign in with",
    ),
    Rule(
        "PATCH",
        "/v1/people/{person_id}",
        HR,
        (SELF, *NOT_HR),
        their_record(community_experience_years=25),
        case="their seniority",
    ),
    Rule("DELETE", "/v1/people/{person_id}", HR, (SELF, *NOT_HR), someone_in_rd),
    Rule("PUT", "/v1/people/{person_id}/skills/{skill}", (SELF, *HR), NOT_HR, a_skill_to_declare),
    Rule("DELETE", "/v1/people/{person_id}/skills/{skill}", (SELF, *HR), NOT_HR, a_declared_skill),
    Rule("POST", "/v1/people/{person_id}/roles", (CCO,), (SELF, SYSTEM, *NOT_HR), a_role_to_grant),
    Rule(
        "DELETE",
        "/v1/people/{person_id}/roles/{role}",
        (CCO,),
        (SELF, SYSTEM, *NOT_HR),
        a_granted_role,
    ),
]


# Communities: community managers (and the CCO) create communities; the CCO and a community's
# own managers run it; people join internal communities and leave any by themselves.

RUNS_IT = (CCO, MANAGER)
# The community manager holds the role but does not manage this community; the department
# lead leads its owner department; the member belongs to it.
DOES_NOT_RUN_IT = (
    ANONYMOUS,
    MEMBER,
    EMPLOYEE,
    COMMUNITY_MANAGER,
    CONVERSATION_MANAGER,
    DEPARTMENT_LEAD,
    SYSTEM,
)


COMMUNITIES = [
    Rule(
        "POST",
        "/v1/communities",
        (CCO, COMMUNITY_MANAGER),
        (ANONYMOUS, EMPLOYEE, CONVERSATION_MANAGER, DEPARTMENT_LEAD, SYSTEM),
        a_new_community,
    ),
    Rule(
        "PATCH",
        "/v1/communities/{community_id}",
        RUNS_IT,
        DOES_NOT_RUN_IT,
        the_community({"description": "Autre chose"}),
    ),
    Rule(
        "POST", "/v1/communities/{community_id}/archive", RUNS_IT, DOES_NOT_RUN_IT, the_community()
    ),
    Rule(
        "POST",
        "/v1/communities/{community_id}/managers",
        RUNS_IT,
        DOES_NOT_RUN_IT,
        appointing_the_member,
    ),
    Rule(
        "DELETE",
        "/v1/communities/{community_id}/managers/{person_id}",
        RUNS_IT,
        DOES_NOT_RUN_IT,
        removing_a_manager,
    ),
    Rule(
        "POST",
        "/v1/communities/{community_id}/members",
        (SELF, *RUNS_IT),
        DOES_NOT_RUN_IT,
        adding_a_newcomer("internal"),
        case="to an internal community",
    ),
    Rule(
        "POST",
        "/v1/communities/{community_id}/members",
        RUNS_IT,
        (SELF, *DOES_NOT_RUN_IT),
        adding_a_newcomer("external"),
        case="to an external community",
    ),
    Rule(
        "DELETE",
        "/v1/communities/{community_id}/members/{member_id}",
        (MEMBER, *RUNS_IT),
        (FELLOW, *(caller for caller in DOES_NOT_RUN_IT if caller != MEMBER)),
        removing_the_member,
    ),
]


# Listening: community managers curate (sources, routing, the FAQ); conversation managers and
# system connectors ingest; both kinds of manager moderate; anyone may ask the FAQ.

CURATORS = (CCO, COMMUNITY_MANAGER)
NOT_CURATORS = (ANONYMOUS, EMPLOYEE, CONVERSATION_MANAGER, DEPARTMENT_LEAD, SYSTEM)
INGESTERS = (CCO, CONVERSATION_MANAGER, SYSTEM)
NOT_INGESTERS = (ANONYMOUS, EMPLOYEE, COMMUNITY_MANAGER, DEPARTMENT_LEAD)
MODERATORS = (CCO, COMMUNITY_MANAGER, CONVERSATION_MANAGER)
NOT_MODERATORS = (ANONYMOUS, EMPLOYEE, DEPARTMENT_LEAD, SYSTEM)


LISTENING = [
    Rule("POST", "/v1/sources", CURATORS, NOT_CURATORS, a_new_source),
    Rule("POST", "/v1/sources/{source_id}/poll", CURATORS, NOT_CURATORS, a_feed),
    Rule("POST", "/v1/mentions", INGESTERS, NOT_INGESTERS, a_post_to_ingest),
    Rule("PATCH", "/v1/mentions/{mention_id}", MODERATORS, NOT_MODERATORS, a_mention),
    # The department lead leads rd, and still does not choose what is routed to it.
    Rule("PUT", "/v1/routing-rules/{department_id}", CURATORS, NOT_CURATORS, new_keywords),
    Rule("POST", "/v1/alerts/{alert_id}/ack", MODERATORS, NOT_MODERATORS, an_alert),
    Rule("POST", "/v1/faq", CURATORS, NOT_CURATORS, a_new_faq_entry),
    Rule("PATCH", "/v1/faq/{entry_id}", CURATORS, NOT_CURATORS, a_faq_entry),
    # Customers ask without an account.
    Rule("POST", "/v1/faq/ask", GLOBAL_CALLERS, (), a_customer_question),
    Rule("POST", "/v1/faq/asks/{ask_id}/feedback", GLOBAL_CALLERS, (), an_answered_ask),
    Rule.unserved("PATCH", "/v1/faq/ask"),
    Rule.unserved("PATCH", "/v1/faq/asks"),
]


# Collaboration: people of the directory write (a system client is no author, nor is someone
# who left); a question's author, a manager of its community or the CCO accepts an answer;
# nobody votes on their own answer; community managers, a manager of the idea's community or
# the CCO move an idea along.

PEOPLE_OF_THE_DIRECTORY = (
    CCO,
    COMMUNITY_MANAGER,
    CONVERSATION_MANAGER,
    DEPARTMENT_LEAD,
    EMPLOYEE,
)
NOT_PEOPLE = (ANONYMOUS, SYSTEM, LEFT)


COLLABORATION = [
    Rule("POST", "/v1/questions", PEOPLE_OF_THE_DIRECTORY, NOT_PEOPLE, a_question_to_ask),
    Rule(
        "POST",
        "/v1/questions/{question_id}/answers",
        (AUTHOR, *PEOPLE_OF_THE_DIRECTORY),
        NOT_PEOPLE,
        a_question,
    ),
    # The community manager holds the role, and manages another community than the question's.
    Rule(
        "POST",
        "/v1/answers/{answer_id}/accept",
        (AUTHOR, MANAGER, CCO),
        (
            ANSWERER,
            OTHER_MANAGER,
            ANONYMOUS,
            EMPLOYEE,
            COMMUNITY_MANAGER,
            CONVERSATION_MANAGER,
            DEPARTMENT_LEAD,
            SYSTEM,
        ),
        an_answer(),
    ),
    Rule(
        "POST",
        "/v1/answers/{answer_id}/votes",
        (AUTHOR, *PEOPLE_OF_THE_DIRECTORY),
        (ANSWERER, *NOT_PEOPLE),
        an_answer({"value": 1}),
    ),
    Rule("POST", "/v1/practices", PEOPLE_OF_THE_DIRECTORY, NOT_PEOPLE, a_practice_to_share),
    Rule(
        "POST",
        "/v1/practices/{practice_id}/adoptions",
        PEOPLE_OF_THE_DIRECTORY,
        NOT_PEOPLE,
        a_practice,
    ),
    Rule("POST", "/v1/ideas", PEOPLE_OF_THE_DIRECTORY, NOT_PEOPLE, an_idea_to_propose),
    Rule(
        "POST",
        "/v1/ideas/{idea_id}/votes",
        (AUTHOR, *PEOPLE_OF_THE_DIRECTORY),
        NOT_PEOPLE,
        an_idea(),
    ),
    # Holding the community manager role is enough here (README: "by community managers, a
    # manager of the idea's community, or the CCO"); managing another community is not.
    Rule(
        "POST",
        "/v1/ideas/{idea_id}/status",
        (CCO, COMMUNITY_MANAGER, MANAGER),
        (
            AUTHOR,
            OTHER_MANAGER,
            ANONYMOUS,
            EMPLOYEE,
            CONVERSATION_MANAGER,
            DEPARTMENT_LEAD,
            SYSTEM,
            LEFT,
        ),
        an_idea({"status": "reviewing"}),
    ),
]


# Strategy: the view is everyone's to read; only the CCO sets programs and rebuilds the view.

NOT_THE_CCO = (
    ANONYMOUS,
    EMPLOYEE,
    COMMUNITY_MANAGER,
    CONVERSATION_MANAGER,
    DEPARTMENT_LEAD,
    SYSTEM,
)


STRATEGY = [
    Rule("POST", "/v1/programs", (CCO,), NOT_THE_CCO, a_program),
    Rule("POST", "/v1/admin/rebuild", (CCO,), NOT_THE_CCO, a_rebuild),
]

TABLES = {
    "people": PEOPLE,
    "communities": COMMUNITIES,
    "listening": LISTENING,
    "collaboration": COLLABORATION,
    "strategy": STRATEGY,
}


# The route table itself


@pytest.mark.parametrize("service_name", TABLES)
async def test_every_write_route_of_every_service_is_in_a_table(service_name):
    app = offline_app(service_name)
    served = write_routes(app)
    documented = set(documented_operations(app.openapi()))
    tabled = {(rule.method, rule.path) for rule in TABLES[service_name]}

    # The walk of the routes must see at least what the OpenAPI document lists.
    assert documented, "the OpenAPI document lists no write operation"
    assert documented <= served, f"routes the walk missed: {sorted(documented - served)}"
    assert not served - tabled, f"write routes no row names: {sorted(served - tabled)}"
    assert not tabled - served, f"rows for routes that are not served: {sorted(tabled - served)}"


@pytest.mark.parametrize("service_name", TABLES)
async def test_each_row_says_for_every_role_whether_it_may(service_name):
    for rule in TABLES[service_name]:
        allowed, refused = set(rule.allowed), set(rule.refused)
        assert not allowed & refused, f"{rule.name}: both allowed and refused: {allowed & refused}"
        assert set(GLOBAL_CALLERS) <= allowed | refused, (
            f"{rule.name} says nothing of {set(GLOBAL_CALLERS) - allowed - refused}"
        )
        assert allowed or rule.refusal == 405, f"{rule.name}: nobody may"


# The rows, against the services


CASES = [
    pytest.param(name, rule, id=f"{name} {rule.name}")
    for name, rules in TABLES.items()
    for rule in rules
]


@pytest.mark.parametrize(("service", "rule"), CASES, indirect=["service"])
async def test_only_the_callers_a_row_allows_may_write(service: Service, rule: Rule):
    problems: list[str] = []

    for caller in rule.refused:
        call = await rule.make(service)
        before, shown = service.dump(), await show(service, call)
        response = await send(service, rule.method, rule.path, call, caller)
        expected = 401 if caller == ANONYMOUS and rule.refusal == 403 else rule.refusal
        if response.status_code != expected:
            problems.append(f"{caller}: {response.status_code}, not {expected}: {response.text}")
            continue
        if response.headers["content-type"] != "application/problem+json":
            problems.append(f"{caller}: answered as {response.headers['content-type']}")
        if expected == 401 and response.headers.get("www-authenticate") != "Bearer":
            problems.append(f"{caller}: a 401 without WWW-Authenticate: Bearer")
        if service.dump() != before:
            problems.append(f"{caller}: refused, yet the database changed")
        if await show(service, call) != shown:
            problems.append(f"{caller}: refused, yet {call.show} reads differently")

    for caller in rule.allowed:
        call = await rule.make(service)
        before = service.dump()
        response = await send(service, rule.method, rule.path, call, caller)
        if not response.is_success:
            problems.append(f"{caller}: {response.status_code}, not 2xx: {response.text}")
            continue
        if service.dump() == before:
            problems.append(f"{caller}: allowed, yet nothing changed")
        if call.settle is not None:
            await call.settle(service, response)

    assert not problems, f"{rule.name}:\n" + "\n".join(problems)


async def test_the_dump_sees_a_change_a_row_count_would_not(people_service: Service):
    """What proves a refusal changed nothing sees an update in place, not only new rows."""
    call = await someone_in_rd(people_service)
    before = people_service.dump()

    await people_service.call(
        "PATCH", f"/v1/people/{call.params['person_id']}", people_service.cco, json={"title": "X"}
    )

    after = people_service.dump()
    assert {name: len(rows) for name, rows in after.items() if name != "outbox"} == {
        name: len(rows) for name, rows in before.items() if name != "outbox"
    }
    assert after["person"] != before["person"]
