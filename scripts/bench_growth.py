"""`jejak bench growth`: how a log's costs grow with its size (10^4, 10^5, 10^6 entries).

One log is grown on a fresh database (PostgreSQL by default) through the sequencer,
with the entries of a realistic log (scripts/bench_verify.realistic_log: phones and a
label key registered in the log, ballot boxes registered and labelled, signed scans
along their route), 1,000 per append as offline syncs deliver them. At each size it
measures:
- append: entries/s over the last 10,000 appended, and the p50/p99 of one append;
- checkpoint: signing one as the checkpointer does (the root from the tiles, the
  signature, the insert), with the tile cache warm (a server that has been up) and
  cold (one just started), median of 5 each;
- proofs: inclusion and consistency p50/p99 of 2,000 random ones, cold and warm;
- verify: `jejak verify` of the whole log from its export bundle, entries/s;
- storage: what the database grew by, per entry (the log is alone in it).

`prefill` gives `jejak bench ingest --prefill` the same realistic log at a size, with
the custody its entries record written straight into the sites, items and events
tables (as scripts/bench_stock.py writes items): what a regency's log holds on election
day before the scans measured arrive.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from models.core.settings import Settings
from models.core.times import parse_time
from models.custody.completeness import recount
from models.custody.events import Event
from models.custody.items import Item, ItemKind
from models.custody.rules import ItemStatus, Leg
from models.log.checkpointer import Checkpointer
from models.log.export import write_export
from models.log.sequencer import LOG_FIELDS, NewEntry
from models.log.tables import Log
from models.log.tiles import TileStore
from models.places.codes import level_of, parent_of, route_to
from models.places.sites import Site
from models.runtime import Runtime
from scripts.bench_ledger import (
    BATCH,
    DEFAULT_POSTGRES,
    bench_database,
    percentile,
    proof_latency,
    warm_tiles,
)
from scripts.bench_verify import realistic_log, verify_run

LOG_ID = "98.03"
WINDOW = 10_000  # the appends timed before each size
SIGNINGS = 5  # checkpoints timed at each size, warm and cold
LATE_SYNC_HOURS = 24 * 365 * 10


def records(entries: list[bytes]) -> Iterator[NewEntry]:
    """The synthetic log's entries as records to append: the fields the log assigns
    (its own origin, seq, prev, received_at) are taken off and assigned again."""
    for data in entries:
        record = json.loads(data)
        item = record["item"]
        for name in LOG_FIELDS:
            del record[name]
        yield NewEntry(record, item=item, key=record.get("event_id"))


def append_records(runtime: Runtime, log_id: str, feed: Iterable[NewEntry], count: int) -> list[float]:
    """Append `count` records of `feed`, 1,000 at a time, as offline syncs deliver
    them; the seconds each append took."""
    feed = iter(feed)
    took = []
    while count > 0:
        batch = list(itertools.islice(feed, min(BATCH, count)))
        if not batch:
            raise ValueError(f"{count:,} more entries asked of a feed run out")
        started = time.perf_counter()
        runtime.sequencer.append(log_id, batch)
        took.append(time.perf_counter() - started)
        count -= len(batch)
    return took


# The state a box's latest scan leaves it in (a scan of the realistic log's route).
_STATUS = {"seal": ItemStatus.SEALED, "dispatch": ItemStatus.IN_TRANSIT, "receive": ItemStatus.HELD,
           "open": ItemStatus.OPENED, "count": ItemStatus.COUNTED, "reseal": ItemStatus.RESEALED}  # fmt: skip


def prefill(runtime: Runtime, log_id: str, entries: list[bytes]) -> tuple[int, int]:
    """Append the realistic log's `entries` to the empty log `log_id` through the
    sequencer, and write the custody they record straight into the tables the ingest
    reads: the sites of their routes (those not there yet), a row per box in the state
    its latest scan left it, an event per scan, and the kits counted from the boxes.
    Returns (boxes, events)."""
    with runtime.db_for(log_id).reads() as session:
        assert session.get_one(Log, log_id).size == 0, "the entries' indexes are their places in a log begun empty"
    append_records(runtime, log_id, records(entries), len(entries))
    items: dict[str, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    for index, data in enumerate(entries):
        record = json.loads(data)
        item = record["item"]
        if record["type"] == "register":
            items[item] = {
                "log_id": log_id, "id": item, "kind": ItemKind.KOTAK_SUARA, "contest": record["contest"],
                "code": record["contest"], "destination": record["destination"], "status": ItemStatus.REGISTERED,
                "leg": Leg.OUTBOUND, "custodian": log_id, "seals": [], "label_serial": 0, "label_jws": "",
                "registered_index": index, "last_index": index, "dispatch_event": None, "dispatch_to": None,
                "dispatch_seals": None, "dispatch_handoff": None, "dispatched_at": None, "seen_at": None,
                "seen_lat": None, "seen_lon": None, "seen_index": None,
            }  # fmt: skip
            continue
        if item is not None:
            items[item]["last_index"] = index
        if record["type"] == "label":
            items[item]["label_serial"] = record["serial"]
        if "scan" not in record:
            continue
        scan = record["scan"]
        observed, received = parse_time(scan["observed_at"]), parse_time(record["received_at"])
        events.append({
            "log_id": log_id, "event_id": record["event_id"], "entry_index": index, "item_id": item,
            "type": record["type"], "site": scan["site"], "counterparty": scan.get("counterparty"),
            "actor_id": uuid.UUID(record["actor"]), "role": record["role"], "device_id": scan["device"],
            "device_seq": scan["device_seq"], "handoff_id": scan.get("handoff"), "observed_at": observed,
            "received_at": received, "flags": [],
        })  # fmt: skip
        if item is None:  # an escort's pickup or delivery of a truckload
            continue
        moved = record["type"] == "dispatch"
        items[item] |= {
            "status": _STATUS[record["type"]], "custodian": scan["site"], "seals": scan.get("seals", []),
            "dispatch_event": record["event_id"] if moved else None, "dispatch_to": scan.get("counterparty") if moved else None,
            "dispatch_seals": scan["seals"] if moved else None, "dispatch_handoff": scan["handoff"] if moved else None,
            "dispatched_at": received if moved else None,
        }  # fmt: skip
    codes = {code for box in items.values() for code in route_to(box["destination"])}
    with runtime.db_for(log_id).session(write=True) as session:
        codes -= set(session.scalars(select(Site.code).where(Site.code.in_(codes))))
        sites = [
            {"code": code, "level": level_of(code), "name": f"Bench {code}", "parent_code": parent_of(code),
             "regency": code[:5]}
            for code in sorted(codes, key=len)  # parents first
        ]  # fmt: skip
        for table, rows in ((Site, sites), (Item, list(items.values())), (Event, events)):
            for start in range(0, len(rows), 5000):
                session.execute(insert(table), rows[start : start + 5000])
        recount(session, log_id)
    return len(items), len(events)


class Growth:
    def __init__(self, runtime: Runtime, entries: list[bytes], workdir: Path, args: argparse.Namespace) -> None:
        self.runtime = runtime
        self.feed = records(entries)
        self.workdir = workdir
        self.args = args
        self.size = 0
        self.empty = self.stored_bytes()  # the schema and a size-0 log

    def append(self, count: int) -> list[float]:
        """Append `count` entries, 1,000 at a time; the seconds each append took."""
        took = append_records(self.runtime, LOG_ID, self.feed, count)
        self.size += count
        return took

    def sign(self, tiles: TileStore) -> float:
        """Milliseconds to sign a checkpoint at the current size with this tile cache."""
        checkpointer = Checkpointer(self.runtime.databases, tiles, self.runtime.keys, 1.0, lambda _: None)
        started = time.perf_counter()
        signed = checkpointer.sign_grown_logs()
        assert signed == [(LOG_ID, self.size)], signed
        return (time.perf_counter() - started) * 1000

    def measure(self, target: int) -> dict[str, Any]:
        self.append(max(0, target - WINDOW - self.size))
        window = target - self.size
        took = self.append(window)
        warm = [self.sign(self.runtime.tiles)]
        db = self.runtime.db
        cold_proofs = proof_latency(db, TileStore(), LOG_ID, target, self.args.proofs)
        warm_tiles(db, self.runtime.tiles, LOG_ID, target)
        warm_proofs = proof_latency(db, self.runtime.tiles, LOG_ID, target, self.args.proofs)
        verify = self.verify(target)
        stored = self.stored_bytes()
        cold = []
        for _ in range(SIGNINGS - 1):
            self.append(BATCH)
            warm.append(self.sign(self.runtime.tiles))
        for _ in range(SIGNINGS):
            self.append(BATCH)
            cold.append(self.sign(TileStore()))
        result = {
            "entries": target,
            "append_per_s": window / sum(took),
            "append_ms": (statistics.median(took) * 1000, percentile(took, 0.99) * 1000),
            "checkpoint_warm_ms": statistics.median(warm),
            "checkpoint_cold_ms": statistics.median(cold),
            "cold": cold_proofs,
            "warm": warm_proofs,
            "verify_per_s": target / verify,
            "bytes_per_entry": (stored - self.empty) / target,
        }
        print(f"  {target:,} entries: {json.dumps(result)}", flush=True)
        return result

    def verify(self, size: int) -> float:
        """Seconds `jejak verify` takes over the log's export bundle at `size`."""
        bundle = self.workdir / f"{LOG_ID}-{size}.tar.gz"
        with self.runtime.db.session() as session, bundle.open("wb") as file:
            assert write_export(session, LOG_ID, file) == size
            vkey = session.get_one(Log, LOG_ID).verifier_key
        seconds, _ = verify_run(str(bundle), vkey, self.args.workers)
        bundle.unlink()
        return seconds

    def stored_bytes(self) -> int:
        url = make_url(self.runtime.settings.database_url)
        if url.get_backend_name() == "sqlite":
            files = [Path(url.database or ""), Path(f"{url.database}-wal")]
            return sum(f.stat().st_size for f in files if f.exists())
        with self.runtime.db.reads() as session:
            return int(session.scalar(text("SELECT pg_database_size(current_database())")) or 0)


def main(args: argparse.Namespace) -> int:
    sizes = sorted(args.sizes)
    url = (args.database or [os.environ.get("JEJAK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)])[0]
    print(f"building a realistic log of {sizes[-1]:,} entries in memory", flush=True)
    started = time.perf_counter()
    # Appended now, weeks after the synthetic clock's scans: the log's rules say so, or
    # `jejak verify` would find every scan a late sync its record does not flag.
    entries = realistic_log(f"bench.jejak/log/{LOG_ID}", sizes[-1] + 2 * SIGNINGS * BATCH, late_sync_hours=LATE_SYNC_HOURS).entries
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="jejak-bench-") as tmp, bench_database(url, Path(tmp)) as bench_url:
        settings = Settings(environment="test", database_url=bench_url, keys_dir=Path(tmp) / "keys", host="bench.jejak")
        runtime = Runtime(settings)
        try:
            runtime.create_log(LOG_ID)
            growth = Growth(runtime, entries, Path(tmp), args)
            results = [growth.measure(size) for size in sizes]
            dialect = runtime.db.engine.dialect.name
        finally:
            runtime.close()
    report(results, dialect, args)
    return 0


def report(results: list[dict[str, Any]], dialect: str, args: argparse.Namespace) -> None:
    print()
    print(f"## One log growing on {dialect}: appends of {BATCH:,}, {args.proofs:,} proofs, verify with {args.workers} processes")
    print()
    print(
        "| entries | append entries/s (last 10,000) | append p50 / p99 ms | checkpoint warm / cold ms | "
        "inclusion p50 / p99 ms, cold | warm | consistency p50 / p99 ms, cold | warm | verify entries/s | "
        "database bytes per entry |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        proofs = [r[state][kind] for kind in ("inclusion", "consistency") for state in ("cold", "warm")]
        print(
            f"| {r['entries']:,} | {r['append_per_s']:,.0f} | {r['append_ms'][0]:.1f} / {r['append_ms'][1]:.1f} | "
            f"{r['checkpoint_warm_ms']:.1f} / {r['checkpoint_cold_ms']:.1f} | "
            + " | ".join(f"{p50:.3f} / {p99:.3f}" for p50, p99 in proofs)
            + f" | {r['verify_per_s']:,.0f} | {r['bytes_per_entry']:,.0f} |"
        )
