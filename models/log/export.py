"""A log's export bundle for auditors: a .tar.gz of the log in the mirror layout
(tiles, entry bundles, checkpoint, log.json), which `jejak verify BUNDLE` checks
offline and `jejak restore --from-mirror` can rebuild a server from.

The hash tiles are computed afresh from the stored entries, and the bundle is only
finished if they make the root of the checkpoint it carries: the export never hands
out a copy the log's own signature does not cover."""

from __future__ import annotations

import io
import json
import tarfile
import time
from typing import BinaryIO

from ledger.mirror import Growth, bundles_between
from ledger.rotation import handover_size
from ledger.tiles import TILE_WIDTH
from sqlalchemy.orm import Session

from models.core.errors import Unavailable
from models.log.reads import checkpoint_at, get_log, latest_checkpoint, read_entries, retired_log_keys
from models.log.witnesses import cosigned_note


def write_export(session: Session, log_id: str, out: BinaryIO) -> int:
    """Write the bundle of `log_id` at its latest checkpoint to `out`; returns its size."""
    log = get_log(session, log_id)
    checkpoint = latest_checkpoint(session, log.id)
    size = checkpoint.tree_size
    now = time.time()
    with tarfile.open(fileobj=out, mode="w|gz") as tar:

        def put(path: str, data: bytes) -> None:
            member = tarfile.TarInfo(path)
            member.size, member.mtime, member.mode = len(data), int(now), 0o644
            tar.addfile(member, io.BytesIO(data))

        growth = Growth(0, {}.__getitem__)  # an empty copy: nothing held to read
        for index, width in bundles_between(0, size):
            start = index * TILE_WIDTH
            growth.add(index, [e.data for e in read_entries(session, log, start, start + width)], put)
        if growth.finish(put) != checkpoint.root_hash:
            raise Unavailable(f"log {log.id}'s stored entries do not make its checkpoint's root; tell the operator")
        # The handover of each key rotation, for verifiers that pin an older key.
        retired = [key for key in retired_log_keys(session, log.id) if key.retired_index < size]
        for handover in {handover_size(key.retired_index) for key in retired} - {size}:
            put(f"checkpoints/{handover}", cosigned_note(session, checkpoint_at(session, log.id, handover)).encode())
        note = cosigned_note(session, checkpoint).encode()
        put(f"checkpoints/{size}", note)
        put("checkpoint", note)
        info: dict[str, object] = {"log": log.id, "origin": log.origin, "verifier_key": log.verifier_key}
        if retired:  # as GET /api/v1/logs lists them
            info["retired_keys"] = [{"verifier_key": k.verifier_key, "retired_index": k.retired_index} for k in retired]
        put("log.json", json.dumps(info, indent=2).encode())
    return size
