"""The gateway's edge: credentials, roles, impersonation, rate limits, body sizes, path tricks."""

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from gateway.api_keys import new_key
from gateway.main import create_app as create_gateway
from shared.auth import issue_token
from tests.integration.gateway.conftest import gateway_settings, wait_until_seeded
from tests.support.apps import bearer, running

pytestmark = pytest.mark.integration

PEOPLE = "/api/people/v1/people"


def claims(settings, **overrides):
    now = datetime.now(UTC)
    return {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": "00000000-0000-0000-0000-000000000001",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "roles": ["cco"],
    } | overrides


def signed(settings, **overrides) -> str:
    return jwt.encode(
        claims(settings, **overrides), settings.jwt_secret.get_secret_value(), algorithm="HS256"
    )


def tampered(settings) -> str:
    header, payload, signature = issue_token(settings, subject="p1", roles=["employee"]).split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged["roles"] = ["cco"]
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    return f"{header}.{forged_payload}.{signature}"


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


async def test_no_credentials_is_401_from_the_gateway_itself(gateway):
    response = await gateway.client.get(PEOPLE)

    body = assert_problem(response, 401)
    assert "token" in body["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(
            lambda s: signed(s, exp=datetime.now(UTC) - timedelta(minutes=5)), id="expired"
        ),
        pytest.param(tampered, id="tampered"),
        pytest.param(lambda s: jwt.encode(claims(s), None, algorithm="none"), id="alg-none"),
        pytest.param(lambda s: signed(s, aud="another-platform"), id="wrong-audience"),
        pytest.param(lambda s: signed(s, iss="someone-else"), id="wrong-issuer"),
        pytest.param(
            lambda s: jwt.encode(claims(s), "another-secret-of-32-bytes-or-more!", "HS256"),
            id="another-secret",
        ),
        # The gateway's own tokens for system clients are for the services, never from callers.
        pytest.param(lambda s: signed(s, iss=s.jwt_internal_issuer), id="internal-issuer"),
        pytest.param(lambda s: "not-a-jwt", id="garbage"),
    ],
)
async def test_bad_tokens_are_401(gateway, make_token):
    headers = {"Authorization": f"Bearer {make_token(gateway.settings)}"}

    reading = await gateway.client.get(PEOPLE, headers=headers)
    writing = await gateway.client.post(
        "/api/people/v1/departments", json={"id": "legal", "name": "Juridique"}, headers=headers
    )

    assert_problem(reading, 401)
    assert_problem(writing, 401)
    listed = await gateway.client.get("/api/people/v1/departments", headers=await gateway.sign_in())
    assert "legal" not in {d["id"] for d in listed.json()["items"]}


async def test_other_schemes_than_bearer_are_401(gateway):
    response = await gateway.client.get(PEOPLE, headers={"Authorization": "Basic Y2NvOmRlbW8="})

    assert_problem(response, 401)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/people/v1/departments", {"id": "legal", "name": "Juridique"}),
        ("POST", PEOPLE, {"name": "Zoé Perrin", "email": "zoe@example.com", "department_id": "rd"}),
        ("POST", f"{PEOPLE}/{{someone}}/roles", {"role": "cco"}),
        ("DELETE", f"{PEOPLE}/{{someone}}", None),
    ],
)
async def test_an_employee_may_not_use_admin_routes(gateway, method, path, body):
    employee = await gateway.sign_in("mehdi.lambert@example.com")
    someone = await gateway.person_id("thomas.moreau@example.com")

    response = await gateway.client.request(
        method, path.format(someone=someone), json=body, headers=employee
    )

    assert_problem(response, 403)
    thomas = await gateway.client.get(f"{PEOPLE}/{someone}", headers=employee)
    assert thomas.json()["active"] is True
    assert {r["role"] for r in thomas.json()["roles"]} == {
        "community_manager",
        "conversation_manager",
    }


async def test_one_person_cannot_act_as_another(gateway):
    mehdi = await gateway.sign_in("mehdi.lambert@example.com")
    thomas_id = await gateway.person_id("thomas.moreau@example.com")
    mehdi_id = await gateway.person_id("mehdi.lambert@example.com")

    renamed = await gateway.client.patch(
        f"{PEOPLE}/{thomas_id}", json={"title": "Stagiaire"}, headers=mehdi
    )
    skilled = await gateway.client.put(
        f"{PEOPLE}/{thomas_id}/skills/cobol", json={"level": 1}, headers=mehdi
    )
    # A token for Thomas that Mehdi forged without the platform's key.
    forged = jwt.encode(
        claims(gateway.settings, sub=thomas_id, roles=["employee"]), "guessed-secret", "HS256"
    )
    as_thomas = await gateway.client.patch(
        f"{PEOPLE}/{thomas_id}",
        json={"title": "Stagiaire"},
        headers={"Authorization": f"Bearer {forged}"},
    )
    own = await gateway.client.put(
        f"{PEOPLE}/{mehdi_id}/skills/kotlin", json={"level": 3}, headers=mehdi
    )

    assert_problem(renamed, 403)
    assert_problem(skilled, 403)
    assert_problem(as_thomas, 401)
    assert own.status_code == 200
    thomas = (await gateway.client.get(f"{PEOPLE}/{thomas_id}", headers=mehdi)).json()
    assert thomas["title"] != "Stagiaire"
    assert "cobol" not in {s["skill"] for s in thomas["skills"]}


async def test_a_token_and_an_api_key_together_are_refused(gateway):
    headers = {**await gateway.sign_in(), "X-API-Key": "agora_whatever"}

    response = await gateway.client.get(PEOPLE, headers=headers)

    assert_problem(response, 400)


@pytest.fixture
async def with_api_key(seeded_people, people_url):
    key, entry = new_key("hr-sync")
    settings = gateway_settings({"people": people_url}, api_keys=[entry])
    async with running(create_gateway(settings)) as client:
        await wait_until_seeded(client)
        yield client, key


async def test_a_good_api_key_acts_as_its_system_client(with_api_key):
    client, key = with_api_key

    imported = await client.post(
        f"{PEOPLE}/import",
        content="name,email,department_id,title,community_experience_years,skills\n"
        "Zoé Perrin,zoe.perrin@example.com,rd,Ingénieure,2,python:4\n",
        headers={"X-API-Key": key, "Content-Type": "text/csv"},
    )
    listed = await client.get(
        PEOPLE, params={"email": "zoe.perrin@example.com"}, headers={"X-API-Key": key}
    )
    admin_only = await client.post(
        "/api/people/v1/departments",
        json={"id": "legal", "name": "Juridique"},
        headers={"X-API-Key": key},
    )

    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 1
    assert listed.json()["items"][0]["name"] == "Zoé Perrin"
    assert_problem(admin_only, 403)  # a system client is not the CCO


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("agora_" + "x" * 43, id="unknown"),
        pytest.param("not even the format", id="bad"),
    ],
)
async def test_bad_and_unknown_api_keys_are_401(with_api_key, key):
    client, good = with_api_key

    response = await client.get(PEOPLE, headers={"X-API-Key": key})
    nearly = await client.get(PEOPLE, headers={"X-API-Key": good[:-1]})

    assert_problem(response, 401)
    assert_problem(nearly, 401)


async def test_a_caller_over_their_limit_gets_429_with_retry_after(seeded_people, people_url):
    settings = gateway_settings({"people": people_url}, rate_limit_per_client="3/minute")
    cco = bearer(settings, "cco", subject="00000000-0000-0000-0000-0000000000c0")
    other = bearer(settings, "employee", subject="00000000-0000-0000-0000-0000000000e1")
    async with running(create_gateway(settings)) as client:
        allowed = [(await client.get(PEOPLE, headers=cco)).status_code for _ in range(3)]
        refused = await client.post(
            "/api/people/v1/departments", json={"id": "legal", "name": "Juridique"}, headers=cco
        )
        someone_else = await client.get("/api/people/v1/departments", headers=other)

    assert allowed == [200, 200, 200]
    assert_problem(refused, 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert someone_else.status_code == 200
    assert "legal" not in {d["id"] for d in someone_else.json()["items"]}


async def test_an_ip_over_its_limit_gets_429_whoever_signs(seeded_people, people_url):
    settings = gateway_settings({"people": people_url}, rate_limit_per_ip="4/minute")
    async with running(create_gateway(settings)) as client:
        statuses = [
            (await client.get(PEOPLE, headers=bearer(settings, "cco", subject=f"p{n}"))).status_code
            for n in range(5)
        ]
        anonymous = await client.get("/api/people/healthz")

    assert statuses == [200, 200, 200, 200, 429]
    assert_problem(anonymous, 429)
    assert int(anonymous.headers["retry-after"]) >= 1


async def test_the_public_faq_and_sign_in_are_strictly_limited(seeded_people, people_url):
    settings = gateway_settings(
        {"people": people_url}, rate_limit_faq_ask="2/minute", rate_limit_sign_in="2/minute"
    )
    async with running(create_gateway(settings)) as client:
        asks = [
            await client.post("/api/listening/v1/faq/ask", json={"question": "Garantie ?"}),
            await client.post("/api/listening/v1/faq/asks/a1/feedback", json={"helpful": True}),
            await client.post("/api/listening/v1/faq/ask", json={"question": "Garantie ?"}),
        ]
        sign_ins = [
            await client.post("/auth/token", json={"email": "cco@example.com", "password": "x"})
            for _ in range(3)
        ]

    # Public, so past the gateway without a token (the listening service is not running here).
    assert [a.status_code for a in asks[:2]] == [502, 502]
    assert_problem(asks[2], 429)
    assert int(asks[2].headers["retry-after"]) >= 1
    assert_problem(sign_ins[-1], 429)


async def test_an_oversized_body_is_413_and_changes_nothing(gateway):
    headers = await gateway.sign_in()
    too_big = {"id": "legal", "name": "x" * (gateway.settings.max_body_bytes + 1)}

    declared = await gateway.client.post(
        "/api/people/v1/departments", json=too_big, headers=headers
    )

    async def chunks():
        yield b'{"id": "legal", "name": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    streamed = await gateway.client.post(
        "/api/people/v1/departments",
        content=chunks(),
        headers={**headers, "Content-Type": "application/json"},
    )

    assert_problem(declared, 413)
    assert_problem(streamed, 413)
    listed = await gateway.client.get("/api/people/v1/departments", headers=headers)
    assert "legal" not in {d["id"] for d in listed.json()["items"]}


async def test_the_hr_import_may_send_a_larger_file(gateway):
    headers = {**await gateway.sign_in(), "Content-Type": "text/csv"}
    # Larger than the default limit, and not UTF-8: the people service itself says so.
    export = b"name,email,department_id\n" + b"\xff" * 1_200_000

    response = await gateway.client.post(f"{PEOPLE}/import", content=export, headers=headers)
    elsewhere = await gateway.client.post(
        "/api/people/v1/departments", content=export, headers=headers
    )

    assert "UTF-8" in assert_problem(response, 422)["detail"]
    assert_problem(elsewhere, 413)


@pytest.mark.parametrize(
    "path",
    [
        "/api/people/..%2f..%2fmetrics",
        "/api/people/%2e%2e/strategy/v1/overview",
        "/api/people/v1/people/%2e%2e%2f%2e%2e%2fmetrics",
        "/api/people/v1/people%5c..%5cmetrics",
        "/api/people/http:%2f%2fevil.example/v1",
        "/api/people/%2fevil.example/v1",
        "/api/People/v1/people",
        "/api/people",
        "/api",
    ],
)
async def test_more_path_tricks_never_leave_the_route_table(gateway, path):
    response = await gateway.client.get(path, headers=await gateway.sign_in())

    assert response.status_code in (400, 404)
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_host_header_does_not_choose_the_upstream(gateway):
    headers = {**await gateway.sign_in(), "Host": "evil.example"}

    response = await gateway.client.get("/api/people/v1/departments", headers=headers)

    assert response.status_code == 200
    assert "rd" in {d["id"] for d in response.json()["items"]}
