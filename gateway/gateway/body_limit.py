"""Refuses request bodies over the size limit with 413, before or while they stream in."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PayloadTooLarge, problem_response


class BodyTooLarge(PayloadTooLarge):
    """Raised while a body without Content-Length streams past the limit."""


class BodyLimitMiddleware:
    """Media types are the services' business; the size of what enters is the gateway's."""

    def __init__(self, app: ASGIApp, default_limit: int, limits: dict[str, int]) -> None:
        self.app = app
        self.default_limit = default_limit
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default_limit)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            too_large = problem_response(
                413, "Payload too large", f"The body exceeds {limit} bytes.", "payload-too-large"
            )
            await too_large(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(f"The body exceeds {limit} bytes.")
            return message

        await self.app(scope, counted_receive, send)
