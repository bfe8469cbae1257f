"""`jejak simulate`: a whole election, made from the wilayah data and driven through the
real HTTP API of a running server.

From the shipped regencies, districts and villages it draws polling stations (around
the real average per village, the same on every run for a seed), makes one account
and one phone per site, registers the ballot boxes (five per TPS for a Pemilu, two
for a Pilkada) and walks every box along its route and back: sealed in the KPU
warehouse, handed down to the PPK, the PPS and the TPS, opened, counted, resealed,
handed back up and stored. Every step is a signed scan that phones sync in batches,
observed at a believable time of the days around voting day; every truckload travels
under the regency's police escort, who signs its pickup and its delivery, one scan
each for the whole truckload, on their own phone. A few irregularities
are planted in every regency (a late sync, a seal mismatch, a box received at the
wrong village, a wet box) and the server must flag exactly those. It prints ingest
figures per log and in total, checks every count, then runs `jejak verify` on every
log and prints its figures.

Sites and accounts are written to the database directly (accounts have no API); each
phone's session token is minted with the server's token key, since an argon2 login
per account would take longer than the election. Everything else goes over HTTP.

The election is a replay of days in minutes: every scan is synced days after it was
observed. The server this command starts therefore counts a sync as late only beyond
the replay's span, and its "not received in time" timer is off (it would judge the
replay's minutes, not the election's days). A server given with --url must be set up
the same way (the command prints how)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import math
import os
import random
import secrets
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from nacl.signing import SigningKey
from sqlalchemy import func, select, text

from api.auth import tokens
from ledger.jcs import canonicalize
from models.accounts.actor import Actor, Role
from models.accounts.users import User, actor_of, hash_password
from models.core import migrations
from models.core.errors import Conflict, InvalidRequest
from models.core.settings import Settings, get_settings
from models.custody.alerts import Alert
from models.custody.completeness import KITS, kit
from models.custody.items import Item
from models.places.zones import zone_of
from models.places.geo import Point, distance_km
from models.places.sites import Site, SiteLevel
from models.places.wilayah import SHIPPED, import_areas, insert_new, regencies_in_provinces
from models.runtime import Runtime
from scripts.bench_ingest import free_port, serve, wait_ready
from scripts.bench_ledger import recreate_database
from scripts.bench_verify import verify_run
from scripts.seed_demo import near, place_areas, tps_row, unit

CONTESTS = KITS  # the ballot boxes of each election (a city elects its mayor: `kit`)
# The real average of TPS per village: Pemilu 2024 had 823,220 TPS for the 83,762
# villages of the wilayah data; Pilkada 2024 (up to 600 voters a TPS, not 300) had
# 9,877 TPS in NTT's 3,442 villages.
TPS_PER_VILLAGE = {"pemilu": 823_220 / 83_762, "pilkada": 9_877 / 3_442}
INDONESIA = (-2.5, 118.0)  # synthetic regency centres are drawn around it
TRUCK_KMH = 25.0  # mountain roads: far below the impossible-travel limit
IRREGULARITIES = ("late_sync", "seal_mismatch", "wrong_site", "incident_wet")


def tps_count(village: str, mean: float, seed: str) -> int:
    """A village's polling stations, skewed like the real spread: most villages have a
    few, towns many (a gamma draw with the given mean)."""
    draw = random.Random(f"{seed}|tps|{village}").gammavariate(2.0, mean / 2.0)
    return max(1, min(999, round(draw)))


# The steps of every box's route, in order: a scan each (the scanning site's level, then
# the site it goes to or came from).
STEPS = (
    ("seal", SiteLevel.KPU, None),
    ("dispatch", SiteLevel.KPU, SiteLevel.PPK), ("receive", SiteLevel.PPK, SiteLevel.KPU),
    ("dispatch", SiteLevel.PPK, SiteLevel.PPS), ("receive", SiteLevel.PPS, SiteLevel.PPK),
    ("dispatch", SiteLevel.PPS, SiteLevel.TPS), ("receive", SiteLevel.TPS, SiteLevel.PPS),
    ("open", SiteLevel.TPS, None), ("count", SiteLevel.TPS, None), ("reseal", SiteLevel.TPS, None),
    ("dispatch", SiteLevel.TPS, SiteLevel.PPS), ("receive", SiteLevel.PPS, SiteLevel.TPS),
    ("dispatch", SiteLevel.PPS, SiteLevel.PPK), ("receive", SiteLevel.PPK, SiteLevel.PPS),
    ("dispatch", SiteLevel.PPK, SiteLevel.KPU), ("receive", SiteLevel.KPU, SiteLevel.PPK),
    ("store", SiteLevel.KPU, None),
)  # fmt: skip
# When each handoff's truck leaves, by the step of its dispatch: (first day from voting
# day, days spread over, first hour, hours spread over), local time. The return from a
# TPS leaves after its count, and the PPK's after the district recapitulation.
DEPARTURES = {1: (-10, 4, 6, 8), 3: (-5, 3, 6, 8), 5: (-1, 1, 7, 8), 12: (1, 2, 8, 8), 14: (4, 5, 8, 8)}
SEAL_DAYS = (-14, 3)  # the warehouse seals boxes over three days, two weeks ahead
COUNT_HOURS = 1.5  # per contest: a Pemilu TPS counts its five boxes one after another


@dataclass(eq=False)  # a phone is itself: hashed by identity
class Phone:
    """A site's account and its phone: an Ed25519 key (the same for a seed), registered in
    the regency's log, signing scans as the field app does."""

    username: str
    role: Role
    site: str
    key: SigningKey
    actor: Actor | None = None
    device: str = ""
    seq: int = 0
    token: str = ""
    minted: float = 0.0

    @property
    def regency(self) -> str:
        return self.site[:5]

    def sign(self, scan: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        scan = {**scan, "device": self.device, "device_seq": self.seq}
        return {"scan": scan, "sig": base64.b64encode(self.key.sign(canonicalize(scan)).signature).decode()}


@dataclass(frozen=True)
class Box:
    id: str
    tps: str
    contest: str
    number: int  # the contest's place in the TPS's count

    @property
    def route(self) -> list[str]:
        return [self.tps[:5], self.tps[:8], self.tps.rsplit("-", 1)[0], self.tps]


@dataclass
class Election:
    """What is simulated: sites with their coordinates, phones, boxes, the planted
    irregularities and the clock of voting day."""

    seed: str
    kind: str
    regencies: list[str]
    names: dict[str, str]
    coords: dict[str, tuple[float, float]]
    stations: list[str]
    voting_day: datetime  # its midnight, naive: each regency's own zone applies
    phones: dict[str, Phone] = field(default_factory=dict)  # by the site they scan at
    escorts: dict[str, Phone] = field(default_factory=dict)  # by regency
    boxes: list[Box] = field(default_factory=list)
    planted: dict[str, str] = field(default_factory=dict)  # box id → irregularity
    wrong_village: dict[str, str] = field(default_factory=dict)  # box id → the village that takes it

    def unit(self, *parts: str) -> float:
        return unit(self.seed, *parts)

    def local(self, regency: str, days: float, hours: float) -> datetime:
        """A moment `days` and `hours` after the start of voting day, in the regency's zone."""
        day = self.voting_day.replace(tzinfo=zone_of(regency)[0])
        return day + timedelta(days=days, hours=hours)

    def earliest(self) -> datetime:
        """The first normal scan's earliest possible time (sealing starts)."""
        return min(self.local(r, SEAL_DAYS[0], 8) for r in self.regencies)


def plan(runtime: Runtime, args: argparse.Namespace) -> Election:
    """Import the areas, draw the polling stations and write them, choose the boxes and
    the irregularities; the same election for the same seed."""
    regencies, districts = _scope(args)
    mean = args.tps_per_village or TPS_PER_VILLAGE[args.election]
    with runtime.db.session(write=True) as session:
        import_areas(session, SHIPPED, regencies=regencies)
        areas = list(
            session.scalars(
                select(Site).where(Site.regency.in_(sorted(regencies)), Site.level != SiteLevel.TPS).order_by(Site.code)
            )
        )
        for regency in sorted(regencies):
            place_areas(
                [s for s in areas if s.regency == regency], near(INDONESIA, 1500.0, f"{args.seed}|{regency}")
            )
        villages = _villages(areas, districts, args.villages)
        rows = [
            tps_row(village, n, f"TPS {n:03d}")
            for village in villages
            for n in range(1, tps_count(village.code, mean, args.seed) + 1)
        ]
        insert_new(session, rows)
        stations = [r["code"] for r in rows]
        coords = {s.code: (s.lat, s.lon) for s in areas} | {r["code"]: (r["lat"], r["lon"]) for r in rows}
        # A polling station imported before keeps the coordinates it has.
        stored = select(Site.code, Site.lat, Site.lon).where(
            Site.regency.in_(sorted(regencies)), Site.level == SiteLevel.TPS, Site.lat.is_not(None)
        )
        coords |= {code: (lat, lon) for code, lat, lon in session.execute(stored) if code in coords}
        names = {s.code: s.name for s in areas if s.level is SiteLevel.KPU}
    # Voting day ten days ago: the last boxes came home and were stored by yesterday.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    election = Election(
        args.seed, args.election, sorted(regencies), names, coords, stations,
        voting_day=today - timedelta(days=10),
    )
    for tps in election.stations:
        election.boxes += [Box(f"{tps}-{c}", tps, c, n) for n, c in enumerate(kit(args.election, tps))]
    _phones(election, [v.code for v in villages], {v.parent_code or "" for v in villages})
    _irregularities(election)
    return election


def _villages(areas: list[Site], districts: set[str], first: int | None) -> list[Site]:
    """The villages simulated: of the chosen districts (or all), the first N of each."""
    chosen: dict[str, list[Site]] = defaultdict(list)
    for site in areas:
        if site.level is SiteLevel.PPS and (not districts or site.parent_code in districts):
            chosen[site.parent_code or ""].append(site)
    return [village for villages in chosen.values() for village in villages[:first]]


def _scope(args: argparse.Namespace) -> tuple[set[str], set[str]]:
    """The regencies to import and, for a slice, the districts to simulate."""
    regencies = set(args.regency or [])
    if args.province:
        regencies |= regencies_in_provinces(SHIPPED, args.province)
    districts = set(args.district or [])
    regencies |= {d[:5] for d in districts}
    if not regencies:
        raise InvalidRequest("say what to simulate: --province 53, --regency 53.03 or --district 53.03.08")
    return regencies, districts


def _phones(election: Election, villages: list[str], districts: set[str]) -> None:
    def phone(username: str, role: Role, site: str) -> Phone:
        key = SigningKey(hashlib.sha256(f"{election.seed}|phone|{username}".encode()).digest())
        return Phone(username, role, site, key)

    sites = (
        [(r, Role.KPU) for r in election.regencies]
        + [(d, Role.PPK) for d in sorted(districts)]
        + [(v, Role.PPS) for v in villages]
        + [(t, Role.KPPS) for t in election.stations]
    )
    for site, role in sites:
        election.phones[site] = phone(f"sim.{role}.{site}", role, site)
    for regency in election.regencies:
        election.escorts[regency] = phone(f"sim.escort.{regency}", Role.ESCORT, regency)


def _irregularities(election: Election) -> None:
    """One of each per regency, on distinct boxes; the wrong-site box needs a second
    village in its district to be received at."""
    by_regency: dict[str, list[Box]] = defaultdict(list)
    for box in election.boxes:
        by_regency[box.tps[:5]].append(box)
    villages: dict[str, list[str]] = defaultdict(list)
    for site, phone in election.phones.items():
        if phone.role is Role.PPS:
            villages[site[:8]].append(site)
    for regency, boxes in by_regency.items():
        rng = random.Random(f"{election.seed}|irregular|{regency}")
        pool = rng.sample(boxes, len(boxes))
        moved = next((b for b in pool if len(villages[b.tps[:8]]) > 1), None)
        if moved is not None:
            election.planted[moved.id] = "wrong_site"
            election.wrong_village[moved.id] = rng.choice([v for v in villages[moved.tps[:8]] if v != moved.route[2]])
        others = [k for k in IRREGULARITIES if k != "wrong_site"]
        for kind, box in zip(others, [b for b in pool if b is not moved], strict=False):
            election.planted[box.id] = kind


@dataclass
class Scan:
    """A scan to send: who signs it, what it says, the flags the server must find."""

    phone: Phone
    fields: dict[str, Any]
    flags: list[str]


class Route:
    """Every box's scans step by step: where, when, with which seals; the same for a seed."""

    def __init__(self, election: Election) -> None:
        self.e = election

    def _where(self, site: str, salt: str) -> dict[str, Any]:
        lat, lon = near(self.e.coords[site], 0.03, f"{self.e.seed}|{salt}")
        return {"site": site, "location": {"lat": lat, "lon": lon, "accuracy_m": 10.0}}

    def _seals(self, box: Box, step: int) -> list[str]:
        """The seal numbers on the box at `step`: its warehouse seals, a mistyped one
        once a seal mismatch was received, the new seals from the reseal on."""
        if step >= 9:
            return [f"{box.id[:5]}-R{n}{self._serial(box)}" for n in (1, 2)]
        seals = [f"{box.id[:5]}-{n}{self._serial(box)}" for n in (1, 2)]
        if step >= 4 and self.e.planted.get(box.id) == "seal_mismatch":
            seals[1] = seals[1][:-1] + str((int(seals[1][-1]) + 1) % 10)
        return seals

    def _serial(self, box: Box) -> str:
        return f"{int(hashlib.sha256(box.id.encode()).hexdigest()[:10], 16) % 10**7:07d}"

    def path(self, box: Box, step: int) -> tuple[str, str | None]:
        """(where the scan is made, its counterparty) at `step`."""
        _, here, there = STEPS[step]
        route = box.route
        levels = [SiteLevel.KPU, SiteLevel.PPK, SiteLevel.PPS, SiteLevel.TPS]
        site = route[levels.index(here)]
        other = route[levels.index(there)] if there else None
        return site, other

    def departure(self, box: Box, step: int) -> datetime:
        """When the truck of this box's dispatch at `step` leaves (local time)."""
        regency = box.id[:5]
        site, target = self.path(box, step)
        if step == 10:
            contests = len(CONTESTS[self.e.kind])
            hours = 14 + contests * COUNT_HOURS + self.e.unit(box.tps, "count") * 2 + 0.75
            return self.e.local(regency, 0, hours)
        first_day, days, first_hour, hours = DEPARTURES[step]
        u = self.e.unit(site, str(target), "depart")
        day = first_day + math.floor(u * days)
        return self.e.local(regency, day, first_hour + self.e.unit(site, str(target), "hour") * hours)

    def arrival(self, box: Box, step: int) -> datetime:
        """When the truck of this box's dispatch at `step` is at its destination, ready
        to unload (local time)."""
        site, target = self.path(box, step)
        assert target is not None
        travel = distance_km(Point(*self.e.coords[site]), Point(*self.e.coords[target])) / TRUCK_KMH
        return self.departure(box, step) + timedelta(hours=travel + 0.25)

    def observed(self, box: Box, step: int) -> datetime:
        kind = STEPS[step][0]
        regency = box.id[:5]
        if kind == "seal":
            day = SEAL_DAYS[0] + math.floor(self.e.unit(box.id, "seal-day") * SEAL_DAYS[1])
            if self.e.planted.get(box.id) == "late_sync":
                day = SEAL_DAYS[0] - 3  # sealed before the others, its phone offline ever since
            return self.e.local(regency, day, 8 + self.e.unit(box.id, "seal-hour") * 9)
        if kind == "dispatch":
            return self.departure(box, step) - timedelta(minutes=30 * self.e.unit(box.id, str(step)))
        if kind == "receive":
            return self.arrival(box, step - 1) + timedelta(minutes=20 * self.e.unit(box.id, str(step)))
        if kind == "open":
            return self.e.local(regency, 0, 7 + self.e.unit(box.id, "open") / 6)
        if kind in ("count", "reseal"):
            hours = 14 + (box.number + 1) * COUNT_HOURS + self.e.unit(box.tps, "count") * 2
            return self.e.local(regency, 0, hours - 0.5 + (0.3 if kind == "reseal" else 0))
        return self.observed(box, step - 1) + timedelta(minutes=30 + 180 * self.e.unit(box.id, "store"))

    def scans(self, step: int) -> list[list[Scan]]:
        """Every box's scan at `step`, and the planted incident during the last leg out,
        in waves sent one after the other: a box received at the wrong village arrives
        there before its own, so that scan goes first, not racing the right one; the
        escort picks each truckload up once its boxes are dispatched, and delivers it
        before they are received."""
        kind = STEPS[step][0]
        out: list[Scan] = []
        strays: list[Scan] = []
        for box in self.e.boxes:
            site, other = self.path(box, step)
            fields: dict[str, Any] = {
                "event_id": f"sim-{hashlib.sha256(f'{self.e.seed}|{box.id}|{step}'.encode()).hexdigest()[:32]}",
                "type": kind,
                "item": box.id,
                "observed_at": _stamp(self.observed(box, step)),
                **self._where(site, f"{box.id}|{step}"),
            }
            if kind not in ("open", "count"):
                fields["seals"] = self._seals(box, step)
            if other:
                fields["counterparty"] = other
            if kind == "dispatch":
                fields |= self._truck(box, site, other or "", step)
            if step == 4 and (wrong := self.e.wrong_village.get(box.id)):
                strays.append(self._wrong_receive(box, wrong, fields))
            out.append(Scan(self.e.phones[site], fields, self._flags(box, step)))
            if step == 6 and self.e.planted.get(box.id) == "incident_wet":
                out.append(self._incident(box))
        if kind == "dispatch":
            return [out, self._attestations(step, "pickup")]
        if kind == "receive":
            return [wave for wave in (strays, self._attestations(step - 1, "delivery"), out) if wave]
        return [out]

    def _truck(self, box: Box, site: str, target: str, step: int) -> dict[str, Any]:
        n = int(self.e.unit(site, target, "truck") * 9000) + 1000
        escort = escort_nrp(self.e.escorts[box.id[:5]].username)
        return {"handoff": f"{site}-{target}-{step}", "vehicle": f"DH {n} EB", "escorts": [escort]}

    def _attestations(self, step: int, kind: str) -> list[Scan]:
        """The escort's pickup (at the origin, as the truck leaves) or delivery (at the
        destination, as it arrives) of each truckload dispatched at `step`: one scan a
        truckload, whatever its number of boxes."""
        trucks: dict[str, Box] = {}
        for box in self.e.boxes:
            site, target = self.path(box, step)
            trucks.setdefault(f"{site}-{target}-{step}", box)
        scans = []
        for handoff, box in trucks.items():
            site, target = self.path(box, step)
            if kind == "pickup":
                where, when = site, self.departure(box, step) + timedelta(minutes=5)
            else:
                where, when = target or "", self.arrival(box, step) - timedelta(minutes=5)
            fields = {
                "event_id": f"sim-{hashlib.sha256(f'{self.e.seed}|{handoff}|{kind}'.encode()).hexdigest()[:32]}",
                "type": kind,
                "observed_at": _stamp(when),
                "handoff": handoff,
                **self._where(where, f"{handoff}|{kind}"),
            }
            scans.append(Scan(self.e.escorts[box.id[:5]], fields, []))
        return scans

    def _flags(self, box: Box, step: int) -> list[str]:
        planted = self.e.planted.get(box.id)
        wanted = {"late_sync": 0, "seal_mismatch": 4}
        return [planted] if planted in wanted and wanted[planted] == step else []

    def _wrong_receive(self, box: Box, village: str, receive: dict[str, Any]) -> Scan:
        """Another village of the district scans the box as received before the truck takes
        it on to its own village: evidence only (custody stays with the district)."""
        fields = {
            **receive,
            "event_id": f"sim-{hashlib.sha256(f'{self.e.seed}|{box.id}|wrong'.encode()).hexdigest()[:32]}",
            "observed_at": _stamp(self.observed(box, 4) - timedelta(minutes=20)),
            **self._where(village, f"{box.id}|wrong"),
        }
        return Scan(self.e.phones[village], fields, ["wrong_site"])

    def _incident(self, box: Box) -> Scan:
        """The escort reports the box wet on the way to its polling station."""
        village = box.route[2]
        halfway = self.departure(box, 5) + timedelta(minutes=10)
        fields = {
            "event_id": f"sim-{hashlib.sha256(f'{self.e.seed}|{box.id}|incident'.encode()).hexdigest()[:32]}",
            "type": "incident",
            "item": box.id,
            "observed_at": _stamp(halfway),
            "incident": "wet",
            "reason": "rain on the open truck; the box's cardboard is soaked",
            **self._where(village, f"{box.id}|incident"),
        }
        return Scan(self.e.escorts[box.id[:5]], fields, ["incident_wet"])


def escort_nrp(username: str) -> str:
    """A simulated escort's NRP, fixed by their account's name."""
    return f"{int(unit(username, 'nrp') * 9e7) + 10**7}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_accounts(runtime: Runtime, election: Election) -> None:
    """An account per site (and a police escort per regency), created once; they share
    one unguessable password, never used: their phones' tokens are minted."""
    phones = [*election.phones.values(), *election.escorts.values()]
    password_hash = hash_password(secrets.token_urlsafe(24))
    with runtime.db.session(write=True) as session:
        users = {u.username: u for u in session.scalars(select(User).where(User.username.startswith("sim.")))}
        for phone in phones:
            if phone.username not in users:
                users[phone.username] = User(
                    username=phone.username, password_hash=password_hash, role=phone.role,
                    jurisdiction=phone.site, full_name=f"{phone.role.upper()} {phone.site} (simulated)",
                    nrp=escort_nrp(phone.username) if phone.role is Role.ESCORT else None,
                )
                session.add(users[phone.username])
        session.flush()
        for phone in phones:
            phone.actor = actor_of(users[phone.username])


def _refuse_used_logs(runtime: Runtime, regencies: list[str]) -> None:
    used = []
    for regency in regencies:
        with runtime.db_for(regency).reads() as session:
            used += session.scalars(select(Item.log_id).where(Item.log_id == regency).limit(1)).all()
    if used:
        raise Conflict(f"logs {', '.join(used)} have items already: simulate an election on a fresh database (--fresh)")


@dataclass
class LogFigures:
    """What one log took in during the scan phases."""

    scans: int = 0
    intervals: list[tuple[float, float]] = field(default_factory=list)

    @property
    def busy(self) -> float:
        """Seconds with at least one of the log's requests in flight."""
        total, end = 0.0, -math.inf
        for start, stop in sorted(self.intervals):
            if stop > end:
                total += stop - max(start, end)
                end = stop
        return total


class Driver:
    """The phones' side of the API: one HTTP session, at most `clients` requests at once,
    each phone syncing its own outbox in order."""

    def __init__(self, runtime: Runtime, base: str, clients: int, batch: int) -> None:
        self.runtime = runtime
        self.base = base
        self.clients = clients
        self.batch = batch
        self.figures: dict[str, LogFigures] = defaultdict(LogFigures)
        self.results: Counter[str] = Counter()
        self.flagged: Counter[str] = Counter()
        self.surprises: list[str] = []

    def token(self, phone: Phone) -> str:
        """The phone's session, minted anew well before it expires."""
        if time.monotonic() - phone.minted > self.runtime.settings.token_minutes * 30:
            assert phone.actor is not None
            phone.token, _ = tokens.issue(self.runtime.keys, self.runtime.settings, phone.actor)
            phone.minted = time.monotonic()
        return phone.token

    async def run(self, jobs: dict[Phone, list[tuple[str, Any]]], check: Any) -> float:
        """Each phone's requests (path, body) in order, phones at once; `check(phone,
        body, answer)` looks at each answer. Returns the seconds it all took."""
        import aiohttp

        limit = asyncio.Semaphore(self.clients)
        # A connection per request, as many phones make: the server's workers share them out.
        connector = aiohttp.TCPConnector(limit=self.clients, force_close=True)
        timeout = aiohttp.ClientTimeout(total=600)
        async with aiohttp.ClientSession(self.base, connector=connector, timeout=timeout) as client:

            async def phone_syncs(phone: Phone, requests: list[tuple[str, Any]]) -> None:
                for path, body in requests:
                    headers = {"Authorization": f"Bearer {self.token(phone)}", "Content-Type": "application/json"}
                    async with limit:
                        started = time.monotonic()
                        async with client.post(path, data=orjson.dumps(body), headers=headers) as response:
                            answer = await response.read()
                        stopped = time.monotonic()
                    if response.status >= 300:
                        raise RuntimeError(f"POST {path} as {phone.username}: {response.status} {answer[:300]!r}")
                    check(phone, body, orjson.loads(answer), (started, stopped))

            started = time.monotonic()
            await asyncio.gather(*(phone_syncs(p, r) for p, r in jobs.items()))
            return time.monotonic() - started

    def register_devices(self, phones: list[Phone]) -> float:
        def check(phone: Phone, body: Any, answer: Any, _: Any) -> None:
            phone.device = answer["id"]

        jobs = {
            p: [("/api/v1/devices", {"public_key": base64.b64encode(bytes(p.key.verify_key)).decode(),
                                     "name": f"phone of {p.username}"})]
            for p in phones
        }  # fmt: skip
        return asyncio.run(self.run(jobs, check))

    def register_boxes(self, election: Election) -> float:
        jobs: dict[Phone, list[tuple[str, Any]]] = defaultdict(list)
        by_regency: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for box in election.boxes:
            by_regency[box.id[:5]].append(
                {"kind": "kotak_suara", "destination": box.tps, "code": box.contest, "contest": box.contest}
            )
        for regency, specs in by_regency.items():
            kpu = election.phones[regency]
            jobs[kpu] = [("/api/v1/items", {"items": specs[n : n + 1000]}) for n in range(0, len(specs), 1000)]
        return asyncio.run(self.run(jobs, lambda *_: None))

    def sync(self, scans: list[Scan]) -> float:
        """Each phone signs its scans and syncs them in batches; every answer is checked
        against the flags the scan must get."""
        outbox: dict[Phone, list[dict[str, Any]]] = defaultdict(list)
        expected: dict[str, list[str]] = {}
        for scan in scans:
            outbox[scan.phone].append(scan.phone.sign(scan.fields))
            expected[scan.fields["event_id"]] = scan.flags
        jobs = {
            phone: [("/api/v1/events", {"scans": signed[n : n + self.batch]}) for n in range(0, len(signed), self.batch)]
            for phone, signed in outbox.items()
        }

        def check(phone: Phone, body: Any, answer: Any, interval: tuple[float, float]) -> None:
            figures = self.figures[phone.regency]
            figures.scans += len(body["scans"])
            figures.intervals.append(interval)
            for result in answer["results"]:
                self.results[result["status"]] += 1
                self.flagged.update(result["flags"])
                if result["status"] != "accepted" or sorted(result["flags"]) != expected[result["event_id"]]:
                    self.surprises.append(
                        f"{result['event_id']}: {result['status']} {result.get('reason') or ''} "
                        f"flags {result['flags']}, expected {expected[result['event_id']]}"
                    )

        return asyncio.run(self.run(jobs, check))


def simulate(runtime: Runtime, args: argparse.Namespace, base: str | None = None) -> int:
    """Plan the election, drive it through the server at `base` (or one started here),
    check and verify it; 0 when every count matched and every log verified."""
    started = time.monotonic()
    _refuse_used_logs(runtime, sorted(_scope(args)[0]))
    election = plan(runtime, args)
    for regency in election.regencies:
        runtime.ensure_log(regency)
    runtime.share_sites(set(election.regencies))
    create_accounts(runtime, election)
    print(
        f"simulate: {args.election}, {len(election.regencies)} regencies, "
        f"{sum(1 for p in election.phones.values() if p.role is Role.PPS):,} villages, "
        f"{len(election.stations):,} TPS, {len(election.boxes):,} ballot boxes, "
        f"{len(election.phones) + len(election.escorts):,} accounts; voting day {election.voting_day:%Y-%m-%d}; "
        f"set up in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    with _server(runtime.settings, args, base, replay_env(election)) as url:
        driver = Driver(runtime, url, args.clients, args.batch)
        phones = [*election.phones.values(), *election.escorts.values()]
        seconds = driver.register_devices(phones)
        print(f"devices: {len(phones):,} phones registered in {seconds:.1f} s ({len(phones) / seconds:,.0f}/s)", flush=True)
        seconds = driver.register_boxes(election)
        rate = len(election.boxes) / seconds
        print(f"boxes: {len(election.boxes):,} registered with their labels in {seconds:.1f} s ({rate:,.0f}/s)", flush=True)
        route = Route(election)
        scanning = 0.0
        for step, (kind, level, other) in enumerate(STEPS):
            waves = route.scans(step)
            settle(runtime)
            seconds = sum(driver.sync(wave) for wave in waves)
            scans = [scan for wave in waves for scan in wave]
            scanning += seconds
            where = f"{level.upper()}" + (f" {'→' if kind == 'dispatch' else '←'} {other.upper()}" if other else "")
            print(
                f"step {step + 1:2d}/{len(STEPS)} {kind:8s} {where:11s} {len(scans):9,} scans in {seconds:7.1f} s "
                f"= {len(scans) / seconds:7,.0f} scans/s",
                flush=True,
            )
        logs = _logs_checkpointed(url, election.regencies)
        ok = report_ingest(runtime, election, driver, logs, scanning)
        ok = report_verify(election, url, logs, args.verify_workers) and ok
    print(f"simulate: {'OK' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


def replay_env(election: Election) -> dict[str, str]:
    """The server settings a replay needs: a sync is late only if later than the whole
    replay's span (plus a day), and the not-received timer is off."""
    span = (datetime.now(UTC) - election.earliest()).total_seconds() / 3600
    return {
        "JEJAK_LATE_SCAN_HOURS": str(math.ceil(span) + 24),
        "JEJAK_NOT_RECEIVED_CHECK_INTERVAL": str(365 * 86400),
    }


def settle(runtime: Runtime) -> None:
    """Days pass between the steps of an election, and autovacuum runs: vacuum the tables
    every step rewrites and refresh the planner's statistics, so that a replay measures
    the election rather than minutes of dead rows (or a server with autovacuum off)."""
    for database in runtime.databases.each():
        if database.engine.dialect.name == "postgresql":
            with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM (ANALYZE) items, handoffs, logs"))
                connection.execute(text("ANALYZE"))


@contextmanager
def _server(settings: Settings, args: argparse.Namespace, base: str | None, replay: dict[str, str]) -> Iterator[str]:
    """The server at --url, or one started here on the same database and keys."""
    if base:
        print(
            "simulate: the server must replay days in minutes: run it with "
            + " ".join(f"{k}={v}" for k, v in replay.items()),
            flush=True,
        )
        yield base.rstrip("/")
        return
    env = {
        "DATABASE_URL": settings.database_url,
        "JEJAK_ENVIRONMENT": settings.environment,
        "JEJAK_KEYS_DIR": str(settings.keys_dir),
        "JEJAK_HOST": settings.host,
        "JEJAK_LOG_LEVEL": "WARNING",
        **replay,
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = serve(["--factory", "api.app:app_from_env", "--workers", str(args.workers)], env, port)
    try:
        wait_ready(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)


def _logs_checkpointed(base: str, regencies: list[str]) -> dict[str, dict[str, Any]]:
    """The simulated logs as GET /api/v1/logs lists them, once checkpoints cover them."""
    deadline = time.monotonic() + 120
    while True:
        listed = {log["log"]: log for log in httpx.get(base + "/api/v1/logs", timeout=30).json()["logs"]}
        logs = {r: listed[r] for r in regencies}
        if all(log["checkpoint_size"] == log["size"] for log in logs.values()) or time.monotonic() > deadline:
            return logs
        time.sleep(0.5)


def report_ingest(
    runtime: Runtime, election: Election, driver: Driver, logs: dict[str, dict[str, Any]], scanning: float
) -> bool:
    """Per log and in total: scans, entries, scans/s; then the count checks."""
    boxes = Counter(box.id[:5] for box in election.boxes)
    phones = Counter(p.regency for p in [*election.phones.values(), *election.escorts.values()])
    alerts = _alerts(runtime, election.regencies)
    print()
    print("| log | regency | TPS | boxes | scans | entries | busy s | scans/s | alerts |")
    print("|---|---|---|---|---|---|---|---|---|")
    tps = Counter(t[:5] for t in election.stations)
    ok = True
    for regency in election.regencies:
        figures, log = driver.figures[regency], logs[regency]
        # A label key, the rules in force, each phone's registration, each box's register
        # and label, its scans.
        expected = 2 + phones[regency] + 2 * boxes[regency] + figures.scans
        ok = ok and log["size"] == expected == log["checkpoint_size"]
        print(
            f"| {regency} | {election.names[regency]} | {tps[regency]:,} | {boxes[regency]:,} | "
            f"{figures.scans:,} | {log['size']:,}{'' if log['size'] == expected else f' (expected {expected:,})'} | "
            f"{figures.busy:.1f} | {figures.scans / figures.busy:,.0f} | {sum(alerts[regency].values())} |"
        )
    scans = sum(f.scans for f in driver.figures.values())
    entries = sum(log["size"] for log in logs.values())
    print(
        f"| **total** | {len(election.regencies)} logs | {len(election.stations):,} | {len(election.boxes):,} | "
        f"{scans:,} | {entries:,} | {scanning:.1f} | **{scans / scanning:,.0f}** | "
        f"{sum(sum(a.values()) for a in alerts.values())} |"
    )
    print()
    planted = Counter(election.planted.values())
    raised = sum(alerts.values(), Counter())
    ok = ok and driver.results == Counter(accepted=scans) and not driver.surprises and raised == planted
    print(
        f"count check {'OK' if ok else 'FAILED'}: {scans:,} scans sent, results {dict(driver.results)}; "
        f"irregularities planted {dict(planted)}, alerts raised {dict(raised)}; "
        f"{len(driver.surprises)} answers other than expected"
    )
    for surprise in driver.surprises[:10]:
        print(f"  unexpected: {surprise}")
    return ok


def _alerts(runtime: Runtime, regencies: list[str]) -> dict[str, Counter[str]]:
    found: dict[str, Counter[str]] = {}
    for regency in regencies:
        with runtime.db_for(regency).reads() as session:
            rows = session.execute(select(Alert.rule, func.count()).where(Alert.log_id == regency).group_by(Alert.rule))
            found[regency] = Counter(dict(rows.all()))
    return found


def report_verify(election: Election, base: str, logs: dict[str, dict[str, Any]], workers: int) -> bool:
    """`jejak verify` over HTTP on every log, with its listed key, one log after another."""
    print()
    print(f"| log | entries | verify s | entries/s |  ({workers} worker processes)")
    print("|---|---|---|---|")
    total_entries, total_seconds, ok = 0, 0.0, True
    for regency in election.regencies:
        log = logs[regency]
        try:
            seconds, _ = verify_run(f"{base}/logs/{regency}", log["verifier_key"], workers)
        except SystemExit as failure:
            print(f"| {regency} | {log['size']:,} | FAILED | {failure} |")
            ok = False
            continue
        total_entries += log["size"]
        total_seconds += seconds
        print(f"| {regency} | {log['size']:,} | {seconds:.1f} | {log['size'] / seconds:,.0f} |", flush=True)
    if total_seconds:
        print(f"| **total** | {total_entries:,} | {total_seconds:.1f} | **{total_entries / total_seconds:,.0f}** |")
    print(f"\nverify: {'every log verifies' if ok else 'a log FAILED to verify'}")
    return ok


def add_arguments(parser: argparse.ArgumentParser) -> None:
    scope = parser.add_argument_group("what to simulate (any of)")
    scope.add_argument("--province", action="extend", nargs="+", metavar="CODE", help="every regency of a province, e.g. 53")
    scope.add_argument("--regency", action="extend", nargs="+", metavar="CODE", help="a regency, e.g. 53.03")
    scope.add_argument("--district", action="extend", nargs="+", metavar="CODE", help="one district only, e.g. 53.03.08")
    scope.add_argument("--villages", type=int, metavar="N", help="only the first N villages of each district")
    parser.add_argument("--election", choices=sorted(CONTESTS), default="pemilu", help="five boxes a TPS, or two")
    parser.add_argument(
        "--tps-per-village", type=float, metavar="MEAN",
        help="the mean of the draw (default: the real average, 9.83 for a Pemilu, 2.87 for a Pilkada)",
    )
    parser.add_argument("--seed", default="2024", help="the same seed makes the same election")
    parser.add_argument("--url", help="drive a running server (by default one is started here, on --database)")
    parser.add_argument("--database", help="database URL (default: DATABASE_URL); sites and accounts go here")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate --database first (destroys it!)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers of the server started here")
    parser.add_argument("--clients", type=int, default=32, help="requests in flight at once (phones syncing together)")
    parser.add_argument("--batch", type=int, default=500, help="scans per sync request")
    parser.add_argument(
        "--verify-workers", type=int, default=os.cpu_count() or 1, help="jejak verify's processes per log"
    )


def main(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.database:
        settings = settings.model_copy(update={"database_url": Settings(database_url=args.database).database_url})
    if settings.is_production:
        raise InvalidRequest("simulate refuses to run in production: it creates accounts and ballot boxes")
    if args.fresh:
        recreate_database(settings.database_url)
    migrations.upgrade(settings.database_url)
    runtime = Runtime(settings)
    try:
        return simulate(runtime, args, args.url)
    finally:
        runtime.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="jejak simulate", description=__doc__)
    add_arguments(parser)
    sys.exit(main(parser.parse_args()))
