"""Building blocks for custody tests: an area of sites, people with tokens, phones that
sign scans the way the field app does."""

from __future__ import annotations

import base64
import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from ledger.jcs import canonicalize

from models.accounts.actor import Role

from models.accounts.users import create_user
from models.places.sites import Kerawanan, Site, SiteLevel
from models.runtime import Runtime

PASSWORD = "correct horse battery"
_names = itertools.count(1)


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


def make_area(runtime: Runtime, regency: str, tps_count: int = 3) -> Area:
    ppk, pps, other = f"{regency}.01", f"{regency}.01.2001", f"{regency}.01.2002"
    tps = [f"{pps}-{n:03d}" for n in range(1, tps_count + 1)]
    rows = [
        Site(code=regency, level=SiteLevel.KPU, name=f"Kabupaten {regency}", regency=regency),
        Site(code=ppk, level=SiteLevel.PPK, name="Kecamatan", parent_code=regency, regency=regency),
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
