"""JWT verification and role checks as FastAPI dependencies (RFC 8725: pinned algorithms)."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import cachetools
import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.openapi import role_checked
from shared.settings import PlatformSettings

# Tokens verified lately, kept with their principal so that the next request with one is not
# checked again (each is still refused once it expires).
VERIFIED_TOKENS = 10_000
VERIFIED_TOKEN_SECONDS = 300


class Role(StrEnum):
    CCO = "cco"
    COMMUNITY_MANAGER = "community_manager"
    CONVERSATION_MANAGER = "conversation_manager"
    DEPARTMENT_LEAD = "department_lead"
    EMPLOYEE = "employee"
    SYSTEM = "system"


@dataclass(frozen=True)
class Principal:
    """Who calls: a person (subject is their id) or a system client."""

    subject: str
    roles: frozenset[str]
    department: str | None = None
    email: str | None = None

    def has_any(self, *roles: Role) -> bool:
        """The chief community officer may do everything."""
        return Role.CCO in self.roles or any(role in self.roles for role in roles)


class TokenVerifier:
    """Verifies the built-in issuer's HS256 tokens, or RS256 tokens of an OIDC provider.

    Either way it also accepts the gateway's short-lived HS256 tokens for system clients
    (issuer `jwt_internal_issuer`); the algorithm and key follow from the issuer, never from
    the token's header, so an HS256 token keyed with the provider's public key cannot pass.
    """

    def __init__(self, settings: PlatformSettings) -> None:
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.internal_issuer = settings.jwt_internal_issuer
        self._secret = settings.jwt_secret.get_secret_value()
        self._jwks: jwt.PyJWKClient | None = None
        if settings.oidc_jwks_url:
            self._jwks = jwt.PyJWKClient(
                settings.oidc_jwks_url,
                cache_keys=True,
                lifespan=300,
                cooldown_duration=settings.oidc_jwks_refetch_seconds,
                # As the gateway does: a provider that does not answer fails the request (401)
                # well before the gateway gives up on the service.
                timeout=5,
            )
            self.algorithms = ["RS256"]
        else:
            self.algorithms = ["HS256"]
        self._verified: cachetools.TTLCache[str, tuple[Principal, float]] = cachetools.TTLCache(
            maxsize=VERIFIED_TOKENS, ttl=VERIFIED_TOKEN_SECONDS
        )
        self._lock = threading.Lock()

    @property
    def may_fetch_keys(self) -> bool:
        """Whether `verify` may ask the OIDC provider for its keys (network I/O)."""
        return self._jwks is not None

    def verify(self, token: str) -> Principal:
        """The token's principal; a token already verified is not checked again until it
        expires (a client sends the same one with every request, and checking it costs more than
        the rest of a small request's handling)."""
        with self._lock:
            known = self._verified.get(token)
        if known is not None and time.time() < known[1]:
            return known[0]
        claims = self._checked_claims(token)
        principal = _principal(claims)
        with self._lock:
            self._verified[token] = (principal, float(claims["exp"]))
        return principal

    def _checked_claims(self, token: str) -> dict[str, Any]:
        if _claimed_issuer(token) == self.internal_issuer:
            return self._claims(
                token, self._secret, algorithms=["HS256"], issuer=self.internal_issuer
            )
        try:
            key: Any = (
                self._jwks.get_signing_key_from_jwt(token).key if self._jwks else self._secret
            )
        except jwt.PyJWTError as error:
            raise _unauthorized(f"Invalid token: {error}") from error
        return self._claims(token, key)

    def verify_with_key(
        self,
        token: str,
        key: Any,
        *,
        algorithms: list[str] | None = None,
        issuer: str | None = None,
    ) -> Principal:
        """Checks the signature with `key`, then the claims (for callers that find keys)."""
        return _principal(self._claims(token, key, algorithms=algorithms, issuer=issuer))

    def _claims(
        self,
        token: str,
        key: Any,
        *,
        algorithms: list[str] | None = None,
        issuer: str | None = None,
    ) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms or self.algorithms,
                audience=self.audience,
                issuer=issuer or self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
                leeway=30,
            )
        except jwt.PyJWTError as error:
            raise _unauthorized(f"Invalid token: {error}") from error
        return claims


def _principal(claims: dict[str, Any]) -> Principal:
    realm_access = claims.get("realm_access")
    roles = (
        claims.get("roles")
        or (realm_access.get("roles") if isinstance(realm_access, dict) else None)
        or []
    )
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise _unauthorized("Invalid token: roles must be a list of strings")
    return Principal(
        subject=str(claims["sub"]),
        roles=frozenset(roles),
        department=claims.get("department"),
        email=claims.get("email"),
    )


def _claimed_issuer(token: str) -> object:
    """The `iss` a token claims, before any check: it only picks which key must verify it."""
    try:
        return jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        return None


def issue_token(
    settings: PlatformSettings,
    *,
    subject: str,
    roles: list[str],
    email: str | None = None,
    department: str | None = None,
    lifetime: timedelta = timedelta(hours=8),
) -> str:
    """A token of the built-in issuer (HS256, signed with the platform's secret)."""
    now = datetime.now(UTC)
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": subject,
        "iat": now,
        "exp": now + lifetime,
        "roles": roles,
        "email": email,
        "department": department,
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(
    auto_error=False, description="A JWT of the built-in issuer or of the OIDC provider."
)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise _unauthorized("A bearer token is required.")
    verifier: TokenVerifier = request.app.state.token_verifier
    if verifier.may_fetch_keys:  # from the OIDC provider: not in the event loop
        return await run_in_threadpool(verifier.verify, credentials.credentials)
    return verifier.verify(credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets through the given roles (and the CCO), and refuses others with 403."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(*roles):
            names = ", ".join(sorted({*roles, Role.CCO}))
            raise HTTPException(403, f"This needs one of the roles: {names}.")
        return principal

    return role_checked(check)
