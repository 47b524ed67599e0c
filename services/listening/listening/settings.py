"""Settings of the listening service (environment prefix `LISTENING_`)."""

from datetime import UTC, datetime
from typing import ClassVar

from pydantic import AwareDatetime

from shared.settings import ServiceSettings


class Settings(ServiceSettings, env_prefix="LISTENING_"):
    service_name: ClassVar[str] = "listening"

    # Where a mention goes when no routing rule and no community owner claims it.
    default_department_id: str = "communication"
    # Keeps a copy of the communities (mentions of a community's sources go to its owner when
    # no rule claims them); off, the service runs without the communities service's events.
    follow_communities: bool = True
    ingest_max_items: int = 1_000
    ingest_max_bytes: int = 16_777_216
    feed_poll_seconds: float = 300.0
    feed_timeout_seconds: float = 10.0
    feed_max_bytes: int = 2_097_152
    # Feeds whose host is on a private network (loopback, 10/8, 192.168/16, link-local...) are
    # refused unless this is on: a curator's URL must not reach the platform's own services
    # or a cloud's metadata endpoint. Turn it on for feeds served inside the company.
    feed_private_networks: bool = False
    spike_check_seconds: float = 60.0
    spike_window_minutes: int = 60
    spike_baseline_hours: int = 12
    spike_min_negative_mentions: int = 10
    # A spike is this many times the baseline's negative mentions per hour, at least.
    spike_ratio: float = 3.0
    faq_answer_threshold: float = 0.15
    # Takes this instant as "now" (tests, reproducible demos); unset, the real clock runs.
    clock_fixed_at: AwareDatetime | None = None

    def now(self) -> datetime:
        return self.clock_fixed_at or datetime.now(UTC)
