"""`jejak bench stock`: completeness and convoy answers for a whole province, and the
closing of a 2,000-box stock-take (targets, issue 25: under 200 ms at p99 for NTT,
under 2 s for the closing).

In a database `--database` names (dropped and created again; default a fresh SQLite
file): the province's areas and polling stations as `jejak simulate --province 53`
draws them (same seed, same TPS), one log per regency, and a ballot box per contest of
each TPS. The boxes' custody is *written straight into the items table* part way along
their routes (sealed at the KPU, on trucks, held at a PPK, a PPS or their TPS), with a
truckload per pair of ends and a dispatch event per box on the road, and each TPS's kit
counted from them (completeness.recount, as a restore does): the read paths measured
read only those tables, and driving 170,000 boxes through the log takes hours on this
machine (docs/BENCHMARKS.md, the simulate run). The database is then vacuumed and
analyzed, as autovacuum keeps a live server. Then, `--rounds` times:

- completeness of every regency of the province (the answer `GET /api/v1/completeness
  ?site=<regency>` builds, in process, listing its default 25 TPS, as the dashboard
  asks), beside a plain indexed SELECT of the TPS and kit rows it reads; and the same
  answer listing 200 TPS each, for the record;
- the convoys on the road in every regency (`GET /api/v1/convoys?site=<regency>`, its
  default 25 listed, every truck counted and ordered), beside a plain SELECT of the
  open truckloads;
- a stock-take of 2,000 boxes, scanned through the real ingest path (signed scans),
  then closed: the closing timed alone.

Prints min, median, p99 and max of each, and the ratios."""

from __future__ import annotations

import argparse
import gc
import hashlib
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from models.accounts.actor import Role
from models.accounts.users import actor_of, create_user
from models.core import migrations
from models.core.settings import Settings
from models.custody.completeness import LISTED, completeness, recount
from models.custody.convoys import LISTED as CONVOYS_LISTED, convoys
from models.custody.events import Event
from models.custody.handoffs import Handoff, HandoffStatus
from models.custody.kits import StationKit
from models.custody.ingest import MAX_SCANS_PER_REQUEST
from models.custody.items import MAX_ITEMS_PER_REQUEST, Item, ItemKind, ItemSpec, register_items
from models.custody.overdue import Allowance
from models.custody.rules import ItemStatus, Leg
from models.custody.stocktakes import StocktakeClose
from models.places.codes import route_to
from models.places.sites import Site, SiteLevel
from models.runtime import Runtime
from scripts import simulate
from scripts.bench_ledger import percentile, recreate_database
from scripts.bench_manifest import timed_rounds
from scripts.seed_demo import new_phone, submit

COUNTED = "90.01"  # the stock-take's own regency, outside any real province
COUNTED_TPS = f"{COUNTED}.01.2001-001"
TARGET_READ_S, TARGET_CLOSE_S = 0.200, 2.0


def _unit(*parts: str) -> float:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big") / 2**64


# Where a box stands: (share of boxes up to here, step of its route it has reached, on the road to the next).
_STAGES = ((0.15, 0, False), (0.25, 0, True), (0.45, 1, False), (0.55, 1, True), (0.70, 2, False), (0.75, 2, True), (1.0, 3, False))


def _load_province(runtime: Runtime, args: argparse.Namespace) -> tuple[list[str], int, int]:
    """The areas and TPS as `jejak simulate` draws them, a log per regency, and every
    box written part way along its route; returns (regencies, boxes, truckloads)."""
    plan = argparse.Namespace(
        province=[args.province], regency=None, district=None, villages=args.villages, election=args.election,
        tps_per_village=None, seed="2024",
    )  # fmt: skip
    election = simulate.plan(runtime, plan)
    for regency in election.regencies:
        runtime.create_log(regency)
    now = datetime.now(UTC)
    items, events, loads = [], [], {}
    actor = uuid.uuid4()
    for box in election.boxes:
        u = _unit("stage", box.id)
        reached, moving = next((step, road) for share, step, road in _STAGES if u < share)
        route = route_to(box.tps)
        here = route[reached]
        row = {
            "log_id": box.tps[:5], "id": box.id, "kind": ItemKind.KOTAK_SUARA, "contest": box.contest,
            "code": box.contest, "destination": box.tps, "status": ItemStatus.HELD if reached else ItemStatus.SEALED, "leg": Leg.OUTBOUND,
            "custodian": here, "seals": [], "label_serial": 1, "label_jws": "", "registered_index": 0, "last_index": 0,
            "dispatch_event": None, "dispatch_to": None, "dispatch_seals": None, "dispatch_handoff": None,
            "dispatched_at": None, "seen_at": None, "seen_lat": None, "seen_lon": None, "seen_index": None,
        }  # fmt: skip
        if moving:
            ends = (here, route[reached + 1])
            load = loads.setdefault(ends, {"log_id": box.tps[:5], "id": f"{ends[0]}-{ends[1]}-bench", "from_site": ends[0],
                                           "to_site": ends[1], "vehicle": "DH 8101 EA", "escorts": ["85061234"], "items": [],
                                           "status": HandoffStatus.OPEN,
                                           "dispatched_at": now - timedelta(hours=30 * _unit("sent", *ends)),
                                           "escorted": True})  # fmt: skip
            load["items"].append(box.id)
            event = f"bench-{box.id}"
            row |= {"status": ItemStatus.IN_TRANSIT, "dispatch_event": event, "dispatch_to": ends[1],
                    "dispatch_handoff": load["id"], "dispatched_at": load["dispatched_at"]}  # fmt: skip
            events.append({
                "log_id": row["log_id"], "event_id": event, "entry_index": len(events), "item_id": box.id,
                "type": "dispatch", "site": ends[0], "counterparty": ends[1], "actor_id": actor, "role": "kpu",
                "device_id": "bench", "device_seq": len(events) + 1, "handoff_id": load["id"],
                "observed_at": load["dispatched_at"], "received_at": load["dispatched_at"], "flags": [],
            })  # fmt: skip
        items.append(row)
    with runtime.db.session(write=True) as session:
        for table, rows in ((Item, items), (Handoff, list(loads.values())), (Event, events)):
            for start in range(0, len(rows), 5000):
                session.execute(insert(table), rows[start : start + 5000])
        for regency in election.regencies:  # the kits, as registration would have counted them
            recount(session, regency)
    return election.regencies, len(items), len(loads)


def p99(seconds: list[float]) -> float:
    return percentile(seconds, 0.99)


def _line(name: str, seconds: list[float]) -> str:
    return (
        f"{name:<46} min {min(seconds) * 1000:8.1f} ms, median {statistics.median(seconds) * 1000:8.1f} ms, "
        f"p99 {p99(seconds) * 1000:8.1f} ms, max {max(seconds) * 1000:8.1f} ms"
    )


def _stocktake_sites() -> list[Site]:
    return [
        Site(code=COUNTED, level=SiteLevel.KPU, name="KABUPATEN BENCH", regency=COUNTED),
        Site(code=f"{COUNTED}.01", level=SiteLevel.PPK, name="KECAMATAN", parent_code=COUNTED, regency=COUNTED),
        Site(code=f"{COUNTED}.01.2001", level=SiteLevel.PPS, name="DESA", parent_code=f"{COUNTED}.01", regency=COUNTED),
        Site(code=COUNTED_TPS, level=SiteLevel.TPS, name="TPS 001", parent_code=f"{COUNTED}.01.2001", regency=COUNTED),
    ]


def _stocktake_rounds(runtime: Runtime, boxes: int, rounds: int) -> tuple[list[float], list[float], tuple[int, int, int]]:
    """`boxes` registered in their own log, held at its KPU; each round a stock-take
    scans all but one of them (signed scans, the ingest path) and is closed: the seconds
    of the scans and of the closing, and the last closing's (found, missing, unexpected)."""
    runtime.create_log(COUNTED)
    with runtime.db.session(write=True) as session:
        session.add_all(_stocktake_sites())
        kpu = actor_of(create_user(session, username="kpu.bench", password="bench stock password", role=Role.KPU,
                                   jurisdiction=COUNTED))  # fmt: skip
    specs = [ItemSpec(ItemKind.SURAT_SUARA, COUNTED_TPS, "SS", serial=n) for n in range(1, boxes + 1)]
    for start in range(0, len(specs), MAX_ITEMS_PER_REQUEST):
        register_items(runtime.databases, runtime.keys, runtime.sequencer, kpu, specs[start : start + MAX_ITEMS_PER_REQUEST])
    phone = new_phone(runtime, kpu, "bench phone", log=COUNTED)
    scanning, closing, counts = [], [], (0, 0, 0)
    for n in range(rounds):
        stocktake = f"{COUNTED}-SO-{n}"
        observed = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        started = time.perf_counter()
        ids = [spec.id for spec in specs[1:]]
        for start in range(0, len(ids), MAX_SCANS_PER_REQUEST):
            scans = [
                phone.sign(type="stocktake", item=item, observed_at=observed, site=COUNTED, stocktake=stocktake)
                for item in ids[start : start + MAX_SCANS_PER_REQUEST]
            ]
            results = submit(runtime, kpu, scans)
            assert {r.status for r in results} == {"accepted"}, [r.reason for r in results if r.status != "accepted"][:3]
        scanning.append(time.perf_counter() - started)
        started = time.perf_counter()
        closed = runtime.sequencer.submit(COUNTED, StocktakeClose(stocktake, kpu), len(ids) + 1)
        closing.append(time.perf_counter() - started)
        counts = (len(closed.found), len(closed.missing), len(closed.unexpected))
    return scanning, closing, counts


def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="jejak-bench-stock-") as tmp:
        url = (args.database or [f"sqlite:///{tmp}/jejak.db"])[0]
        recreate_database(url)
        settings = Settings(environment="test", database_url=url, host="bench.jejak", keys_dir=Path(tmp) / "keys")
        migrations.upgrade(settings.database_url)
        runtime = Runtime(settings)
        try:
            return _run(runtime, settings, args)
        finally:
            runtime.close()


def _run(runtime: Runtime, settings: Settings, args: argparse.Namespace) -> int:
    print(f"database {make_url(settings.database_url).render_as_string()}, province {args.province}, "
          f"{args.election}, {args.rounds} rounds")  # fmt: skip
    started = time.perf_counter()
    regencies, boxes, loads = _load_province(runtime, args)
    with runtime.db.reads() as session:
        stations = session.query(Site).filter(Site.level == SiteLevel.TPS).count()
    print(f"loaded {len(regencies)} regencies, {stations:,} TPS, {boxes:,} boxes, {loads:,} truckloads on the road "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    # The loading's garbage collected and the survivors frozen, as a server's are after
    # start-up: a full collection over them cost one round in thirty 80 ms.
    gc.collect()
    gc.freeze()
    # Planner statistics and a vacuumed heap, as autovacuum leaves a live database (left
    # to itself, it ran in the middle of the rounds).
    with runtime.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE"))
    allowance, now = Allowance.of(settings), datetime.now(UTC)

    def each(read: Callable[..., object]) -> Callable[[], None]:
        def run() -> None:
            for regency in regencies:
                with runtime.db_for(regency).reads() as session:
                    read(session, regency)

        return run

    def plain_kits(session, regency):  # type: ignore[no-untyped-def]
        rows = (
            select(Site.code, Site.name, Site.kerawanan, StationKit.pieces, StationKit.reached)
            .outerjoin(StationKit, (StationKit.log_id == Site.regency) & (StationKit.tps == Site.code))
            .where(Site.regency == regency, Site.level == SiteLevel.TPS)
        )
        return session.connection().execute(rows).all()

    def plain_handoffs(session, regency):  # type: ignore[no-untyped-def]
        query = select(Handoff.__table__).where(Handoff.log_id == regency, Handoff.status == HandoffStatus.OPEN)
        return session.connection().execute(query).all()

    answered: dict[str, int] = {}

    def kits(session, regency, listed=LISTED):  # type: ignore[no-untyped-def]
        found = completeness(session, regency, args.election, listed=listed)
        answered["incomplete"] = answered.get("incomplete", 0) + found.open

    def trucks(session, regency):  # type: ignore[no-untyped-def]
        answered["convoys"] = answered.get("convoys", 0) + convoys(session, regency, allowance, now, listed=CONVOYS_LISTED).total

    each(kits)()  # warm: imports, caches, the database's own
    each(trucks)()
    rounds = args.rounds
    figures = {
        "completeness, all regencies": timed_rounds(rounds, each(kits)),
        "  plain SELECT of its TPS and kit rows": timed_rounds(rounds, each(plain_kits)),
        "convoys on the road, all regencies": timed_rounds(rounds, each(trucks)),
        "  plain SELECT of the open truckloads": timed_rounds(rounds, each(plain_handoffs)),
    }
    for name, seconds in figures.items():
        print(_line(name, seconds))
    print(_line(f"  (completeness listing {LISTED * 8} TPS, not {LISTED})",
                timed_rounds(rounds, each(lambda session, regency: kits(session, regency, LISTED * 8)))))  # fmt: skip
    names = list(figures)
    for answer, plain in ((names[0], names[1]), (names[2], names[3])):
        ratio = p99(figures[answer]) / p99(figures[plain])
        print(f"ratio at p99, {answer.split(',')[0]} / plain SELECT: {ratio:.1f}")
    per_round = {"incomplete": answered["incomplete"] // (2 * rounds + 1), "convoys": answered["convoys"] // (rounds + 1)}
    print(f"answers: {per_round.get('incomplete', 0):,} TPS not complete, {per_round.get('convoys', 0):,} convoys on the road")
    scanning, closing, (found, missing, unexpected) = _stocktake_rounds(runtime, args.stocktake_boxes, args.stocktake_rounds)
    print(_line(f"stock-take: {args.stocktake_boxes - 1:,} signed scans", scanning))
    print(_line(f"stock-take of {args.stocktake_boxes:,} boxes: the closing", closing))
    print(f"closing reckoned {found:,} found, {missing} missing, {unexpected} unexpected")
    read_met = p99(figures[names[0]]) < TARGET_READ_S and p99(figures[names[2]]) < TARGET_READ_S
    close_met = max(closing) < TARGET_CLOSE_S
    print(f"target: completeness and convoys under {TARGET_READ_S * 1000:g} ms at p99: {'met' if read_met else 'NOT met'}; "
          f"closing under {TARGET_CLOSE_S:g} s: {'met' if close_met else 'NOT met'}")  # fmt: skip
    return 0
