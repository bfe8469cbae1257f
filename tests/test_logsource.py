"""One way to read a log wherever it is kept: the server's tiles, a mirror, a bundle."""

from __future__ import annotations

import io
import json
import tarfile

import httpx
import pytest
from ledger import merkle
from ledger.checkpoint import Checkpoint
from ledger.note import parse_note
from ledger.tiles import entries_path, tile_path

from scripts.logsource import (
    BundleSource,
    DirectorySource,
    HttpSource,
    MissingResource,
    SourceError,
    bundle_widths,
    open_source,
)
from tests.helpers import append, scans, wait_for_checkpoint


@pytest.fixture
def served_log(runtime, new_log, live_server):
    """A log of 300 entries behind the live server, with a checkpoint at 300."""
    append(runtime, new_log.id, scans(300))
    runtime.checkpointer.sign_grown_logs()
    wait_for_checkpoint(live_server, new_log.id, 300)
    return new_log, f"{live_server}/logs/{new_log.id}"


def _size(note: str) -> int:
    return Checkpoint.parse(parse_note(note).text).size


def _copy(source, root, paths):
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(source.read(path))


MIRRORED = [
    "checkpoint", tile_path(0, 0), tile_path(0, 1, 44), tile_path(1, 0, 1), entries_path(0), entries_path(1, 44),
]


def test_bundle_widths():
    assert list(bundle_widths(0)) == []
    assert list(bundle_widths(256)) == [(0, 256)]
    assert list(bundle_widths(600)) == [(0, 256), (1, 256), (2, 88)]


def test_reads_the_servers_tiles(served_log):
    log, url = served_log
    with open_source(url) as source:
        assert isinstance(source, HttpSource) and source.log_id == log.id
        checkpoint = Checkpoint.parse(parse_note(source.checkpoint_note()).text)
        assert checkpoint.size == 300
        assert merkle.tree_root(300, source.tile_reader(300)) == checkpoint.root
        entries = source.entry_bundle(0, 256) + source.entry_bundle(1, 44)
        tree = merkle.MemoryTree()
        tree.extend(merkle.leaf_hash(e) for e in entries)
        assert tree.root() == checkpoint.root
        assert source.log_info()["verifier_key"] == log.verifier_key
        with pytest.raises(MissingResource, match=r"has no tile/entries/002$") as missing:
            source.read(entries_path(2))
        assert missing.value.path == "tile/entries/002"


def test_directory_and_bundle_hold_the_same_paths(served_log, tmp_path):
    log, url = served_log
    mirror = tmp_path / "mirror"
    with open_source(url) as source:
        _copy(source, mirror, MIRRORED)
        expected = source.entry_bundle(1, 44)
    (mirror / "log.json").write_text(json.dumps({"log": log.id, "origin": log.origin}))
    bundle = tmp_path / "export.tar.gz"
    with tarfile.open(bundle, "w:gz") as tar:
        for path in sorted(mirror.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(mirror)), recursive=False)
    for location, kind in ((mirror, DirectorySource), (bundle, BundleSource)):
        with open_source(str(location)) as source:
            assert isinstance(source, kind)
            assert source.entry_bundle(1, 44) == expected
            assert source.log_info() == {"log": log.id, "origin": log.origin}
            assert merkle.tree_root(300, source.tile_reader(300)) == Checkpoint.parse(
                parse_note(source.checkpoint_note()).text
            ).root
            with pytest.raises(MissingResource, match="has no checkpoints/300"):
                source.read("checkpoints/300")


def test_a_partial_tile_is_read_from_the_full_one_that_replaced_it(served_log, tmp_path):
    _, url = served_log
    with open_source(url) as source:
        _copy(source, tmp_path, [tile_path(0, 0), entries_path(0)])
        full = source.read(tile_path(0, 0))
        first = source.entry_bundle(0, 256)[:10]
    source = DirectorySource(tmp_path)
    assert source.hash_tiles([(0, 0, 10)]) == [full[: 10 * 32]]
    assert source.entry_bundle(0, 10) == first
    assert source.log_info() is None


@pytest.mark.parametrize("path", ["../etc/passwd", "/etc/passwd", "tile/../../x", "tile//0", ""])
def test_paths_stay_inside_the_log(tmp_path, path):
    with pytest.raises(ValueError, match="not a relative path inside a log"):
        DirectorySource(tmp_path).read(path)


def test_unreadable_locations_are_named(tmp_path):
    with pytest.raises(SourceError, match="neither an http"):
        open_source(str(tmp_path / "nowhere"))
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar file")
    with pytest.raises(SourceError, match="junk.tar.gz is not a readable .tar.gz bundle"):
        open_source(str(junk))


def test_a_bundle_cannot_write_outside_its_directory(tmp_path):
    bundle = tmp_path / "evil.tar.gz"
    with tarfile.open(bundle, "w:gz") as tar:
        info = tarfile.TarInfo("../escaped")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(SourceError, match="not a readable"):
        BundleSource(bundle)
    assert not (tmp_path / "escaped").exists()


def _flaky(answers):
    """A transport answering each request with the next of `answers` (status codes or errors)."""
    calls = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        answer = answers[min(len(calls) - 1, len(answers) - 1)]
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, content=b"body")

    return httpx.Client(transport=httpx.MockTransport(handle)), calls


def test_http_retries_server_errors_and_lost_connections():
    client, calls = _flaky([503, httpx.ConnectError("refused"), 200])
    source = HttpSource("http://log.example/logs/53.03", client=client, backoff=0)
    assert source.read("checkpoint") == b"body"
    assert calls == ["/logs/53.03/checkpoint"] * 3


def test_http_gives_up_after_its_retries_and_on_client_errors():
    client, calls = _flaky([502])
    source = HttpSource("http://log.example/logs/53.03", client=client, retries=2, backoff=0)
    with pytest.raises(SourceError, match="GET http://log.example/logs/53.03/checkpoint failed: HTTP 502"):
        source.read("checkpoint")
    assert len(calls) == 3
    client, calls = _flaky([403])
    with pytest.raises(SourceError, match="HTTP 403"):
        HttpSource("http://log.example/logs/53.03", client=client, backoff=0).read("checkpoint")
    assert len(calls) == 1


def test_http_names_the_server_and_the_api():
    source = HttpSource("https://jejak.example/base/logs/53.03/")
    assert (source.log_id, source.server) == ("53.03", "https://jejak.example/base")
    assert HttpSource("https://mirror.example/tlog").log_id is None
