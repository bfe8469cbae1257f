"""Receipts: a scan handed back to its scanner as a C2SP tlog-proof bundle.

The bundle carries the entry itself in its `extra` line, so the one file is all an
escort needs to show, offline and years later, that the scan is in the log: the
inclusion proof ties the entry to a checkpoint the log signed (and witnesses cosigned)."""

from __future__ import annotations

from ledger.proof_bundle import ProofBundle
from sqlalchemy.orm import Session

from models.core.errors import NotFound, NotYet
from models.custody.events import Event
from models.log.reads import get_log, inclusion_proof, latest_checkpoint, read_entries
from models.log.tiles import TileStore
from models.log.witnesses import cosigned_note


def get_event(session: Session, log_id: str, event_id: str) -> Event:
    event = session.get(Event, (log_id, event_id))
    if event is None:
        raise NotFound(f"there is no event {event_id} in log {log_id}")
    return event


def receipt(session: Session, tiles: TileStore, event: Event) -> str:
    """The event's entry, its inclusion proof and the latest checkpoint covering it."""
    log = get_log(session, event.log_id)
    checkpoint = latest_checkpoint(session, log.id)
    if event.entry_index >= checkpoint.tree_size:
        raise NotYet(
            f"event {event.event_id} is entry {event.entry_index} of the log, which no signed "
            "checkpoint covers yet; ask again in a second"
        )
    entry = read_entries(session, log, event.entry_index, event.entry_index + 1)[0]
    proof = inclusion_proof(session, tiles, log.id, event.entry_index, checkpoint.tree_size)
    return ProofBundle(event.entry_index, proof, cosigned_note(session, checkpoint), extra=entry.data).encode()
