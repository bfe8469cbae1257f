"""Security headers on every response, and CORS for the configured origins only. The
one place these are set: pages and endpoints add none of their own."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.core.settings import Settings

# The pages (scanner, dashboard, check page): scripts, styles and everything else only
# from this origin, no inline script or style; the camera for the scanner's QR reader.
# On the API's JSON the same policy does no harm and covers what a browser might render.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# /docs is FastAPI's Swagger UI: its script and style come from jsDelivr, and one inline
# script starts it, allowed by its hash (worked out from the page the first time it is
# served), never by a script 'unsafe-inline'.
DOCS_PATH = "/docs"
SWAGGER_CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # A check page's URL carries the label's signature: never pass it on to another site.
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), geolocation=(self), microphone=()",
}
HSTS = "max-age=31536000"  # production is https only (JEJAK_PUBLIC_URL is checked)


def docs_policy(page: bytes) -> str:
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {SWAGGER_CDN} {hashes}",
            # Swagger UI inserts <style> elements as it renders (swagger-ui#4584): styles
            # only, on a page that shows no one's input.
            f"style-src {SWAGGER_CDN} 'unsafe-inline'",
            "img-src 'self' data: https://fastapi.tiangolo.com",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders:
    """Pure ASGI middleware: the headers above on every HTTP response, HSTS in production."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.headers = {**HEADERS, **({"Strict-Transport-Security": HSTS} if production else {})}
        self._docs_policy: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = CSP
        if scope["path"] == DOCS_PATH:
            if self._docs_policy is None:
                await self._first_docs_page(scope, receive, send)
                return
            policy = self._docs_policy

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._stamp(message, policy)
            await send(message)

        await self.app(scope, receive, stamped)

    def _stamp(self, start: Message, policy: str) -> None:
        headers = MutableHeaders(scope=start)
        for name, value in self.headers.items():
            headers[name] = value
        headers["Content-Security-Policy"] = policy

    async def _first_docs_page(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the docs page whole, to learn its inline script's hash (kept once known)."""
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, keep)
        page = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        policy = docs_policy(page)
        if _INLINE_SCRIPT.search(page):
            self._docs_policy = policy
        for message in messages:
            if message["type"] == "http.response.start":
                self._stamp(message, policy)
            await send(message)


def install(app: FastAPI, settings: Settings) -> None:
    """CORS inside the security headers, so a refused preflight carries them too."""
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        # What a browser client of another origin must be able to read from an answer.
        expose_headers=["Link", "Location", "Retry-After", "X-Request-ID"],
        max_age=600,
    )
    app.add_middleware(SecurityHeaders, production=settings.is_production)
