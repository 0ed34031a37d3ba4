"""Security headers on every response: no sniffing, no framing, no referrer leaks, a same-origin content policy, no
storing in caches (except the static files); and
an unexpected error answered here (a 500 page, or JSON under ``/api``) so that it carries them too."""

from __future__ import annotations

import logging

from starlette.datastructures import MutableHeaders
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

# Inline style attributes are used for the probability bars; scripts are never inline.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                           "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
STATIC_PREFIX = "/static/"
_FIXED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
SERVER_ERROR_PAGE = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>CardioScreen</title></head><body>"
                     "<h1>Something went wrong</h1><p>The error was logged. <a href=\"/\">Back</a></p>"
                     "<p lang=\"ru\">Произошла ошибка; она записана в журнал.</p></body></html>")


def server_error(path: str) -> Response:
    """The 500 answer: JSON for the API, a page for browsers."""
    if path.startswith("/api"):
        return JSONResponse({"detail": "internal server error"}, status_code=500)
    return HTMLResponse(SERVER_ERROR_PAGE, status_code=500)


class SecurityHeadersMiddleware:
    """Add the headers above to every response (the API docs page included: its Swagger UI is served from here)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in _FIXED.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                if not scope.get("path", "").startswith(STATIC_PREFIX):  # pages, PDFs, files, JSON: all personal
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:
                raise
            logger.exception("%s %s failed", scope.get("method"), scope.get("path"))
            await server_error(scope.get("path", ""))(scope, receive, send_with_headers)
