"""Token verification (RFC 8725) and role checks."""

import asyncio
import base64
import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import HTTPException

from shared.auth import Principal, Role, TokenVerifier, issue_token, require_roles
from shared.settings import PlatformSettings


class SampleSettings(PlatformSettings, env_prefix="SAMPLE_"):
    service_name: ClassVar[str] = "sample"


@pytest.fixture
def settings() -> SampleSettings:
    return SampleSettings(jwt_secret="test-secret-of-at-least-thirty-two-bytes")


def claims(**overrides):
    now = datetime.now(UTC)
    return {
        "iss": "agora",
        "aud": "agora",
        "sub": "p1",
        "exp": now + timedelta(minutes=5),
        "roles": ["employee"],
    } | overrides


def test_a_token_of_the_built_in_issuer_is_verified(settings):
    token = issue_token(
        settings, subject="p1", roles=["cco"], email="cco@example.com", department="direction"
    )

    principal = TokenVerifier(settings).verify(token)

    assert principal == Principal("p1", frozenset({"cco"}), "direction", "cco@example.com")


@pytest.mark.parametrize(
    "token_claims",
    [
        claims(exp=datetime.now(UTC) - timedelta(minutes=5)),
        claims(aud="someone-else"),
        claims(iss="someone-else"),
        {k: v for k, v in claims().items() if k != "exp"},
        {k: v for k, v in claims().items() if k != "sub"},
        claims(roles="cco"),
    ],
)
def test_bad_claims_are_401(settings, token_claims):
    token = jwt.encode(token_claims, "test-secret-of-at-least-thirty-two-bytes", algorithm="HS256")

    with pytest.raises(HTTPException) as refused:
        TokenVerifier(settings).verify(token)
    assert refused.value.status_code == 401


def test_a_tampered_token_is_401(settings):
    header, payload, signature = issue_token(settings, subject="p1", roles=["employee"]).split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged["roles"] = ["cco"]
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")

    with pytest.raises(HTTPException):
        TokenVerifier(settings).verify(f"{header}.{forged_payload}.{signature}")


def test_alg_none_and_other_secrets_are_401(settings):
    unsigned = jwt.encode(claims(), None, algorithm="none")
    other_secret = jwt.encode(
        claims(), "another-secret-of-at-least-thirty-two-bytes", algorithm="HS256"
    )

    for token in (unsigned, other_secret):
        with pytest.raises(HTTPException):
            TokenVerifier(settings).verify(token)


@pytest.fixture
def identity_provider():
    """A JWKS endpoint on a local HTTP server, as Keycloak serves it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [jwk | {"kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield key, f"http://127.0.0.1:{server.server_port}/certs"
    server.shutdown()


def test_rs256_tokens_of_an_identity_provider_are_verified_and_hs256_refused(identity_provider):
    key, jwks_url = identity_provider
    settings = SampleSettings(
        oidc_jwks_url=jwks_url, jwt_issuer="https://idp", jwt_audience="agora"
    )
    good = jwt.encode(claims(iss="https://idp"), key, algorithm="RS256", headers={"kid": "k1"})
    # HS/RS confusion: an HMAC token keyed with the public key must not pass.
    public_pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    confused = hs256_token(claims(iss="https://idp"), public_pem, kid="k1")

    verifier = TokenVerifier(settings)

    assert verifier.verify(good).subject == "p1"
    with pytest.raises(HTTPException):
        verifier.verify(confused)


def hs256_token(payload: dict, secret: bytes, kid: str) -> str:
    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = (
        part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
        + b"."
        + part(json.dumps(payload, default=lambda d: int(d.timestamp())).encode())
    )
    signature = part(hmac.new(secret, signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature).decode()


def test_roles_are_checked_and_the_cco_may_do_everything():
    check = require_roles(Role.SYSTEM)

    assert asyncio.run(check(Principal("s", frozenset({"system"})))).subject == "s"
    assert asyncio.run(check(Principal("c", frozenset({"cco"})))).subject == "c"
    with pytest.raises(HTTPException) as refused:
        asyncio.run(check(Principal("e", frozenset({"employee"}))))
    assert refused.value.status_code == 403


def test_a_verified_token_is_checked_again_only_once_it_expires(settings, monkeypatch):
    checked = []
    check = TokenVerifier._claims

    def counted(self, token, *args, **kwargs):
        checked.append(token)
        return check(self, token, *args, **kwargs)

    monkeypatch.setattr(TokenVerifier, "_claims", counted)
    verifier = TokenVerifier(settings)
    token = issue_token(settings, subject="p1", roles=["cco"], lifetime=timedelta(minutes=5))
    other = issue_token(settings, subject="p2", roles=["employee"])

    assert [verifier.verify(token).subject for _ in range(3)] == ["p1"] * 3
    assert verifier.verify(other).subject == "p2"
    assert checked == [token, other]

    expiry = jwt.decode(token, options={"verify_signature": False})["exp"]
    monkeypatch.setattr("shared.auth.time.time", lambda: expiry + 1)
    verifier.verify(token)
    assert checked == [token, other, token]


def test_a_refused_token_is_refused_each_time(settings):
    verifier = TokenVerifier(settings)
    forged = jwt.encode(claims(roles=["cco"]), "another-secret-of-at-least-32-bytes!", "HS256")

    for _ in range(2):
        with pytest.raises(HTTPException) as refused:
            verifier.verify(forged)
        assert refused.value.status_code == 401
