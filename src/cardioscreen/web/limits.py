"""Request body size limit, enforced while the body streams in (before any of it reaches the form parser)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.status import HTTP_413_CONTENT_TOO_LARGE
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class UploadTooLargeError(HTTPException):
    """The request body is larger than the configured limit (an HTTP error, so body parsers pass it on)."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(HTTP_413_CONTENT_TOO_LARGE, f"request body larger than {limit_bytes} bytes")
        self.limit_bytes = limit_bytes


class BodyLimitMiddleware:
    """Raise :class:`UploadTooLargeError` from ``receive`` once a request body passes ``max_bytes``.

    A declared ``Content-Length`` above the limit fails on the first read, without reading the body; a body
    without one (chunked) fails as soon as the bytes counted so far pass the limit. The app's exception handler
    turns the error into a 413 page or JSON answer.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        too_large = declared.isdigit() and int(declared) > self.max_bytes
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if too_large:
                raise UploadTooLargeError(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise UploadTooLargeError(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)
