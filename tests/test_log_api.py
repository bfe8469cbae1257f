"""The log's read API answers bad input with a clear 4xx problem, never a 500."""

from __future__ import annotations

import pytest
from ledger import merkle
from ledger.tiles import decode_entry_bundle, decode_hash_tile
from sqlalchemy import update

from models.log.tables import Log

from tests.factories import new_regency
from tests.helpers import append, b64decode, scans


@pytest.fixture
def log_300(runtime, new_log):
    append(runtime, new_log.id, scans(300))
    runtime.checkpointer.sign_grown_logs()
    return new_log


def _problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body["detail"]


def test_logs_list_names_origin_and_key(client, log_300):
    listed = {log["log"]: log for log in client.get("/api/v1/logs").json()["logs"]}
    entry = listed[log_300.id]
    assert entry["origin"] == f"jejak.test/log/{log_300.id}"
    assert entry["verifier_key"].startswith(entry["origin"] + "+")
    assert (entry["size"], entry["checkpoint_size"]) == (300, 300)


def test_checkpoint_is_a_signed_note(client, log_300):
    response = client.get(f"/api/v1/logs/{log_300.id}/checkpoint")
    assert response.headers["content-type"].startswith("text/plain")
    origin, size, root, blank, signature = response.text.split("\n")[:5]
    assert (origin, size, blank) == (log_300.origin, "300", "")
    assert signature.startswith(f"\u2014 {log_300.origin} ")


def test_entries_page(client, log_300):
    page = client.get(f"/api/v1/logs/{log_300.id}/entries", params={"start": 295}).json()
    assert [e["index"] for e in page["entries"]] == [295, 296, 297, 298, 299]
    assert page["end"] == 300


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/api/v1/logs/99.98/checkpoint", {}, 404, "no log 99.98"),
        ("/api/v1/logs/abc/checkpoint", {}, 422, "pattern"),
        ("/api/v1/logs/{log}/entries", {"start": 10, "end": 5}, 400, "do not make a range"),
        ("/api/v1/logs/{log}/entries", {"start": 0, "end": 301}, 400, "beyond the log's size 300"),
        ("/api/v1/logs/{log}/entries", {"start": -1}, 422, "greater than or equal to 0"),
        ("/api/v1/logs/{log}/entries", {"start": "x"}, 422, "integer"),
        ("/api/v1/logs/{log}/entries", {"start": 10**30}, 422, "less than or equal"),
        ("/api/v1/logs/{log}/proof/inclusion", {}, 422, "index: Field required"),
        ("/api/v1/logs/{log}/proof/inclusion", {"index": 300}, 400, "not in a tree of size 300"),
        ("/api/v1/logs/{log}/proof/inclusion", {"index": 0, "tree_size": 301}, 400, "outside"),
        ("/api/v1/logs/{log}/proof/inclusion", {"index": 0, "tree_size": 0}, 400, "not in a tree"),
        ("/api/v1/logs/{log}/proof/consistency", {"first": 0}, 400, "between 1 and"),
        ("/api/v1/logs/{log}/proof/consistency", {"first": 20, "second": 10}, 400, "between 1 and"),
        ("/api/v1/logs/{log}/proof/consistency", {"first": 1, "second": 301}, 400, "outside"),
        ("/logs/{log}/tile/0/001", {}, 404, "beyond the log's size"),
        ("/logs/{log}/tile/0/001.p/45", {}, 404, "beyond the log's size"),
        ("/logs/{log}/tile/entries/002", {}, 404, "beyond the log's size"),
        ("/logs/{log}/tile/0/1", {}, 404, "not a tile path"),
        ("/logs/{log}/tile/0/x000/000", {}, 404, "not a tile path"),
        ("/logs/{log}/tile/0/000.p/0", {}, 404, "not a tile path"),
        ("/logs/{log}/tile/0/000.p/256", {}, 404, "not a tile path"),
        ("/logs/{log}/tile/../../etc/passwd", {}, 404, ""),
        ("/logs/{log}/tile/0/..%2F..%2Fetc", {}, 404, "not a tile path"),
        ("/logs/{log}/tile/99/000", {}, 404, ""),
    ],
)
def test_bad_input_is_a_clear_4xx(client, log_300, path, params, status, words):
    detail = _problem(client.get(path.format(log=log_300.id), params=params), status)
    assert words in detail


def test_tiles_match_the_entries(client, log_300):
    full = client.get(f"/logs/{log_300.id}/tile/0/000")
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    partial = client.get(f"/logs/{log_300.id}/tile/0/001.p/44")
    assert partial.headers["cache-control"] == "no-cache"
    hashes = decode_hash_tile(full.content) + decode_hash_tile(partial.content)
    level1 = decode_hash_tile(client.get(f"/logs/{log_300.id}/tile/1/000.p/1").content)
    bundle = decode_entry_bundle(client.get(f"/logs/{log_300.id}/tile/entries/000").content)
    assert [merkle.leaf_hash(e) for e in bundle] == hashes[:256]
    tree = merkle.MemoryTree()
    tree.extend(hashes)
    assert level1 == [tree.read_hashes([(8, 0)])[0]]


def test_inclusion_proof_names_leaf_and_root(client, log_300):
    proof = client.get(
        f"/api/v1/logs/{log_300.id}/proof/inclusion", params={"index": 7}
    ).json()
    assert proof["tree_size"] == 300
    merkle.verify_inclusion(
        b64decode(proof["leaf_hash"]),
        7,
        300,
        [b64decode(h) for h in proof["proof"]],
        b64decode(proof["root_hash"]),
    )


def test_a_damaged_log_holds_up_no_other_logs_checkpoint(runtime, new_log, caplog):
    """A log whose tree cannot be read (its size past its entries, as a botched restore
    could leave it) gets no checkpoint and an error in the server's log; every other
    regency's log is signed all the same."""
    damaged = runtime.create_log(new_regency())
    append(runtime, new_log.id, scans(3))
    with runtime.db.session(write=True) as session:
        session.execute(update(Log).where(Log.id == damaged.id).values(size=3))
    try:
        signed = dict(runtime.checkpointer.sign_grown_logs())
    finally:  # the rest of the suite signs every log: leave none damaged
        with runtime.db.session(write=True) as session:
            session.execute(update(Log).where(Log.id == damaged.id).values(size=0))
    assert signed[new_log.id] == 3 and damaged.id not in signed
    assert f"log {damaged.id} gets no checkpoint" in caplog.text
