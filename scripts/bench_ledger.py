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
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
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

from models import logs, migrations
from models.base import UTCDateTime
from models.runtime import Runtime
from models.sequencer import Appended, NewEntry
from models.settings import Settings

BATCH = 1000
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

plain_metadata = MetaData()
# The same columns, key and item index as log_entries, but no tree and no triggers.
plain_entries = Table(
    "bench_plain_entries",
    plain_metadata,
    Column("log_id", String(16), primary_key=True),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("item_id", String(64)),
    Column("seq", BigInteger),
    Column("received_at", UTCDateTime, nullable=False),
    Index("ix_bench_plain_item_seq", "log_id", "item_id", "seq", unique=True),
)


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


@contextmanager
def bench_database(url: str, workdir: Path) -> Iterator[str]:
    """A fresh, migrated database for one benchmark run."""
    if url.startswith("sqlite"):
        path = workdir / "bench.db"
        path.unlink(missing_ok=True)
        bench_url = f"sqlite:///{path}"
    else:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS jejak_bench"))
            connection.execute(text("CREATE DATABASE jejak_bench"))
        admin.dispose()
        bench_url = make_url(url).set(database="jejak_bench").render_as_string(hide_password=False)
    migrations.upgrade(bench_url)
    yield bench_url


def append_all(runtime: Runtime, log_id: str, records: list[NewEntry]) -> list[Appended]:
    appended: list[Appended] = []
    for start in range(0, len(records), BATCH):
        appended += runtime.sequencer.append(log_id, records[start : start + BATCH])
    return appended


def plain_insert(
    runtime: Runtime, log_id: str, records: list[NewEntry], appended: list[Appended]
) -> None:
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
            connection.execute(insert(plain_entries), rows[start : start + BATCH])


def bench_append(runtime: Runtime, entries: int) -> dict[str, Any]:
    records = scan_records(entries, boxes=entries // 4)
    plain_metadata.create_all(runtime.db.engine)
    runtime.create_log("98.01")
    started = time.perf_counter()
    appended = append_all(runtime, "98.01", records)
    log_seconds = time.perf_counter() - started
    started = time.perf_counter()
    plain_insert(runtime, "98.01", records, appended)
    plain_seconds = time.perf_counter() - started
    size = sum(len(a.data) for a in appended) / len(appended)
    return {
        "entries": entries,
        "entry_bytes": size,
        "log_per_s": entries / log_seconds,
        "plain_per_s": entries / plain_seconds,
    }


def bench_proofs(runtime: Runtime, size: int, samples: int) -> tuple[dict[str, Any], list[bytes]]:
    runtime.create_log("98.02")
    appended: list[Appended] = []
    started = time.perf_counter()
    for start in range(0, size, 50_000):
        appended += append_all(runtime, "98.02", scan_records(min(50_000, size - start), boxes=size // 2, start=start))
        print(f"  built {len(appended):,} of {size:,} entries", flush=True)
    build_seconds = time.perf_counter() - started
    rng = random.Random(7)
    indexes = [rng.randrange(size) for _ in range(samples)]
    firsts = [rng.randrange(1, size) for _ in range(samples)]

    def inclusion(i: int) -> None:
        with runtime.db.reads() as session:
            logs.inclusion_proof(session, runtime.tiles, "98.02", indexes[i], size)

    def consistency(i: int) -> None:
        with runtime.db.reads() as session:
            logs.consistency_proof(session, runtime.tiles, "98.02", firsts[i], size)

    with runtime.db.reads() as session:
        root = logs.tree_root(session, runtime.tiles, "98.02", size)
    reference = MemoryTree()
    reference.extend([a.leaf_hash for a in appended])
    return {
        "root_matches": root == reference.root(),
        "build_per_s": size / build_seconds,
        "inclusion": timed(samples, inclusion),
        "consistency": timed(samples, consistency),
        "root": root,
    }, [a.data for a in appended]


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
                "inclusion": timed(samples, lambda i: tree.prove_inclusion(indexes[i], size)),
                "consistency": timed(samples, lambda i: tree.prove_consistency(firsts[i], size)),
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
            append = bench_append(runtime, args.entries)
            print(f"{runtime.db.engine.dialect.name}: proofs at {args.proof_tree:,} entries", flush=True)
            proofs, entries = bench_proofs(runtime, args.proof_tree, args.proofs)
        finally:
            runtime.close()
    return {"name": runtime.db.engine.dialect.name, "append": append, "proofs": proofs, "entries": entries}


def report(results: list[dict[str, Any]], pymerkle: dict[str, Any], args: argparse.Namespace) -> None:
    print()
    print(f"## Append: {args.entries:,} entries, {BATCH:,} per append (one transaction each)")
    print()
    print("| database | entry size | log appends/s | plain inserts/s | ratio (target >= 0.67) |")
    print("|---|---|---|---|---|")
    for r in results:
        a = r["append"]
        print(
            f"| {r['name']} | {a['entry_bytes']:.0f} B | {a['log_per_s']:,.0f} | "
            f"{a['plain_per_s']:,.0f} | {a['log_per_s'] / a['plain_per_s']:.2f} |"
        )
    print()
    print(f"## Proofs at {args.proof_tree:,} entries ({args.proofs:,} random proofs each, ms)")
    print()
    print(
        "| implementation | inclusion p50 | inclusion p99 | consistency p50 | consistency p99 "
        "| same root as the reference |"
    )
    print("|---|---|---|---|---|---|")
    rows = [(f"jejak on {r['name']}", r["proofs"]) for r in results] + list(pymerkle.items())
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
    if "pymerkle SqliteTree" in pymerkle:
        base = pymerkle["pymerkle SqliteTree"]["inclusion"][1]
        for r in results:
            print(
                f"\njejak on {r['name']}: inclusion p99 {base / r['proofs']['inclusion'][1]:.0f}x "
                "faster than pymerkle SqliteTree (target >= 10x)"
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
