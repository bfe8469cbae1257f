"""An outsider with nothing but ledger/ and HTTP checks everything the log claims."""

from __future__ import annotations


import httpx
from ledger import merkle
from ledger.checkpoint import open_checkpoint
from ledger.note import Verifier
from ledger.tiles import TileHashReader, decode_entry_bundle, entries_path, tile_path

from tests.helpers import append, b64decode, scans, wait_for_checkpoint

ENTRIES = 600  # more than two full tiles, so stored level-8 nodes are exercised


def test_outsider_verifies_the_whole_log(runtime, new_log, live_server):
    for start in range(0, ENTRIES, 150):
        append(runtime, new_log.id, scans(150, start=start))
    http = httpx.Client(base_url=live_server, timeout=10)

    listed = {log["log"]: log for log in http.get("/api/v1/logs").json()["logs"]}[new_log.id]
    verifier = Verifier.from_vkey(listed["verifier_key"])
    assert verifier.name == listed["origin"]
    wait_for_checkpoint(live_server, new_log.id, ENTRIES)
    checkpoint, _ = open_checkpoint(http.get(f"/api/v1/logs/{new_log.id}/checkpoint").text, verifier)
    assert (checkpoint.origin, checkpoint.size) == (listed["origin"], ENTRIES)

    leaves: list[bytes] = []
    while len(leaves) < checkpoint.size:
        page = http.get(f"/api/v1/logs/{new_log.id}/entries", params={"start": len(leaves)}).json()
        for entry in page["entries"]:
            assert entry["index"] == len(leaves)
            leaves.append(merkle.leaf_hash(b64decode(entry["entry"])))
            assert b64decode(entry["leaf_hash"]) == leaves[-1]
    tree = merkle.MemoryTree()
    tree.extend(leaves)
    assert tree.root() == checkpoint.root

    for index in range(checkpoint.size):
        proof = http.get(
            f"/api/v1/logs/{new_log.id}/proof/inclusion",
            params={"index": index, "tree_size": checkpoint.size},
        ).json()
        assert b64decode(proof["leaf_hash"]) == leaves[index]
        merkle.verify_inclusion(
            leaves[index],
            index,
            checkpoint.size,
            [b64decode(h) for h in proof["proof"]],
            checkpoint.root,
        )

    for first in range(1, checkpoint.size + 1):
        proof = http.get(
            f"/api/v1/logs/{new_log.id}/proof/consistency",
            params={"first": first, "second": checkpoint.size},
        ).json()
        merkle.verify_consistency(
            first,
            checkpoint.size,
            tree.root(first),
            checkpoint.root,
            [b64decode(h) for h in proof["proof"]],
        )


def test_outsider_verifies_through_the_tiles(runtime, new_log, live_server):
    append(runtime, new_log.id, scans(300))
    http = httpx.Client(base_url=live_server, timeout=10)
    vkey = http.get("/api/v1/logs").json()["logs"]
    verifier = Verifier.from_vkey({log["log"]: log for log in vkey}[new_log.id]["verifier_key"])
    wait_for_checkpoint(live_server, new_log.id, 300)
    checkpoint, _ = open_checkpoint(http.get(f"/api/v1/logs/{new_log.id}/checkpoint").text, verifier)
    assert http.get(f"/logs/{new_log.id}/checkpoint").text.startswith(checkpoint.origin + "\n")

    def fetch(tiles):
        return [http.get(f"/logs/{new_log.id}/{tile_path(*t)}").content for t in tiles]

    assert merkle.tree_root(300, TileHashReader(300, fetch)) == checkpoint.root

    entries = decode_entry_bundle(http.get(f"/logs/{new_log.id}/{entries_path(0)}").content)
    last = http.get(f"/logs/{new_log.id}/{entries_path(1, 44)}")
    assert last.status_code == 200, last.text
    entries += decode_entry_bundle(last.content)
    tree = merkle.MemoryTree()
    tree.extend([merkle.leaf_hash(e) for e in entries])
    assert tree.root() == checkpoint.root
