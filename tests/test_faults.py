"""Crash and fault safety, done for real: the server kill -9'd while a phone syncs a
long offline batch, PostgreSQL stopped under load, the SQLite file's disk filling up.
Each ends with every scan in the log exactly once, in the order the phone made them,
and the log verifying with its key alone.

JEJAK_FAULT_SCANS sets the length of the batch (`make test-faults-long`: 100,000)."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable

import httpx

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from models.events import Event
from models.log import Log, LogEntry
from models.runtime import Runtime
from models.users import Role
from scripts import verify
from tests.factories import Area, Outbox, Person, Phone, make_area, make_person
from tests.helpers import LiveServer, wait_for_checkpoint

SCANS = int(os.environ.get("JEJAK_FAULT_SCANS", "10000"))
CHUNK = 500  # scans per request, as the field app sends a long outbox
SCANS_PER_BOX = 100


def register_boxes(kpu: Person, area: Area, count: int) -> list[str]:
    """`count` ballot boxes bound for the area's first polling station."""
    boxes = [area.item(0, f"B{n:05d}") for n in range(count)]
    for start in range(0, count, 1000):
        body = {"items": [{"kind": "kotak_suara", "destination": area.tps[0], "code": box.rsplit("-", 1)[1]}
                          for box in boxes[start : start + 1000]]}
        response = kpu.post("/api/v1/items", json=body)
        assert response.status_code == 201, response.text
    return boxes


def offline_batch(phone: Phone, area: Area, scans: int) -> Outbox:
    """A KPU phone's day of seal checks made offline: `scans` signed scans of its boxes,
    SCANS_PER_BOX each, waiting in its outbox."""
    boxes = register_boxes(phone.person, area, max(1, scans // SCANS_PER_BOX))
    envelopes = [
        phone.scan("seal", boxes[n % len(boxes)], area.kpu, seals=[f"S-{n % len(boxes):05d}"])
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
        assert session.scalar(select(func.count()).select_from(Event).where(Event.log_id == log_id)) == len(events)
    sent = {e["scan"]["event_id"] for box in outboxes for e in box.envelopes}
    in_log = Counter(key for _, key, _ in entries)
    assert set(in_log) == sent and set(in_log.values()) == {1}, "a scan is missing from the log or doubled"
    assert set(events) == sent and set(events.values()) == {1}
    index = {key: idx for idx, key, _ in entries}
    for box in outboxes:
        assert all(box.answers[key]["index"] == index[key] for key in index if key in box.answers)
        assert len(box.answers) == len(box.envelopes)
        made = [json.loads(data)["scan"] for _, _, data in entries]
        order = [scan["device_seq"] for scan in made if scan["device"] == box.phone.id]
        assert order == sorted(order) == [e["scan"]["device_seq"] for e in box.envelopes]


def assert_verifies(base: str, log_id: str, vkey: str, size: int) -> None:
    """A checkpoint covers `size` entries and `jejak verify` passes on the whole log."""
    wait_for_checkpoint(base, log_id, size)
    assert verify.main([f"{base}/logs/{log_id}", "--key", vkey]) == 0


def writing(runtime: Runtime, log_id: str) -> bool:
    """Whether another process holds the log's write lock at this moment: its write
    transaction is open (SQLite has one such lock for the whole file)."""
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


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.002)


def test_a_server_killed_mid_sync_ends_with_every_scan_once(settings, client, runtime, new_log):
    """kill -9 the server three times while a phone syncs SCANS scans in chunks of CHUNK:
    as a chunk has just reached it; while it integrates a chunk, its transaction open;
    and just after it committed one, whose answer the phone then never gets (and sends
    the chunk again). The server is started again each time on the same database."""
    area = make_area(runtime, new_log.id)
    phone = Phone(make_person(client, runtime, Role.KPU, area.kpu)).register()
    outbox = offline_batch(phone, area, SCANS)
    before = log_size(runtime, new_log.id)
    chunks = -(-SCANS // CHUNK)
    assert chunks >= 4
    plan = {chunks // 4: "arrived", chunks // 2: "writing", 3 * chunks // 4: "committed"}
    kills: list[str] = []
    server = LiveServer(settings)

    def on_sent(chunk: int) -> None:
        moment = plan.pop(chunk, None)
        if moment == "writing":
            wait_for(lambda: writing(runtime, new_log.id), "the server's write transaction")
        elif moment == "committed":
            wait_for(lambda: log_size(runtime, new_log.id) == before + (chunk + 1) * CHUNK, "the commit")
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
        assert log_size(runtime, new_log.id) == before + SCANS
        assert_verifies(server.base, new_log.id, new_log.verifier_key, before + SCANS)
    finally:
        server.stop()
