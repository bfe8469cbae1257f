"""The log's read API (docs/DESIGN.md §5): logs, checkpoints, entries and proofs."""

from __future__ import annotations

import tempfile
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse, StreamingResponse
from ledger.merkle import leaf_hash
from models.accounts import policy
from models.custody.devices import signed_trail
from models.log import reads, witnesses
from models.log.export import write_export
from models.log.sequencer import b64
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from api import caching
from api.deps import DatabasesDep, LogIdPath, Permit, SessionDep, TilesDep, WitnessesDep, quick_read
from api.logs.schemas import (
    ConsistencyProof,
    Entry,
    EntryPage,
    InclusionProof,
    ItemEntries,
    LogInfo,
    LogList,
    RetiredLogKeyInfo,
    TrailDevice,
    WitnessInfo,
)

router = APIRouter(prefix="/api/v1/logs", tags=["logs"])

TreeIndex = Annotated[int, Query(ge=0, le=2**62)]
LogExporter = Permit("logs.export")
_SPOOL_IN_MEMORY = 16 << 20  # larger exports spill to a temporary file


@router.get("")
def list_logs(databases: DatabasesDep, witnesses: WitnessesDep) -> LogList:
    """Every log hosted here, with the verifier key that checks its checkpoints (and those
    it retired), and the witnesses that cosign them."""
    found: list[LogInfo] = []
    for database in databases.each():  # logs may live on several (JEJAK_LOG_DATABASES)
        with database.reads() as session:
            found += _log_infos(session)
    return LogList(
        logs=sorted(found, key=lambda info: info.log),
        witnesses=[WitnessInfo(name=w.name, verifier_key=w.key.vkey) for w in witnesses],
    )


def _log_infos(session: Session) -> list[LogInfo]:
    retired: dict[str, list[RetiredLogKeyInfo]] = {}
    for key in reads.retired_log_keys(session):
        retired.setdefault(key.log_id, []).append(
            RetiredLogKeyInfo(verifier_key=key.verifier_key, retired_index=key.retired_index)
        )
    return [
        LogInfo(
            log=log.id,
            origin=log.origin,
            verifier_key=log.verifier_key,
            retired_keys=retired.get(log.id, []),
            size=log.size,
            checkpoint_size=reads.latest_checkpoint(session, log.id).tree_size,
        )
        for log in reads.list_logs(session)
    ]


@router.get(
    "/{log_id}/checkpoint",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "The signed note"}},
)
async def checkpoint(log_id: LogIdPath, request: Request, databases: DatabasesDep) -> Response:
    """The latest signed checkpoint (C2SP tlog-checkpoint in a signed note), with every
    witness cosignature it has. Revalidated on each use: 304 to an `If-None-Match`
    naming its ETag while no newer checkpoint or cosignature is stored."""

    def latest(session: Session) -> str:
        reads.get_log(session, log_id)
        return witnesses.cosigned_note(session, reads.latest_checkpoint(session, log_id))

    note = await quick_read(databases, log_id, latest)
    return caching.conditional(request, PlainTextResponse(note), caching.REVALIDATE)


@router.get(
    "/{log_id}/checkpoints/{size}",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "The signed note"}},
)
def checkpoint_at(
    log_id: LogIdPath, size: Annotated[int, Path(ge=0, le=2**62)], request: Request, session: SessionDep
) -> Response:
    """The checkpoint the log signed at `size`, if it signed one there, with its
    cosignatures: for instance the handover of a key rotation (its `retired_index` + 1)."""
    reads.get_log(session, log_id)
    note = witnesses.cosigned_note(session, reads.checkpoint_at(session, log_id, size))
    return caching.conditional(request, PlainTextResponse(note), caching.REVALIDATE)


@router.get("/{log_id}/entries")
def entries(
    log_id: LogIdPath,
    session: SessionDep,
    start: TreeIndex = 0,
    end: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> EntryPage:
    """Raw entries [start, end), at most 1,000 per call; end defaults to as many as allowed."""
    log = reads.get_log(session, log_id)
    if end is None:
        end = min(log.size, start + reads.MAX_ENTRIES_PER_READ)
    stored = reads.read_entries(session, log, start, end)
    return EntryPage(
        log=log.id,
        start=start,
        end=end,
        entries=[Entry(index=e.index, leaf_hash=b64(e.leaf_hash), entry=b64(e.data)) for e in stored],
    )


@router.get("/{log_id}/proof/inclusion")
def inclusion(
    log_id: LogIdPath,
    session: SessionDep,
    tiles: TilesDep,
    index: TreeIndex,
    tree_size: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> InclusionProof:
    """RFC 9162 inclusion proof of entry `index`; tree_size defaults to the latest checkpoint."""
    log = reads.get_log(session, log_id)
    if tree_size is None:
        tree_size = reads.latest_checkpoint(session, log_id).tree_size
    proof = reads.inclusion_proof(session, tiles, log.id, index, tree_size)
    entry = reads.read_entries(session, log, index, index + 1)[0]
    return InclusionProof(
        index=index,
        tree_size=tree_size,
        leaf_hash=b64(leaf_hash(entry.data)),
        root_hash=b64(reads.tree_root(session, tiles, log.id, tree_size)),
        proof=[b64(h) for h in proof],
    )


@router.get("/{log_id}/proof/consistency")
def consistency(
    log_id: LogIdPath,
    session: SessionDep,
    tiles: TilesDep,
    first: TreeIndex,
    second: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> ConsistencyProof:
    """RFC 9162 consistency proof between two tree sizes; second defaults to the latest checkpoint."""
    log = reads.get_log(session, log_id)
    if second is None:
        second = reads.latest_checkpoint(session, log_id).tree_size
    proof = reads.consistency_proof(session, tiles, log.id, first, second)
    return ConsistencyProof(first=first, second=second, proof=[b64(h) for h in proof])


@router.get(
    "/{log_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/gzip": {}}, "description": "The log as a .tar.gz bundle"}},
)
def export(log_id: LogIdPath, actor: LogExporter, session: SessionDep) -> StreamingResponse:
    """The whole log at its latest checkpoint as a self-contained .tar.gz (tiles, entry
    bundles, checkpoint, log.json) that `jejak verify BUNDLE --key VKEY` checks offline."""
    policy.permit(actor, "logs.export", log=log_id)
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)
    try:
        size = write_export(session, log_id, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return StreamingResponse(
        iter(lambda: spool.read(1 << 16), b""),
        media_type="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="jejak-log-{log_id}-{size}.tar.gz"'},
        background=BackgroundTask(spool.close),
    )


@router.get("/{log_id}/items/{item_id}/entries")
def item_entries(
    log_id: LogIdPath, item_id: Annotated[str, Path(max_length=64)], session: SessionDep
) -> ItemEntries:
    """Public, like the entries themselves: where one item's trail is in the log, and the
    registrations of the devices that signed it, so that `jejak verify --item` fetches
    just those entries and proves each one by inclusion."""
    trail = signed_trail(session, reads.get_log(session, log_id), item_id)
    return ItemEntries(
        log=log_id,
        item=item_id,
        entries=trail.entries,
        devices=[
            TrailDevice(device=d.id, registered=d.registered_index, revoked=d.revoked_index)
            for d in trail.devices
        ],
    )
