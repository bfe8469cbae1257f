"""Crash and fault safety, done for real: the server kill -9'd while a phone syncs a
long offline batch, PostgreSQL stopped under load, the SQLite file's disk filling up.
Each ends with every scan in the log exactly once, in the order the phone made them,
and the log verifying with its key alone.

JEJAK_FAULT_SCANS sets the length of the batch (`make test-faults-long`: 100,000)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from api.auth import tokens
from models.accounts.actor import Actor, Role
from models.core import migrations
from models.core.db import CONNECT_TIMEOUT
from models.core.settings import Settings
from models.custody.events import Event
from models.log.tables import Log, LogEntry
from models.runtime import Runtime
from scripts import verify
from tests.factories import Area, Outbox, Person, Phone, make_area, make_person, sign
from tests.helpers import LiveServer, free_port, serve_live, wait_for, wait_for_checkpoint

SCANS = int(os.environ.get("JEJAK_FAULT_SCANS", "10000"))
CHUNK = 500  # scans per request, as the field app sends a long outbox
SCANS_PER_BOX = 100
RULES = 1  # the rules in force enter a fresh log just before its first scan
pytestmark = pytest.mark.slow  # every test here starts the service in a process of its own


def register_boxes(kpu: Person, area: Area, count: int) -> list[str]:
    """`count` ballot boxes bound for the area's first polling station."""
    boxes = [area.item(0, f"B{n:05d}") for n in range(count)]
    for start in range(0, count, 1000):
        body = {"items": [{"kind": "kotak_suara", "destination": area.tps[0], "code": box.rsplit("-", 1)[1]}
                          for box in boxes[start : start + 1000]]}
        response = kpu.post("/api/v1/items", json=body)
        assert response.status_code == 201, response.text
    return boxes


def offline_batch(phone: Phone, boxes: list[str], site: str, scans: int) -> Outbox:
    """A phone's day of seal checks made offline: `scans` signed scans of the boxes,
    waiting in its outbox."""
    envelopes = [
        phone.scan("seal", boxes[n % len(boxes)], site, seals=[f"S-{n % len(boxes):05d}"])
        for n in range(scans)
    ]
    return Outbox(phone, envelopes, chunk=CHUNK)


def log_size(runtime: Runtime, log_id: str) -> int:
    with runtime.db.reads() as session:
        return session.scalars(select(Log.size).where(Log.id == log_id)).one()


def assert_each_scan_once(runtime: Runtime, log_id: str, *outboxes: Outbox) -> None:
    """Every scan of the outboxes is in the log exactly once, at the index its answer
    gave, and each phone's scans are in the log in the order the phone made them."""
    with runtime.db.reads() as session:
        entries = session.execute(
            select(LogEntry.idx, LogEntry.key, LogEntry.data)
            .where(LogEntry.log_id == log_id, LogEntry.key.is_not(None))
            .order_by(LogEntry.idx)
        ).all()
        events = Counter(session.scalars(select(Event.event_id).where(Event.log_id == log_id)))
    sent = {e["scan"]["event_id"] for box in outboxes for e in box.envelopes}
    in_log = Counter(key for _, key, _ in entries)
    assert set(in_log) == sent and set(in_log.values()) == {1}, "a scan is missing from the log or doubled"
    assert set(events) == sent and set(events.values()) == {1}
    index = {key: idx for idx, key, _ in entries}
    made = [json.loads(data)["scan"] for _, _, data in entries]
    for box in outboxes:
        assert all(box.answers[key]["index"] == index[key] for key in index if key in box.answers)
        assert len(box.answers) == len(box.envelopes)
        order = [scan["device_seq"] for scan in made if scan["device"] == box.phone.id]
        assert order == sorted(order) == [e["scan"]["device_seq"] for e in box.envelopes]


def assert_verifies(base: str, log_id: str, vkey: str, size: int) -> None:
    """A checkpoint covers `size` entries and `jejak verify` passes on the whole log."""
    wait_for_checkpoint(base, log_id, size)
    assert verify.main([f"{base}/logs/{log_id}", "--key", vkey]) == 0


def writing(runtime: Runtime, log_id: str) -> bool:
    """Whether another process has a write transaction open on the log at this moment:
    on PostgreSQL, it holds the log's row lock (only appends take it); SQLite has one
    write lock for the whole file, which signing a checkpoint takes too."""
    url = make_url(runtime.settings.database_url)
    if url.get_backend_name() == "sqlite":
        probe = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:  # database is locked
            return True
        finally:
            probe.close()
    try:
        with runtime.db.session() as session:
            session.execute(select(Log.id).where(Log.id == log_id).with_for_update(nowait=True))
        return False
    except OperationalError:  # lock not available
        return True


def test_a_server_killed_mid_sync_ends_with_every_scan_once(settings, runtime, new_log, area, crew):
    """kill -9 the server three times while a phone syncs SCANS scans in chunks of CHUNK:
    as a chunk has just reached it; while a write transaction of its is open (on
    PostgreSQL, the chunk's own); and just after it committed a chunk, whose answer the
    phone then never gets (so it sends the chunk again). Each time the server is started
    again on the same port and database."""
    phone = crew["kpu"]
    boxes = register_boxes(phone.person, area, SCANS // SCANS_PER_BOX)
    outbox = offline_batch(phone, boxes, area.kpu, SCANS)
    before = log_size(runtime, new_log.id)
    chunks = -(-SCANS // CHUNK)
    assert chunks >= 4
    plan = {chunks // 4: "arrived", chunks // 2: "writing", 3 * chunks // 4: "committed"}
    kills: list[str] = []
    server = LiveServer(settings)

    def on_sent(chunk: int) -> None:
        moment = plan.pop(chunk, None)
        if moment == "writing":
            # Asked often: the transaction is open for moments only.
            wait_for(lambda: writing(runtime, new_log.id), "the server's write transaction", timeout=60, every=0.002)
        elif moment == "committed":
            wait_for(lambda: log_size(runtime, new_log.id) == before + RULES + (chunk + 1) * CHUNK, "the commit", timeout=60)
        if moment is not None:
            server.kill()
            kills.append(moment)
            server.start()
        if moment == "committed":
            raise httpx.ReadError("the phone lost its signal before the answer came")

    server.start()
    try:
        assert outbox.sync(server.base, patience=300, on_sent=on_sent) is None
        assert kills == ["arrived", "writing", "committed"]
        # The committed chunk was sent again and recognised, scan by scan.
        answers = Counter(r["status"] for r in outbox.answers.values())
        assert answers == {"accepted": SCANS - CHUNK, "duplicate": CHUNK}
        assert_each_scan_once(runtime, new_log.id, outbox)
        assert log_size(runtime, new_log.id) == before + RULES + SCANS
        assert_verifies(server.base, new_log.id, new_log.verifier_key, before + RULES + SCANS)
    finally:
        server.stop()


@dataclass
class Service:
    """The real service on a database of the test's own, with a log, its area, and a
    KPU officer signed in to it."""

    runtime: Runtime
    server: LiveServer
    log: Log
    area: Area
    kpu: Person


@contextmanager
def own_service(database_url: str, keys_dir: Path) -> Iterator[Service]:
    settings = Settings(environment="test", database_url=database_url, host="jejak.test", keys_dir=keys_dir,
                        checkpoint_interval=0.2)
    migrations.upgrade(database_url)
    runtime = Runtime(settings)
    server = LiveServer(settings)
    try:
        log = runtime.create_log("53.03")
        area = make_area(runtime, log.id)
        server.start()
        kpu = make_person(httpx.Client(base_url=server.base, timeout=60), runtime, Role.KPU, area.kpu)  # type: ignore[arg-type]
        yield Service(runtime, server, log, area, kpu)
    finally:
        server.stop()
        runtime.close()


def assert_problem(response: httpx.Response, status: int, words: str) -> None:
    """An RFC 9457 problem a person can act on, saying when to try again."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert words in response.json()["detail"] and int(response.headers["Retry-After"]) > 0


@dataclass
class Cluster:
    """A PostgreSQL server of the test's own, to stop and start at will."""

    bin: Path
    data: Path
    port: int
    run_as: list[str]  # the server refuses to run as root

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/jejak"

    def ctl(self, *args: str) -> None:
        subprocess.run([*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.data), *args],
                       check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        self.ctl("-l", str(self.data / "server.log"), "-o", options, "-w", "start")

    def crash(self) -> None:
        """Stop at once, no shutdown: every connection cut; crash recovery at the next start."""
        self.ctl("-m", "immediate", "-w", "stop")


@pytest.fixture
def own_postgres() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster (initdb into a temporary directory, a free port)
    with an empty database `jejak`: the machine's shared server must never be stopped."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    initdb = found[-1] if found else shutil.which("initdb")
    if initdb is None:
        pytest.skip("initdb is not installed: PostgreSQL's server binaries are needed")
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="jejak-pg-"))
    if run_as:
        shutil.chown(root, "postgres")
    cluster = Cluster(Path(initdb).parent, root / "data", free_port(), run_as)
    try:
        subprocess.run([*run_as, initdb, "-D", str(cluster.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                        "--no-sync"], check=True, capture_output=True, timeout=120)
        cluster.start()
        with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres",
                             autocommit=True) as connection:
            connection.execute("CREATE DATABASE jejak")
        yield cluster
    finally:
        subprocess.run([*run_as, str(cluster.bin / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.postgres
def test_postgres_stopped_under_load_is_a_503_and_the_service_recovers(own_postgres, tmp_path):
    """Three phones sync while PostgreSQL is stopped (immediate: connections cut) and
    started again: every refused request is a quick 503 with Retry-After, never a 500 or
    a hang; the same server process carries on once the database is back, and every
    scan it acknowledged, and every other, ends in the log once."""
    with own_service(own_postgres.url, tmp_path / "keys") as service:
        runtime, server, log, kpu = service.runtime, service.server, service.log, service.kpu
        phones = [Phone(kpu).register() for _ in range(3)]
        boxes = register_boxes(kpu, service.area, 30)
        outboxes = [offline_batch(phone, boxes, service.area.kpu, SCANS // 5) for phone in phones]
        for outbox in outboxes:
            outbox.chunk = 100  # many requests in flight around the stop
        with ThreadPoolExecutor(len(outboxes)) as pool:
            syncs = [pool.submit(outbox.sync, server.base) for outbox in outboxes]
            wait_for(lambda: all(o.acknowledged >= 300 for o in outboxes), "every phone under way", timeout=60)
            own_postgres.crash()
            tried = [len(o.attempts) for o in outboxes]
            refused = kpu.get("/api/v1/events")
            wait_for(lambda: all(o.attempts[n:] for o, n in zip(outboxes, tried, strict=True)),
                     "every phone answered while the database is down", timeout=60)
            own_postgres.start()
            for sync in syncs:
                assert sync.result() is None
        assert_problem(refused, 503, "the database is unreachable")
        attempts = [a for o in outboxes for a in o.attempts]
        assert {a.status for a in attempts} == {200, 503}  # no 500, and never without an answer
        assert all(a.retry_after for a in attempts if a.status == 503)
        assert max(a.seconds for a in attempts) < CONNECT_TIMEOUT + 10  # not held: a bounded wait
        assert server.process is not None and server.process.poll() is None  # the same process
        runtime.db.engine.dispose()  # this process's own connections died with the server
        size = log_size(runtime, log.id)
        assert_each_scan_once(runtime, log.id, *outboxes)
        assert_verifies(server.base, log.id, log.verifier_key, size)


@pytest.mark.postgres
def test_a_database_that_does_not_answer_is_a_503_not_a_hang(tmp_path):
    """A PostgreSQL host that takes connections and never answers (a frozen server, a
    black hole on the way), and more requests at once than the pool has connections:
    those that get a connection give up after the URL's connect_timeout, those left
    waiting for one after CONNECT_TIMEOUT; every one is a 503, none is held."""
    connect_timeout = CONNECT_TIMEOUT + 3  # so the pool's wait ends first
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)  # the kernel completes the handshakes; nothing ever speaks
        port = silent.getsockname()[1]
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/jejak?connect_timeout={connect_timeout}"
        settings = Settings(environment="test", database_url=url, host="jejak.test", keys_dir=tmp_path / "keys")
        runtime = Runtime(settings)
        token, _ = tokens.issue(runtime.keys, settings, Actor(uuid.uuid4(), Role.KPU, "53.03"))
        runtime.close()
        scan = {"event_id": str(uuid.uuid4()), "type": "seal", "item": "53.03.01.2001-001-BUP",
                "observed_at": "2024-11-27T08:00:00Z", "site": "53.03", "device": "hp-1", "device_seq": 1}
        body = {"scans": [sign(Ed25519PrivateKey.generate(), scan)]}

        def send(base: str) -> tuple[httpx.Response, float]:
            started = time.monotonic()
            response = httpx.post(f"{base}/api/v1/events", json=body, headers={"Authorization": f"Bearer {token}"},
                                  timeout=60)
            return response, time.monotonic() - started

        with serve_live(settings) as base, ThreadPoolExecutor(36) as pool:  # the pool holds 30
            answers = list(pool.map(send, [base] * 36))
    for response, _ in answers:
        assert_problem(response, 503, "the database is unreachable")
    waited = [seconds for _, seconds in answers]
    assert CONNECT_TIMEOUT - 1 < min(waited) and max(waited) < connect_timeout + 10


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A filesystem of 16 MB of its own: a tmpfs, which needs root to mount."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here (root needed): {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


def test_a_full_disk_is_a_clear_507_and_the_service_goes_on_once_freed(is_postgres, small_disk, tmp_path):
    """The SQLite file's filesystem fills up while a phone syncs: the chunk that does not
    fit is refused 507 "the database disk is full" and leaves no trace, the file passes
    PRAGMA integrity_check, the log verifies, and once space is freed the same server
    takes the rest: every scan once."""
    if is_postgres:
        pytest.skip("SQLite's own disk: runs in the SQLite pass")
    database = small_disk / "jejak.db"
    with own_service(f"sqlite:///{database}", tmp_path / "keys") as service:
        runtime, server, log, kpu = service.runtime, service.server, service.log, service.kpu
        phone = Phone(kpu).register()
        outbox = offline_batch(phone, register_boxes(kpu, service.area, 30), service.area.kpu, 3000)
        before = log_size(runtime, log.id)
        # Leave a megabyte: room for a chunk or so, not for all of them.
        room = os.statvfs(small_disk)
        ballast = small_disk / "ballast"
        ballast.write_bytes(bytes(room.f_bavail * room.f_frsize - 1024 * 1024))

        full = outbox.sync(server.base)
        assert full is not None
        assert_problem(full, 507, "the database disk is full")
        assert 0 < outbox.acknowledged < len(outbox.envelopes)
        assert log_size(runtime, log.id) == before + RULES + outbox.acknowledged  # nothing of the refused chunk
        assert integrity(database) == "ok"
        assert verify.main([f"{server.base}/logs/{log.id}", "--key", log.verifier_key]) == 0

        ballast.unlink()
        assert outbox.sync(server.base) is None
        assert server.process is not None and server.process.poll() is None  # the same process
        assert_each_scan_once(runtime, log.id, outbox)
        assert_verifies(server.base, log.id, log.verifier_key, before + RULES + len(outbox.envelopes))
        assert integrity(database) == "ok"
