"""Settings of the gateway (environment prefix `GATEWAY_`)."""

from typing import ClassVar

from limits import parse_many
from pydantic import SecretStr, field_validator

from gateway.api_keys import ApiKeyHash
from shared.settings import PlatformSettings


class Settings(PlatformSettings, env_prefix="GATEWAY_"):
    service_name: ClassVar[str] = "gateway"

    people_url: str = "http://127.0.0.1:8001"
    communities_url: str = "http://127.0.0.1:8002"
    listening_url: str = "http://127.0.0.1:8003"
    collaboration_url: str = "http://127.0.0.1:8004"
    strategy_url: str = "http://127.0.0.1:8005"
    upstream_connect_seconds: float = 2.0
    upstream_timeout_seconds: float = 15.0
    upstream_max_connections: int = 200
    # Requests in flight to one service at once; more wait here, so a burst cannot swamp it.
    upstream_concurrency: int = 32
    dev_password: SecretStr = SecretStr("demo")
    token_lifetime_seconds: int = 8 * 3600

    # System clients: JSON list of {"client_id", "sha256"} (`python -m gateway.api_keys new ID`).
    api_keys: list[ApiKeyHash] = []
    internal_token_lifetime_seconds: int = 60

    # Rate limits in the `limits` notation ("20/minute", "5/second;100/minute").
    rate_limit_per_ip: str = "1200/minute"
    rate_limit_per_client: str = "600/minute"
    rate_limit_sign_in: str = "30/minute"
    rate_limit_faq_ask: str = "20/minute"
    # "memory://" counts in this process; "async+redis://host" shares counts between replicas.
    rate_limit_storage: str = "memory://"

    # Paths that take larger bodies than `max_body_bytes` (the HR import, batches of up to 1000
    # mentions), with their limits.
    body_limits: dict[str, int] = {
        "/api/people/v1/people/import": 2_097_152,
        "/api/listening/v1/mentions": 16_777_216,
    }

    # The dashboard's build (`npm run build` in gateway/web), relative to the working directory.
    web_dir: str = "gateway/web/dist"
    openapi_cache_seconds: float = 60.0

    @field_validator(
        "rate_limit_per_ip", "rate_limit_per_client", "rate_limit_sign_in", "rate_limit_faq_ask"
    )
    @classmethod
    def _parses(cls, value: str) -> str:
        parse_many(value)
        return value

    @property
    def routes(self) -> dict[str, str]:
        """Service name -> base URL: the only places a request can be sent to."""
        return {
            "people": self.people_url,
            "communities": self.communities_url,
            "listening": self.listening_url,
            "collaboration": self.collaboration_url,
            "strategy": self.strategy_url,
        }

    @property
    def builtin_issuer(self) -> bool:
        """The dev issuer answers only when no real identity provider is configured."""
        return self.oidc_jwks_url is None
