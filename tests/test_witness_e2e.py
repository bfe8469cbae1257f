"""Two witnesses, each a `jejak witness serve` process of its own, beside the live
service: the log's checkpoints end up cosigned by both, and a fork signed with the
log's own key is refused without a trace in either witness's state."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.cosignature import CosignatureVerifier
from ledger.merkle import MemoryTree, leaf_hash
from ledger.note import Verifier
from ledger.witness import AddCheckpoint
from tests.helpers import append, free_port, scans, serve_live, wait_for

JEJAK = [sys.executable, "-m", "scripts.cli"]
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class WitnessProcess:
    url: str
    vkey: str
    state: Path

    def cosigned(self, origin: str) -> tuple[int, bytes] | None:
        with closing(sqlite3.connect(self.state)) as db:
            row = db.execute("SELECT size, root FROM cosigned WHERE origin = ?", (origin,)).fetchone()
        return (row[0], row[1]) if row else None


@contextmanager
def witness_process(directory: Path, name: str, log_vkey: str) -> Iterator[WitnessProcess]:
    """`jejak witness key create`, then `jejak witness serve` on a free port."""
    key = directory / f"{name.replace('/', '_')}.key"
    created = subprocess.run(
        [*JEJAK, "witness", "key", "create", name, "--out", str(key)],
        capture_output=True, text=True, check=True,
    )
    port, state = free_port(), directory / f"{name.replace('/', '_')}.db"
    process = subprocess.Popen(
        [*JEJAK, "witness", "serve", "--key", str(key), "--log", log_vkey,
         "--state", str(state), "--port", str(port)]
    )

    def listening() -> bool:
        assert process.poll() is None, f"the witness exited with {process.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    try:
        wait_for(listening, f"witness {name} to listen", every=0.1)
        yield WitnessProcess(f"http://127.0.0.1:{port}", created.stdout.strip(), state)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _cosigned_checkpoint(http: httpx.Client, log, keys, size: int) -> Checkpoint:
    """The served checkpoint once it reaches `size` with a verified cosignature by every
    key."""

    def cosigned() -> Checkpoint | None:
        note = http.get(f"/logs/{log.id}/checkpoint").text
        checkpoint, opened = open_checkpoint(note, Verifier.from_vkey(log.verifier_key), keys)
        return checkpoint if checkpoint.size >= size and set(opened.verified) >= {k.name for k in keys} else None

    return wait_for(cosigned, f"a checkpoint of size {size} cosigned by every witness", every=0.1)


def test_two_witness_processes_cosign_the_live_log_and_refuse_a_fork(
    runtime, settings, new_log, tmp_path
):
    with ExitStack() as running:
        bawaslu, polres = (
            running.enter_context(witness_process(tmp_path, name, new_log.verifier_key))
            for name in ("bawaslu.example/saksi", "polres.example/saksi")
        )
        witnesses = f"{bawaslu.url} {bawaslu.vkey},\n{polres.url} {polres.vkey}"
        base = running.enter_context(serve_live(settings, JEJAK_WITNESSES=witnesses))
        http = running.enter_context(httpx.Client(base_url=base, timeout=10))
        keys = [CosignatureVerifier.from_vkey(w.vkey) for w in (bawaslu, polres)]
        assert [w["verifier_key"] for w in http.get("/api/v1/logs").json()["witnesses"]] == [
            bawaslu.vkey, polres.vkey
        ]

        # The log grows; each witness moves on with a consistency proof from its last size.
        for start, count in ((0, 40), (40, 300)):
            append(runtime, new_log.id, scans(count, start=start))
            checkpoint = _cosigned_checkpoint(http, new_log, keys, start + count)
        assert checkpoint.size == 340
        honest = (checkpoint.size, checkpoint.root)
        assert bawaslu.cosigned(new_log.origin) == polres.cosigned(new_log.origin) == honest

        # A fork: another tree, larger, signed with the log's own key.
        log_key = runtime.keys.log_signer(new_log.id, new_log.origin)
        forked = MemoryTree()
        forked.extend(leaf_hash(b"forged %d" % i) for i in range(350))
        fork = sign_checkpoint(Checkpoint(new_log.origin, 350, forked.root()), log_key)
        request = AddCheckpoint(340, tuple(forked.consistency_proof(340, 350)), fork)
        same_size = sign_checkpoint(Checkpoint(new_log.origin, 340, forked.root(340)), log_key)
        for witness in (bawaslu, polres):
            answer = httpx.post(witness.url + "/add-checkpoint", content=request.encode())
            assert answer.status_code == 422, answer.text
            answer = httpx.post(
                witness.url + "/add-checkpoint", content=AddCheckpoint(340, (), same_size).encode()
            )
            assert answer.status_code == 409, answer.text
            assert witness.cosigned(new_log.origin) == honest

        # The fork left nothing behind, and the honest log is still cosigned as it grows.
        append(runtime, new_log.id, scans(10, start=340))
        assert _cosigned_checkpoint(http, new_log, keys, 350).root != forked.root()
        pushed = http.post(f"/api/v1/logs/{new_log.id}/cosignatures", content=fork)
        assert pushed.status_code == 409  # the log signed another checkpoint at 350
