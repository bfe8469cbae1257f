"""Receipts: an entry handed back (to the scanner of a scan) as a C2SP tlog-proof bundle.

The bundle carries the entry itself in its `extra` line, so the one file is all an
escort needs to show, offline and years later, that the scan is in the log: the
inclusion proof ties the entry to a checkpoint the log signed (and witnesses cosigned)."""

from __future__ import annotations

from ledger.proof_bundle import ProofBundle
from sqlalchemy.orm import Session

from models.core.errors import NotYet
from models.log.reads import get_log, inclusion_proof, latest_checkpoint, read_entries
from models.log.tiles import TileStore
from models.log.witnesses import cosigned_note


def receipt(session: Session, tiles: TileStore, log_id: str, index: int, what: str) -> str:
    """Entry `index`, its inclusion proof and the latest checkpoint covering it; `what`
    names the entry in the answer when no checkpoint covers it yet."""
    log = get_log(session, log_id)
    checkpoint = latest_checkpoint(session, log.id)
    if index >= checkpoint.tree_size:
        raise NotYet(
            f"{what} is entry {index} of the log, which no signed checkpoint covers yet; ask again in a second"
        )
    entry = read_entries(session, log, index, index + 1)[0]
    proof = inclusion_proof(session, tiles, log.id, index, checkpoint.tree_size)
    return ProofBundle(index, proof, cosigned_note(session, checkpoint), extra=entry.data).encode()


def receipt_file(name: str) -> str:
    """A receipt's file name, with the extension C2SP's tlog-proof suggests."""
    return f"{name}.tlog-proof"
