"""Settings of the gateway (environment prefix `GATEWAY_`)."""

from typing import ClassVar

from pydantic import SecretStr

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
    dev_password: SecretStr = SecretStr("demo")
    token_lifetime_seconds: int = 8 * 3600

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
