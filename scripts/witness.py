"""`jejak witness`: a C2SP tlog-witness that Bawaslu, Polres or an observer runs on its
own machine, with its own key and without the Jejak database.

It cosigns a log's checkpoint only when the log's key signed it and a consistency
proof shows it extends the last checkpoint this witness cosigned for that log, and it
records that checkpoint (origin, size, root) in its own SQLite file before answering.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
import time
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from ledger.checkpoint import Checkpoint
from ledger.cosignature import CosignatureSigner, cosign
from ledger.note import Verifier
from ledger.witness import (
    ADD_CHECKPOINT_PATH,
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    InconsistentProof,
    RootMismatch,
    StaleSize,
    WitnessRefusal,
    check_extends,
    encode_cosignatures,
    encode_size,
    open_submission,
)
from models.core.errors import InvalidRequest
from models.log.keys import create_private_file
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

# 63 proof lines and a checkpoint with its signatures take a few KiB.
MAX_BODY_BYTES = 64 * 1024

log = logging.getLogger("jejak.witness")


class WitnessState:
    """The last checkpoint cosigned for each origin, in an SQLite file of its own."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with closing(self._connect()) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS cosigned "
                "(origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        # Autocommit: each statement is a transaction of its own, durable when it returns.
        return sqlite3.connect(self.path, isolation_level=None, timeout=30)

    def latest(self, origin: str) -> tuple[int, bytes] | None:
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT size, root FROM cosigned WHERE origin = ?", (origin,)
            ).fetchone()
        return (int(row[0]), bytes(row[1])) if row else None

    def advance(self, old: tuple[int, bytes] | None, new: Checkpoint) -> bool:
        """Compare-and-set: record `new` only if `old` is still the latest for its origin.
        False when another request moved it first (both checked against the same old)."""
        with closing(self._connect()) as db:
            if old is None:
                cursor = db.execute(
                    "INSERT INTO cosigned VALUES (?, ?, ?) ON CONFLICT (origin) DO NOTHING",
                    (new.origin, new.size, new.root),
                )
            else:
                cursor = db.execute(
                    "UPDATE cosigned SET size = ?, root = ? "
                    "WHERE origin = ? AND size = ? AND root = ?",
                    (new.size, new.root, new.origin, *old),
                )
            return cursor.rowcount == 1


class Witness:
    def __init__(
        self, signer: CosignatureSigner, log_keys: Iterable[Verifier], state: WitnessState
    ) -> None:
        self.signer = signer
        self.state = state
        self.trusted: dict[str, list[Verifier]] = {}
        for key in log_keys:  # a log key is named after its origin
            self.trusted.setdefault(key.name, []).append(key)

    def add_checkpoint(self, body: bytes) -> bytes:
        """The cosignature lines for a valid add-checkpoint request; raises WitnessRefusal."""
        request = AddCheckpoint.parse(body)
        checkpoint = open_submission(request, self.trusted)
        cosigned = self.state.latest(checkpoint.origin)
        try:
            check_extends(request, checkpoint, cosigned)
        except (RootMismatch, InconsistentProof) as refusal:
            # Signed by the log yet not consistent: keep it as evidence of a fork.
            log.warning(
                "refused %s at size %d: %s\n%s",
                checkpoint.origin, checkpoint.size, refusal, body.decode(),
            )
            raise
        if not self.state.advance(cosigned, checkpoint):
            latest = self.state.latest(checkpoint.origin)
            raise StaleSize(latest[0] if latest else 0)
        line = cosign(checkpoint.body(), self.signer, int(time.time()))
        return encode_cosignatures([line])


def create_app(witness: Witness) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        body = await _read_body(request)
        if body is None:
            return PlainTextResponse(f"request body over {MAX_BODY_BYTES} bytes\n", 413)
        try:
            cosignatures = await run_in_threadpool(witness.add_checkpoint, body)
        except StaleSize as refusal:
            # Exactly this Content-Type: clients compare it without parameters.
            return Response(
                encode_size(refusal.size), 409, headers={"Content-Type": SIZE_CONTENT_TYPE}
            )
        except WitnessRefusal as refusal:
            return PlainTextResponse(f"{refusal}\n", refusal.status)
        return PlainTextResponse(cosignatures)

    return Starlette(routes=[Route(ADD_CHECKPOINT_PATH, add_checkpoint, methods=["POST"])])


async def _read_body(request: Request) -> bytes | None:
    """The body, or None past MAX_BODY_BYTES (read no further than that)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


def create_key(name: str, out: Path) -> CosignatureSigner:
    """A new cosigning key, written to `out` as a signed-note private key (mode 0600)."""
    signer = CosignatureSigner.generate(name)
    create_private_file(out, signer.skey)
    return signer


def load_key(path: Path) -> CosignatureSigner:
    if not path.is_file():
        raise InvalidRequest(
            f"no witness key at {path}: "
            f"create one with `jejak witness key create NAME --out {path}`"
        )
    return CosignatureSigner.from_skey(path.read_text().strip())


def main(args: argparse.Namespace) -> int:
    if args.witness_command == "key":
        signer = create_key(args.name, Path(args.out))
        print(f"created {args.out}", file=sys.stderr)
        print(signer.vkey)  # the verifier key logs and auditors configure
        return 0
    return serve(args)


def serve(args: argparse.Namespace) -> int:
    import uvicorn
    from api.observability import configure_logging

    configure_logging("INFO")
    signer = load_key(Path(args.key))
    log_keys = [Verifier.from_vkey(vkey) for vkey in args.log]
    witness = Witness(signer, log_keys, WitnessState(Path(args.state)))
    log.info("witness %s cosigns %s", signer.vkey, ", ".join(sorted(witness.trusted)))
    uvicorn.run(
        create_app(witness), host=args.host, port=args.port, log_config=None, access_log=False
    )
    return 0
