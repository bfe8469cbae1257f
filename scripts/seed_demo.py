"""`jejak seed-demo`: a believable demo of Kabupaten Timor Tengah Utara (53.03).

Its 24 districts and 193 villages are real (the shipped wilayah data). The polling
stations, their kerawanan, every coordinate (always marked synthetic), the people and
their phones are invented, deterministically: every run builds the same demo. The
Pilkada 2024 ballot boxes are registered with their signed labels, and some are
already on their way, moved by real signed scans through the same custody rules as
the field app's, each truckload under a Polres TTU escort who signs its pickup and
delivery on their own phone; one truckload's escort never picked it up, and its alert
is open. A district's stock-take finds one box missing and one that should not be there. Development only: the passwords printed at the end are public."""

from __future__ import annotations

import base64
import hashlib
import math
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ledger.jcs import canonicalize
from sqlalchemy import func, select

from models.accounts.actor import SCOPES, Actor, Role

from models.accounts.onboarding import import_officers
from models.accounts.users import User, actor_of, create_user
from models.core.base import utcnow
from models.core.errors import Conflict, InvalidRequest
from models.custody.devices import Device, DeviceRegistration
from models.custody.ingest import MAX_SCANS_PER_REQUEST, submit_scans
from models.custody.items import MAX_ITEMS_PER_REQUEST, Item, ItemKind, ItemSpec, register_items
from models.custody.handoffs import Handoff
from models.custody.pickups import raise_unpicked
from models.custody.stocktakes import Stocktake, StocktakeClose
from models.custody.truckloads import read_truckload
from models.custody.work import ScanResult, rules_of
from models.places.sites import Kerawanan, Site, SiteLevel, route_to, within
from models.places.wilayah import SHIPPED, import_areas, insert_new, site_row
from models.runtime import Runtime
from scripts.sheets import write_sheets

REGENCY = "53.03"  # Kabupaten Timor Tengah Utara
KEFAMENANU = "53.03.05"  # Kota Kefamenanu: its boxes are sealed in the warehouse
INSANA = "53.03.08"  # its boxes left the warehouse and reached the PPK
INSANA_UTARA = "53.03.09"  # its boxes are on the road to the PPK
ONWARD = ("53.03.08.2005", "53.03.08.2006", "53.03.08.2007")  # Insana villages on their way
NANSEAN = "53.03.08.2005"  # boxes reached the village, TPS 001's the polling station
INCOMPLETE = f"{NANSEAN}-002-BUP"  # the one box of its TPS taken there: the TPS is incomplete
PASSWORD = "jejak-demo-2024"  # development only, and printed for everyone to see
CONTESTS = ("GUB", "BUP")  # Pilkada 2024: a Gubernur and a Bupati ballot box per TPS
# TPS khusus (prisons, hospitals) come after a village's ordinary polling stations.
KHUSUS = {"53.03.05.1003": "rumah sakit", "53.03.05.1006": "rumah tahanan"}

CENTRE = (-9.45, 124.5)  # TTU around Kefamenanu
KM_PER_DEGREE = 111.2
# How far a site lies from its parent: districts up to 25 km from the centre, villages
# 8 km from their district, TPS 1.5 km from their village; all within ~35 km.
SPREAD_KM = {SiteLevel.PPK: 25.0, SiteLevel.PPS: 8.0, SiteLevel.TPS: 1.5}

Out = Callable[[str], None]


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    jurisdiction: str
    full_name: str
    nrp: str | None = None
    scopes: frozenset[str] = frozenset()


USERS = (
    DemoUser("admin", Role.ADMIN, "", "Administrator Jejak (demo)"),
    DemoUser("kpu.ttu", Role.KPU, REGENCY, "Operator Gudang KPU TTU (demo)"),
    DemoUser("ppk.insana", Role.PPK, INSANA, "Ketua PPK Insana (demo)"),
    DemoUser("pps.nansean", Role.PPS, NANSEAN, "Ketua PPS Nansean (demo)"),
    DemoUser("kpps.nansean.001", Role.KPPS, f"{NANSEAN}-001", "Ketua KPPS TPS 001 Nansean (demo)"),
    DemoUser("kpps.nansean.002", Role.KPPS, f"{NANSEAN}-002", "Ketua KPPS TPS 002 Nansean (demo)"),
    # Polres TTU's escorts: one guards the trucks from the warehouse, one those from the districts on.
    DemoUser("escort.polres.ttu", Role.ESCORT, REGENCY, "Bripka Polres TTU (demo)", nrp="85061234"),
    DemoUser("escort2.polres.ttu", Role.ESCORT, REGENCY, "Briptu Polres TTU (demo)", nrp="93070588"),
    DemoUser("auditor.bawaslu.ttu", Role.AUDITOR, REGENCY, "Bawaslu TTU (demo)"),
    DemoUser(
        "integrator.silog", Role.INTEGRATOR, REGENCY, "SILOG logistics system (demo)",
        scopes=SCOPES,  # all the README offers an integrator: it reads, and subscribes to webhooks
    ),
)


def unit(*parts: str) -> float:
    """A number in [0, 1) fixed by its inputs: the same demo on every machine."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def tps_count(village: str) -> int:
    """A village's ordinary polling stations: 2 to 4."""
    return 2 + int(unit(village, "tps") * 3)


def kerawanan_of(tps: str) -> Kerawanan:
    """Mostly kurang rawan, about one in six rawan, a few sangat rawan."""
    u = unit(tps, "kerawanan")
    if u < 0.04:
        return Kerawanan.SANGAT_RAWAN
    return Kerawanan.RAWAN if u < 0.2 else Kerawanan.KURANG_RAWAN


def near(point: tuple[float, float], radius_km: float, code: str) -> tuple[float, float]:
    """A point within radius_km of `point`, fixed by `code`, uniform over the disc."""
    angle = 2 * math.pi * unit(code, "angle")
    distance = radius_km * math.sqrt(unit(code, "distance"))
    lat = point[0] + distance * math.sin(angle) / KM_PER_DEGREE
    lon = point[1] + distance * math.cos(angle) / (KM_PER_DEGREE * math.cos(math.radians(point[0])))
    return round(lat, 6), round(lon, 6)


def seed(runtime: Runtime, *, if_empty: bool = False, out: Out = print) -> bool:
    """Build the demo; False if it was there already and `if_empty` said to skip."""
    if runtime.settings.is_production:
        raise InvalidRequest("seed-demo refuses to run in production: the demo's passwords are public")
    if _has_items(runtime):
        if if_empty:
            out(f"demo: log {REGENCY} already has items, nothing to do")
            return False
        raise Conflict(f"log {REGENCY} already has items: the demo is seeded once per database")
    tps = _sites(runtime, out)
    runtime.ensure_log(REGENCY)
    runtime.share_sites({REGENCY})
    actors, kept = _users(runtime)
    _register(runtime, actors["kpu.ttu"], tps, out)
    _story(runtime, actors, tps)
    out(f"demo: ballot boxes by status: {_statuses(runtime)}")
    # The truckload no escort picked up raises its alert now, not at the server's first look.
    unpicked = raise_unpicked(runtime.db_for(REGENCY), runtime.settings.pickup_minutes, utcnow())
    out(f"demo: open alerts: {', '.join(a.detail for a in unpicked) or 'none'}")
    _onboarding(runtime, actors["kpu.ttu"], out)
    out(logins_table(kept))
    return True


def onboarding_dir(runtime: Runtime) -> Path:
    """Where the demo leaves Insana's import file and enrollment sheets: beside the keys."""
    return runtime.settings.keys_dir.parent / "demo-onboarding"


def officers_csv(runtime: Runtime) -> str:
    """Insana's officers as a KPU would import them (README "Onboarding officers"): a PPS
    for each village, the KPPS of each of Nansean's polling stations. Invented names,
    NIKs and phone numbers."""
    with runtime.db.reads() as session:
        villages = list(session.scalars(
            select(Site.code).where(Site.parent_code == INSANA, Site.level == SiteLevel.PPS).order_by(Site.code)
        ))  # fmt: skip
        stations = list(session.scalars(select(Site.code).where(Site.parent_code == NANSEAN).order_by(Site.code)))
    rows = [("pps", code) for code in villages] + [("kpps", code) for code in stations]
    lines = ["name,role,jurisdiction,nik,phone"]
    for n, (role, code) in enumerate(rows, start=1):
        lines.append(f"Petugas {role.upper()} {n} (demo),{role},{code},530308{n:010d},0812000{n:05d}")
    return "\n".join(lines) + "\n"


def _onboarding(runtime: Runtime, kpu: Actor, out: Out) -> None:
    """Import Insana's officers as the KPU, and print their enrollment sheets, one per village."""
    folder = onboarding_dir(runtime)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = officers_csv(runtime)
    (folder / f"petugas-{INSANA}.csv").write_text(text, encoding="utf-8")
    lifetime = timedelta(days=runtime.settings.enrollment_code_days)
    with runtime.db.session(write=True) as session:
        done = import_officers(session, kpu, text, period="pilkada-2024", code_lifetime=lifetime)
        codes = {made["username"]: made["code"] for made in done.created}
        sheets = write_sheets(session, runtime.settings.public_url, codes, lifetime, folder)
    out(f"demo: {len(done.created)} officers of Insana imported (pilkada-2024), awaiting enrollment; "
        f"their import file and {len(sheets)} enrollment sheets in {folder}")  # fmt: skip


def _has_items(runtime: Runtime) -> bool:
    with runtime.db_for(REGENCY).reads() as session:
        return session.scalar(select(Item.id).where(Item.log_id == REGENCY).limit(1)) is not None


def _sites(runtime: Runtime, out: Out) -> list[str]:
    """The real areas, invented coordinates for them, invented TPS; the TPS codes."""
    with runtime.db.session(write=True) as session:
        counts = import_areas(session, SHIPPED, regencies={REGENCY})
        areas = list(
            session.scalars(
                select(Site).where(Site.regency == REGENCY, Site.level != SiteLevel.TPS).order_by(Site.code)
            )
        )
        place_areas(areas)
        rows = _tps_rows([site for site in areas if site.level is SiteLevel.PPS])
        created = insert_new(session, rows)
    out(f"demo: {counts.summary()}")
    out(f"demo: polling stations: {created:,} created, {len(rows) - created:,} already there")
    return [row["code"] for row in rows]


def place_areas(areas: list[Site], centre: tuple[float, float] = CENTRE) -> None:
    """Invent coordinates for the regency (at `centre`), districts and villages that
    have none; the list is sorted by code, so a parent is placed before its children."""
    where: dict[str, tuple[float, float]] = {}
    for site in areas:
        if site.lat is None or site.lon is None:
            if site.parent_code is None:
                site.lat, site.lon = centre
            else:
                site.lat, site.lon = near(where[site.parent_code], SPREAD_KM[site.level], site.code)
            site.coords_synthetic = True
        where[site.code] = (site.lat, site.lon)


def _tps_rows(villages: list[Site]) -> list[dict[str, Any]]:
    rows = []
    for village in villages:
        count = tps_count(village.code)
        rows += [tps_row(village, n, f"TPS {n:03d}") for n in range(1, count + 1)]
        if what := KHUSUS.get(village.code):
            rows.append(tps_row(village, count + 1, f"TPS {count + 1:03d} khusus ({what})", special=True))
    return rows


def tps_row(village: Site, number: int, name: str, *, special: bool = False) -> dict[str, Any]:
    code = f"{village.code}-{number:03d}"
    assert village.lat is not None and village.lon is not None
    lat, lon = near((village.lat, village.lon), SPREAD_KM[SiteLevel.TPS], code)
    row = site_row(code, SiteLevel.TPS, name, village.code)
    row.update(kerawanan=kerawanan_of(code), special=special, lat=lat, lon=lon, coords_synthetic=True)
    return row


def _users(runtime: Runtime) -> tuple[dict[str, Actor], set[str]]:
    """The demo's people by username, and those who existed already (left unchanged)."""
    actors: dict[str, Actor] = {}
    kept: set[str] = set()
    with runtime.db.session(write=True) as session:
        for demo in USERS:
            user = session.scalar(select(User).where(User.username == demo.username))
            if user is None:
                user = create_user(
                    session, username=demo.username, password=PASSWORD, role=demo.role,
                    jurisdiction=demo.jurisdiction, full_name=demo.full_name, nrp=demo.nrp,
                    scopes=demo.scopes,
                )
            else:
                kept.add(demo.username)
            actors[demo.username] = actor_of(user)
    return actors, kept


def _register(runtime: Runtime, kpu: Actor, tps: list[str], out: Out) -> None:
    specs = [
        ItemSpec(ItemKind.KOTAK_SUARA, code, contest, contest=contest) for code in tps for contest in CONTESTS
    ]
    for start in range(0, len(specs), MAX_ITEMS_PER_REQUEST):
        register_items(runtime.databases, runtime.keys, runtime.sequencer, kpu, specs[start : start + MAX_ITEMS_PER_REQUEST])
    out(f"demo: {len(specs):,} ballot boxes registered ({', '.join(CONTESTS)} for each TPS), labels signed")


@dataclass
class Phone:
    """A demo user's phone: its own Ed25519 key, registered in the log, signing scans
    exactly as the field app does."""

    actor: Actor
    key: Ed25519PrivateKey
    device: str
    nrp: str | None = None  # an escort's
    seq: int = 0

    def sign(self, **fields: Any) -> dict[str, Any]:
        self.seq += 1
        scan = {"event_id": f"demo-{uuid.uuid4().hex}", **fields, "device": self.device}
        scan["device_seq"] = self.seq
        return {"scan": scan, "sig": base64.b64encode(self.key.sign(canonicalize(scan))).decode()}


def submit(runtime: Runtime, actor: Actor, envelopes: list[dict[str, Any]]) -> list[ScanResult]:
    """Signed scans taken in as the API takes them, by this process's services."""
    services = (runtime.databases, runtime.device_keys, runtime.sequencer, rules_of(runtime.settings))
    return submit_scans(*services, actor, envelopes)


def new_phone(runtime: Runtime, actor: Actor, name: str, nrp: str | None = None, log: str = REGENCY) -> Phone:
    """A phone registered in the log (the demo's); an escort's carries their NRP."""
    key = Ed25519PrivateKey.generate()
    work = DeviceRegistration(log, actor, key.public_key().public_bytes_raw(), name, nrp=nrp)
    device: Device = runtime.sequencer.submit(log, work, 1)
    return Phone(actor, key, device.id, nrp)


class _Story:
    """Boxes moved along their route by signed scans, each checked to be accepted
    without a flag: the demo shows clean custody, so any flag is a bug."""

    def __init__(self, runtime: Runtime, now: datetime) -> None:
        self.runtime = runtime
        with runtime.db.reads() as session:
            rows = session.execute(select(Site.code, Site.lat, Site.lon).where(Site.regency == REGENCY))
            self.coords = {code: (lat, lon) for code, lat, lon in rows}
        # Sealing, then a dispatch and a receive per step of the route: seven moments
        # over a few hours, none so long ago that its sync would count as late.
        span = min(timedelta(hours=6), timedelta(hours=runtime.settings.late_scan_hours / 2))
        self.moments = [now - span + span * k / 7 for k in range(7)]
        self.seals: dict[str, list[str]] = {}
        self.handoffs = 0

    def _at(self, site: str) -> dict[str, Any]:
        lat, lon = self.coords[site]
        return {"site": site, "location": {"lat": lat, "lon": lon, "accuracy_m": 12.0}}

    def _send(self, phone: Phone, envelopes: list[dict[str, Any]]) -> None:
        for start in range(0, len(envelopes), MAX_SCANS_PER_REQUEST):
            chunk = envelopes[start : start + MAX_SCANS_PER_REQUEST]
            for result in submit(self.runtime, phone.actor, chunk):
                if result.status != "accepted" or result.flags:
                    raise RuntimeError(
                        f"demo scan {result.event_id}: {result.status} {result.reason or ''} {result.flags}"
                    )

    def seal(self, phone: Phone, boxes: list[str]) -> None:
        for box in boxes:
            number = 2 * len(self.seals)
            self.seals[box] = [f"TTU-{number + 1:06d}", f"TTU-{number + 2:06d}"]
        self._send(phone, [
            phone.sign(
                type="seal", item=box, observed_at=_stamp(self.moments[0]), seals=self.seals[box], **self._at(REGENCY)
            )
            for box in boxes
        ])

    def hand_over(
        self, sender: Phone, boxes: list[str], step: int, escort: Phone, receiver: Phone | None = None,
        *, picked_up: bool = True,
    ) -> None:  # fmt: skip
        """Dispatch each box one step down its route, one truckload per destination
        named for the escort, who takes each under guard (unless not `picked_up`) and,
        if a receiver takes the boxes over there, hands it over first."""
        sent_at, received_at = self.moments[1 + 2 * step], self.moments[2 + 2 * step]
        leg = received_at - sent_at
        loads: dict[tuple[str, str], list[str]] = {}
        for box in boxes:
            route = route_to(box.rsplit("-", 1)[0])
            loads.setdefault((route[step], route[step + 1]), []).append(box)
        dispatches, receives = [], []
        assert escort.nrp is not None
        ends: dict[str, tuple[str, str]] = {}
        for (source, target), load in loads.items():
            self.handoffs += 1
            handoff, vehicle = f"{source}-{target}-demo", f"DH {8100 + self.handoffs} EA"
            ends[handoff] = (source, target)
            for box in load:
                dispatches.append(sender.sign(
                    type="dispatch", item=box, observed_at=_stamp(sent_at), counterparty=target, handoff=handoff,
                    vehicle=vehicle, escorts=[escort.nrp], seals=self.seals[box], **self._at(source),
                ))
                if receiver:
                    receives.append(receiver.sign(
                        type="receive", item=box, observed_at=_stamp(received_at), counterparty=source,
                        handoff=handoff, seals=self.seals[box], **self._at(target),
                    ))
        self._send(sender, dispatches)
        # The escort reads each truck's manifest: the whole truckload in one scan each.
        attested = []
        for handoff, (source, target) in ends.items():
            manifest = self._manifest_digest(handoff)
            if picked_up:
                attested.append(escort.sign(
                    type="pickup", observed_at=_stamp(sent_at + leg / 8), handoff=handoff, manifest=manifest,
                    **self._at(source),
                ))  # fmt: skip
            if receiver:
                attested.append(escort.sign(
                    type="delivery", observed_at=_stamp(received_at - leg / 8), handoff=handoff, manifest=manifest,
                    **self._at(target),
                ))  # fmt: skip
        self._send(escort, attested)
        if receiver:
            self._send(receiver, receives)

    def stock_take(self, phone: Phone, site: str, seen: list[str]) -> Stocktake:
        """A stock-take at `site`: the boxes `seen` scanned on its shelves now, then closed."""
        stocktake = f"{site}-SO-demo"
        self._send(phone, [
            phone.sign(type="stocktake", item=box, observed_at=_stamp(utcnow()), stocktake=stocktake, **self._at(site))
            for box in seen
        ])  # fmt: skip
        work = StocktakeClose(stocktake, phone.actor)
        return self.runtime.sequencer.submit(REGENCY, work, 1)

    def _manifest_digest(self, handoff: str) -> str:
        with self.runtime.db_for(REGENCY).reads() as session:
            return read_truckload(session, session.get_one(Handoff, (REGENCY, handoff))).manifest.digest


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _story(runtime: Runtime, actors: dict[str, Actor], tps: list[str]) -> None:
    """Kefamenanu's boxes sealed; Insana Utara's on the road to their PPK; Insana's at
    their PPK, but those of three villages sent on: two still on the road, Nansean's
    received at the village, and of those TPS 001's taken on to the polling station
    and TPS 002's Bupati box (its Gubernur box not yet: incomplete). Then
    PPK Insana's stock-take finds one box missing and one unexpected."""
    kpu, ppk, pps, kpps, kpps_2 = (
        new_phone(runtime, actors[name], f"demo phone of {name}")
        for name in ("kpu.ttu", "ppk.insana", "pps.nansean", "kpps.nansean.001", "kpps.nansean.002")
    )
    warehouse, districts = (
        new_phone(runtime, actors[user.username], f"demo phone of {user.username}", user.nrp)
        for user in USERS if user.role is Role.ESCORT
    )  # fmt: skip

    def boxes(*areas: str) -> list[str]:
        chosen = [code for code in tps if any(within(code, area) for area in areas)]
        return [f"{code}-{contest}" for code in chosen for contest in CONTESTS]

    story = _Story(runtime, utcnow())
    story.seal(kpu, boxes(KEFAMENANU, INSANA, INSANA_UTARA))
    # Insana Utara's truck left without its escort's pickup: the demo's one open alert.
    story.hand_over(kpu, boxes(INSANA_UTARA), 0, warehouse, picked_up=False)
    story.hand_over(kpu, boxes(INSANA), 0, warehouse, receiver=ppk)
    story.hand_over(ppk, boxes(*ONWARD[1:]), 1, districts)
    story.hand_over(ppk, boxes(NANSEAN), 1, districts, receiver=pps)
    story.hand_over(pps, boxes(f"{NANSEAN}-001"), 2, districts, receiver=kpps)
    # TPS 002 has its Bupati box, not yet its Gubernur box: an incomplete polling station.
    story.hand_over(pps, [INCOMPLETE], 2, districts, receiver=kpps_2)
    # PPK Insana counts its shelves: one of its boxes is not there, and a box the log
    # places on the truck to Susulaku is (it never left?): custody stays as the log says.
    shelves = [box for box in boxes(INSANA) if not any(within(box, village) for village in ONWARD)]
    stray = boxes(ONWARD[1])[0]
    counted = story.stock_take(ppk, INSANA, [*shelves[1:], stray])
    assert (counted.missing, counted.unexpected) == ([shelves[0]], [stray]), counted


def _statuses(runtime: Runtime) -> str:
    with runtime.db_for(REGENCY).reads() as session:
        rows = session.execute(
            select(Item.status, func.count()).where(Item.log_id == REGENCY).group_by(Item.status)
        )
        counts = Counter({status.value: n for status, n in rows})
    return ", ".join(f"{n:,} {status}" for status, n in counts.most_common())


def logins_table(kept: set[str]) -> str:
    """The demo's logins; accounts that existed before keep their own password."""
    rows = [("username", "role", "jurisdiction", "password")] + [
        (
            user.username,
            user.role.value,
            user.jurisdiction or "(national)",
            "(unchanged: existed before)" if user.username in kept else PASSWORD,
        )
        for user in USERS
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = [
        "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "demo logins (development only):\n" + "\n".join(lines)
