"""Who is calling, checked at the edge: a bearer token or a system client's API key.

The services check the token again (no trust in the network); the gateway checks it first so
that a bad token costs nothing downstream and rate limits count per verified caller.
"""

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from fastapi import HTTPException
from starlette.datastructures import Headers

from gateway.api_keys import ApiKeys
from gateway.settings import Settings
from shared.auth import Principal, Role, TokenVerifier
from shared.errors import Problem

log = logging.getLogger(__name__)


class AmbiguousCredentials(Problem):
    status, slug, title = 400, "ambiguous-credentials", "Ambiguous credentials"


class IdentityProviderUnavailable(Problem):
    status, slug, title = 503, "identity-provider-unavailable", "Identity provider unavailable"


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True)
class Caller:
    principal: Principal
    # What the services get in `Authorization`: the caller's own token, or one minted for a key.
    authorization: str


class IdentityProviderKeys:
    """The identity provider's signing keys (its JWKS), fetched without blocking, and cached.

    A key id it does not know makes it fetch the set again once (the provider rotated its keys),
    and not more often than every `refetch_seconds`, so made-up key ids cannot flood the provider.
    """

    def __init__(
        self, url: str, client: httpx.AsyncClient, *, refetch_seconds: float, lifespan: float = 300
    ) -> None:
        self.url = url
        self.client = client
        self.refetch_seconds = refetch_seconds
        self.lifespan = lifespan
        self.fetches = 0
        self._keys: dict[str, Any] = {}
        self._attempted_at = -math.inf
        self._lock = asyncio.Lock()

    async def signing_key(self, token: str) -> Any:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as error:
            raise unauthorized(f"Invalid token: {error}") from error
        if time.monotonic() - self._attempted_at > self.lifespan:
            await self._fetch(unless_newer_than=self.lifespan)
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None and isinstance(kid, str):
            await self._fetch(unless_newer_than=self.refetch_seconds)
            key = self._keys.get(kid)
        if not self._keys:
            raise IdentityProviderUnavailable("The identity provider's keys cannot be fetched.")
        if key is None:
            raise unauthorized("Invalid token: no signing key of the identity provider matches it.")
        return key

    async def _fetch(self, *, unless_newer_than: float) -> None:
        async with self._lock:
            # Requests that waited for the lock find the set another request just fetched.
            if time.monotonic() - self._attempted_at < unless_newer_than:
                return
            self._attempted_at = time.monotonic()
            self.fetches += 1
            try:
                response = await self.client.get(self.url, timeout=5.0)
                response.raise_for_status()
                body = response.json()
                if not isinstance(body, dict):
                    raise ValueError("the JWKS is not a JSON object")
                key_set = jwt.PyJWKSet.from_dict(body)
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as error:
                # The keys fetched before stay in use while the provider is away.
                log.warning("identity provider keys not fetched", extra={"error": str(error)})
                return
            self._keys = {
                key.key_id: key.key
                for key in key_set.keys
                if key.key_id and key.public_key_use in ("sig", None)
            }


class Authenticator:
    """Turns a request's credentials into a caller, or refuses them with 401."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.verifier = TokenVerifier(settings)
        self.keys = (
            IdentityProviderKeys(
                settings.oidc_jwks_url,
                client,
                refetch_seconds=settings.oidc_jwks_refetch_seconds,
            )
            if settings.oidc_jwks_url
            else None
        )
        self.api_keys = ApiKeys(settings.api_keys)
        self._minted: dict[str, tuple[float, str]] = {}

    async def authenticate(self, headers: Headers) -> Caller | None:
        """The caller, or None when the request carries no credentials at all."""
        authorization = headers.get("authorization")
        api_key = headers.get("x-api-key")
        if authorization is not None and api_key is not None:
            raise AmbiguousCredentials("Send either a bearer token or an API key, not both.")
        if api_key is not None:
            client_id = self.api_keys.client(api_key)
            if client_id is None:
                raise unauthorized("Unknown API key.")
            principal = Principal(client_id, frozenset({Role.SYSTEM.value}))
            return Caller(principal, f"Bearer {self._internal_token(client_id)}")
        if authorization is None:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("Send the token as `Authorization: Bearer <token>`.")
        token = token.strip()
        if self.keys is not None:
            principal = self.verifier.verify_with_key(token, await self.keys.signing_key(token))
        else:
            secret = self.settings.jwt_secret.get_secret_value()
            principal = self.verifier.verify_with_key(token, secret)
        return Caller(principal, authorization)

    def _internal_token(self, client_id: str) -> str:
        """A short-lived token for a system client, so that the services still verify a token."""
        lifetime = self.settings.internal_token_lifetime_seconds
        now = time.time()
        minted = self._minted.get(client_id)
        if minted is not None and minted[0] - now > lifetime / 2:
            return minted[1]
        expires = now + lifetime
        token = jwt.encode(
            {
                "iss": self.settings.jwt_internal_issuer,
                "aud": self.settings.jwt_audience,
                "sub": client_id,
                "iat": int(now),
                "exp": int(expires),
                "roles": [Role.SYSTEM.value],
            },
            self.settings.jwt_secret.get_secret_value(),
            algorithm="HS256",
        )
        self._minted[client_id] = (expires, token)
        return token
