"""Settings read from the environment, with one prefix per service; nothing is read at import."""

from typing import ClassVar, Literal

from pydantic import PositiveInt, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEV_JWT_SECRET = "agora-development-secret-change-me"


class PlatformSettings(BaseSettings):
    """What every process of the platform reads (the services and the gateway).

    A field is read from `<PREFIX>_<NAME>` first, then from `<NAME>`: one environment can
    configure several processes side by side (`make run`), while a container sets plain names.
    A process declares `class Settings(ServiceSettings, env_prefix="PEOPLE_")`.
    """

    model_config = SettingsConfigDict(extra="ignore")

    service_name: ClassVar[str]

    environment: Literal["development", "production"] = "development"
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_issuer: str = "agora"
    jwt_audience: str = "agora"
    oidc_jwks_url: str | None = None
    # An unknown key id refetches the provider's keys (a rotation), at most this often.
    oidc_jwks_refetch_seconds: float = 5.0
    # The gateway's short-lived tokens for system clients (API keys), signed with JWT_SECRET.
    jwt_internal_issuer: str = "agora-gateway"
    max_body_bytes: int = 1_048_576
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> "PlatformSettings":
        if (
            self.environment == "production"
            and self.jwt_secret.get_secret_value() == DEV_JWT_SECRET
        ):
            raise ValueError("JWT_SECRET must be set to a real secret in production")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        unprefixed = EnvSettingsSource(settings_cls, env_prefix="")
        return init_settings, env_settings, unprefixed, file_secret_settings


class ServiceSettings(PlatformSettings):
    """What a service with a database and a topic of its own reads besides."""

    database_url: str = ""
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Tansu, the local broker, has no idempotent producer; Apache Kafka does.
    kafka_idempotence: bool = False
    # Tansu creates a topic a client merely asks about with 4 partitions: the same count keeps
    # every key on one partition whichever client creates a topic first.
    kafka_partitions: int = 4
    kafka_replication_factor: int = 1
    relay_batch_size: PositiveInt = 500
    relay_poll_seconds: float = 0.25
    relay_log_check_seconds: float = 5.0
    # Events read at once, over all partitions: a live consumer keeps its batches short (the
    # view stays fresh); a rebuild's replay reads more, so each partition's batch, applied in
    # one transaction, holds hundreds of events.
    consumer_batch_size: PositiveInt = 500
    replay_batch_size: PositiveInt = 5000
    # A group (re)balance waits about half of this: shorter starts faster, longer rides out stalls.
    consumer_session_timeout_ms: int = 10_000
    seed_demo: bool = False

    @model_validator(mode="after")
    def _default_database(self) -> "ServiceSettings":
        if not self.database_url:
            self.database_url = f"sqlite:///data/{self.service_name}.db"
        return self

    @property
    def topic(self) -> str:
        """The topic this service publishes its events to."""
        return f"{self.service_name}.events"
