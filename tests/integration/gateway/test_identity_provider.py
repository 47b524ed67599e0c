"""RS256 tokens of a Keycloak-style identity provider, at the gateway and again at the service."""

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from gateway.api_keys import new_key
from gateway.main import create_app as create_gateway
from people.main import create_app as create_people
from people.settings import Settings as PeopleSettings
from tests.integration.gateway.conftest import gateway_settings
from tests.support.apps import eventually, running, service_settings, serving

pytestmark = pytest.mark.integration

ISSUER = "https://idp.example/realms/agora"
PEOPLE = "/api/people/v1/people"


class IdentityProvider:
    """Serves a JWKS over HTTP as Keycloak does, counts its fetches, and rotates keys."""

    def __init__(self) -> None:
        self.keys = {"k1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
        self.fetches = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                provider.fetches += 1
                body = json.dumps({"keys": provider.public_keys()}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/protocol/openid-connect/certs"

    def public_keys(self) -> list[dict]:
        keys = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            keys.append(jwk | {"kid": kid, "use": "sig", "alg": "RS256"})
        # Keycloak also lists an encryption key: never one to verify signatures with.
        encryption = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(encryption.public_key()))
        return [*keys, jwk | {"kid": "enc", "use": "enc", "alg": "RSA-OAEP"}]

    def rotate(self, kid: str) -> None:
        self.keys = {kid: rsa.generate_private_key(public_exponent=65537, key_size=2048)}

    def token(self, kid: str = "k1", **overrides) -> str:
        now = datetime.now(UTC)
        claims = {
            "iss": ISSUER,
            "aud": "agora",
            "sub": "00000000-0000-0000-0000-0000000000a1",
            "exp": now + timedelta(minutes=5),
            "iat": now,
            "email": "cco@example.com",
            "realm_access": {"roles": ["cco", "offline_access"]},
        } | overrides
        return jwt.encode(claims, self.keys[kid], algorithm="RS256", headers={"kid": kid})

    def public_pem(self, kid: str) -> bytes:
        return (
            self.keys[kid]
            .public_key()
            .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        )


@pytest.fixture
def provider() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    thread = threading.Thread(target=provider.server.serve_forever, daemon=True)
    thread.start()
    yield provider
    provider.server.shutdown()


def oidc(provider: IdentityProvider, refetch_seconds: float = 0) -> dict:
    return {
        "oidc_jwks_url": provider.url,
        "jwt_issuer": ISSUER,
        "jwt_audience": "agora",
        "oidc_jwks_refetch_seconds": refetch_seconds,
    }


@pytest.fixture
async def platform(provider, databases, shared_broker):
    """The people service and the gateway, both verifying the provider's tokens."""
    people = create_people(
        service_settings(PeopleSettings, databases, shared_broker, seed_demo=True, **oidc(provider))
    )
    key, entry = new_key("hr-sync")
    async with serving(people) as people_url:
        settings = gateway_settings({"people": people_url}, api_keys=[entry], **oidc(provider))
        async with running(create_gateway(settings)) as client:

            async def seeded() -> None:
                response = await client.get(
                    PEOPLE,
                    params={"email": "cco@example.com"},
                    headers={"Authorization": f"Bearer {provider.token()}"},
                )
                assert response.status_code == 200, response.text
                assert response.json()["items"]

            await eventually(seeded)
            yield client, key


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_provider_token_passes_the_gateway_and_the_service(platform, provider):
    client, _ = platform

    response = await client.get("/api/people/v1/departments", headers=bearer(provider.token()))
    created = await client.post(
        "/api/people/v1/departments",
        json={"id": "legal", "name": "Juridique"},
        headers=bearer(provider.token()),
    )

    assert response.status_code == 200
    assert created.status_code == 201  # the realm role `cco`, read by the service too


async def test_the_built_in_issuer_is_off(platform):
    client, _ = platform

    response = await client.post(
        "/auth/token", json={"email": "cco@example.com", "password": "demo"}
    )

    assert response.status_code == 404


async def test_a_rotated_key_is_fetched_once_and_then_accepted(platform, provider):
    client, _ = platform
    before = provider.fetches
    provider.rotate("k2")

    first = await client.get(PEOPLE, headers=bearer(provider.token("k2")))
    fetches_after_first = provider.fetches
    second = await client.get(PEOPLE, headers=bearer(provider.token("k2")))

    assert first.status_code == 200, first.text
    assert second.status_code == 200
    # Once at the gateway and once at the people service, then from their caches.
    assert fetches_after_first - before == 2
    assert provider.fetches == fetches_after_first


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda p: p.token(exp=datetime.now(UTC) - timedelta(minutes=5)), id="expired"),
        pytest.param(lambda p: p.token(aud="another-client"), id="wrong-audience"),
        pytest.param(lambda p: p.token(iss="https://evil.example/realms/agora"), id="wrong-issuer"),
        pytest.param(lambda p: p.token()[:-4] + "AAAA", id="tampered"),
        pytest.param(
            lambda p: jwt.encode({"iss": ISSUER, "aud": "agora", "sub": "x"}, None, "none"),
            id="alg-none",
        ),
        pytest.param(lambda p: hs256(p.public_pem("k1"), kid="k1"), id="hs-rs-confusion"),
        pytest.param(
            lambda p: jwt.encode(
                {"iss": ISSUER, "aud": "agora", "sub": "x", "exp": 4102444800},
                rsa.generate_private_key(public_exponent=65537, key_size=2048),
                algorithm="RS256",
                headers={"kid": "k1"},
            ),
            id="another-key-same-kid",
        ),
    ],
)
async def test_bad_provider_tokens_are_401(platform, provider, make_token):
    client, _ = platform

    response = await client.get(PEOPLE, headers=bearer(make_token(provider)))

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def hs256(secret: bytes, kid: str) -> str:
    """An HMAC token keyed with the provider's public key (RFC 8725 section 2.1)."""

    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    claims = {"iss": ISSUER, "aud": "agora", "sub": "x", "exp": 4102444800, "roles": ["cco"]}
    signing_input = (
        part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
        + b"."
        + part(json.dumps(claims).encode())
    )
    signature = part(hmac.new(secret, signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature).decode()


async def test_made_up_key_ids_do_not_flood_the_provider(provider, databases, shared_broker):
    settings = gateway_settings(**oidc(provider, refetch_seconds=60))
    async with running(create_gateway(settings)) as client:
        for n in range(10):
            token = provider.token()
            forged_kid = jwt.encode(
                jwt.decode(token, options={"verify_signature": False}),
                provider.keys["k1"],
                algorithm="RS256",
                headers={"kid": f"made-up-{n}"},
            )
            response = await client.get(PEOPLE, headers=bearer(forged_kid))
            assert response.status_code == 401

    assert provider.fetches == 1


async def test_an_api_key_works_with_a_provider_too(platform):
    client, key = platform

    response = await client.post(
        f"{PEOPLE}/import",
        content="name,email,department_id\nZoé Perrin,zoe.perrin@example.com,rd\n",
        headers={"X-API-Key": key, "Content-Type": "text/csv"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
