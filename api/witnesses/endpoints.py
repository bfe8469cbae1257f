"""Witnesses push their cosignatures on the log's checkpoints (docs/DESIGN.md §5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from models.core.errors import InvalidRequest
from models.log import reads
from models.log import witnesses

from api.deps import DatabasesDep, LogIdPath, WitnessesDep
from api.witnesses.schemas import CosignaturesStored

router = APIRouter(prefix="/api/v1/logs", tags=["witnesses"])


async def _text_body(request: Request) -> str:
    try:
        return (await request.body()).decode()
    except UnicodeDecodeError as error:
        raise InvalidRequest("the body is not UTF-8 text") from error


@router.post(
    "/{log_id}/cosignatures",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/plain": {
                    "schema": {"type": "string"},
                    "example": "jejak.example/log/53.03\n42\nqT1X…=\n\n— jejak.example/log/53.03 Az3…\n"
                    "— bawaslu.go.id/saksi k7Q…\n",
                }
            },
        }
    },
)
def add_cosignatures(
    log_id: LogIdPath,
    databases: DatabasesDep,
    configured: WitnessesDep,
    note: Annotated[str, Depends(_text_body)],
) -> CosignaturesStored:
    """A configured witness pushes its cosignature on one of the log's checkpoints: that
    checkpoint's note with the witness's signature line added. No login: the cosignature,
    checked against the configured witness keys, is the authentication."""
    with databases.for_log(log_id).session(write=True) as session:
        log = reads.get_log(session, log_id)
        checkpoint, names = witnesses.accept_cosignatures(session, log, note, configured)
    return CosignaturesStored(log=log.id, tree_size=checkpoint.tree_size, witnesses=names)
