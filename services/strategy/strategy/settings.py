"""Settings of the strategy service (environment prefix `STRATEGY_`)."""

from typing import ClassVar

from shared.settings import ServiceSettings


class Settings(ServiceSettings, env_prefix="STRATEGY_"):
    service_name: ClassVar[str] = "strategy"
