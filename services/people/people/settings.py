"""Settings of the people service (environment prefix `PEOPLE_`)."""

from typing import ClassVar

from shared.settings import ServiceSettings


class Settings(ServiceSettings, env_prefix="PEOPLE_"):
    service_name: ClassVar[str] = "people"

    import_max_bytes: int = 2_097_152
    import_max_rows: int = 5_000
