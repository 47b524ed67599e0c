"""Settings of the strategy service (environment prefix `STRATEGY_`)."""

from typing import ClassVar

from shared.settings import ServiceSettings


class Settings(ServiceSettings, env_prefix="STRATEGY_"):
    service_name: ClassVar[str] = "strategy"

    # Demonstrated help (answers, adopted practices) counts half as much after this long.
    expertise_half_life_days: float = 180.0
    # External communities need managers with at least this much community experience.
    staffing_min_years: float = 3.0
    # The period the matrix, the ratios and the programs' KPIs look at by default.
    window_days: int = 90
