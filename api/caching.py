"""HTTP caching of the public reads: an `ETag` on each answer, `304 Not Modified` to a
client (or a reverse proxy, or a CDN) that already holds it, and a `Cache-Control` a
shared cache can act on. On the day a hoax about one box spreads, thousands open its
page at once: most of them should be answered from a cache in front of the service,
and the rest with a few bytes.

An ETag is either made from what determines the answer, before it is built (a box's
history: its entries never change, so their indexes and the checkpoint's size fix it),
or from the answer's bytes (pages, checkpoints)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from fastapi import Request, Response

# A box's history and its check page: a few seconds old is still a true, provable trail
# (against the checkpoint it carries); a new scan shows within that.
SHORT_LIVED = "public, max-age=10"
# A page that sets the language cookie is this visitor's own.
PRIVATE = "private, max-age=10"
# The log's checkpoint: always revalidated (a 304 while no new one is signed).
REVALIDATE = "no-cache"
# What never changes under its address: full tiles, a version of the pages' words.
IMMUTABLE = "public, max-age=31536000, immutable"
# The version of the answers' shapes: a deployment that changes them changes every ETag.
_FORMAT = b"1"


def etag_of(*parts: object) -> str:
    """A strong ETag for an answer fully determined by `parts` (their str())."""
    digest = hashlib.sha256(_FORMAT)
    for part in parts:
        digest.update(b"\0" + str(part).encode())
    return '"' + base64.urlsafe_b64encode(digest.digest()[:18]).decode() + '"'


def etag_of_body(body: bytes) -> str:
    return etag_of(hashlib.sha256(body).hexdigest())


def held(request: Request, etag: str) -> bool:
    """Whether the client's If-None-Match names `etag` (or is `*`): it holds the answer.
    Compared weakly, as RFC 9110 says for If-None-Match (a proxy may weaken a tag)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    return header.strip() == "*" or etag in _tags(header.split(","))


def _tags(listed: Iterable[str]) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in listed}


def not_modified(etag: str, cache_control: str, vary: str | None = None) -> Response:
    """The 304 for a client that holds the answer: the same validators, no body."""
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if vary:
        headers["Vary"] = vary
    return Response(status_code=304, headers=headers)


def conditional(request: Request, response: Response, cache_control: str, vary: str | None = None) -> Response:
    """A built answer with its ETag (from its bytes) and Cache-Control, or a 304 in its
    place if the client holds it."""
    if response.status_code != 200:
        return response  # a refusal or a box not (yet) known: nothing to keep
    etag = etag_of_body(bytes(response.body))
    if held(request, etag):
        return not_modified(etag, cache_control, vary)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache_control
    if vary:
        response.headers["Vary"] = vary
    return response
