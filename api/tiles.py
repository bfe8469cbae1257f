"""The log as static C2SP tlog-tiles resources under /logs/{log}/, for mirrors and
standard transparency tooling. Full tiles never change and are cached for ever."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from ledger.tiles import TILE_WIDTH, parse_tile_path
from models.core.errors import NotFound
from models.log import reads
from sqlalchemy.orm import Session

from api.caching import IMMUTABLE, REVALIDATE
from api.deps import DatabasesDep, LogIdPath, TilesDep, quick_read
from api.logs import endpoints as log_endpoints

router = APIRouter(prefix="/logs", tags=["tiles"])


# The same checkpoint as /api/v1/logs/{log}/checkpoint, at the path tlog-tiles clients expect.
router.add_api_route(
    "/{log_id}/checkpoint",
    log_endpoints.checkpoint,
    methods=["GET"],
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "The signed note"}},
    name="checkpoint",
)
# Checkpoints at other sizes where copies keep them (checkpoints/<size>): a verifier
# following a key rotation reads its handover there.
router.add_api_route(
    "/{log_id}/checkpoints/{size}",
    log_endpoints.checkpoint_at,
    methods=["GET"],
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "The signed note"}},
    name="checkpoint_at",
)


@router.get(
    "/{log_id}/tile/{tile_path:path}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "A tile"}},
)
async def tile(log_id: LogIdPath, tile_path: str, databases: DatabasesDep, tiles: TilesDep) -> Response:
    """A hash tile (`tile/<L>/<N>[.p/<W>]`) or entry bundle (`tile/entries/<N>[.p/<W>]`)."""
    try:
        path = parse_tile_path("tile/" + tile_path)
    except ValueError as error:
        raise NotFound(f"tile/{tile_path} is not a tile path: {error}") from error
    # A hash tile this process has read is answered from memory (a tile of a given
    # width never changes); the rest from the database, in the quick reads' threads.
    body = None if path.level is None else tiles.cached(log_id, (path.level, path.index, path.width))
    if body is None:

        def read(session: Session) -> bytes:
            log = reads.get_log(session, log_id)
            if path.level is None:
                return reads.entry_bundle(session, log, path.index, path.width)
            return reads.hash_tile(session, tiles, log, path.level, path.index, path.width)

        body = await quick_read(databases, log_id, read)
    cache = IMMUTABLE if path.width == TILE_WIDTH else REVALIDATE
    return Response(body, media_type="application/octet-stream", headers={"Cache-Control": cache})
