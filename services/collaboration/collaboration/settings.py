"""Settings of the collaboration service (environment prefix `COLLABORATION_`)."""

from typing import ClassVar

from pydantic import Field

from shared.settings import ServiceSettings


class Settings(ServiceSettings, env_prefix="COLLABORATION_"):
    service_name: ClassVar[str] = "collaboration"

    # A question still unanswered this long after it was asked is escalated (once).
    answer_sla_hours: float = Field(default=24, gt=0)
    sla_check_seconds: float = Field(default=60, gt=0)
    # The demo seed waits this long for the communities it names, then seeds without them.
    seed_community_wait_seconds: float = Field(default=30, ge=0)
