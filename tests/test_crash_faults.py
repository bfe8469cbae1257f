"""Faults found in crash tests (issue 21, finding 10): a restore rebuilt impossible_travel
alerts as [null, N] and the alerts list answered 500 on them; /readyz said ready on a
full disk; SQLite's WAL kept its largest size for ever."""

from __future__ import annotations

import shutil
from collections import namedtuple
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from models.accounts.actor import Role
from models.core import migrations
from models.core.db import Database
from models.core.settings import Settings
from models.custody.alerts import Alert, new_alert
from models.log.sequencer import NewEntry
from models.log.tables import Log
from models.places.geo import Point
from models.places.sites import Site
from models.runtime import Runtime
from scripts.mirror import mirror
from scripts.restore import log_copies, restore_copy
from tests.factories import make_area, make_person, register
from tests.helpers import append, wait_for_checkpoint

KEFAMENANU, DISTRICT, DILI = Point(-9.46, 124.48), Point(-9.30, 124.65), Point(-8.60, 125.50)


def located(point: Point) -> dict:
    return {"location": {"lat": point.lat, "lon": point.lon, "accuracy_m": 15.0}}


def _alert_rows(runtime: Runtime, log_id: str) -> list[tuple]:
    """Every alert as a restore must bring it back. Not compared: an open alert's id (a
    new one: no entry names it) and created_at (the restore's time: not in the log); an
    acknowledged alert keeps the id, time, actor, reason and entry its acknowledgement
    records."""
    with runtime.db.session() as session:
        return sorted(
            (a.rule, a.severity, a.item_id, a.site, a.event_id, a.detail, a.evidence,
             a.acked_at and (a.id, a.acked_at, a.acked_by, a.ack_reason, a.ack_index))
            for a in session.scalars(select(Alert).where(Alert.log_id == log_id))
        )  # fmt: skip


def test_a_restore_brings_back_impossible_travel_alerts_as_they_were(
    settings, client, runtime, new_log, area, crew, live_server, fresh_settings, tmp_path
):
    """The office's sites had coordinates; the restored database has the areas from the
    import file, which holds none. Impossible travel measured by those coordinates
    (scans without a phone's fix) comes back naming the same earlier scan: in the same
    request, and from an earlier one; one of them acknowledged."""
    with runtime.db.session(write=True) as session:
        for code, point in ((area.kpu, KEFAMENANU), (area.ppk, DISTRICT)):
            session.execute(update(Site).where(Site.code == code).values(lat=point.lat, lon=point.lon))
    kpu, ppk = crew["kpu"], crew["ppk"]
    register(crew, *[(t, "BUP") for t in area.tps])
    seen = datetime.now(UTC) - timedelta(hours=2)
    # One request: sealed at the office (its coordinates), stored in Dili half an hour later.
    sealed, stored = kpu.send(
        kpu.scan("seal", area.item(0), area.kpu, seals=["S-1"], observed=seen),
        kpu.scan("store", area.item(0), area.kpu, observed=seen + timedelta(minutes=30), **located(DILI)),
    )
    # Two requests: dispatched at the office, received 26 km away ten minutes later.
    (dispatched,) = kpu.send(kpu.scan("dispatch", area.item(1), area.kpu, counterparty=area.ppk, observed=seen))
    (received,) = ppk.send(
        ppk.scan("receive", area.item(1), area.ppk, counterparty=area.kpu, observed=seen + timedelta(minutes=10))
    )
    assert "impossible_travel" in stored["flags"] and "impossible_travel" in received["flags"]
    [alert] = kpu.person.get("/api/v1/alerts", params={"rule": "impossible_travel", "item": area.item(1)}).json()["alerts"]
    # Another officer of the KPU: the one who dispatched may not close it (segregation of duties).
    colleague = make_person(client, runtime, Role.KPU, area.kpu)
    acked = colleague.post(f"/api/v1/alerts/{alert['id']}/ack", json={"reason": "the truck's clock was wrong"})
    assert acked.status_code == 200, acked.text
    before = _alert_rows(runtime, new_log.id)
    travel = sorted(tuple(a[6]) for a in before if a[0] == "impossible_travel")
    assert travel == [(sealed["index"], stored["index"]), (dispatched["index"], received["index"])]

    with runtime.db.session() as session:
        size = session.get_one(Log, new_log.id).size
    wait_for_checkpoint(live_server, new_log.id, size)
    assert mirror(tmp_path / "mirror", [f"{live_server}/logs/{new_log.id}"], [new_log.verifier_key], progress=False) == 0
    shutil.copytree(settings.keys_dir, fresh_settings.keys_dir)
    restored = Runtime(fresh_settings)
    try:
        make_area(restored, new_log.id)  # the areas without coordinates, as `jejak sites import` brings them
        restored.ensure_log(new_log.id)
        [copy] = log_copies(str(tmp_path / "mirror"))
        with copy:
            restore_copy(restored, copy)
        assert _alert_rows(restored, new_log.id) == before
    finally:
        restored.close()


@pytest.mark.parametrize(
    ("stored", "shown"),
    [([None, 7], [None, 7]), ([3.5, "x", True, 2], [None, None, None, 2]), (None, []), ({"odd": 1}, [None])],
)
def test_the_alerts_list_answers_whatever_evidence_a_row_holds(client, runtime, new_log, area, stored, shown):
    person = make_person(client, runtime, Role.KPU, area.kpu)
    with runtime.db.session(write=True) as session:
        session.add(new_alert(new_log.id, "impossible_travel", item_id=area.item(), detail="stored oddly",
                              evidence=stored))  # fmt: skip
    response = person.get("/api/v1/alerts", params={"state": "all"})
    assert response.status_code == 200, response.text
    [alert] = [a for a in response.json()["alerts"] if a["detail"] == "stored oddly"]
    assert alert["evidence"] == shown


Usage = namedtuple("Usage", "total used free")


def test_readyz_is_not_ready_when_a_disk_it_writes_to_is_nearly_full(client, settings, monkeypatch):
    assert client.get("/readyz").status_code == 200
    real, keys, mb = shutil.disk_usage, settings.keys_dir.resolve(), 1024 * 1024

    def keys_disk_nearly_full(path):
        return Usage(1000 * mb, 990 * mb, 10 * mb) if Path(path).resolve() == keys else real(path)

    monkeypatch.setattr(shutil, "disk_usage", keys_disk_nearly_full)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["disk"].startswith(f"full: {settings.keys_dir} has 10 MB free")
    assert "JEJAK_MIN_FREE_DISK_MB=64" in response.json()["checks"]["disk"]


def test_readyz_watches_the_sqlite_files_directory(client, is_postgres, settings, monkeypatch):
    if is_postgres:
        pytest.skip("SQLite's own directory: runs in the SQLite pass")
    directory = str(make_url(settings.database_url).database).rsplit("/", 1)[0]
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10, 10, 0) if str(p) == directory else real(p))
    response = client.get("/readyz")
    assert response.status_code == 503 and f"{directory} has 0 MB free" in response.json()["checks"]["disk"]


def test_the_sqlite_wal_is_truncated_after_a_large_batch(is_postgres, tmp_path):
    """A batch of 20 MB of entries leaves a WAL no longer than 4 MiB (models.core.db.WAL_LIMIT: the most
    SQLite's automatic checkpoint lets it reach between batches of normal size)."""
    if is_postgres:
        pytest.skip("SQLite's WAL: runs in the SQLite pass")
    url = f"sqlite:///{tmp_path / 'jejak.db'}"
    migrations.upgrade(url)
    settings = Settings(environment="test", database_url=url, host="jejak.test", keys_dir=tmp_path / "keys")
    runtime = Runtime(settings)
    try:
        log = runtime.create_log("91.01")
        pad = "x" * 20_000
        append(runtime, log.id, [NewEntry({"type": "scan", "n": n, "pad": pad}, item=f"box-{n}") for n in range(1000)])
        wal = tmp_path / "jejak.db-wal"
        assert wal.stat().st_size <= 4 * 1024 * 1024
        with Database(url).session() as session:  # and the log is whole
            assert session.get_one(Log, log.id).size == 1000
    finally:
        runtime.close()
