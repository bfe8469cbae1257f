"""Gzip for the pages and their static files: a phone on 2G/3G opens the scanner for the
first time in a third of the bytes (docs/SCANNER.md, Weight). The API's answers are left
as they are (tiles, proofs and exports have clients of their own)."""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# The pages (api/pages/endpoints.py) and /static; a prefix ending in "/" covers what is below it.
PAGES = ("/scan", "/scan/", "/dashboard", "/v/", "/static/")


class PageCompression:
    """Starlette's GZipMiddleware, for the pages' paths only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Level 6, zlib's own default: Starlette's 9 took an eighth of a check page's time
        # under load for a page a few per cent smaller.
        self.gzip = GZipMiddleware(app, minimum_size=500, compresslevel=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        page = any(path == prefix or (prefix.endswith("/") and path.startswith(prefix)) for prefix in PAGES)
        await (self.gzip if page else self.app)(scope, receive, send)
