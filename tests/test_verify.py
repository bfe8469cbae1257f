"""`jejak verify` against the live server: a clean log passes; an operator who changes
the database behind the log's back (triggers dropped, rows changed, deleted, swapped,
re-hashed, the checkpoint re-signed) is caught, and the entry named."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from ledger.audit import SCAN_TYPES
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.cosignature import CosignatureSigner, cosign
from ledger.jcs import canonicalize
from ledger.merkle import leaf_hash
from ledger.note import Signer, add_signatures, parse_note
from ledger.tiles import TreeEdge
from sqlalchemy import text

from models.accounts.actor import Role
from models.core.append_only import drop_append_only, make_append_only
from models.custody.scans import ScanType
from models.log.export import write_export
from models.log.tables import APPEND_ONLY_TABLES
from scripts import verify
from scripts.bench_verify import realistic_log, write_mirror
from tests.factories import Phone, make_area, make_person
from tests.helpers import serve_live

BOXES = 24  # about 300 entries: a full tile and a partial one


@dataclass
class CustodyLog:
    id: str
    origin: str
    vkey: str
    url: str
    size: int
    boxes: list[str]
    revoked: str  # a phone that scanned, then was revoked


def _accepted(results: list[dict]) -> None:
    assert all(r["status"] == "accepted" for r in results), results


@pytest.fixture
def custody(client, runtime, new_log, live_server) -> CustodyLog:
    """Boxes registered, sealed and walked KPU → PPK → PPS → TPS by four phones, one of
    them revoked at the end; the checkpoint signed over all of it."""
    area = make_area(runtime, new_log.id)
    people = {
        "kpu": make_person(client, runtime, Role.KPU, area.kpu),
        "ppk": make_person(client, runtime, Role.PPK, area.ppk),
        "pps": make_person(client, runtime, Role.PPS, area.pps),
        "kpps": make_person(client, runtime, Role.KPPS, area.tps[0]),
    }
    phones = {level: Phone(person).register() for level, person in people.items()}
    boxes = [area.item(0, f"C{n:02d}") for n in range(BOXES)]
    body = {"items": [{"kind": "kotak_suara", "destination": area.tps[0], "code": b[-3:]} for b in boxes]}
    assert people["kpu"].post("/api/v1/items", json=body).status_code == 201
    kpu, ppk, pps, kpps = phones["kpu"], phones["ppk"], phones["pps"], phones["kpps"]
    seals = ["TTU-000101", "TTU-000102"]
    _accepted(kpu.send(*[kpu.scan("seal", b, area.kpu, seals=seals) for b in boxes]))
    for sender, here, receiver, there in [
        (kpu, area.kpu, ppk, area.ppk), (ppk, area.ppk, pps, area.pps), (pps, area.pps, kpps, area.tps[0])
    ]:
        _accepted(sender.send(*[
            sender.scan("dispatch", b, here, counterparty=there, seals=seals, escorts=["NRP-81020304"],
                        location={"lat": -9.4512, "lon": 124.4811, "accuracy_m": 12.5})
            for b in boxes
        ]))
        _accepted(receiver.send(*[receiver.scan("receive", b, there, counterparty=here, seals=seals) for b in boxes]))
    for kind in ("open", "count"):
        _accepted(kpps.send(*[kpps.scan(kind, b, area.tps[0]) for b in boxes]))
    response = people["kpu"].post(f"/api/v1/devices/{new_log.id}/{kpu.id}/revoke")
    assert response.status_code == 200, response.text
    runtime.checkpointer.sign_grown_logs()
    with runtime.db.reads() as session:
        size = session.scalar(text("SELECT size FROM logs WHERE id = :log"), {"log": new_log.id})
    return CustodyLog(new_log.id, new_log.origin, new_log.verifier_key, f"{live_server}/logs/{new_log.id}",
                      size, boxes, kpu.id)


def run(*argv: str, capsys) -> tuple[int, str, str]:
    status = verify.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def verified(log: CustodyLog, capsys, *extra: str) -> tuple[int, str, str]:
    return run(log.url, "--key", log.vkey, *extra, capsys=capsys)


@contextmanager
def tampering(runtime) -> Iterator:
    """A transaction with the append-only triggers dropped, as an operator with access
    to the database could do; the triggers are back before it commits."""
    with runtime.db.engine.begin() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            for table in APPEND_ONLY_TABLES:
                drop_append_only(table)
            yield connection
            for table in APPEND_ONLY_TABLES:
                make_append_only(table)


def entry(connection, log: CustodyLog, index: int) -> dict:
    data = connection.execute(
        text("SELECT data FROM log_entries WHERE log_id = :log AND idx = :idx"), {"log": log.id, "idx": index}
    ).scalar_one()
    return json.loads(data)


def write_entry(connection, log: CustodyLog, index: int, record: dict, *, rehash: bool = False) -> None:
    data = canonicalize(record)
    sets = "data = :data" + (", leaf_hash = :leaf" if rehash else "")
    connection.execute(
        text(f"UPDATE log_entries SET {sets} WHERE log_id = :log AND idx = :idx"),
        {"data": data, "leaf": leaf_hash(data), "log": log.id, "idx": index},
    )


def rebuild_tree_and_resign(connection, runtime, log: CustodyLog) -> None:
    """What an operator hiding a change would do: every leaf hash, tile and tree node
    recomputed from the entries as they now are, and the checkpoint signed again."""
    rows = connection.execute(
        text("SELECT idx, data FROM log_entries WHERE log_id = :log ORDER BY idx"), {"log": log.id}
    ).all()
    edge, full = TreeEdge.empty(), []
    nodes = edge.extend([leaf_hash(data) for _, data in rows], full)
    params = {"log": log.id}
    for idx, data in rows:
        connection.execute(
            text("UPDATE log_entries SET leaf_hash = :leaf WHERE log_id = :log AND idx = :idx"),
            {**params, "leaf": leaf_hash(data), "idx": idx},
        )
    for table in ("log_tree_nodes", "log_tiles"):
        connection.execute(text(f"DELETE FROM {table} WHERE log_id = :log"), params)
    for level, idx, value in nodes:
        connection.execute(
            text("INSERT INTO log_tree_nodes (log_id, level, idx, hash) VALUES (:log, :level, :idx, :hash)"),
            {**params, "level": level, "idx": idx, "hash": value},
        )
    for level, idx, hashes in full:
        connection.execute(
            text("INSERT INTO log_tiles (log_id, level, idx, hashes) VALUES (:log, :level, :idx, :hashes)"),
            {**params, "level": level, "idx": idx, "hashes": hashes},
        )
    note = sign_checkpoint(Checkpoint(log.origin, edge.size, edge.root()), runtime.keys.log_signer(log.id, log.origin))
    connection.execute(
        text("UPDATE log_checkpoints SET note = :note, root_hash = :root WHERE log_id = :log AND tree_size = :size"),
        {**params, "note": note, "root": edge.root(), "size": edge.size},
    )


@contextmanager
def restarted(settings, log: CustodyLog) -> Iterator[CustodyLog]:
    """The log served by a server started after the tampering, as an operator hiding a
    rewrite would restart it: no tile cached from before."""
    with serve_live(settings) as base:
        yield replace(log, url=f"{base}/logs/{log.id}")


def scan_index(log: CustodyLog, runtime, kind: str, box: str) -> int:
    with runtime.db.reads() as session:
        return session.scalar(
            text(
                "SELECT min(entry_index) FROM events WHERE log_id = :log AND item_id = :item AND type = :type"
            ),
            {"log": log.id, "item": box, "type": kind},
        )


def failures(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.startswith("  ")]


# --- a clean log -------------------------------------------------------------------


def test_scan_types_are_the_ones_the_service_accepts():
    assert {t.value for t in ScanType} == SCAN_TYPES


def test_a_clean_log_verifies_and_its_checkpoint_is_saved(custody, capsys, tmp_path):
    saved = tmp_path / "checkpoint.txt"
    status, out, _ = verified(custody, capsys, "--save-checkpoint", str(saved))
    assert status == verify.EXIT_OK, out
    assert "OK: everything verifies" in out
    scans = BOXES * 9  # seal, three dispatches and receives, open, count
    assert (
        f"{custody.size:,} checked; items {BOXES}; devices 4 (1 revoked); label keys 1; "
        f"scan signatures verified {scans}"
    ) in out
    assert parse_note(saved.read_text()).text.startswith(f"{custody.origin}\n{custody.size}\n")
    status, out, _ = verified(custody, capsys, "--since", str(saved), "--workers", "0")
    assert status == verify.EXIT_OK, out
    assert f"consistent with the checkpoint saved at size {custody.size}" in out


def test_jejak_verify_as_a_command(custody):
    jejak = Path(sys.executable).parent / "jejak"
    result = subprocess.run(
        [str(jejak), "verify", custody.url, "--key", custody.vkey], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: everything verifies" in result.stdout


def test_an_export_bundle_and_a_mirror_directory_verify_offline(custody, runtime, capsys, tmp_path):
    bundle = tmp_path / "log.tar.gz"
    with runtime.db.reads() as session, bundle.open("wb") as out:
        write_export(session, custody.id, out)
    directory = tmp_path / "mirror"
    with tarfile.open(bundle) as tar:
        tar.extractall(directory, filter="data")
    for location in (bundle, directory):
        status, out, _ = run(str(location), "--key", custody.vkey, capsys=capsys)
        assert status == verify.EXIT_OK, out
    status, out, err = run(str(bundle), capsys=capsys)  # the key the bundle itself carries
    assert status == verify.EXIT_OK and "NOT pinned" in out
    assert "WARNING: no --key given" in err


# --- tampering behind the log's back -----------------------------------------------


def test_changed_entry_bytes_are_named(custody, runtime, capsys):
    index = scan_index(custody, runtime, "dispatch", custody.boxes[3])
    with tampering(runtime) as connection:
        record = entry(connection, custody, index)
        record["scan"]["seals"] = ["TTU-999999"]  # a seal number quietly changed
        write_entry(connection, custody, index, record)
    status, out, _ = verified(custody, capsys)
    assert status == verify.EXIT_FAILED
    box = custody.boxes[3]
    assert f"entry {index} (item {box}): its bytes do not hash to the leaf hash the log's hash tile lists" in out
    assert f"entry {index} (item {box}): the scan's signature does not verify" in out


def test_a_deleted_entry_is_named(custody, runtime, capsys):
    index = scan_index(custody, runtime, "receive", custody.boxes[5])
    assert index < 256  # inside the full tile, which the database keeps whole
    with tampering(runtime) as connection:
        connection.execute(
            text("DELETE FROM log_entries WHERE log_id = :log AND idx = :idx"), {"log": custody.id, "idx": index}
        )
    status, out, _ = verified(custody, capsys)
    assert status == verify.EXIT_FAILED
    assert f"entry {index}: is missing: its bundle lacks the entry its hash tile lists" in out
    assert "entry 0: its entry bundle holds 255 entries, expected 256" in out


def test_swapped_entries_are_named(custody, runtime, capsys):
    first = scan_index(custody, runtime, "dispatch", custody.boxes[0])
    second = first + 1
    with tampering(runtime) as connection:
        one, two = entry(connection, custody, first), entry(connection, custody, second)
        write_entry(connection, custody, first, two, rehash=True)
        write_entry(connection, custody, second, one, rehash=True)
    status, out, _ = verified(custody, capsys)
    assert status == verify.EXIT_FAILED
    assert f"entry {first} (item {two['item']}): these bytes are listed at index {second}" in out
    assert f"entry {second} (item {one['item']}): these bytes are listed at index {first}" in out


def test_an_altered_signature_in_a_rehashed_and_resigned_log_is_named(custody, runtime, settings, capsys):
    """Even an operator who recomputes the whole tree and signs it again cannot make a
    device's signature cover a scan it did not sign."""
    box = custody.boxes[7]
    index = scan_index(custody, runtime, "receive", box)
    with tampering(runtime) as connection:
        record = entry(connection, custody, index)
        signature = bytearray(base64.b64decode(record["sig"]))
        signature[10] ^= 1
        record["sig"] = base64.b64encode(bytes(signature)).decode()
        write_entry(connection, custody, index, record)
        rebuild_tree_and_resign(connection, runtime, custody)
    with restarted(settings, custody) as log:
        status, out, _ = verified(log, capsys)
    assert status == verify.EXIT_FAILED
    # The tree is consistent again; the chain breaks only where the next entry points back.
    problems = failures(out)
    assert problems[0].startswith(f"entry {index} (item {box}): the scan's signature does not verify with the key")
    assert all(f"(item {box})" in p for p in problems) and len(problems) == 2, out
    assert "not the leaf hash of the item's previous entry" in problems[1]


def test_a_checkpoint_resigned_over_another_tree_of_the_same_size_is_a_fork(
    custody, runtime, settings, capsys, tmp_path
):
    saved = tmp_path / "saved-checkpoint.txt"
    saved.write_text(httpx.get(f"{custody.url}/checkpoint").text)  # an auditor kept this one
    with tampering(runtime) as connection:
        record = entry(connection, custody, 0)  # unsigned by any device: the log key's own entry
        record["role"] = "admin"
        write_entry(connection, custody, 0, record)
        rebuild_tree_and_resign(connection, runtime, custody)
    with restarted(settings, custody) as log:
        status, out, _ = verified(log, capsys)
        assert status == verify.EXIT_OK, out  # self-consistent: only history tells
        status, out, _ = verified(log, capsys, "--since", str(saved))
    assert status == verify.EXIT_FAILED
    assert f"log: forked history: the log signed two different trees of size {custody.size}" in out


# --- one box ------------------------------------------------------------------------


def test_one_items_trail_by_inclusion_proofs(custody, capsys):
    box = custody.boxes[2]
    status, out, _ = verified(custody, capsys, "--item", box)
    assert status == verify.EXIT_OK, out
    # its 11 entries (register, label, 9 scans), the 4 phones' registrations, 1 revocation
    assert f"item {box}: 16 checked" in out and "scan signatures verified 9" in out


def test_one_items_tampered_entry_is_caught(custody, runtime, capsys):
    box = custody.boxes[2]
    index = scan_index(custody, runtime, "open", box)
    with tampering(runtime) as connection:
        record = entry(connection, custody, index)
        record["scan"]["observed_at"] = "2024-02-14T06:00:00Z"
        write_entry(connection, custody, index, record)
    status, out, _ = verified(custody, capsys, "--item", box)
    assert status == verify.EXIT_FAILED
    assert f"entry {index} (item {box}): is not included in the checkpoint" in out
    assert f"entry {index} (item {box}): the scan's signature does not verify" in out


def test_the_item_index_is_public(client, custody):
    box = custody.boxes[1]
    body = client.get(f"/api/v1/logs/{custody.id}/items/{box}/entries").json()  # no token
    assert body["item"] == box and len(body["entries"]) == 11
    assert body["entries"] == sorted(body["entries"])
    assert [d["revoked"] is not None for d in body["devices"]] == [True, False, False, False]
    registered = [d["registered"] for d in body["devices"]]
    assert registered == sorted(registered)
    missing = client.get(f"/api/v1/logs/{custody.id}/items/53.99.01.2001-001-BUP/entries")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/api/v1/logs/{custody.id}/items/{'x' * 65}/entries").status_code == 422


# --- witnesses and usage, on a mirror directory --------------------------------------


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> tuple[Path, Signer]:
    log = realistic_log("witnessed.test/log/53.03", 300, phones=4)
    signer = Signer.generate(log.origin)
    directory = tmp_path_factory.mktemp("mirror") / "53.03"
    write_mirror(directory, "53.03", log.entries, signer)
    return directory, signer


def test_witness_cosignatures_and_quorum(mirror, capsys, tmp_path):
    source, signer = mirror
    directory = tmp_path / "cosigned"
    directory.mkdir()
    for path in source.rglob("*"):
        if path.is_file():
            (directory / path.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
            (directory / path.relative_to(source)).write_bytes(path.read_bytes())
    bawaslu, polres = CosignatureSigner.generate("bawaslu.test/saksi"), CosignatureSigner.generate("polres.test/saksi")
    note = (directory / "checkpoint").read_text()
    body = parse_note(note).text
    (directory / "checkpoint").write_text(add_signatures(note, [cosign(body, bawaslu, int(time.time()))]))
    both = ["--witness", bawaslu.vkey, "--witness", polres.vkey]
    status, out, _ = run(str(directory), "--key", signer.vkey, *both, capsys=capsys)
    assert status == verify.EXIT_FAILED
    assert "witness     polres.test/saksi: no cosignature" in out
    assert "log: 1 of the 2 witnesses cosigned the checkpoint, 2 required" in out
    status, out, _ = run(str(directory), "--key", signer.vkey, *both, "--quorum", "1", capsys=capsys)
    assert status == verify.EXIT_OK, out
    assert "witness     bawaslu.test/saksi: cosigned at" in out
    elsewhere = Checkpoint(signer.name, 1, bytes(32)).body()  # polres's key, another checkpoint
    forged = add_signatures(note, [cosign(elsewhere, polres, 1)])
    (directory / "checkpoint").write_text(forged)
    status, out, _ = run(str(directory), "--key", signer.vkey, *both, "--quorum", "0", capsys=capsys)
    assert status == verify.EXIT_FAILED
    assert "log: witness polres.test/saksi: cosignature by polres.test/saksi" in out


def test_a_checkpoint_signed_by_another_key_fails(mirror, capsys):
    directory, _ = mirror
    status, out, _ = run(str(directory), "--key", Signer.generate("witnessed.test/log/53.03").vkey, capsys=capsys)
    assert status == verify.EXIT_FAILED
    assert "log: the checkpoint does not verify with the log key" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--key", "not-a-key"], "--key 'not-a-key' is not an Ed25519 verifier key"),
        (["--witness", "junk"], "--witness 'junk' is not a cosignature/v1 verifier key"),
        (["--quorum", "1"], "--quorum 1 must be between 0 and the 0 --witness keys given"),
        (["--item", "53.03.01.2001-001-BUP"], "--item needs the server's URL"),
    ],
)
def test_usage_errors_exit_2(mirror, capsys, argv, message):
    directory, signer = mirror
    key = [] if "--key" in argv else ["--key", signer.vkey]
    status, _, err = run(str(directory), *key, *argv, capsys=capsys)
    assert status == verify.EXIT_USAGE
    assert message in err


def test_nowhere_and_unknown_options_are_usage_errors(tmp_path, capsys):
    status, _, err = run(str(tmp_path / "nowhere"), "--key", "k", capsys=capsys)
    assert status == verify.EXIT_USAGE and "is neither an http(s) URL" in err
    with pytest.raises(SystemExit) as exit_:
        verify.main([str(tmp_path), "--frobnicate"])
    assert exit_.value.code == verify.EXIT_USAGE
