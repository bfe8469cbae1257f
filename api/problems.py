"""Errors as RFC 9457 ``application/problem+json``, with a message a person can act on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from models.core.db import disk_full
from models.core.errors import JejakError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.routing import Match

from api.problem_types import type_uri

PROBLEM_JSON = "application/problem+json"


# The code of a problem raised by the framework rather than by Jejak's own errors.
_STATUS_CODES = {
    400: "invalid_request", 401: "not_signed_in", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "body_too_large", 422: "invalid_request",
    429: "rate_limited", 503: "unavailable", 507: "disk_full",
}


def problem(
    status: int, detail: str, title: str | None = None, code: str | None = None, kind: str | None = None, **extra: Any
) -> JSONResponse:
    """`kind`: the problem's `type` where a standard names it (EPCIS's epcisException:…)."""
    code = code or _STATUS_CODES.get(status, "error")
    body = {
        "type": kind or type_uri(code),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    headers = {"Retry-After": "5"} if status == 503 else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"  # RFC 6750 §3
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_message(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    return f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", "invalid")


# What the common problems mean, for the OpenAPI document; each is application/problem+json.
_PROBLEMS = {
    400: "A malformed value: a site code, item id, cursor or log name that cannot be one",
    401: "Not signed in, or the access token is not valid (expired, forged, another service's)",
    403: "This role, scope or jurisdiction may not do this",
    404: "No such thing (a log, site, item, webhook…)",
    409: "Conflicts with what is already recorded",
    413: "The request body is larger than JEJAK_MAX_BODY_BYTES",
    422: "The parameters or the body do not have the documented shape",
    429: "Too many requests from this address or for this account: wait Retry-After seconds",
    503: "The database is unreachable: retry after Retry-After seconds",
    507: "The database disk is full: nothing was recorded; send it again after Retry-After seconds",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
PROBLEM_SCHEMA = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri-reference",
            "description": "/problems/{code}: the page that explains the code (relative to this service)",
        },
        "code": {
            "type": "string",
            "description": "What went wrong, as a stable snake_case word a client can act on "
            "and a page can translate (the detail is prose and may change)",
        },
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"loc": {"type": "array", "items": {"type": "string"}}, "msg": {"type": "string"}},
            },
        },
    },
}


def _common_problems(operation: dict[str, Any], method: str) -> set[int]:
    """The problems any operation of this shape can answer, whatever its handler does."""
    takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
    statuses = {400, 404, 422, 503} if takes_input else {503}
    if operation.get("security"):
        statuses |= {401, 403}
    if operation.get("requestBody"):
        statuses.add(413)
    if method != "get" and takes_input:
        statuses |= {409, 507}  # writes can race (an IntegrityError answers 409), or find the disk full
    return statuses


def _hoist_definitions(node: Any, schemas: dict[str, Any]) -> None:
    """Move `$defs` of request bodies given as raw JSON Schema into the components, where
    their `#/...` references point in an OpenAPI document."""
    if isinstance(node, dict):
        for name, definition in node.pop("$defs", {}).items():
            _hoist_definitions(definition, schemas)
            schemas.setdefault(name, definition)
        if isinstance(ref := node.get("$ref"), str) and ref.startswith("#/$defs/"):
            node["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
        for value in node.values():
            _hoist_definitions(value, schemas)
    elif isinstance(node, list):
        for value in node:
            _hoist_definitions(value, schemas)


def document(app: FastAPI) -> None:
    """Every operation's OpenAPI entry lists the problems it can answer, with their body."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = generate()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        _hoist_definitions(spec["paths"], schemas)
        for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422, not ours
            schemas.pop(unused, None)
        schemas["Problem"] = PROBLEM_SCHEMA
        body = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in spec["paths"].values():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in _common_problems(operation, method):
                    responses.setdefault(str(status), {"description": _PROBLEMS[status]})
                for status, response in responses.items():
                    if status >= "400" and ("content" not in response or status == "422"):
                        response["content"] = body
                    if status in ("423", "429", "503", "507"):
                        response.setdefault("headers", _RETRY_AFTER)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path: Starlette names only the first
    route's, and GET and POST of one path are often two routes."""

    def served(routes: list[Any]) -> Iterator[str]:
        for route in routes:
            if (included := getattr(route, "original_router", None)) is not None:
                yield from served(included.routes)  # FastAPI keeps an included router whole
            elif route.matches(request.scope)[0] is not Match.NONE:
                yield from getattr(route, "methods", None) or ()

    return ", ".join(sorted(set(served(request.app.routes))))


# A page's own answer to a problem, for the paths people open in a browser rather than
# through the API (None: the problem+json stands).
PageFor = Callable[[Request, int], Response | None]


def install(app: FastAPI, page_for: PageFor = lambda request, status: None) -> None:
    document(app)

    @app.exception_handler(JejakError)
    async def _domain(request: Request, exc: JejakError) -> Response:
        if page := page_for(request, exc.status):
            return page
        response = problem(exc.status, exc.detail, exc.title, exc.code, **exc.extra)
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if page := page_for(request, exc.status_code):
            return page
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        response = problem(exc.status_code, detail)
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405:
            response.headers["Allow"] = _allowed_methods(request)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if page := page_for(request, 422):
            return page
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        detail = "; ".join(_validation_message(e) for e in exc.errors()) or "invalid request"
        return problem(422, detail, "Invalid request", "invalid_request", errors=errors)

    @app.exception_handler(IntegrityError)
    async def _conflict(_: Request, exc: IntegrityError) -> JSONResponse:
        # Two requests raced to create the same thing; the database kept the first.
        return problem(409, "this conflicts with something recorded a moment ago; reload and retry", code="raced")

    @app.exception_handler(DataError)
    async def _unstorable(_: Request, exc: DataError) -> JSONResponse:
        # The last line of defence for input that passed its checks: PostgreSQL refuses a
        # NUL character in text and numbers out of its range; that is the input's fault.
        return problem(400, "a value the database cannot take: a NUL character, or a number out of range")

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database_down(request: Request, exc: Exception) -> Response:
        if page := page_for(request, 503):
            return page
        if isinstance(exc, DBAPIError) and disk_full(exc):
            # Not over in seconds: someone must make room. The transaction was rolled back.
            response = problem(
                507,
                "the database disk is full: this was not recorded. Keep the scans and send "
                "them again later; the operators must free space",
                "Database disk full",
                "disk_full",
            )
            response.headers["Retry-After"] = "60"
            return response
        # A lost, refused or unanswered database connection is temporary: say so, don't 500.
        return problem(503, "the database is unreachable; retry shortly", "Database unavailable", "database_unavailable")
