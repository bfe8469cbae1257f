"""`jejak bench ledger`: what the log costs over a plain insert, and how fast its proofs are.

Prints, for each database, side by side in one run:
- append throughput of N entries (~500 bytes, 1,000 per append as an offline sync
  delivers them) next to a plain insert of the same rows into a table with no tree;
- inclusion and consistency proof latency (p50, p99) at a 1,000,000-entry log;
- the same proofs from pymerkle (InmemoryTree and SqliteTree) over the same leaves,
  with a check that every implementation computes the same root.
pymerkle is GPL: it is only an optional benchmark dependency (`pip install .[bench]`)."""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    text,
)
from sqlalchemy.engine import make_url

from ledger.merkle import MemoryTree
from ledger.tiles import TILE_WIDTH

from models.log import reads

from models.core import migrations
from models.core.base import UTCDateTime
from models.core.bulk import BulkStatement
from models.core.db import Database
from models.core.settings import Settings
from models.log.sequencer import Appended, NewEntry
from models.log.tiles import TileStore
from models.runtime import Runtime

BATCH = 1000
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

plain_metadata = MetaData()
# The migrated logs table, named here so the baseline tables can refer to it as
# log_entries does (create_all finds it exists and leaves it alone).
Table("logs", plain_metadata, Column("id", String(16), primary_key=True))


def _plain_table(name: str) -> Table:
    """The same columns, keys and item index as log_entries, but no tree, no triggers."""
    return Table(
        name,
        plain_metadata,
        Column("log_id", String(16), ForeignKey("logs.id"), primary_key=True),
        Column("idx", BigInteger, primary_key=True, autoincrement=False),
        Column("leaf_hash", LargeBinary(32), nullable=False),
        Column("data", LargeBinary, nullable=False),
        Column("item_id", String(64)),
        Column("seq", BigInteger),
        Column("received_at", UTCDateTime, nullable=False),
        Index(f"ix_{name}_item_seq", "log_id", "item_id", "seq", unique=True),
    )


prebuilt_rows = _plain_table("bench_plain_prebuilt")
serialized_rows = _plain_table("bench_plain_serialized")
_PLAIN_COLUMNS = ["log_id", "idx", "leaf_hash", "data", "item_id", "seq", "received_at"]
# The baselines insert as the log stores its entries (COPY on PostgreSQL, Core's
# executemany on SQLite), so the ratio is the cost of the log, not of an insert method.
insert_prebuilt_rows = BulkStatement(insert(prebuilt_rows), _PLAIN_COLUMNS, copy_only=True)
insert_serialized_rows = BulkStatement(insert(serialized_rows), _PLAIN_COLUMNS, copy_only=True)


def scan_records(count: int, *, boxes: int, start: int = 0) -> list[NewEntry]:
    """Records shaped like a signed handoff scan, about 500 bytes as entries."""
    rng = random.Random(start)
    return [
        NewEntry(
            {
                "type": "dispatch",
                "device": f"dev-{rng.getrandbits(64):016x}",
                "sig": rng.randbytes(64).hex()[:86] + "==",
                "scan": {
                    "event_id": f"{rng.getrandbits(128):032x}",
                    "observed_at": "2026-11-26T07:15:00Z",
                    "site": "53.03.08",
                    "counterparty": "53.03.08.2001",
                    "seals": [f"TTU-{rng.randrange(10**6):06d}", f"TTU-{rng.randrange(10**6):06d}"],
                    "escorts": [f"NRP-{rng.randrange(10**8):08d}"],
                },
            },
            item=f"53.03.08.{2001 + (n % boxes) // 100:04d}-{n % boxes % 100:03d}-BUP",
        )
        for n in range(start, start + count)
    ]


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(samples: int, operation: Callable[[int], object]) -> tuple[float, float]:
    """p50 and p99 in milliseconds of `samples` calls of operation(i)."""
    times = []
    for i in range(samples):
        started = time.perf_counter()
        operation(i)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 0.99)


def recreate_database(url: str) -> None:
    """Drop the database `url` names and create it empty (an SQLite file is deleted)."""
    target = make_url(url)
    if target.get_backend_name() == "sqlite":
        if target.database and target.database != ":memory:":
            Path(target.database).unlink(missing_ok=True)
        return
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}"'))
        connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


@contextmanager
def bench_database(url: str, workdir: Path) -> Iterator[str]:
    """A fresh, migrated database for one benchmark run. On PostgreSQL: `jejak_bench`
    for the server's `postgres` database, else `<name>_bench` for the database `url`
    names (a name already ending so is kept), so that benchmarks run from different
    databases do not drop each other's."""
    if url.startswith("sqlite"):
        bench_url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        name = make_url(url).database or "postgres"
        bench = "jejak_bench" if name == "postgres" else name if name.endswith("_bench") else f"{name}_bench"
        bench_url = make_url(url).set(database=bench).render_as_string(hide_password=False)
    recreate_database(bench_url)
    migrations.upgrade(bench_url)
    yield bench_url


def append_all(runtime: Runtime, log_id: str, records: list[NewEntry]) -> list[Appended]:
    appended: list[Appended] = []
    for start in range(0, len(records), BATCH):
        appended += runtime.sequencer.append(log_id, records[start : start + BATCH])
    return appended


def insert_prebuilt(
    runtime: Runtime, log_id: str, records: list[NewEntry], appended: list[Appended]
) -> None:
    """Baseline 1: the log's own rows, bytes and all, inserted into a table with no tree."""
    rows = [
        {
            "log_id": log_id,
            "idx": a.index,
            "leaf_hash": a.leaf_hash,
            "data": a.data,
            "item_id": r.item,
            "seq": a.seq,
            "received_at": a.received_at,
        }
        for r, a in zip(records, appended, strict=True)
    ]
    for start in range(0, len(rows), BATCH):
        with runtime.db.engine.begin() as connection:
            insert_prebuilt_rows.execute(connection, rows[start : start + BATCH])


def insert_serialized(runtime: Runtime, log_id: str, records: list[NewEntry]) -> None:
    """Baseline 2: a plain store of the same records, made into rows as a table without
    a log would (json.dumps, a SHA-256 column, a per-item counter), in the same batches."""
    counts: dict[str | None, int] = {}
    for start in range(0, len(records), BATCH):
        received_at = datetime.now(UTC)
        rows = []
        for index, record in enumerate(records[start : start + BATCH], start):
            data = json.dumps({**record.record, "item": record.item}).encode()
            counts[record.item] = seq = counts.get(record.item, 0) + 1
            rows.append(
                {
                    "log_id": log_id,
                    "idx": index,
                    "leaf_hash": hashlib.sha256(data).digest(),
                    "data": data,
                    "item_id": record.item,
                    "seq": seq,
                    "received_at": received_at,
                }
            )
        with runtime.db.engine.begin() as connection:
            insert_serialized_rows.execute(connection, rows)


def bench_append(runtime: Runtime, entries: int, rounds: int) -> dict[str, Any]:
    """Each round runs the three side by side on fresh keys; the medians are reported,
    since this machine's speed wanders by tens of percent from one minute to the next."""
    plain_metadata.create_all(runtime.db.engine)
    timings: dict[str, list[float]] = {"serialized": [], "log": [], "prebuilt": []}
    size = 0.0
    for round_ in range(rounds):
        seconds, size = _append_round(runtime, f"98.{11 + round_}", entries, round_ * entries)
        # Each round starts from the same heap: a round run beside the previous one's
        # 200,000 records and entries measured the allocator, not the log (its log
        # phase often ran up to a third slower).
        gc.collect()
        for name, value in seconds.items():
            timings[name].append(value)
        print(
            f"  round {round_ + 1}: log {entries / seconds['log']:,.0f}/s, plain store "
            f"{entries / seconds['serialized']:,.0f}/s, pre-built rows "
            f"{entries / seconds['prebuilt']:,.0f}/s",
            flush=True,
        )
    return {
        "entries": entries,
        "entry_bytes": size,
        **{f"{name}_per_s": entries / statistics.median(t) for name, t in timings.items()},
    }


def _append_round(runtime: Runtime, log_id: str, entries: int, start: int) -> tuple[dict[str, float], float]:
    """One round: seconds for the plain store, the log and the pre-built rows; the
    entries' mean size."""
    records = scan_records(entries, boxes=entries // 4, start=start)
    runtime.create_log(log_id)
    seconds = {}
    started = time.perf_counter()
    insert_serialized(runtime, log_id, records)
    seconds["serialized"] = time.perf_counter() - started
    started = time.perf_counter()
    appended = append_all(runtime, log_id, records)
    seconds["log"] = time.perf_counter() - started
    started = time.perf_counter()
    insert_prebuilt(runtime, log_id, records, appended)
    seconds["prebuilt"] = time.perf_counter() - started
    return seconds, sum(len(a.data) for a in appended) / len(appended)


def bench_proofs(runtime: Runtime, size: int, samples: int) -> tuple[dict[str, Any], list[bytes]]:
    runtime.create_log("98.02")
    appended: list[Appended] = []
    started = time.perf_counter()
    for start in range(0, size, 50_000):
        appended += append_all(runtime, "98.02", scan_records(min(50_000, size - start), boxes=size // 2, start=start))
        print(f"  built {len(appended):,} of {size:,} entries", flush=True)
    build_seconds = time.perf_counter() - started
    with runtime.db.reads() as session:
        root = reads.tree_root(session, runtime.tiles, "98.02", size)
    reference = MemoryTree()
    reference.extend([a.leaf_hash for a in appended])
    cold = proof_latency(runtime.db, runtime.tiles, "98.02", size, samples)
    warm_tiles(runtime.db, runtime.tiles, "98.02", size)
    return {
        "root_matches": root == reference.root(),
        "build_per_s": size / build_seconds,
        "cold": cold,
        **proof_latency(runtime.db, runtime.tiles, "98.02", size, samples),
        "root": root,
    }, [a.data for a in appended]


def proof_latency(db: Database, tiles: TileStore, log_id: str, size: int, samples: int) -> dict[str, Any]:
    """p50 and p99 (ms) of random inclusion and consistency proofs at `size`, each in
    its own read as a request makes it, through this tile cache."""
    rng = random.Random(7)
    indexes = [rng.randrange(size) for _ in range(samples)]
    firsts = [rng.randrange(1, size) for _ in range(samples)]

    def inclusion(i: int) -> None:
        with db.reads() as session:
            reads.inclusion_proof(session, tiles, log_id, indexes[i], size)

    def consistency(i: int) -> None:
        with db.reads() as session:
            reads.consistency_proof(session, tiles, log_id, firsts[i], size)

    return {"inclusion": timed(samples, inclusion), "consistency": timed(samples, consistency)}


def warm_tiles(db: Database, tiles: TileStore, log_id: str, size: int) -> None:
    """Read every tile once, as a server that has been up a while has."""
    with db.reads() as session:
        for index in range(0, size, TILE_WIDTH):
            reads.inclusion_proof(session, tiles, log_id, index, size)


def bench_pymerkle(
    entries: list[bytes], root: bytes, samples: int, workdir: Path
) -> dict[str, Any]:
    """pymerkle's trees over the same entries; `root` is what Jejak computed for them."""
    try:
        from pymerkle import InmemoryTree, SqliteTree
    except ImportError:
        return {}
    size = len(entries)
    rng = random.Random(7)
    indexes = [rng.randrange(1, size + 1) for _ in range(samples)]
    firsts = [rng.randrange(1, size) for _ in range(samples)]
    results: dict[str, Any] = {}
    memory = InmemoryTree(algorithm="sha256")
    for entry in entries:
        memory.append_entry(entry)
    path = workdir / "pymerkle.db"
    path.unlink(missing_ok=True)
    with SqliteTree(str(path), algorithm="sha256") as sqlite_tree:
        sqlite_tree.append_entries(entries, chunksize=100_000)
        for name, tree in (("pymerkle InmemoryTree", memory), ("pymerkle SqliteTree", sqlite_tree)):
            results[name] = {
                "inclusion": timed(samples, lambda i, t=tree: t.prove_inclusion(indexes[i], size)),
                "consistency": timed(samples, lambda i, t=tree: t.prove_consistency(firsts[i], size)),
                "root_matches": tree.get_root(size) == root,
            }
    return results


def run_database(url: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with bench_database(url, workdir) as bench_url:
        settings = Settings(
            environment="test", database_url=bench_url, keys_dir=workdir / "keys", host="bench.jejak"
        )
        runtime = Runtime(settings)
        try:
            print(f"{runtime.db.engine.dialect.name}: appending {args.entries:,} entries", flush=True)
            append = bench_append(runtime, args.entries, args.rounds)
            print(f"{runtime.db.engine.dialect.name}: proofs at {args.proof_tree:,} entries", flush=True)
            proofs, entries = bench_proofs(runtime, args.proof_tree, args.proofs)
        finally:
            runtime.close()
    return {"name": runtime.db.engine.dialect.name, "append": append, "proofs": proofs, "entries": entries}


def report(results: list[dict[str, Any]], pymerkle: dict[str, Any], args: argparse.Namespace) -> None:
    print()
    print(
        f"## Append: {args.entries:,} entries, {BATCH:,} per append (one transaction each), "
        f"median of {args.rounds} rounds"
    )
    print()
    print(
        "| database | entry size | log appends/s | plain store of the records/s | ratio "
        "(target >= 0.67) | insert of pre-built rows/s | ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        a = r["append"]
        print(
            f"| {r['name']} | {a['entry_bytes']:.0f} B | {a['log_per_s']:,.0f} | "
            f"{a['serialized_per_s']:,.0f} | {a['log_per_s'] / a['serialized_per_s']:.2f} | "
            f"{a['prebuilt_per_s']:,.0f} | {a['log_per_s'] / a['prebuilt_per_s']:.2f} |"
        )
    print(
        "\nPlain store: each record json.dumps'd with a SHA-256 and a per-item counter, "
        "inserted in the same batches into a table with the same columns and indexes but "
        "no tree. Pre-built rows: the log's own finished rows inserted there, i.e. the "
        "database's insert cost alone, with no record made into a row at all."
    )
    print()
    print(f"## Proofs at {args.proof_tree:,} entries ({args.proofs:,} random proofs each, ms)")
    print()
    print(
        "| implementation | inclusion p50 | inclusion p99 | consistency p50 | consistency p99 "
        "| same root as the reference |"
    )
    print("|---|---|---|---|---|---|")
    rows = [(f"jejak on {r['name']}, cold cache", {**r["proofs"], **r["proofs"]["cold"]}) for r in results]
    rows += [(f"jejak on {r['name']}, warm cache", r["proofs"]) for r in results]
    rows += list(pymerkle.items())
    for name, p in rows:
        print(
            f"| {name} | {p['inclusion'][0]:.3f} | {p['inclusion'][1]:.3f} | "
            f"{p['consistency'][0]:.3f} | {p['consistency'][1]:.3f} | "
            f"{'yes' if p['root_matches'] else 'NO'} |"
        )
    print(
        "\nReference roots: ledger.MemoryTree over each database's own entries for Jejak; "
        f"Jejak's root on {results[0]['name'] if results else '-'} for pymerkle (same entries)."
    )
    print(
        "\nCold: the first proofs after start, each tile read from the database on first use. "
        "Warm: after every tile has been read once (tiles are immutable and cached)."
    )
    if "pymerkle SqliteTree" in pymerkle:
        base = pymerkle["pymerkle SqliteTree"]["inclusion"][1]
        for r in results:
            for state in ("cold", "warm"):
                ours = (r["proofs"]["cold"] if state == "cold" else r["proofs"])["inclusion"][1]
                print(
                    f"jejak on {r['name']} ({state}): inclusion p99 {base / ours:.0f}x "
                    "that of pymerkle SqliteTree (target >= 10x)"
                )
    print()
    for r in results:
        print(f"{r['name']}: built the {args.proof_tree:,}-entry log at {r['proofs']['build_per_s']:,.0f} entries/s")


def main(args: argparse.Namespace) -> int:
    urls = args.database or [
        "sqlite://",
        os.environ.get("JEJAK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
    ]
    results = []
    with tempfile.TemporaryDirectory(prefix="jejak-bench-") as tmp:
        workdir = Path(tmp)
        for url in urls:
            try:
                results.append(run_database(url, args, workdir))
            except Exception as error:  # report the database we could not use, go on
                print(f"skipping {make_url(url).render_as_string()}: {error}")
        pymerkle = {}
        if results:
            print(f"pymerkle: building trees of the {results[0]['name']} entries", flush=True)
            pymerkle = bench_pymerkle(
                results[0]["entries"], results[0]["proofs"]["root"], args.proofs, workdir
            )
        for r in results:
            r.pop("entries")
    report(results, pymerkle, args)
    return 0 if results else 1
