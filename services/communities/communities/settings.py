"""Settings of the communities service (environment prefix `COMMUNITIES_`)."""

from typing import ClassVar

from shared.settings import ServiceSettings


class Settings(ServiceSettings, env_prefix="COMMUNITIES_"):
    service_name: ClassVar[str] = "communities"
