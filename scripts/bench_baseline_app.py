"""The benchmarks' strong baseline: what a FastAPI engineer would write for speed, on the
same database and the same uvicorn set-up (uvloop, httptools, as many workers) as the
service. Async routes on psycopg's AsyncConnectionPool, no ORM:

- `POST /insert`: the body of `POST /api/v1/events` parsed by the same pydantic model,
  then stored as one row (`jejak bench ingest`);
- `GET /entries/{log}/{item}`: one indexed SELECT of a box's entries, answered as JSON
  (`jejak bench reads`)."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from api.events.endpoints import ScansIn

# The service's SQLAlchemy URL, as psycopg's own.
pool = AsyncConnectionPool(
    os.environ["JEJAK_BENCH_URL"].replace("postgresql+psycopg://", "postgresql://"),
    min_size=10,
    max_size=10,
    open=False,
)


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    await pool.open(wait=True)
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/insert")
async def insert_one(body: ScansIn) -> dict[str, int]:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "INSERT INTO bench_plain (body) VALUES (%s) RETURNING id", (json.dumps(body.scans).encode(),)
        )
        row = await cursor.fetchone()
    assert row is not None
    return {"id": row[0]}


@app.get("/entries/{log_id}/{item_id}")
async def entries(log_id: str, item_id: str) -> dict[str, Any]:
    async with pool.connection() as connection:
        cursor = await connection.execute(
            "SELECT idx, leaf_hash, data FROM log_entries WHERE log_id = %s AND item_id = %s ORDER BY seq",
            (log_id, item_id),
        )
        rows = await cursor.fetchall()
    return {
        "item": item_id,
        "log": log_id,
        "entries": [
            {"index": idx, "leaf_hash": base64.b64encode(leaf).decode(), "entry": json.loads(data),
             "entry_b64": base64.b64encode(data).decode()}
            for idx, leaf, data in rows
        ],
    }


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
