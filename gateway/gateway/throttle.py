"""Rate limits per caller and per IP (with the `limits` library), strict on the public routes."""

import math
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from limits import RateLimitItem, parse_many
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from gateway.settings import Settings
from shared.errors import Problem, problem_response


class RateLimited(Problem):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Throttle:
    """Counts requests in sliding windows; each rule names what it counts by (an IP, a caller)."""

    def __init__(self, settings: Settings) -> None:
        uri = settings.rate_limit_storage
        storage = storage_from_string(uri if uri.startswith("async+") else f"async+{uri}")
        self._limiter = SlidingWindowCounterRateLimiter(storage)  # type: ignore[arg-type]
        self.per_ip = parse_many(settings.rate_limit_per_ip)
        self.per_client = parse_many(settings.rate_limit_per_client)
        self.sign_in = parse_many(settings.rate_limit_sign_in)
        self.faq_ask = parse_many(settings.rate_limit_faq_ask)

    async def check(self, rules: list[RateLimitItem], scope: str, identity: str) -> None:
        for rule in rules:
            if not await self._limiter.hit(rule, scope, identity):
                stats = await self._limiter.get_window_stats(rule, scope, identity)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise RateLimited(f"Over the limit of {rule} for this {scope}.", retry_after)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def install_handler(app: FastAPI) -> None:
    @app.exception_handler(RateLimited)
    async def _rate_limited(_request: Request, error: RateLimited) -> JSONResponse:
        response = problem_response(error.status, error.title, error.detail, error.slug)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
