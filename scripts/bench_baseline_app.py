"""The ingest benchmark's baseline: a bare FastAPI endpoint doing one plain row insert
per request, on the same database and uvicorn set-up as the real service."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

from fastapi import Body, FastAPI
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["JEJAK_BENCH_URL"], pool_size=10, max_overflow=20)
app = FastAPI()


@app.post("/insert")
def insert_one(payload: Annotated[dict[str, Any], Body()]) -> dict[str, int]:
    # Parses the same JSON body as the real endpoint, then stores it as one row.
    with engine.begin() as connection:
        row_id = connection.execute(
            text("INSERT INTO bench_plain (body) VALUES (:body) RETURNING id"),
            {"body": json.dumps(payload).encode()},
        ).scalar_one()
    return {"id": row_id}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
