"""Witnesses (docs/DESIGN.md §4 "Cosignatures"): the log submits each new checkpoint to every
configured witness (C2SP tlog-witness), keeps the cosignatures it gets back once they
verify, and serves each checkpoint with all of its cosignatures.

Submitting happens off the signing path, one thread per witness: a dead or slow
witness delays nothing but its own cosignatures."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import httpx
from ledger.checkpoint import Checkpoint, CheckpointError
from ledger.cosignature import CosignatureError, CosignatureVerifier, verify_cosignature
from ledger.note import NoteError, NoteSignature, add_signatures, parse_note
from ledger.witness import (
    ADD_CHECKPOINT_PATH,
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    WitnessRefusal,
    parse_cosignatures,
    parse_size,
)
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.core.errors import Conflict, Forbidden, InvalidRequest, NotFound
from models.core.metrics import WITNESS_SUBMISSIONS
from models.core.routing import LogDatabases
from models.log.reads import consistency_proof, latest_checkpoint
from models.log.tables import Log, LogCheckpoint, LogCosignature
from models.log.tiles import TileStore

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 1.0, 60.0


@dataclass(frozen=True)
class Witness:
    url: str  # the witness's submission prefix
    key: CosignatureVerifier

    @property
    def name(self) -> str:
        return self.key.name


def configured_witnesses(pairs: Iterable[tuple[str, str]]) -> list[Witness]:
    """The witnesses of `Settings.witnesses` (url, verifier key)."""
    return [Witness(url, CosignatureVerifier.from_vkey(vkey)) for url, vkey in pairs]


def _line(row: LogCosignature) -> str:
    return NoteSignature(row.witness, row.key_id, row.signature).line()


def cosigned_note(session: Session, checkpoint: LogCheckpoint) -> str:
    """The checkpoint's signed note with every cosignature stored for it."""
    rows = session.scalars(
        select(LogCosignature)
        .where(
            LogCosignature.log_id == checkpoint.log_id,
            LogCosignature.tree_size == checkpoint.tree_size,
        )
        .order_by(LogCosignature.witness, LogCosignature.key_id)
    ).all()
    return add_signatures(checkpoint.note, map(_line, rows)) if rows else checkpoint.note


def last_cosigned_size(session: Session, log_id: str, key: CosignatureVerifier) -> int:
    """The largest size this witness cosigned for the log, as far as the log knows (0: none)."""
    size = session.scalar(
        select(func.max(LogCosignature.tree_size)).where(
            LogCosignature.log_id == log_id,
            LogCosignature.witness == key.name,
            LogCosignature.key_id == key.key_id,
        )
    )
    return size or 0


def cosigned_sizes(session: Session) -> list[tuple[str, str, int]]:
    """(log, witness, the largest size it cosigned) for every log and witness that cosigned."""
    rows = session.execute(
        select(LogCosignature.log_id, LogCosignature.witness, func.max(LogCosignature.tree_size))
        .group_by(LogCosignature.log_id, LogCosignature.witness)
        .order_by(LogCosignature.log_id, LogCosignature.witness)
    )
    return [(log_id, witness, size) for log_id, witness, size in rows]


def _store(session: Session, checkpoint: LogCheckpoint, signature: NoteSignature) -> None:
    """Keep a verified cosignature; one the witness gave before is kept as it was."""
    key = (checkpoint.log_id, checkpoint.tree_size, signature.name, signature.key_id)
    if session.get(LogCosignature, key) is None:
        session.add(
            LogCosignature(
                log_id=checkpoint.log_id,
                tree_size=checkpoint.tree_size,
                witness=signature.name,
                key_id=signature.key_id,
                signature=signature.signature,
            )
        )


def _verified(
    body: str, signatures: Iterable[NoteSignature], witnesses: Sequence[Witness]
) -> list[NoteSignature]:
    """The signatures by configured witnesses that verify on the checkpoint body; others
    are ignored, as the spec asks. Raises CosignatureError if a configured key's fails."""
    keys = {(w.key.name, w.key.key_id): w.key for w in witnesses}
    verified = []
    for signature in signatures:
        key = keys.get((signature.name, signature.key_id))
        if key is not None:
            verify_cosignature(body, signature.line(), key)
            verified.append(signature)
    return verified


def accept_cosignatures(
    session: Session, log: Log, note: str, witnesses: Sequence[Witness]
) -> tuple[LogCheckpoint, list[str]]:
    """Store the cosignatures that configured witnesses made on one of the log's stored
    checkpoints, pushed as that checkpoint's note; returns it and the witnesses' names."""
    try:
        parsed = parse_note(note)
        checkpoint = Checkpoint.parse(parsed.text)
    except (NoteError, CheckpointError) as error:
        raise InvalidRequest(f"the body is not a signed checkpoint note: {error}") from error
    if checkpoint.origin != log.origin:
        raise InvalidRequest(f"the checkpoint is of {checkpoint.origin!r}, not {log.origin!r}")
    stored = session.get(LogCheckpoint, (log.id, checkpoint.size))
    if stored is None:
        raise NotFound(f"log {log.id} has no checkpoint at size {checkpoint.size}")
    if parse_note(stored.note).text != parsed.text:
        raise Conflict(f"log {log.id} signed another checkpoint at size {checkpoint.size}")
    try:
        verified = _verified(parsed.text, parsed.signatures, witnesses)
    except CosignatureError as error:
        raise Forbidden(str(error)) from error
    if not verified:
        configured = ", ".join(w.name for w in witnesses) or "none"
        raise Forbidden(f"no cosignature by a configured witness (configured: {configured})")
    for signature in verified:
        _store(session, stored, signature)
    return stored, sorted({s.name for s in verified})


class WitnessClient:
    """Submits a log's latest checkpoint to one witness and stores its cosignature."""

    def __init__(
        self, witness: Witness, db: LogDatabases, tiles: TileStore, http: httpx.Client
    ) -> None:
        self.witness = witness
        self.db = db
        self.tiles = tiles
        self.http = http

    def submit(self, log_id: str) -> bool:
        """True when done with the log's latest checkpoint (cosigned, or refused: retrying
        cannot help), False when worth retrying (the witness is unreachable or failing)."""
        with self.db.for_log(log_id).reads() as session:
            checkpoint = latest_checkpoint(session, log_id)
            old = last_cosigned_size(session, log_id, self.witness.key)
        if old >= checkpoint.tree_size:
            return True
        response = self._add_checkpoint(checkpoint, old)
        if _stale(response):
            # The witness's last size is not the one the log recorded: retry from it, once.
            old = parse_size(response.content)
            if old > checkpoint.tree_size:
                return True  # another server process submitted a newer checkpoint
            response = self._add_checkpoint(checkpoint, old)
        if response.status_code == 200:
            self._keep(checkpoint, response.content)
            WITNESS_SUBMISSIONS.labels(self.witness.name, "cosigned").inc()
            return True
        # A refusal (400, 403, 404, 422, or 409 for another root at the same size: a fork)
        # stands until the next checkpoint; an outage or a moving size is worth a retry.
        retry = response.status_code >= 500 or _stale(response)
        WITNESS_SUBMISSIONS.labels(self.witness.name, "retry" if retry else "refused").inc()
        log.log(
            logging.WARNING if retry else logging.ERROR,
            "witness %s answered %d to checkpoint %s at size %d: %s",
            self.witness.name, response.status_code, log_id, checkpoint.tree_size,
            response.text.strip()[:500],
        )
        return not retry

    def _add_checkpoint(self, checkpoint: LogCheckpoint, old: int) -> httpx.Response:
        proof: list[bytes] = []
        if old:
            with self.db.for_log(checkpoint.log_id).reads() as session:
                proof = consistency_proof(
                    session, self.tiles, checkpoint.log_id, old, checkpoint.tree_size
                )
        body = AddCheckpoint(old, tuple(proof), checkpoint.note).encode()
        return self.http.post(self.witness.url + ADD_CHECKPOINT_PATH, content=body)

    def _keep(self, checkpoint: LogCheckpoint, answer: bytes) -> None:
        body = parse_note(checkpoint.note).text
        try:
            verified = _verified(body, parse_cosignatures(answer), [self.witness])
        except (WitnessRefusal, CosignatureError) as error:
            log.error("witness %s answered a bad cosignature: %s", self.witness.name, error)
            return
        if not verified:
            log.error("witness %s answered without its own cosignature", self.witness.name)
            return
        try:
            with self.db.for_log(checkpoint.log_id).session(write=True) as session:
                for signature in verified:
                    _store(session, checkpoint, signature)
        except IntegrityError:
            pass  # another server process stored it first


def _stale(response: httpx.Response) -> bool:
    """A 409 that names the witness's last cosigned size."""
    return (
        response.status_code == 409
        and response.headers.get("content-type") == SIZE_CONTENT_TYPE
    )


class Cosigners:
    """Hands each new checkpoint to every witness's own thread."""

    def __init__(
        self,
        db: LogDatabases,
        tiles: TileStore,
        witnesses: Sequence[Witness],
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.witnesses = list(witnesses)
        self._queues = [
            _WitnessQueue(
                WitnessClient(
                    w, db, tiles, httpx.Client(timeout=TIMEOUT_SECONDS, transport=transport)
                )
            )
            for w in self.witnesses
        ]

    def submit(self, log_ids: Iterable[str]) -> None:
        """Have every witness cosign these logs' latest checkpoints. Never blocks: the
        checkpointer calls it right after signing."""
        log_ids = set(log_ids)
        if log_ids:
            for queue in self._queues:
                queue.add(log_ids)

    def stop(self) -> None:
        for queue in self._queues:
            queue.stop()


class _WitnessQueue:
    """The logs whose latest checkpoint one witness has yet to cosign, and the thread
    that submits them. Only a log's latest checkpoint matters: a backlog collapses."""

    def __init__(self, client: WitnessClient) -> None:
        self.client = client
        self._pending: set[str] = set()
        self._stopping = False
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, log_ids: set[str]) -> None:
        with self._wake:
            self._pending |= log_ids
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"witness {self.client.witness.name}", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=2 * TIMEOUT_SECONDS)
        self.client.http.close()

    def _run(self) -> None:
        delay = RETRY_FIRST_SECONDS
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._pending or self._stopping)
                if self._stopping:
                    return
                due, self._pending = self._pending, set()
            failed = {log_id for log_id in sorted(due) if not self._submit(log_id)}
            if not failed:
                delay = RETRY_FIRST_SECONDS
                continue
            with self._wake:
                self._pending |= failed
                # The witness is failing: wait before trying it again, unless stopping.
                self._wake.wait_for(lambda: self._stopping, timeout=delay)
            delay = min(2 * delay, RETRY_MAX_SECONDS)

    def _submit(self, log_id: str) -> bool:
        try:
            return self.client.submit(log_id)
        except httpx.TransportError as error:
            log.warning("witness %s is unreachable: %r", self.client.witness.name, error)
            return False
        except Exception:  # a witness's trouble (or the database's) must not end the thread
            log.warning(
                "submitting %s to witness %s failed; will retry",
                log_id, self.client.witness.name, exc_info=True,
            )
            return False
