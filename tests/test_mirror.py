"""`jejak mirror`: a checked copy of a log that grows with it and refuses a log that
rewrote, forked or rolled back its history."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from ledger import merkle
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.mirror import Growth, bundles_between
from ledger.note import Signer, Verifier

from scripts.logsource import DirectorySource, LogSource, MissingResource
from scripts.mirror import LogMirror, MirrorRefused, mirror
from tests.helpers import append, scans, wait_for_checkpoint


@pytest.fixture
def grown_log(runtime, new_log, live_server):
    append(runtime, new_log.id, scans(300))
    wait_for_checkpoint(live_server, new_log.id, 300)
    return new_log


def _entries(runtime, log_id: str, size: int) -> list[bytes]:
    from models.log.tables import LogEntry
    from sqlalchemy import select

    with runtime.db.session() as session:
        return list(session.scalars(select(LogEntry.data).where(LogEntry.log_id == log_id).order_by(LogEntry.idx)))[:size]


def test_a_mirror_copies_the_log_and_grows_with_it(runtime, grown_log, live_server, tmp_path):
    log_id = grown_log.id
    url = f"{live_server}/logs/{log_id}"
    assert mirror(tmp_path, [url], [grown_log.verifier_key], progress=False) == 0
    copy = DirectorySource(tmp_path / log_id)
    held = LogMirror(tmp_path / log_id, Verifier.from_vkey(grown_log.verifier_key)).held()
    assert held is not None and held.size == 300
    assert merkle.tree_root(300, copy.tile_reader(300)) == held.root
    assert [e for n, w in bundles_between(0, 300) for e in copy.entry_bundle(n, w)] == _entries(runtime, log_id, 300)
    assert (tmp_path / log_id / "checkpoints" / "300").read_text() == (tmp_path / log_id / "checkpoint").read_text()

    append(runtime, log_id, scans(600, start=300))
    wait_for_checkpoint(live_server, log_id, 900)
    # Pinned by the first pass: no --key needed any more.
    assert mirror(tmp_path, [url], [], progress=False) == 0
    held = LogMirror(tmp_path / log_id, Verifier.from_vkey(grown_log.verifier_key)).held()
    assert held.size == 900
    assert merkle.tree_root(900, copy.tile_reader(900)) == held.root
    assert [e for n, w in bundles_between(0, 900) for e in copy.entry_bundle(n, w)] == _entries(runtime, log_id, 900)
    # The copy serves the log's own tiles, byte for byte.
    for path in ["tile/0/000", "tile/0/003.p/132", "tile/1/000.p/3", "tile/entries/002"]:
        assert copy.read(path) == httpx.get(f"{url}/{path}").content, path


def test_the_command_line_mirrors_every_log_of_a_server(runtime, grown_log, live_server, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "scripts.cli", "mirror", live_server, "--dir", str(tmp_path),
         "--key", grown_log.verifier_key],
        capture_output=True, text=True, timeout=120,
    )
    # Other tests' logs have no key given and no pinned copy: refused, named, and counted.
    assert f"{grown_log.id}: 300 entries held (+300)" in run.stdout, run.stdout + run.stderr
    assert "no --key for" in run.stderr
    assert run.returncode == 1
    assert (tmp_path / grown_log.id / "log.json").exists()


class ForgedLog(LogSource):
    """A log served by an operator who holds the log key and rewrites history."""

    def __init__(self, entries: list[bytes], signer: Signer) -> None:
        super().__init__("forged")
        self.files: dict[str, bytes] = {}
        growth = Growth(0, self.files.__getitem__)
        for n, width in bundles_between(0, len(entries)):
            growth.add(n, entries[n * 256 : n * 256 + width], self.files.__setitem__)
        root = growth.finish(self.files.__setitem__)
        self.note = sign_checkpoint(Checkpoint(signer.name, len(entries), root), signer)
        self.files["checkpoint"] = self.note.encode()

    def read(self, path: str) -> bytes:
        if path not in self.files:
            raise MissingResource(self.location, path)
        return self.files[path]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda e: e[:300], None),  # the same log again: accepted, nothing to add
        (lambda e: e[:299] + [b'{"forged":1}'], "two different trees of size 300: the log forked"),
        (lambda e: e[:290] + [b'{"forged":1}'] + e[291:300] + [b"{}"] * 50, "entry 290 differs from the copy held"),
        (lambda e: [b'{"forged":1}'] + e[1:300] + [b"{}"] * 50, "not consistent with the copy of 300 entries"),
        (lambda e: e[:200], "the log shrank from 300 to 200 entries"),
    ],
)
def test_a_log_that_rewrote_its_history_is_refused(runtime, grown_log, live_server, tmp_path, change, reason):
    root = tmp_path / grown_log.id
    verifier = Verifier.from_vkey(grown_log.verifier_key)
    assert mirror(tmp_path, [f"{live_server}/logs/{grown_log.id}"], [grown_log.verifier_key], progress=False) == 0
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

    signer = runtime.keys.log_signer(grown_log.id, grown_log.origin)
    forged = ForgedLog(change(_entries(runtime, grown_log.id, 300)), signer)
    copy = LogMirror(root, verifier)
    if reason is None:
        assert copy.update(forged, grown_log.id, forged.note).size == 300
        return
    with pytest.raises(MirrorRefused, match=reason):
        copy.update(forged, grown_log.id, forged.note)
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and "refused" not in p.parts}
    assert after == before  # the copy is exactly as it was
    [evidence] = (root / "refused").iterdir()
    assert evidence.read_text() == forged.note  # the signed proof of the fork, kept


def test_a_checkpoint_not_signed_by_the_pinned_key_is_refused(runtime, grown_log, tmp_path):
    impostor = Signer.generate(grown_log.origin)
    forged = ForgedLog(_entries(runtime, grown_log.id, 10), impostor)
    copy = LogMirror(tmp_path / grown_log.id, Verifier.from_vkey(grown_log.verifier_key))
    with pytest.raises(MirrorRefused, match="signature does not verify"):
        copy.update(forged, grown_log.id, forged.note)
    assert not (tmp_path / grown_log.id).exists()
