"""`jejak bench ingest`: signed scans through the real server, over loopback.

The server runs under uvicorn (as `jejak serve`) on PostgreSQL; a separate load process
sends pre-signed scans for distinct boxes. Side by side in the same run it measures
the raw ceilings (Ed25519 verifications on one core, batched row inserts) and the strong
bare endpoint (scripts/bench_baseline_app.py: an async route on a psycopg pool, the same
body parsed, one row inserted per request), the two loaded in turn, in rounds
(`--rounds`, each with its share of the scans) whose medians and ranges are reported,
and ends with a count check: scans sent = entries in the log, no duplicates. Besides
the seals, batches of incident scans (`--incident-scans`, from phones of their own): each
raises an alert, which the batches' target holds to the same 5,000 scans/s.

With `--prefill N [N ...]` the whole run is made once per N, each on a fresh database
whose log first holds N entries of a realistic log (scripts/bench_growth.prefill: its
boxes walked to their polling stations, their items, events, sites and kits written
straight into the tables) before the boxes measured are registered fresh and scanned;
it ends with the figures side by side and their ratio, largest log over smallest."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any, TypeVar

import httpx
from nacl.signing import SigningKey
from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    create_engine,
    func,
    insert,
    select,
    text,
)

from ledger.jcs import canonicalize
from models.accounts.actor import Role
from models.accounts.users import actor_of, create_user
from models.core.settings import Settings
from models.custody.alerts import Alert
from models.custody.devices import DeviceRegistration
from models.custody.events import Event
from models.custody.items import ItemKind, ItemSpec, register_items
from models.log.tables import Log, LogEntry
from models.places.sites import Site, SiteLevel
from models.runtime import Runtime
from scripts.bench_growth import prefill
from scripts.bench_ledger import DEFAULT_POSTGRES, bench_database
from scripts.bench_verify import realistic_log

REGENCY = "97.01"
EVENTS = "/api/v1/events"
PASSWORD = "bench-password-123"
SERIALS_PER_TPS = 9999  # item ids 97.01.01.2001-001-BUP-1 ... -9999


@dataclass
class Phase:
    name: str
    requests: int
    scans: int
    seconds: float
    latencies_ms: list[float]

    @property
    def scans_per_s(self) -> float:
        return self.scans / self.seconds

    @property
    def p50(self) -> float:
        return median(self.latencies_ms)

    @property
    def p99(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start within 60 s")


def serve(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", *args, "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL)


@contextmanager
def service_and_baseline(
    settings: Settings, bench_url: str, workers: int, **extra_env: str
) -> Iterator[tuple[list[subprocess.Popen[bytes]], str, str]]:
    """The service and the strong bare endpoint (scripts/bench_baseline_app.py), both
    running and ready throughout, each with `workers` workers: (servers, the service's
    base URL, the bare endpoint's). Loading one, then the other, in every round lets a
    drift in this machine's speed (tens of percent within minutes) hit both alike."""
    env = {
        "DATABASE_URL": bench_url,
        "JEJAK_ENVIRONMENT": "test",
        "JEJAK_KEYS_DIR": str(settings.keys_dir),
        "JEJAK_HOST": settings.host,
        "JEJAK_LOG_LEVEL": "WARNING",
        **extra_env,
    }
    ours, bare = free_port(), free_port()
    servers = [
        serve(["--factory", "api.app:app_from_env", "--workers", str(workers)], env, ours),
        serve(["scripts.bench_baseline_app:app", "--workers", str(workers)], {"JEJAK_BENCH_URL": bench_url}, bare),
    ]
    bases = f"http://127.0.0.1:{ours}", f"http://127.0.0.1:{bare}"
    try:
        for base, server in zip(bases, servers, strict=True):
            wait_ready(base, server)
        yield servers, *bases
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


def _setup(
    runtime: Runtime, items: int, devices: int, history: list[bytes] | None = None
) -> tuple[list[str], list[tuple[str, SigningKey]]]:
    """A regency with enough polling stations for `items` boxes, a KPU officer and phones,
    its log first holding the realistic `history` (none: the log begins empty)."""
    tps_count = items // SERIALS_PER_TPS + 1
    with runtime.db.session(write=True) as session:
        session.add_all(
            [
                Site(code=REGENCY, level=SiteLevel.KPU, name="Kabupaten Bench", regency=REGENCY),
                Site(code=f"{REGENCY}.01", level=SiteLevel.PPK, name="Kecamatan", parent_code=REGENCY, regency=REGENCY),
                Site(code=f"{REGENCY}.01.2001", level=SiteLevel.PPS, name="Desa", parent_code=f"{REGENCY}.01", regency=REGENCY),
            ]
            + [
                Site(code=f"{REGENCY}.01.2001-{n:03d}", level=SiteLevel.TPS, name=f"TPS {n}",
                     parent_code=f"{REGENCY}.01.2001", regency=REGENCY)
                for n in range(1, tps_count + 1)
            ]
        )
        user = create_user(session, username="bench.kpu", password=PASSWORD, role=Role.KPU, jurisdiction=REGENCY)
        actor = actor_of(user)
    runtime.create_log(REGENCY)
    if history:
        started = time.perf_counter()
        boxes, events = prefill(runtime, REGENCY, history)
        print(f"  prefilled the log with {len(history):,} entries ({boxes:,} boxes, {events:,} events) "
              f"in {time.perf_counter() - started:.0f} s", flush=True)
    specs = [
        ItemSpec(ItemKind.KOTAK_SUARA, f"{REGENCY}.01.2001-{n // SERIALS_PER_TPS + 1:03d}", "BUP", "BUP",
                 n % SERIALS_PER_TPS + 1)
        for n in range(items)
    ]
    for start in range(0, items, 1000):
        register_items(runtime.databases, runtime.keys, runtime.sequencer, actor, specs[start : start + 1000])
        print(f"  registered {min(start + 1000, items):,} of {items:,} boxes", flush=True)
    phones = []
    for _ in range(devices):
        key = SigningKey.generate()
        work = DeviceRegistration(REGENCY, actor, bytes(key.verify_key), "bench")
        device = runtime.sequencer.submit(REGENCY, work, 1)
        phones.append((device.id, key))
    return [s.id for s in specs], phones


def _scans(
    item_ids: list[str], phones: list[tuple[str, SigningKey]], owners: list[int], incident: bool = False
) -> list[dict[str, Any]]:
    """One signed scan per box, made just now (an old observed_at would flag every scan
    as a late sync) on the phone `owners` names, numbered 1, 2, 3… per phone as its
    outbox numbers them: a seal, or with `incident` a report of the box damaged (each
    raises an alert)."""
    observed = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    envelopes = []
    numbers = [0] * len(phones)
    for n, (item, owner) in enumerate(zip(item_ids, owners, strict=True)):
        device_id, key = phones[owner]
        numbers[owner] += 1
        scan = {
            "event_id": str(uuid.uuid4()),
            "type": "seal",
            "item": item,
            "observed_at": observed,
            "site": REGENCY,
            "seals": [f"B-{n:07d}"],
            "device": device_id,
            "device_seq": numbers[owner],
        }
        if incident:
            del scan["seals"]
            scan |= {"type": "incident", "incident": "damaged", "reason": "kardus basah di sudut"}
        signature = key.sign(canonicalize(scan)).signature
        envelopes.append({"scan": scan, "sig": base64.b64encode(signature).decode()})
    return envelopes


# A request: (path, body): POST when there is a body, else GET.
Call = tuple[str, bytes | None]


@dataclass
class Load:
    seconds: float
    latencies_ms: list[float]
    side_ms: list[float]  # the side lanes' requests, made while the main lanes ran


class _Timed:
    """A client of the server at `base`: aiohttp, keep-alive, each request timed. aiohttp,
    not httpx: httpx's async pool tops out near 300 requests/s here with 32 connections,
    which would measure the load generator, not the server."""

    def __init__(self, base: str, token: str | None, headers: dict[str, str] | None, connections: int) -> None:
        import aiohttp

        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        connector = aiohttp.TCPConnector(limit=connections)
        self.client = aiohttp.ClientSession(base, headers=sent, connector=connector, timeout=aiohttp.ClientTimeout(total=300))

    async def call(self, path: str, body: bytes | None, into: list[float]) -> None:
        started = time.perf_counter()
        async with self.client.request("POST" if body is not None else "GET", path, data=body) as response:
            text = await response.read()
        into.append((time.perf_counter() - started) * 1000)
        if response.status not in (200, 304):
            raise RuntimeError(f"{path} answered {response.status}: {text[:300]!r}")


@dataclass
class _Phases:
    """Events between the main lanes' process and the side lanes': the side lanes are
    ready, the main lanes started, and they are done."""

    ready: Any
    started: Any
    done: Any


async def _load(
    base: str, token: str | None, lanes: list[list[Call]], headers: dict[str, str] | None, phases: _Phases
) -> tuple[float, list[float]]:
    """Each lane is one client's requests, sent one after another (a phone's scans must
    reach the log in its order); the lanes run at once, once the side lanes are ready."""
    latencies: list[float] = []
    timed = _Timed(base, token, headers, len(lanes))
    async with timed.client:
        while not phases.ready.is_set():
            await asyncio.sleep(0.001)

        async def worker(lane: list[Call]) -> None:
            for path, body in lane:
                await timed.call(path, body, latencies)

        began = time.perf_counter()
        phases.started.set()
        await asyncio.gather(*(worker(lane) for lane in lanes))
        seconds = time.perf_counter() - began
        phases.done.set()
        return seconds, latencies


async def _side(base: str, lanes: list[list[Call]], phases: _Phases) -> list[float]:
    """The side lanes go round and round while the main lanes run, timed apart (a
    checkpoint read while histories load), from a process of their own: in the main
    lanes' process they would wait on its event loop, busy with the crowd, and time the
    load generator, not the server (as a mirror on another machine would not)."""
    side_ms: list[float] = []
    timed = _Timed(base, None, None, len(lanes))
    async with timed.client:
        phases.ready.set()
        while not (phases.started.is_set() or phases.done.is_set()):  # done: the main lanes' process failed
            await asyncio.sleep(0.001)

        async def worker(lane: list[Call]) -> None:
            while not phases.done.is_set():
                for path, body in lane:
                    await timed.call(path, body, side_ms)

        await asyncio.gather(*(worker(lane) for lane in lanes))
    return side_ms


def _load_process(base: str, token: str | None, lanes: list[list[Call]], headers: Any, phases: _Phases, out: Any) -> None:
    out.send(asyncio.run(_load(base, token, lanes, headers, phases)))


def _side_process(base: str, lanes: list[list[Call]], phases: _Phases, out: Any) -> None:
    out.send(asyncio.run(_side(base, lanes, phases)))


def lanes_of(bodies: list[tuple[str, bytes]], path: str) -> list[list[Call]]:
    """(device, body) pairs as one lane of POSTs to `path` per device, in order."""
    lanes: dict[str, list[Call]] = {}
    for device, body in bodies:
        lanes.setdefault(device, []).append((path, body))
    return list(lanes.values())


def run_load(
    base: str, token: str | None, lanes: list[list[Call]], headers: dict[str, str] | None = None,
    side: list[list[Call]] | None = None,
) -> Load:  # fmt: skip
    """The load runs in its own process, so it competes with the server only for cores;
    the side lanes, if any, in another."""
    context = multiprocessing.get_context("spawn")
    phases = _Phases(context.Event(), context.Event(), context.Event())
    runs: list[tuple[Any, tuple[Any, ...]]] = [(_load_process, (base, token, lanes, headers, phases))]
    if side:
        runs.append((_side_process, (base, side, phases)))
    else:
        phases.ready.set()
    results = []
    for target, args in runs:
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=target, args=(*args, send))
        process.start()
        results.append((process, receive))
    answers = []
    for process, receive in results:
        while not receive.poll(1):
            if not process.is_alive():  # it died (its traceback is above): do not wait forever
                phases.ready.set()
                phases.done.set()
                raise RuntimeError(f"the load process failed on {base}")
        answers.append(receive.recv())
        process.join()
    (seconds, latencies), side_ms = answers[0], (answers[1] if side else [])
    return Load(seconds, latencies, side_ms)


@contextmanager
def profiled(server: subprocess.Popen[bytes], out: Path | None, name: str) -> Iterator[None]:
    """py-spy sampling each of the server's worker processes while the block runs (if
    `out`): collapsed stacks, one file a worker, `out/name-<n>.txt`."""
    if out is None:
        yield
        return
    workers = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    spies = [
        subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", pid, "--format", "raw", "--rate", "200",
             "--nonblocking", "--output", str(out / f"{name}-{n}.txt")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for n, pid in enumerate(workers, 1)
    ]
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file as it stops
            spy.wait(timeout=60)


def _ed25519_ceiling(seconds: float) -> float:
    """PyNaCl verifications (what the service uses) per second on one core."""
    message = b"x" * 400
    key = SigningKey.generate()
    signed = key.sign(message)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(200):
            key.verify_key.verify(signed.message, signed.signature)
        count += 200
    return count / (time.perf_counter() - started)


def _insert_ceiling(url: str, rows: int, name: str) -> float:
    """Batched row inserts per second (1,000 per transaction) into a new plain table."""
    engine = create_engine(url)
    metadata = MetaData()
    table = Table(name, metadata, Column("id", Integer, primary_key=True), Column("data", LargeBinary))
    metadata.create_all(engine)
    payload = [{"id": n, "data": b"x" * 500} for n in range(rows)]
    started = time.perf_counter()
    for start in range(0, rows, 1000):
        with engine.begin() as connection:
            connection.execute(insert(table), payload[start : start + 1000])
    elapsed = time.perf_counter() - started
    engine.dispose()
    return rows / elapsed


def log_size(runtime: Runtime) -> int:
    with runtime.db.reads() as session:
        return session.get_one(Log, REGENCY).size


def _count_check(runtime: Runtime, seals: list[dict[str, Any]], incidents: list[dict[str, Any]], since: int) -> str:
    """The events, seal and incident entries and alerts the log gained from entry `since`
    on (where the rounds began) against the scans sent: one alert per incident."""
    sent = seals + incidents
    event_ids = {e["scan"]["event_id"] for e in sent}
    with runtime.db.reads() as session:
        new = (Event.log_id == REGENCY) & (Event.entry_index >= since)
        events = session.scalar(select(func.count()).select_from(Event).where(new))
        distinct = session.scalar(select(func.count(func.distinct(Event.event_id))).where(new))
        entries = {
            kind: session.scalar(
                select(func.count()).select_from(LogEntry).where(
                    LogEntry.log_id == REGENCY, LogEntry.idx >= since, LogEntry.data.like(f'%"type":"{kind}"%'.encode())
                )
            )
            for kind in ("seal", "incident")
        }
        flagged = session.scalar(select(func.count()).select_from(Alert).where(Alert.log_id == REGENCY))
    ok = events == distinct == len(event_ids) == len(sent) and (entries["seal"], entries["incident"], flagged) == (
        len(seals), len(incidents), len(incidents)
    )
    return (
        f"count check {'OK' if ok else 'FAILED'}: scans sent {len(sent):,}, events {events:,} "
        f"({distinct:,} distinct), seal entries in the log {entries['seal']:,}, incident entries "
        f"{entries['incident']:,}, alerts {flagged:,}"
    )


@dataclass
class Round:
    batches: Phase
    singles: Phase
    baseline: Phase
    verify_per_core: float  # PyNaCl, one core
    inserts: float  # batched rows/s
    incidents: Phase  # batches of incident scans, each raising an alert

    def line(self, number: int) -> str:
        ceiling = 2 * self.verify_per_core
        return (
            f"round {number}: batches {self.batches.scans_per_s:,.0f} scans/s "
            f"({self.batches.scans_per_s / ceiling:.2f} of the verification ceiling {ceiling:,.0f}/s, "
            f"{self.batches.scans_per_s / self.inserts:.2f} of the insert ceiling {self.inserts:,.0f}/s); "
            f"singles {self.singles.scans_per_s:,.0f}/s p99 {self.singles.p99:.0f} ms, strong bare endpoint "
            f"{self.baseline.scans_per_s:,.0f}/s p99 {self.baseline.p99:.0f} ms: "
            f"{self.singles.scans_per_s / self.baseline.scans_per_s:.2f}; incident batches "
            f"{self.incidents.scans_per_s:,.0f} scans/s ({self.incidents.scans_per_s / ceiling:.2f})"
        )


def spread(values: list[float], digits: int = 2) -> str:
    """The median of the rounds' values, and their range."""
    return f"{median(values):,.{digits}f} ({min(values):,.{digits}f}–{max(values):,.{digits}f})"


T = TypeVar("T")


def _split(items: list[T], parts: int) -> list[list[T]]:
    size = -(-len(items) // parts)
    return [items[n * size : (n + 1) * size] for n in range(parts)]


Batch = tuple[int, str, bytes]  # (scans, device, body)


def _batches(envelopes: list[dict[str, Any]], size: int) -> list[Batch]:
    chunks = [envelopes[start : start + size] for start in range(0, len(envelopes), size)]
    return [(len(chunk), chunk[0]["scan"]["device"], json.dumps({"scans": chunk}).encode()) for chunk in chunks]


def _send_batches(name: str, base: str, token: str, batches: list[Batch]) -> Phase:
    load = run_load(base, token, lanes_of([(device, body) for _, device, body in batches], EVENTS))
    return Phase(name, len(batches), sum(count for count, _, _ in batches), load.seconds, load.latencies_ms)


@dataclass
class Run:
    prefilled: int  # entries in the log before the boxes measured were registered
    log: tuple[int, int]  # its size when the rounds began, and when they ended
    results: list[Round]
    check: str


def main(args: argparse.Namespace) -> int:
    url = (args.database or [os.environ.get("JEJAK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)])[0]
    batch_scans, single_scans, rounds = args.batch_scans, args.single_scans, args.rounds
    if rounds < 1 or args.batch < 1:
        raise ValueError(
            "every round sends at least one batch of each kind and one single scan: --rounds and --batch are at least 1"
        )
    if min(-(-batch_scans // args.batch), -(-args.incident_scans // args.batch), single_scans) < rounds:
        raise ValueError(
            f"every round sends at least one batch of each kind and one single scan: {rounds} rounds need {rounds} "
            f"batches of each (--batch-scans and --incident-scans over {(rounds - 1) * args.batch:,} with --batch "
            f"{args.batch}) and --single-scans of at least {rounds}"
        )
    sizes = sorted(args.prefill or [0])
    if sizes[0] < 0:
        raise ValueError("--prefill counts entries: 0 or more")
    history: list[bytes] = []
    if sizes[-1]:
        print(f"building a realistic log of {sizes[-1]:,} entries in memory", flush=True)
        started = time.perf_counter()
        history = realistic_log(f"bench.jejak/log/{REGENCY}", sizes[-1]).entries[: sizes[-1]]
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    runs = []
    for size in sizes:
        if size:
            print(f"\n# the log prefilled with {size:,} entries", flush=True)
        runs.append(_run(url, args, history[:size]))
    for run in runs:
        _report(run, args)
    if len(runs) > 1:
        _growth(runs)
    return 0 if all(run.check.startswith("count check OK") for run in runs) else 1


def _run(url: str, args: argparse.Namespace, history: list[bytes]) -> Run:
    """The rounds on a fresh database whose log first holds `history`."""
    batch_scans, single_scans, incident_scans, rounds = args.batch_scans, args.single_scans, args.incident_scans, args.rounds
    with tempfile.TemporaryDirectory(prefix="jejak-bench-") as tmp, bench_database(url, Path(tmp)) as bench_url:
        settings = Settings(environment="test", database_url=bench_url, keys_dir=Path(tmp) / "keys", host="bench.jejak")
        runtime = Runtime(settings)
        print("setting up: boxes, an officer, phones", flush=True)
        item_ids, phones = _setup(
            runtime, batch_scans + single_scans + incident_scans, 2 * args.batch_clients + args.clients, history
        )
        # Batches come from --batch-clients phones, a batch each in turn; single scans
        # from --clients other phones, a scan each in turn; incident batches from
        # --batch-clients more: each phone sends its own in order, round after round.
        owners = [(n // args.batch) % args.batch_clients for n in range(batch_scans)]
        owners += [args.batch_clients + n % args.clients for n in range(single_scans)]
        envelopes = _scans(item_ids[: len(owners)], phones, owners)
        reporters = [args.batch_clients + args.clients + (n // args.batch) % args.batch_clients for n in range(incident_scans)]
        incidents = _scans(item_ids[len(owners) :], phones, reporters, incident=True)
        # Boxes are registered days before election day: autovacuum has long since
        # vacuumed the tables and given the planner its statistics. Freshly loaded
        # tables need both now (left to itself, autovacuum would run during the rounds).
        with runtime.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE"))
            connection.execute(text("CREATE TABLE bench_plain (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL)"))
        batches = _batches(envelopes[:batch_scans], args.batch)
        incident_batches = _batches(incidents, args.batch)
        singles = [(e["scan"]["device"], json.dumps({"scans": [e]}).encode()) for e in envelopes[batch_scans:]]
        began = log_size(runtime)

        results: list[Round] = []
        with service_and_baseline(settings, bench_url, args.workers) as (servers, base, bare_base):
            token = httpx.post(base + "/api/v1/auth/token", data={"grant_type": "password", "username": "bench.kpu", "password": PASSWORD}).json()["access_token"]
            for number, (batch_part, single_part, incident_part) in enumerate(
                zip(_split(batches, rounds), _split(singles, rounds), _split(incident_batches, rounds), strict=True), 1
            ):
                scans = sum(count for count, _, _ in batch_part)
                print(f"round {number} of {rounds}: raw ceilings, {scans:,} scans in batches of {args.batch} from "
                      f"{args.batch_clients} devices, {len(single_part):,} single scans from {args.clients} clients "
                      "to the service and to the strong bare endpoint, "
                      f"{sum(count for count, _, _ in incident_part):,} incident scans in batches", flush=True)  # fmt: skip
                verify = _ed25519_ceiling(1.0)
                inserts = _insert_ceiling(bench_url, rows=50_000, name=f"bench_ceiling_{number}")
                profile = args.profile if number == 1 else None
                with profiled(servers[0], profile, "batches"):
                    batch_phase = _send_batches("batches", base, token, batch_part)
                with profiled(servers[0], profile, "incidents"):
                    incident_phase = _send_batches("incidents", base, token, incident_part)
                # The service and the baseline in turn, each first in every other round,
                # so that neither always meets the machine in the same mood.
                single_loads: dict[str, Load] = {}
                order = [("service", base, token, EVENTS), ("baseline", bare_base, None, "/insert")]
                for name, at, bearer, path in order if number % 2 else order[::-1]:
                    with profiled(servers[0], profile if name == "service" else None, "singles"):
                        single_loads[name] = run_load(at, bearer, lanes_of(single_part, path))
                single_phase, baseline = (
                    Phase(name, len(single_part), len(single_part), single_loads[name].seconds,
                          single_loads[name].latencies_ms)
                    for name in ("service", "baseline")
                )  # fmt: skip
                results.append(Round(batch_phase, single_phase, baseline, verify, inserts, incident_phase))
                print(results[-1].line(number), flush=True)
        check = _count_check(runtime, envelopes, incidents, began)
        run = Run(len(history), (began, log_size(runtime)), results, check)
        runtime.close()
    return run


def _report(run: Run, args: argparse.Namespace) -> None:
    results, rounds = run.results, args.rounds
    print()
    print(f"## Ingest on PostgreSQL, uvicorn with {args.workers} workers, load from a separate process, "
          f"medians of {rounds} rounds" + (f", the log prefilled with {run.prefilled:,} entries" if run.prefilled else "")
          + f" (its size {run.log[0]:,} when the rounds began, {run.log[1]:,} at their end)\n")  # fmt: skip
    print("| run | scans | requests/s | scans/s (rounds) | p50 ms | p99 ms (rounds) | target |")
    print("|---|---|---|---|---|---|---|")
    for name, target in (("batches", "≥ 5,000 scans/s"), ("incidents", "≥ 5,000 scans/s, each raising an alert"),
                         ("singles", "≥ 0.7 of the strong bare endpoint, p99 ≤ 100 ms"),
                         ("baseline", "strong bare endpoint")):  # fmt: skip
        phases: list[Phase] = [getattr(r, name) for r in results]
        print(
            f"| {name} | {sum(p.scans for p in phases):,} | {median([p.requests / p.seconds for p in phases]):,.0f} | "
            f"{spread([p.scans_per_s for p in phases], 0)} | {median([p.p50 for p in phases]):.1f} | "
            f"{spread([p.p99 for p in phases], 0)} | {target} |"
        )
    print()
    print(f"Ed25519 verifications on one core (PyNaCl): {median([r.verify_per_core for r in results]):,.0f}/s; "
          f"batched row inserts (1,000 per transaction): {median([r.inserts for r in results]):,.0f}/s")  # fmt: skip
    print(f"batches: {spread([r.batches.scans_per_s / (2 * r.verify_per_core) for r in results])} of the "
          "verification ceiling (PyNaCl, 2 cores; target ≥ 0.50), "
          f"{spread([r.batches.scans_per_s / r.inserts for r in results])} of the insert ceiling; incident batches "
          f"{spread([r.incidents.scans_per_s / (2 * r.verify_per_core) for r in results])} of the verification ceiling")  # fmt: skip
    print(f"singles: {spread([r.singles.scans_per_s / r.baseline.scans_per_s for r in results])} of the strong bare "
          "endpoint's requests/s (median of the rounds' ratios, their range; target ≥ 0.70)")  # fmt: skip
    print(run.check)


def _growth(runs: list[Run]) -> None:
    """The figures of the smallest and the largest log side by side, and their ratio."""
    small, large = runs[0], runs[-1]

    def figures(run: Run) -> list[float]:
        return [
            median([r.batches.scans_per_s for r in run.results]),
            median([r.singles.requests / r.singles.seconds for r in run.results]),
            median([r.singles.p99 for r in run.results]),
            median([r.baseline.requests / r.baseline.seconds for r in run.results]),
            median([r.singles.scans_per_s / r.baseline.scans_per_s for r in run.results]),
        ]

    print()
    print(f"## Growth: the log prefilled with {large.prefilled:,} entries beside {small.prefilled:,}\n")
    print(f"| medians of the rounds | {small.prefilled:,} | {large.prefilled:,} | ratio {large.prefilled:,} / {small.prefilled:,} |")
    print("|---|---|---|---|")
    names = ("batches scans/s", "singles requests/s", "singles p99 ms", "strong bare endpoint requests/s",
             "singles / strong bare endpoint")  # fmt: skip
    for name, a, b in zip(names, figures(small), figures(large), strict=True):
        digits = 2 if name.startswith("singles /") else 0
        print(f"| {name} | {a:,.{digits}f} | {b:,.{digits}f} | {b / a:.2f} |")
