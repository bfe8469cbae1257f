"""Errors as RFC 9457 ``application/problem+json``, with a message a person can act on."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from models.db import disk_full
from models.errors import JejakError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"


def problem(status: int, detail: str, title: str | None = None, **extra: Any) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    headers = {"Retry-After": "5"} if status == 503 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_message(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
    return f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", "invalid")


def install(app: FastAPI) -> None:
    @app.exception_handler(JejakError)
    async def _domain(_: Request, exc: JejakError) -> JSONResponse:
        response = problem(exc.status, exc.detail, exc.title)
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        response = problem(exc.status_code, detail)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        detail = "; ".join(_validation_message(e) for e in exc.errors()) or "invalid request"
        return problem(422, detail, "Invalid request", errors=errors)

    @app.exception_handler(IntegrityError)
    async def _conflict(_: Request, exc: IntegrityError) -> JSONResponse:
        # Two requests raced to create the same thing; the database kept the first.
        return problem(409, "this conflicts with something recorded a moment ago; reload and retry")

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database_down(_: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and disk_full(exc):
            # Not over in seconds: someone must make room. The transaction was rolled back.
            response = problem(
                507,
                "the database disk is full: this was not recorded. Keep the scans and send "
                "them again later; the operators must free space",
                "Database disk full",
            )
            response.headers["Retry-After"] = "60"
            return response
        # A lost, refused or unanswered database connection is temporary: say so, don't 500.
        return problem(503, "the database is unreachable; retry shortly", "Database unavailable")
