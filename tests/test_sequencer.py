"""Appending to the log: order, per-item chains, the stored tree, concurrency."""

from __future__ import annotations

import asyncio
import base64
import multiprocessing
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from api.app import create_app
from fastapi.testclient import TestClient
from ledger import merkle
from ledger.merkle import MemoryTree, leaf_hash
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from models.core.errors import InvalidRequest
from models.core.settings import Settings
from models.custody.overdue import OverdueWatch
from models.log import sequencer
from models.log.checkpointer import Checkpointer
from models.log.sequencer import MAX_ENTRY_BYTES, LogHead, NewEntry
from models.log.tables import Log, LogEntry, LogTreeNode
from models.runtime import Runtime
from tests.helpers import append, record, scans, wait_for, wait_for_async, wait_until_queued


def _stored(runtime: Runtime, log_id: str) -> list[LogEntry]:
    with runtime.db.session() as session:
        return list(
            session.scalars(select(LogEntry).where(LogEntry.log_id == log_id).order_by(LogEntry.idx))
        )


def _assert_chains(entries: list[LogEntry]) -> None:
    """Every item's entries have seq 1, 2, 3... each prev naming the one before."""
    last: dict[str, tuple[int, bytes]] = {}
    for entry in entries:
        body = record(entry.data)
        assert body["item"] == entry.item_id
        if entry.item_id is None:
            continue
        seq, prev = last.get(entry.item_id, (0, None))
        assert body["seq"] == entry.seq == seq + 1, f"index {entry.idx}"
        expected_prev = None if prev is None else base64.b64encode(prev).decode()
        assert body["prev"] == expected_prev, f"index {entry.idx}"
        last[entry.item_id] = (entry.seq, entry.leaf_hash)


def _assert_stored_tree(runtime: Runtime, log_id: str, entries: list[LogEntry]) -> None:
    """The root the stored tree gives is the root of the entries' own leaf hashes."""
    tree = MemoryTree()
    for e in entries:
        tree.append(e.leaf_hash)
    with runtime.db.session() as session:
        assert merkle.tree_root(len(entries), runtime.tiles.reader(session, log_id, len(entries))) == tree.root()


def test_append_assigns_indexes_and_log_fields(runtime, new_log):
    appended = append(runtime, new_log.id, scans(5))
    assert [a.index for a in appended] == [0, 1, 2, 3, 4]
    first = record(appended[0].data)
    assert first["v"] == 1
    assert first["log"] == new_log.origin == "jejak.test/log/" + new_log.id
    assert first["seq"] == 1 and first["prev"] is None
    assert first["received_at"].endswith("Z")
    assert all(a.leaf_hash == leaf_hash(a.data) for a in appended)
    # RFC 8785 bytes: sorted keys, no whitespace.
    assert appended[0].data.startswith(b'{"item":')
    assert b" " not in appended[0].data.replace(b'"scan"', b"")


def test_chains_continue_across_batches(runtime, new_log):
    for start in range(0, 60, 20):
        append(runtime, new_log.id, scans(20, items=3, start=start))
    entries = _stored(runtime, new_log.id)
    assert len(entries) == 60
    _assert_chains(entries)
    assert max(e.seq for e in entries) == 20


def test_stored_tree_gives_every_root(runtime, new_log):
    # 600 entries: two full level-0 tiles, so level-8 nodes are stored.
    appended = []
    for start in range(0, 600, 97):
        appended += append(runtime, new_log.id, scans(min(97, 600 - start), start=start))
    reference = MemoryTree()
    for a in appended:
        reference.append(a.leaf_hash)
    with runtime.db.session() as session:
        nodes = session.scalars(
            select(LogTreeNode.level).where(LogTreeNode.log_id == new_log.id)
        ).all()
        assert sorted(nodes) == [8, 8]
        for size in (1, 2, 255, 256, 257, 511, 512, 513, 600):
            reader = runtime.tiles.reader(session, new_log.id, size)
            assert merkle.tree_root(size, reader) == reference.root(size), size
            assert merkle.inclusion_proof(size // 2, size, reader) == reference.inclusion_proof(
                size // 2, size
            )


def test_records_may_not_set_log_fields(runtime, new_log):
    with pytest.raises(InvalidRequest, match="the log assigns"):
        append(runtime, new_log.id, [NewEntry({"type": "scan", "seq": 7}, item="BOX")])
    assert _stored(runtime, new_log.id) == []


def test_oversized_entry_fails_its_request_alone(runtime, new_log):
    """An oversized entry sharing a batch with others fails only its own request."""
    huge = [NewEntry({"type": "scan", "note": "x" * MAX_ENTRY_BYTES}, item="BOX-2")]
    outcomes: dict[str, object] = {}
    start = threading.Barrier(6)

    def send(name: str, entries: list[NewEntry]) -> None:
        start.wait()
        try:
            outcomes[name] = append(runtime, new_log.id, entries)
        except InvalidRequest as error:
            outcomes[name] = error

    senders = [threading.Thread(target=send, args=("huge", scans(1, items=1) + huge))]
    senders += [
        threading.Thread(target=send, args=(f"ok{n}", scans(3, items=1, start=10 * n)))
        for n in range(5)
    ]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    assert "exceeds the limit of 65535" in str(outcomes.pop("huge"))
    assert all(isinstance(result, list) for result in outcomes.values())
    entries = _stored(runtime, new_log.id)
    assert [e.idx for e in entries] == list(range(15))
    # The refused request's first entry, for the same box, left no gap in its chain.
    _assert_chains(entries)


def test_unknown_log_is_refused(runtime):
    with pytest.raises(InvalidRequest, match="no log 99.99"):
        append(runtime, "99.99", scans(1))


def test_concurrent_appends_lose_and_duplicate_nothing(runtime, new_log):
    threads, rounds, per = 8, 15, 3
    results: list[list[int]] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        for r in range(rounds):
            got = append(runtime, new_log.id, scans(per, items=5, start=(t * rounds + r) * per))
            with lock:
                results.append([a.index for a in got])

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    total = threads * rounds * per
    indexes = sorted(i for r in results for i in r)
    assert indexes == list(range(total))
    # Each request's entries stay together and in order.
    assert all(r == list(range(r[0], r[0] + per)) for r in results)
    entries = _stored(runtime, new_log.id)
    assert sorted(record(e.data)["n"] for e in entries) == list(range(total))
    _assert_chains(entries)
    with runtime.db.session() as session:
        assert session.get_one(Log, new_log.id).size == total


def _append_in_process(settings: Settings, log_id: str, worker: int, count: int) -> None:
    runtime = Runtime(settings)
    try:
        for n in range(count):
            runtime.sequencer.append(log_id, scans(2, items=3, start=(worker * count + n) * 2))
    finally:
        runtime.close()


def test_several_processes_append_to_one_log(runtime, settings, new_log):
    """Separate server processes serialize on the database, not on a Python lock."""
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_append_in_process, args=(settings, new_log.id, w, 25))
        for w in range(3)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
        assert process.exitcode == 0
    entries = _stored(runtime, new_log.id)
    assert [e.idx for e in entries] == list(range(150))
    assert sorted(record(e.data)["n"] for e in entries) == list(range(150))
    _assert_chains(entries)
    _assert_stored_tree(runtime, new_log.id, entries)
    with runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(LogTreeNode).where(
            LogTreeNode.log_id == new_log.id)) == 0


@contextmanager
def _log_held_elsewhere(runtime: Runtime, log_id: str) -> Iterator[None]:
    """Another server process holding the log's lock for the block's duration."""
    locked, release = threading.Event(), threading.Event()

    def other_process() -> None:
        with runtime.db.session(write=True) as session:
            session.scalars(select(Log).where(Log.id == log_id).with_for_update()).one()
            locked.set()
            release.wait(timeout=60)

    holder = threading.Thread(target=other_process)
    holder.start()
    assert locked.wait(timeout=30)
    try:
        yield
    finally:
        release.set()
        holder.join()


def test_requests_queued_while_another_writer_holds_the_log_share_one_commit(runtime, new_log):
    """Another server process holding the log is the usual wait under load: whatever
    queues here meanwhile is appended in one transaction once the lock is free, not in
    one transaction each (a TPS's phone syncs five scans; thousands sync at once)."""
    results: list[list[int]] = []

    def phone_syncs(n: int) -> None:
        results.append([a.index for a in append(runtime, new_log.id, scans(5, start=5 * n))])

    requests = [threading.Thread(target=phone_syncs, args=(n,)) for n in range(6)]
    with _log_held_elsewhere(runtime, new_log.id):
        for thread in requests:
            thread.start()
        wait_until_queued(runtime, new_log.id, len(requests))  # their leader's among them, waiting for the lock
    for thread in requests:
        thread.join(timeout=30)
    assert sorted(i for r in results for i in r) == list(range(30))
    entries = _stored(runtime, new_log.id)
    assert len({e.received_at for e in entries}) == 1, "appended in more than one transaction"
    _assert_chains(entries)


def test_a_starting_process_reads_the_tip_before_taking_the_lock_and_catches_up(runtime, settings, new_log, monkeypatch):
    """A server process (re)started under load reads the log's whole tip (about a second
    at 150,000 entries) without holding the log, so other processes go on appending
    meanwhile; under the lock it reads only what they added."""
    append(runtime, new_log.id, scans(20))
    monkeypatch.setattr(sequencer, "_STREAM_FROM", 8)  # a long tip is streamed: so is this one
    load = LogHead.load

    def load_while_another_process_appends(cls, session, tiles, log_id, size):
        head = load(session, tiles, log_id, size)
        other = threading.Thread(target=append, args=(runtime, new_log.id, scans(10, start=20)))
        other.start()
        other.join(timeout=20)
        assert not other.is_alive(), "the tip was read while holding the log: the other process waited"
        return head

    monkeypatch.setattr(LogHead, "load", classmethod(load_while_another_process_appends))
    starting = Runtime(settings)
    try:
        appended = starting.sequencer.append(new_log.id, scans(5, start=30))
    finally:
        starting.close()
    assert [a.index for a in appended] == [30, 31, 32, 33, 34]
    entries = _stored(runtime, new_log.id)
    assert [record(e.data)["n"] for e in entries] == list(range(35))
    _assert_chains(entries)
    _assert_stored_tree(runtime, new_log.id, entries)


def _head_reads(monkeypatch: pytest.MonkeyPatch, hold: threading.Event | None = None) -> list[tuple[str, int]]:
    """Every reading of a log's whole head, as (log, size); with `hold`, each reading
    waits for it to be set (a long log, still being read)."""
    reads: list[tuple[str, int]] = []
    load = LogHead.load

    def recorded(cls, session, tiles, log_id, size):
        reads.append((log_id, size))
        if hold is not None:
            assert hold.wait(timeout=30)
        return load(session, tiles, log_id, size)

    monkeypatch.setattr(LogHead, "load", classmethod(recorded))
    return reads


def test_a_starting_process_reads_its_logs_heads_before_their_first_appends(runtime, settings, new_log, monkeypatch):
    """After a restart on election night every log's first scans would wait while its
    head is read (about a second at 150,000 entries): the server reads the heads as it
    starts. Appends that arrive meanwhile queue behind the reading, blocking and awaiting
    callers alike, and are appended with the head it read, not a second reading."""
    append(runtime, new_log.id, scans(20))
    go_on = threading.Event()
    reads = _head_reads(monkeypatch, hold=go_on)
    starting = Runtime(settings)
    try:
        starting.sequencer.warm_in_background(lambda: [new_log.id])
        wait_for(lambda: reads, "the head being read", every=0.01)
        blocked: list[list[int]] = []
        awaited: list[list[int]] = []
        callers = [
            threading.Thread(target=lambda: blocked.append([a.index for a in append(starting, new_log.id, scans(3, start=20))])),
            threading.Thread(target=lambda: awaited.append(asyncio.run(
                starting.sequencer.submit_async(new_log.id, _Append(scans(2, start=23)), 2)))),
        ]  # fmt: skip
        for caller in callers:
            caller.start()
        wait_until_queued(starting, new_log.id, 2)
        go_on.set()
        for caller in callers:
            caller.join(timeout=30)
        assert starting.sequencer.warming is not None
        starting.sequencer.warming.join(timeout=30)
        assert starting.sequencer.warm([new_log.id]) == 0, "a head already read was read again"
    finally:
        starting.close()
    assert reads == [(new_log.id, 20)]
    assert sorted(blocked[0] + awaited[0]) == [20, 21, 22, 23, 24]
    entries = _stored(runtime, new_log.id)
    assert [record(e.data)["n"] for e in entries] == list(range(25))
    _assert_chains(entries)
    _assert_stored_tree(runtime, new_log.id, entries)


def test_the_server_reads_every_logs_head_as_it_starts(settings, new_log, monkeypatch):
    """The web app starts the reading with its other background work; an operator can
    turn it off (JEJAK_READ_HEADS_AT_START=false), and then no head is read at start."""
    reads = _head_reads(monkeypatch)
    # Only the reading is this test's: the server's other background work stays off,
    # and its metrics stay those of the suite's own app (one registry per process).
    monkeypatch.setattr(Checkpointer, "start", lambda self: None)
    monkeypatch.setattr(OverdueWatch, "start", lambda self: None)
    monkeypatch.setattr(REGISTRY, "register", lambda collector: None)
    monkeypatch.setattr(REGISTRY, "unregister", lambda collector: None)
    app = create_app(settings.model_copy(update={"webhook_delivery": False}))
    with TestClient(app):
        warming = app.state.runtime.sequencer.warming
        assert warming is not None
        warming.join(timeout=60)
        assert not warming.is_alive()
    assert (new_log.id, 0) in reads
    reads.clear()
    lazy = create_app(settings.model_copy(update={"webhook_delivery": False, "read_heads_at_start": False}))
    with TestClient(lazy):
        assert lazy.state.runtime.sequencer.warming is None
    assert reads == []


class _Append:
    """A plain Work, as the event-loop callers (signed scans) hand the sequencer."""

    def __init__(self, entries: list[NewEntry]) -> None:
        self.entries = entries

    def prepare(self, batch: sequencer.Batch) -> list[NewEntry]:
        return self.entries

    def finish(self, batch: sequencer.Batch, results: list) -> list[int]:
        return [r.index for r in results]


def test_awaiting_and_blocking_callers_append_to_one_log_in_one_order(runtime, new_log):
    """The web app awaits its scans' commit on the event loop while CLI commands and
    sync endpoints block a thread: both kinds queue for the same log and neither loses,
    duplicates or reorders the other's entries; a bad request fails alone."""
    results: list[list[int]] = []

    def blocking(n: int) -> None:
        results.append([a.index for a in append(runtime, new_log.id, scans(3, items=4, start=3 * n))])

    async def awaiting() -> list[object]:
        async def one(n: int) -> list[int]:
            return await runtime.sequencer.submit_async(new_log.id, _Append(scans(3, items=4, start=3 * n)), 3)

        huge = _Append([NewEntry({"type": "scan", "note": "x" * MAX_ENTRY_BYTES}, item="BOX-2")])
        return await asyncio.gather(
            *(one(n) for n in range(10, 30)),
            runtime.sequencer.submit_async(new_log.id, huge, 1),
            return_exceptions=True,
        )

    threads = [threading.Thread(target=blocking, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    awaited = asyncio.run(awaiting())
    for thread in threads:
        thread.join(timeout=30)
    assert "exceeds the limit" in str(awaited.pop())
    results += awaited  # type: ignore[arg-type]
    assert sorted(i for r in results for i in r) == list(range(90))
    assert all(r == list(range(r[0], r[0] + 3)) for r in results)
    entries = _stored(runtime, new_log.id)
    assert sorted(record(e.data)["n"] for e in entries) == list(range(90))
    _assert_chains(entries)


def test_a_queued_request_is_appended_even_if_its_caller_hangs_up(runtime, new_log):
    """A phone whose connection drops while its scans wait for the log must find them
    there when it syncs again (a replay then answers 'duplicate'), not half-recorded;
    and the requests batched with it are answered, even once its event loop is gone."""

    async def hang_up() -> None:
        request = asyncio.ensure_future(runtime.sequencer.submit_async(new_log.id, _Append(scans(4)), 4))
        queue = runtime.sequencer._queue(new_log.id)
        await wait_for_async(lambda: queue.pending, "the request queued, its leader waiting for the log")
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request

    queued_behind: list[list[int]] = []
    blocking = threading.Thread(
        target=lambda: queued_behind.append([a.index for a in append(runtime, new_log.id, scans(2, start=4))])
    )
    with _log_held_elsewhere(runtime, new_log.id):
        asyncio.run(hang_up())  # and its loop is closed
        blocking.start()
        wait_until_queued(runtime, new_log.id, 2)
    blocking.join(timeout=30)
    assert queued_behind == [[4, 5]], "the request batched with the abandoned one was never answered"
    entries = _stored(runtime, new_log.id)
    assert sorted(record(e.data)["n"] for e in entries) == [0, 1, 2, 3, 4, 5]
    _assert_chains(entries)
