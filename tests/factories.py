"""Building blocks for custody tests: regencies of a test's own, an area of sites,
people with tokens, phones that sign scans the way the field app does, and the walks
that move boxes along their routes."""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, NamedTuple, TypeVar

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi.testclient import TestClient
from ledger import merkle
from ledger.checkpoint import open_checkpoint
from ledger.jcs import canonicalize
from ledger.note import Verifier

from models.accounts.actor import SCOPES, Role
from models.accounts.users import create_user
from models.custody.rules import SCANNING_ROLES
from models.places.sites import Kerawanan, Site, SiteLevel
from models.runtime import Runtime

PASSWORD = "correct horse battery"
_names = itertools.count(1)
_regencies = itertools.count(1)
T = TypeVar("T")


def new_regency() -> str:
    """A regency code no other test of the session has, so a test's log, sites and people
    are its own whatever scope its fixture has: 83.01, 83.02, ... 90.99, in provinces
    Indonesia does not have (its own are 11 to 82 and Papua's 91 to 96), all in WITA as
    NTT is, so that a test reads the same times wherever it comes in the run."""
    n = next(_regencies) - 1
    province, regency = 83 + n // 99, n % 99 + 1
    assert province <= 90, "the suite has used up the test regencies 83.01 to 90.99"
    return f"{province}.{regency:02d}"


@dataclass(frozen=True)
class Area:
    """One route: a regency's KPU, a district (PPK), a village (PPS), its polling stations."""

    kpu: str
    ppk: str
    pps: str
    tps: list[str]
    other_pps: str  # a second village of the same district

    def item(self, n: int = 0, contest: str = "BUP") -> str:
        return f"{self.tps[n]}-{contest}"

    def of(self, role: Role) -> str:
        """Where an officer of `role` works in this area: the regency for the KPU,
        escorts, auditors and integrators; the district, the village, the first polling
        station; nowhere in particular for an admin (national)."""
        return {Role.ADMIN: "", Role.PPK: self.ppk, Role.PPS: self.pps, Role.KPPS: self.tps[0]}.get(role, self.kpu)


def make_area(runtime: Runtime, regency: str, tps_count: int = 3) -> Area:
    """The regency's sites, and its first district's (add_district)."""
    with runtime.db.session(write=True) as session:
        session.add(Site(code=regency, level=SiteLevel.KPU, name=f"Kabupaten {regency}", regency=regency))
    return add_district(runtime, regency, 1, tps_count)


def add_district(runtime: Runtime, regency: str, number: int = 2, tps_count: int = 3) -> Area:
    """A district of the regency, with two villages and polling stations in the first,
    as an Area of its own."""
    ppk = f"{regency}.{number:02d}"
    pps, other = f"{ppk}.2001", f"{ppk}.2002"
    tps = [f"{pps}-{n:03d}" for n in range(1, tps_count + 1)]
    rows = [
        Site(code=ppk, level=SiteLevel.PPK, name="Kecamatan" if number == 1 else f"Kecamatan {number}",
             parent_code=regency, regency=regency),
        Site(code=pps, level=SiteLevel.PPS, name="Desa", parent_code=ppk, regency=regency),
        Site(code=other, level=SiteLevel.PPS, name="Desa Lain", parent_code=ppk, regency=regency),
        *[
            Site(code=t, level=SiteLevel.TPS, name=f"TPS {t[-3:]}", parent_code=pps, regency=regency,
                 kerawanan=Kerawanan.RAWAN, lat=-9.45, lon=124.5, coords_synthetic=True)
            for t in tps
        ],
    ]
    with runtime.db.session(write=True) as session:
        for row in rows:
            session.add(row)
    return Area(regency, ppk, pps, tps, other)


def new_area(runtime: Runtime, tps_count: int = 3) -> Area:
    """An area of a new regency (new_regency), with its log."""
    return make_area(runtime, runtime.create_log(new_regency()).id, tps_count)


@dataclass
class Person:
    client: TestClient
    username: str
    role: Role
    jurisdiction: str
    id: uuid.UUID
    token: str = ""
    nrp: str | None = None  # an escort's

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)


def make_person(
    client: TestClient, runtime: Runtime, role: Role, jurisdiction: str, scopes: frozenset[str] = frozenset(),
    nrp: str | None = None,
) -> Person:
    """A signed-in account; an escort's has an NRP of its own unless one is given."""
    username = f"{role.value}.{next(_names)}.{uuid.uuid4().hex[:6]}"
    if role is Role.ESCORT and nrp is None:
        nrp = new_nrp()
    with runtime.db.session(write=True) as session:
        user = create_user(
            session, username=username, password=PASSWORD, role=role, jurisdiction=jurisdiction, scopes=scopes,
            nrp=nrp,
        )
        user_id = user.id
    person = Person(client, username, role, jurisdiction, user_id, nrp=nrp)
    response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    person.token = response.json()["access_token"]
    return person


@dataclass
class Phone:
    """A field device: its own key, registered by its user, numbering its scans."""

    person: Person
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    id: str = ""
    seq: int = 0

    def register(self) -> Phone:
        public = base64.b64encode(self.key.public_key().public_bytes_raw()).decode()
        response = self.person.post("/api/v1/devices", json={"public_key": public, "name": "hp"})
        assert response.status_code == 201, response.text
        self.id = response.json()["id"]
        return self

    def scan(
        self, type: str, item: str | None, site: str, *, observed: datetime | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A signed envelope, as the app puts it in its outbox (an escort's pickup or
        delivery of a whole truckload names no item)."""
        self.seq += 1
        scan = {
            "event_id": str(uuid.uuid4()),
            "type": type,
            **({"item": item} if item is not None else {}),
            "observed_at": (observed or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "site": site,
            "device": self.id,
            "device_seq": self.seq,
            **fields,
        }
        return sign(self.key, scan)

    def send(self, *envelopes: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.person.post("/api/v1/events", json={"scans": list(envelopes)})
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results


@dataclass
class Attempt:
    """One request of a sync: its status (None: no answer at all), Retry-After, seconds."""

    status: int | None
    retry_after: str | None
    seconds: float


@dataclass
class Outbox:
    """A phone's outbox as the field app keeps it: signed scans in device_seq order, sent
    to a server in chunks, one chunk at a time. A chunk stays in the outbox until its
    answer arrives: a lost answer, a server that died or a 503 means sending it again
    (after Retry-After), which event_id makes safe."""

    phone: Phone
    envelopes: list[dict[str, Any]]
    chunk: int = 500
    acknowledged: int = 0  # scans, from the start, whose answer has arrived
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # event_id → its result
    attempts: list[Attempt] = field(default_factory=list)

    def sync(
        self, base: str, *, patience: float = 120, on_sent: Callable[[int], None] | None = None
    ) -> httpx.Response | None:
        """Send until every scan is acknowledged (None), or until an answer that is
        neither an acknowledgement nor a "try again shortly" (returned: the scans stay in
        the outbox). `on_sent` is told the number of each chunk once its request has
        gone out whole, before its answer is read; raising httpx.TransportError there
        loses the answer (the phone lost its signal)."""
        deadline = time.monotonic() + patience
        with httpx.Client(base_url=base, headers=self.phone.person.headers, timeout=60) as http:
            while self.acknowledged < len(self.envelopes):
                assert time.monotonic() < deadline, f"{self.acknowledged} of {len(self.envelopes)} scans sent"
                chunk = self.envelopes[self.acknowledged : self.acknowledged + self.chunk]
                body = orjson.dumps({"scans": chunk})
                headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
                started = time.monotonic()
                try:
                    response = http.post(
                        "/api/v1/events", content=_sent_then(body, on_sent, self.acknowledged // self.chunk), headers=headers
                    )
                except httpx.TransportError:  # no answer: the server is down or died
                    self.attempts.append(Attempt(None, None, time.monotonic() - started))
                    time.sleep(0.1)
                    continue
                retry_after = response.headers.get("Retry-After")
                self.attempts.append(Attempt(response.status_code, retry_after, time.monotonic() - started))
                if response.status_code == 503 and retry_after is not None:
                    time.sleep(float(retry_after))
                    continue
                if response.status_code != 200:
                    return response
                results = response.json()["results"]
                assert [r["event_id"] for r in results] == [e["scan"]["event_id"] for e in chunk]
                assert {r["status"] for r in results} <= {"accepted", "duplicate"}, results
                self.answers.update((r["event_id"], r) for r in results)
                self.acknowledged += len(chunk)
        return None


def _sent_then(body: bytes, on_sent: Callable[[int], None] | None, chunk: int) -> Iterator[bytes]:
    """The body, then word that it is sent (with Content-Length given, the server has it
    all before the client reads the answer)."""
    yield body
    if on_sent is not None:
        on_sent(chunk)


def new_nrp() -> str:
    """An NRP no other account of the test database has (8 digits, like Polri's)."""
    return f"{uuid.uuid4().int % 10**8:08d}"


def sign(key: Ed25519PrivateKey, scan: dict[str, Any]) -> dict[str, Any]:
    return {"scan": scan, "sig": base64.b64encode(key.sign(canonicalize(scan))).decode()}


def hours_ago(hours: float) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


class Cast(Mapping[str, T]):
    """The officers of one area or two, each made the first time a test asks for them
    (a password hashed and a token taken each, which is slow): `cast["ppk"]` works in
    the first area's district (Area.of), `cast["ppk-B"]` in the second's; an admin is
    national, so there is one. Its keys are fixed from the start: iterating over it
    makes everyone, and an unknown name is a KeyError, never a silent None."""

    def __init__(self, areas: Sequence[Area], roles: Iterable[Role], make: Callable[[Role, str], T]) -> None:
        self._roles = {
            role.value + ("" if n == 0 else f"-{'AB'[n]}"): (role, area.of(role))
            for n, area in enumerate(areas)
            for role in roles
            if n == 0 or role is not Role.ADMIN
        }
        self._make = make
        self._made: dict[str, T] = {}
        self._lock = threading.Lock()  # tests send from threads

    def __getitem__(self, name: str) -> T:
        with self._lock:
            if name not in self._made:
                role, where = self._roles[name]
                self._made[name] = self._make(role, where)
            return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._roles)

    def __len__(self) -> int:
        return len(self._roles)


def make_crew(client: TestClient, runtime: Runtime, area: Area) -> Cast[Phone]:
    """The custodians of an area, each with a registered phone: "kpu", "ppk", "pps",
    "kpps" (the first polling station) and "escort"."""
    return Cast(
        [area],
        [role for role in Role if role.value in SCANNING_ROLES],
        lambda role, where: Phone(make_person(client, runtime, role, where)).register(),
    )


class World(NamedTuple):
    """Two regencies of their own, A and B, and everyone of each (Cast): "kpu" of A,
    "kpu-B" of B, "admin"; integrators with every scope."""

    a: Area
    b: Area
    people: Cast[Person]


def make_world(client: TestClient, runtime: Runtime) -> World:
    a, b = new_area(runtime), new_area(runtime)

    def make(role: Role, where: str) -> Person:
        return make_person(client, runtime, role, where, scopes=SCOPES if role is Role.INTEGRATOR else frozenset())

    return World(a, b, Cast([a, b], Role, make))


def register(crew: Mapping[str, Phone], *boxes: tuple[str, str]) -> None:
    """The KPU registers ballot boxes, each (destination, contest)."""
    body = {"items": [{"kind": "kotak_suara", "destination": d, "code": c, "contest": c} for d, c in boxes]}
    response = crew["kpu"].person.post("/api/v1/items", json=body)
    assert response.status_code == 201, response.text


def accepted(results: list[dict[str, Any]], flags: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The scans' results, each of which must be accepted with exactly these flags."""
    for result in results:
        assert result["status"] == "accepted", result
        assert result["flags"] == list(flags), result
    return results


def walk_out_and_back(client: TestClient, runtime: Runtime, area: Area, crew: Mapping[str, Phone]) -> None:
    """Seal, three handoffs down under a police escort who takes each truckload under
    guard and hands it over, open, count, reseal, three handoffs back, then check the
    whole trail as an outsider would."""
    box = area.item()
    register(crew, (area.tps[0], "BUP"))
    kpu, ppk, pps, kpps, police = crew["kpu"], crew["ppk"], crew["pps"], crew["kpps"], crew["escort"]
    seals = ["TTU-000101", "TTU-000102"]
    escort = {"escorts": [police.person.nrp], "vehicle": "DH 1234 KA"}
    accepted(kpu.send(kpu.scan("seal", box, area.kpu, seals=seals)))
    legs = [
        (kpu, area.kpu, ppk, area.ppk),
        (ppk, area.ppk, pps, area.pps),
        (pps, area.pps, kpps, area.tps[0]),
    ]
    for sender, origin, receiver, destination in legs:
        truck = {"handoff": f"{origin}-{destination}-1", **escort}
        accepted(sender.send(sender.scan("dispatch", box, origin, counterparty=destination, seals=seals, **truck)))
        accepted(police.send(police.scan("pickup", None, origin, handoff=truck["handoff"])))
        accepted(police.send(police.scan("delivery", None, destination, handoff=truck["handoff"])))
        accepted(receiver.send(receiver.scan("receive", box, destination, counterparty=origin, seals=seals)))
    new_seals = ["TTU-900001", "TTU-900002"]
    accepted(kpps.send(
        kpps.scan("open", box, area.tps[0]),
        kpps.scan("count", box, area.tps[0]),
        kpps.scan("reseal", box, area.tps[0], seals=new_seals),
    ))
    for sender, origin, receiver, destination in [(r, d, s, o) for s, o, r, d in reversed(legs)]:
        accepted(sender.send(sender.scan("dispatch", box, origin, counterparty=destination, seals=new_seals)))
        accepted(receiver.send(receiver.scan("receive", box, destination, counterparty=origin, seals=new_seals)))

    item = kpu.person.get(f"/api/v1/items/{box}").json()
    assert (item["status"], item["custodian"], item["leg"]) == ("returned", area.kpu, "return")
    assert item["seals"] == new_seals

    runtime.checkpointer.sign_grown_logs()
    history = client.get(f"/api/v1/items/{box}/history").json()  # public: no token
    verify_trail(client, history, expected_types=[
        "register", "label", "seal",
        "dispatch", "receive", "dispatch", "receive", "dispatch", "receive",
        "open", "count", "reseal",
        "dispatch", "receive", "dispatch", "receive", "dispatch", "receive",
    ])
    devices = {e["entry"].get("device") for e in history["trail"]} - {None}
    assert len(devices) == 4  # four phones signed this box's scans


def verify_trail(client: TestClient, history: dict[str, Any], expected_types: list[str]) -> None:
    """What an outsider does with ledger/ alone: checkpoint, proofs, chain, signatures."""
    log = {entry["log"]: entry for entry in client.get("/api/v1/logs").json()["logs"]}[history["log"]]
    checkpoint, _ = open_checkpoint(history["checkpoint"], Verifier.from_vkey(log["verifier_key"]))
    trail = history["trail"]
    assert [t["entry"]["type"] for t in trail] == expected_types
    keys = device_keys(client, history["log"], checkpoint.size)
    previous = None
    for seq, step in enumerate(trail, start=1):
        data = base64.b64decode(step["entry_b64"])
        leaf = merkle.leaf_hash(data)
        assert base64.b64encode(leaf).decode() == step["leaf_hash"]
        merkle.verify_inclusion(
            leaf, step["index"], checkpoint.size, [base64.b64decode(h) for h in step["inclusion_proof"]], checkpoint.root
        )
        entry = json.loads(data)
        assert entry["seq"] == seq
        assert entry["prev"] == previous
        previous = step["leaf_hash"]
        if "scan" in entry:
            keys[entry["device"]].verify(base64.b64decode(entry["sig"]), canonicalize(entry["scan"]))
            assert "flags" in entry and entry["flags"] == []


def device_keys(client: TestClient, log_id: str, size: int) -> dict[str, Ed25519PublicKey]:
    """Every device key the log itself publishes."""
    keys = {}
    start = 0
    while start < size:
        page = client.get(f"/api/v1/logs/{log_id}/entries", params={"start": start}).json()
        for raw in page["entries"]:
            entry = json.loads(base64.b64decode(raw["entry"]))
            if entry["type"] == "device_register":
                keys[entry["device"]] = Ed25519PublicKey.from_public_bytes(base64.b64decode(entry["key"]))
        start = page["end"]
    return keys


WITA = timezone(timedelta(hours=8))  # Nusa Tenggara Timur's time zone
SEALS, NEW_SEALS = ["TTU-000101", "TTU-000102"], ["TTU-900001", "TTU-900002"]


@dataclass
class Route:
    """A regency's boxes part-way along their routes, every kind of scan among them."""

    area: Area
    crew: Cast[Phone]
    box: str  # out to its TPS (seals swapped on the way), counted, and on its way back
    in_transit: str  # dispatched to the PPK, not received yet
    unsent: str  # received at the PPK while nothing was dispatched
    scans: dict[str, dict[str, Any]]  # the box's signed scans by name, with their results
    escorts: list[str]  # the NRP of the escort guarding the trucks


def walk(client: TestClient, runtime: Runtime) -> Route:
    """A new regency (new_area) whose boxes have gone part of their ways (Route)."""
    area = new_area(runtime)
    phones = make_crew(client, runtime, area)
    box, in_transit, unsent = area.item(0), area.item(1), area.item(0, "GUB")
    register(phones, (area.tps[0], "BUP"), (area.tps[1], "BUP"), (area.tps[0], "GUB"))
    kpu, ppk, pps, kpps, escort = (phones[role] for role in ("kpu", "ppk", "pps", "kpps", "escort"))
    swapped = [SEALS[0], "TTU-999999"]
    scans: dict[str, dict[str, Any]] = {}
    truck = {"escorts": [escort.person.nrp], "vehicle": "DH 1234 KA"}
    first, last = f"{area.kpu}-truk-1", f"{area.pps}-truk-2"

    def scan(name: str, phone: Phone, kind: str, site: str, flags: tuple[str, ...] = (), **fields: Any) -> None:
        # Made now, on a phone set to WITA.
        envelope = phone.scan(kind, box, site, observed_at=datetime.now(WITA).isoformat(timespec="seconds"), **fields)
        (result,) = accepted(phone.send(envelope), flags)
        scans[name] = {**envelope["scan"], "result": result}

    scan("seal", kpu, "seal", area.kpu, seals=SEALS)
    scan("dispatch kpu", kpu, "dispatch", area.kpu, counterparty=area.ppk, seals=SEALS, handoff=first, **truck)
    # The escort takes the whole first truckload under guard, and hands it over, in one scan each.
    accepted(escort.send(escort.scan("pickup", None, area.kpu, handoff=first)))
    accepted(escort.send(escort.scan("delivery", None, area.ppk, handoff=first)))
    scan("receive ppk", ppk, "receive", area.ppk, counterparty=area.kpu, seals=SEALS)
    scan("dispatch ppk", ppk, "dispatch", area.ppk, counterparty=area.pps, seals=SEALS, **truck)
    scan("receive pps", pps, "receive", area.pps, ("seal_mismatch",), counterparty=area.ppk, seals=swapped)
    scan("store", pps, "store", area.pps)
    scan("incident", escort, "incident", area.pps, ("incident_damaged",), incident="damaged", reason="tutup retak")
    scan("dispatch pps", pps, "dispatch", area.pps, counterparty=area.tps[0], seals=swapped, handoff=last, **truck)
    # To the polling station the escort counts the box itself.
    scan("pickup", escort, "pickup", area.pps, handoff=last, seals=swapped)
    scan("delivery", escort, "delivery", area.tps[0], handoff=last, seals=swapped)
    scan("receive tps", kpps, "receive", area.tps[0], counterparty=area.pps, seals=swapped)
    scan("open", kpps, "open", area.tps[0])
    scan("count", kpps, "count", area.tps[0])
    scan("reseal", kpps, "reseal", area.tps[0], seals=NEW_SEALS)
    scan("return", kpps, "dispatch", area.tps[0], counterparty=area.pps, seals=NEW_SEALS)
    scan("correction", kpu, "correction", area.kpu, ref=scans["seal"]["event_id"], reason="nomor segel salah ketik")

    accepted(kpu.send(
        kpu.scan("seal", in_transit, area.kpu, seals=["S-2"]),
        kpu.scan("dispatch", in_transit, area.kpu, counterparty=area.ppk, seals=["S-2"]),
    ))  # fmt: skip
    accepted(ppk.send(ppk.scan("receive", unsent, area.ppk, counterparty=area.kpu)), ["no_dispatch"])
    return Route(area, phones, box, in_transit, unsent, scans, truck["escorts"])
