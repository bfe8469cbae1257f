"""Appending to a log: one writer per log, many entries per transaction.

Concurrent callers in a process queue their entries; whichever caller finds no
integration running becomes the leader and integrates everything queued so far in
one transaction (group commit), then hands over to the next waiter. A caller on an
event loop (the web app) awaits instead of blocking a thread, and one of the
sequencer's own threads leads in its place. Across
processes the log row is locked (PostgreSQL ``FOR NO KEY UPDATE``; SQLite takes its
single write lock at BEGIN), so several server processes can append to one log safely.
Each process keeps every log's head (tree edge, items' latest entries), read once from
the database: a server reads them as it starts (`warm`), before the first scans need them."""

from __future__ import annotations

import asyncio
import base64
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar

from ledger.jcs import canonicalize
from ledger.merkle import leaf_hash
from ledger.tiles import TreeEdge
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from models.core.base import utcnow
from models.core.bulk import COPY_FROM, BulkStatement, pipelined
from models.core.errors import InvalidRequest, JejakError
from models.core.metrics import INTEGRATION_SECONDS
from models.log.tables import Log, LogEntry, LogTile, LogTreeNode
from models.log.tiles import TileStore

if TYPE_CHECKING:
    from models.core.routing import LogDatabases

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
# Entry bundles carry a 16-bit length per entry (C2SP tlog-tiles).
MAX_ENTRY_BYTES = 65535
MAX_ITEM_ID = 64
# Fields of an entry that the log assigns; a caller's record must not set them.
LOG_FIELDS = frozenset({"v", "log", "item", "seq", "prev", "received_at"})


@dataclass(frozen=True)
class NewEntry:
    """What a caller appends: the record minus the fields the log assigns."""

    record: dict[str, Any]
    item: str | None = None
    # An idempotency key (a scan's event_id): the log tip remembers every key it holds,
    # so a replay is recognised without a query.
    key: str | None = None


class Appended(NamedTuple):
    index: int
    leaf_hash: bytes
    data: bytes
    seq: int | None
    received_at: datetime


class ChainHead(NamedTuple):
    """An item's latest entry: its place in the item's chain, and in the log."""

    seq: int
    leaf: bytes
    index: int


class Refused(NamedTuple):
    """An entry a Work decided, under the lock, not to append; the reason is for people."""

    reason: str


S = TypeVar("S")


@dataclass
class Batch:
    """What each Work sees while its batch is integrated under the log's lock."""

    session: Session
    log: Log
    received_at: datetime  # the time every entry of the batch records
    # Index of the entry holding each idempotency key, in the log so far.
    keys: dict[str, int] = field(default_factory=dict)
    works: list[Work[Any]] = field(default_factory=list)
    # Every item's latest entry in the log so far.
    chains: dict[str, ChainHead] = field(default_factory=dict)
    # Run once every request's `finish` has run, before the commit: the writes that
    # works of one kind collect in their `state`, made once for the batch.
    finishing: list[Callable[[], None]] = field(default_factory=list)
    _states: dict[type, Any] = field(default_factory=dict, repr=False)

    def state(self, kind: type[S]) -> S:
        """The state that works of one kind keep across this batch: `kind(batch)` made
        the first time one of them asks, the same object after. What it holds is the
        works' business, never the sequencer's."""
        found = self._states.get(kind)
        if found is None:
            found = self._states[kind] = kind(self)
        return found

    def write_collected(self) -> None:
        """Run the `finishing` writes (once every request of the batch has finished)."""
        for write in self.finishing:
            write()

    def entered_since(self, item: str, size: int) -> bool:
        """Whether the log gained an entry of `item` once it held `size` entries: what a
        Work read of the item before the lock, at that size, is stale if so (an item
        changes only with an entry of its own)."""
        head = self.chains.get(item)
        return head is not None and head.index >= size


T = TypeVar("T", covariant=True)


class Work(Protocol, Generic[T]):
    """A request to append, decided under the log's lock and in its transaction:
    `prepare` says what to append (in order, seeing the effects of earlier requests in
    the batch); `finish` records what followed from it in the same transaction and
    makes the caller's result. Either may write through batch.session, or leave writes
    for a `batch.finishing` callback. A Work that leaves something in a `batch.state`
    may define `abandon(batch)`, called if the request fails after `prepare`, to take
    it back."""

    def prepare(self, batch: Batch) -> Sequence[NewEntry | Refused]: ...

    def finish(self, batch: Batch, results: list[Appended | Refused]) -> T: ...


@dataclass
class _Entries:
    """The plain Work: these entries, all or none."""

    entries: Sequence[NewEntry]

    def prepare(self, batch: Batch) -> Sequence[NewEntry]:
        return self.entries

    def finish(self, batch: Batch, results: list[Appended | Refused]) -> list[Appended]:
        return [r for r in results if isinstance(r, Appended)]


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass
class _Request:
    work: Work[Any]
    size: int  # entries it may append, to bound a batch
    done: threading.Event = field(default_factory=threading.Event)
    # Set for a caller awaiting on an event loop: there is no thread of theirs to wake
    # or to hand the lead to, so the sequencer's own thread leads in their place.
    on_settled: Callable[[], None] | None = None
    settled: bool = False
    result: Any = None
    error: BaseException | None = None
    promoted: bool = False
    appended: list[Appended | Refused] = field(default_factory=list)


@dataclass
class _LogQueue:
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: list[_Request] = field(default_factory=list)
    leading: bool = False
    head: LogHead | None = None


class Sequencer:
    def __init__(self, db: LogDatabases, tiles: TileStore, max_batch: int = 5000) -> None:
        self.db = db
        self.tiles = tiles
        self.max_batch = max_batch
        self._queues: dict[str, _LogQueue] = {}
        self._queues_lock = threading.Lock()
        # Leads batches whose next request is awaited rather than blocking a thread.
        self._leaders = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sequencer")
        self._closing = threading.Event()
        self.warming: threading.Thread | None = None

    def append(self, log_id: str, entries: Sequence[NewEntry]) -> list[Appended]:
        """Append entries in order; returns once they are committed to the log."""
        if not entries:
            return []
        result: list[Appended] = self.submit(log_id, _Entries(entries), len(entries))
        return result

    def submit(self, log_id: str, work: Work[T], size: int) -> T:
        """Run a Work under the log's lock, batched with concurrent ones; returns its
        result once committed. A request that fails fails alone, never its batch."""
        started = time.perf_counter()
        queue = self._queue(log_id)
        request = _Request(work, size)
        with queue.lock:
            queue.pending.append(request)
            lead = not queue.leading
            queue.leading = True
        while not lead:
            request.done.wait()
            if request.settled:
                break
            lead = request.promoted  # the previous leader handed over to us
            request.done.clear()
        if lead:
            self._lead(log_id, queue)
        if request.error is not None:
            raise request.error
        INTEGRATION_SECONDS.observe(time.perf_counter() - started)
        result: T = request.result
        return result

    async def submit_async(self, log_id: str, work: Work[T], size: int) -> T:
        """As submit, for a caller on an event loop: it awaits the commit without holding
        a thread, while one of the sequencer's threads integrates."""
        loop = asyncio.get_running_loop()
        settled: asyncio.Future[None] = loop.create_future()
        started = time.perf_counter()
        queue = self._queue(log_id)
        request = _Request(work, size, on_settled=lambda: _resolve_from_thread(loop, settled))
        with queue.lock:
            queue.pending.append(request)
            lead = not queue.leading
            queue.leading = True
        if lead:
            self._leaders.submit(self._lead, log_id, queue)
        # A caller cancelled here (its client hung up) leaves the request queued: what
        # it sent is appended all the same, and a replay finds it.
        await settled
        if request.error is not None:
            raise request.error
        INTEGRATION_SECONDS.observe(time.perf_counter() - started)
        result: T = request.result
        return result

    def warm(self, log_ids: Sequence[str]) -> int:
        """Read these logs' heads now, one after another, so that the first appends
        after a (re)start do not wait for them: a head is every item's latest entry, read
        from the whole log (about a second at 150,000 entries), and a process holds it
        for each log it appends to anyway. A log whose append got there first reads its
        own. Returns how many heads were read here."""
        read = 0
        for log_id in log_ids:
            if self._closing.is_set():
                break
            queue = self._queue(log_id)
            with queue.lock:
                if queue.leading or queue.head is not None:
                    continue
                queue.leading = True  # appends queue behind the reading, as behind a batch
            try:
                queue.head = self._read_head(log_id)
                read += 1
            finally:
                self._hand_over(log_id, queue)
        return read

    def warm_in_background(self, list_logs: Callable[[], Sequence[str]]) -> None:
        """`warm` every log that `list_logs` names, on a daemon thread (a server
        answers meanwhile; an append to a log not yet read reads it itself)."""

        def run() -> None:
            started = time.perf_counter()
            try:
                log_ids = list_logs()
                logger.info("reading the heads of %d logs ahead of their first scans", len(log_ids))
                read = self.warm(log_ids)
            except Exception:  # the database is away: each log's first append reads its head
                logger.exception("reading the logs' heads failed; each is read at its first append instead")
                return
            logger.info("read the heads of %d logs in %.1f s", read, time.perf_counter() - started)

        self.warming = threading.Thread(target=run, name="sequencer-warm", daemon=True)
        self.warming.start()

    def close(self) -> None:
        self._closing.set()
        if self.warming is not None:
            self.warming.join(timeout=30)
        self._leaders.shutdown(wait=True)

    def _queue(self, log_id: str) -> _LogQueue:
        with self._queues_lock:
            return self._queues.setdefault(log_id, _LogQueue())

    def _lead(self, log_id: str, queue: _LogQueue) -> None:
        batch: list[_Request] = []
        try:
            self._integrate(log_id, queue, batch)
        except BaseException as error:  # every waiter must wake, whatever failed
            queue.head = None  # rebuilt from the database on the next append
            if not batch:  # it failed before taking any: those queued fail with it
                batch += self._take(queue)
            for request in batch:
                request.result, request.error = None, error
        for request in batch:
            request.settled = True
        self._hand_over(log_id, queue)
        for request in batch:
            if request.on_settled is not None:
                request.on_settled()
            else:
                request.done.set()

    def _hand_over(self, log_id: str, queue: _LogQueue) -> None:
        """The log's next batch is led by the first request queued, if any."""
        with queue.lock:
            successor = queue.pending[0] if queue.pending else None
            if successor is None:
                queue.leading = False
            elif successor.on_settled is None:
                successor.promoted = True
                successor.done.set()
        if successor is not None and successor.on_settled is not None:
            self._leaders.submit(self._lead, log_id, queue)

    def _take(self, queue: _LogQueue) -> list[_Request]:
        """The queued requests for one batch, the leader's own first."""
        with queue.lock:
            batch, taken = [], 0
            while queue.pending and (
                not batch or taken + queue.pending[0].size <= self.max_batch
            ):
                request = queue.pending.pop(0)
                batch.append(request)
                taken += request.size
        return batch

    def _read_head(self, log_id: str) -> LogHead:
        # Reading a whole log's tip takes a while (about a second at 150,000 entries):
        # it is read without the lock, and under it each batch catches up on what other
        # processes appended since. Entries below a committed size never change.
        with self.db.for_log(log_id).session() as session:  # a transaction: a long tip is streamed
            size = session.scalar(select(Log.size).where(Log.id == log_id))
            if size is None:
                raise InvalidRequest(f"there is no log {log_id} here", code="log_not_found")
            return LogHead.load(session, self.tiles, log_id, size)

    def _integrate(self, log_id: str, queue: _LogQueue, batch: list[_Request]) -> None:
        """Lock the log, take the queued requests into `batch` and append them in one
        transaction; sets each request's result, or its own error if it alone cannot
        be appended. Requests are taken only once the lock is held: those that arrive
        while another process holds it join this batch instead of waiting for the next."""
        if queue.head is None:
            queue.head = self._read_head(log_id)
        with self.db.for_log(log_id).session(write=True) as session:
            # NO KEY UPDATE: appenders exclude each other, while the rows that only refer
            # to the log (a checkpoint being signed, items being registered) go on.
            log = session.scalars(
                select(Log).where(Log.id == log_id).with_for_update(key_share=True)
            ).one()
            head = queue.head
            if head.size != log.size:
                head.catch_up(session, log_id, log.size)
            batch += self._take(queue)
            received_at = utcnow()
            builder = _EntryBuilder(log, head, received_at)
            context = Batch(session, log, received_at, head.keys, works=[r.work for r in batch], chains=head.items)
            accepted = []
            for request in batch:
                try:
                    planned = request.work.prepare(context)
                    request.appended = builder.add(planned)
                    accepted.append(request)
                except JejakError as error:  # this request's own fault: it fails alone
                    request.error = error
                    if (abandon := getattr(request.work, "abandon", None)) is not None:
                        abandon(context)
            edge = head.edge.copy()
            # A batch of single scans is a few rows: each statement's round trip, under the
            # lock, would cost more than its rows.
            few = len(builder.rows) < COPY_FROM
            with pipelined(session, few):
                store_entries(session, log_id, edge, builder.rows)
            for request in accepted:
                request.result = request.work.finish(context, request.appended)
            with pipelined(session, few):
                context.write_collected()
        # Committed: only now does this process's view of the tip move on.
        head.edge = edge
        head.items.update(builder.chains)
        head.keys.update(builder.keys)


def _resolve_from_thread(loop: asyncio.AbstractEventLoop, settled: asyncio.Future[None]) -> None:
    try:
        loop.call_soon_threadsafe(_resolve, settled)
    except RuntimeError:  # the loop has closed (the app stopped): nobody is waiting
        pass


def _resolve(settled: asyncio.Future[None]) -> None:
    if not settled.done():  # not cancelled meanwhile
        settled.set_result(None)


# By COPY on PostgreSQL: under the log's lock, inserting the entries row by row was the
# largest single share of the lock holder's time. Text COPY, not binary: binary stores
# entries faster, but it sped up the plain store the log is measured against
# (`jejak bench ledger`) more than the log itself (docs/BENCHMARKS.md).
INSERT_ENTRIES = BulkStatement(
    insert(LogEntry.__table__),
    ["log_id", "idx", "leaf_hash", "data", "item_id", "seq", "key", "received_at"],
    copy_only=True,
)


def store_entries(session: Session, log_id: str, edge: TreeEdge, rows: list[dict[str, Any]]) -> None:
    """Insert entry rows (LogEntry columns) at the tree's next indexes, with the tree
    nodes and full tiles they complete, and move the log's size on; `edge` grows."""
    full_tiles: list[tuple[int, int, bytes]] = []
    nodes = edge.extend([row["leaf_hash"] for row in rows], full_tiles)
    connection = session.connection()
    INSERT_ENTRIES.execute(connection, rows)
    if nodes:
        connection.execute(
            insert(LogTreeNode.__table__),
            [{"log_id": log_id, "level": lv, "idx": ix, "hash": h} for lv, ix, h in nodes],
        )
        connection.execute(
            insert(LogTile.__table__),
            [{"log_id": log_id, "level": k, "idx": n, "hashes": t} for k, n, t in full_tiles],
        )
    connection.execute(update(Log.__table__).where(Log.id == log_id).values(size=edge.size))


class _EntryBuilder:
    """Turns records into entry rows at consecutive indexes, chaining each item."""

    def __init__(self, log: Log, head: LogHead, received_at: datetime) -> None:
        self.log_id = log.id
        self.origin = log.origin
        self.head = head
        self.received_at = received_at
        self.stamp = rfc3339(received_at)
        self.index = log.size
        self.rows: list[dict[str, Any]] = []
        self.chains: dict[str, ChainHead] = {}  # this batch's new chain heads
        self.keys: dict[str, int] = {}  # this batch's idempotency keys

    def add(self, entries: Sequence[NewEntry | Refused]) -> list[Appended | Refused]:
        """Build one request's entries (refusals pass through); all or none join the batch."""
        chains: dict[str, ChainHead] = {}
        keys: dict[str, int] = {}
        rows: list[dict[str, Any]] = []
        appended: list[Appended | Refused] = []
        index = self.index
        log_id, origin, stamp, received_at = self.log_id, self.origin, self.stamp, self.received_at
        for entry in entries:
            if isinstance(entry, Refused):
                appended.append(entry)
                continue
            check_entry(entry)
            item = entry.item
            seq: int | None = None
            prev: str | None = None
            if item:
                last = chains.get(item) or self.chains.get(item)
                last = last or self.head.items.get(item)
                seq = last.seq + 1 if last else 1
                prev = b64(last.leaf) if last else None
            record = {
                **entry.record, "v": FORMAT_VERSION, "log": origin, "item": item, "seq": seq, "prev": prev,
                "received_at": stamp,
            }  # fmt: skip
            data = canonicalize(record)
            if len(data) > MAX_ENTRY_BYTES:
                raise InvalidRequest(
                    f"an entry of {len(data)} bytes exceeds the limit of {MAX_ENTRY_BYTES}"
                )
            leaf = leaf_hash(data)
            if item:
                chains[item] = ChainHead(seq, leaf, index)  # type: ignore[arg-type]
            rows.append(
                {
                    "log_id": log_id,
                    "idx": index,
                    "leaf_hash": leaf,
                    "data": data,
                    "item_id": item,
                    "seq": seq,
                    "key": entry.key,
                    "received_at": received_at,
                }
            )
            if entry.key is not None:
                keys[entry.key] = index
            appended.append(Appended(index, leaf, data, seq, received_at))
            index += 1
        self.index = index
        self.rows += rows
        self.chains.update(chains)
        self.keys.update(keys)
        return appended


_STREAM_FROM = 10_000  # entries read at once


class LogHead:
    """This process's view of a log's tip: the tree's right edge, every item's latest
    (seq, leaf hash) and every idempotency key. Whenever another process has appended, it catches up by
    reading just the entries added since, so under the log lock it is always exact
    and no append has to look anything up."""

    def __init__(self, edge: TreeEdge, items: dict[str, ChainHead]) -> None:
        self.edge = edge
        self.items = items
        self.keys: dict[str, int] = {}  # idempotency key → entry index

    @property
    def size(self) -> int:
        return self.edge.size

    @classmethod
    def load(cls, session: Session, tiles: TileStore, log_id: str, size: int) -> LogHead:
        edge = TreeEdge.load(size, lambda wanted: tiles.fetch(session, log_id, wanted))
        head = cls(edge, {})
        head._read_items(session, log_id, 0, size)
        return head

    def catch_up(self, session: Session, log_id: str, size: int) -> None:
        leaves = self._read_items(session, log_id, self.size, size)
        self.edge.extend(leaves)  # the nodes it completes are stored already

    def _read_items(self, session: Session, log_id: str, start: int, end: int) -> list[bytes]:
        leaves = []
        query = (
            select(LogEntry.idx, LogEntry.item_id, LogEntry.seq, LogEntry.leaf_hash, LogEntry.key)
            .where(LogEntry.log_id == log_id, LogEntry.idx >= start, LogEntry.idx < end)
            .order_by(LogEntry.idx)
        )
        if end - start > _STREAM_FROM:  # a whole log is streamed; catching up is one round trip
            query = query.execution_options(yield_per=_STREAM_FROM)
        rows = session.execute(query)
        for idx, item_id, seq, leaf, key in rows:
            leaves.append(leaf)
            if item_id is not None:
                self.items[item_id] = ChainHead(seq, leaf, idx)
            if key is not None:
                self.keys[key] = idx
        return leaves


def check_entry(entry: NewEntry) -> None:
    """Refuse what is wrong with an entry on its face, before it joins a batch."""
    if assigned := LOG_FIELDS & entry.record.keys():
        raise InvalidRequest(f"the log assigns {sorted(assigned)}; a record must not set them")
    if entry.item is not None and not 0 < len(entry.item) <= MAX_ITEM_ID:
        raise InvalidRequest(f"an item id has 1 to {MAX_ITEM_ID} characters")
