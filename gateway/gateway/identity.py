"""The built-in token issuer of local runs: the people service's active people, one dev password."""

import hmac
from datetime import timedelta

import httpx
from pydantic import BaseModel, EmailStr, Field

from gateway.settings import Settings
from shared.auth import Role, issue_token
from shared.errors import NotFound, Problem


class Credentials(BaseModel):
    email: EmailStr
    password: str = Field(max_length=200)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class InvalidCredentials(Problem):
    status, slug, title = 401, "invalid-credentials", "Invalid credentials"


async def issue(
    credentials: Credentials, settings: Settings, client: httpx.AsyncClient
) -> TokenResponse:
    if not settings.builtin_issuer:
        raise NotFound("The built-in issuer is off: sign in with the identity provider.")
    password_ok = hmac.compare_digest(
        credentials.password.encode(), settings.dev_password.get_secret_value().encode()
    )
    person = await _active_person(credentials.email.lower(), settings, client)
    if person is None or not password_ok:
        raise InvalidCredentials("Unknown email or wrong password.")
    roles = sorted({grant["role"] for grant in person["roles"]} | {Role.EMPLOYEE.value})
    lifetime = settings.token_lifetime_seconds
    token = issue_token(
        settings,
        subject=person["id"],
        roles=roles,
        email=person["email"],
        department=person["department_id"],
        lifetime=timedelta(seconds=lifetime),
    )
    return TokenResponse(access_token=token, expires_in=lifetime)


async def _active_person(email: str, settings: Settings, client: httpx.AsyncClient) -> dict | None:
    # The gateway asks as a system client, with a short-lived token of its own.
    service_token = issue_token(
        settings, subject="gateway", roles=[Role.SYSTEM.value], lifetime=timedelta(minutes=1)
    )
    response = await client.get(
        f"{settings.people_url}/v1/people",
        params={"email": email, "limit": 1},
        headers={"Authorization": f"Bearer {service_token}"},
    )
    response.raise_for_status()
    items = response.json()["items"]
    return items[0] if items else None
