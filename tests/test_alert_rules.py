"""The irregularity rules from real signed scans through POST /api/v1/events: each one
raises its alert when its irregularity happens and stays quiet on a clean route; the
"not received in time" rule on its timer; acknowledging an alert, in the log."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import update

from models.accounts.actor import Role
from models.core.settings import Settings
from models.custody.alerts import raise_once
from models.custody.overdue import Allowance, OverdueWatch, overdue, raise_overdue
from models.places.geo import Point, distance_km
from models.places.sites import Kerawanan, Site
from tests.factories import (
    Area, Phone, accepted, hours_ago, make_area, make_crew, make_person, new_area, new_regency, register,
)  # fmt: skip
from tests.helpers import wait_for

# Kefamenanu, a district office 26 km away, a village and its polling stations near it.
COORDS = {"kpu": Point(-9.46, 124.48), "ppk": Point(-9.30, 124.65), "pps": Point(-9.28, 124.67),
          "tps": Point(-9.275, 124.675)}  # fmt: skip
RULES = ("far_from_site", "impossible_travel", "revoked_label", "late_return", "outside_jurisdiction", "not_received")


def placed(runtime, regency: str) -> Area:
    """A route of four polling stations, the fourth a TPS khusus, its sites placed near
    Kefamenanu, each polling station with its own kerawanan."""
    area = make_area(runtime, regency, tps_count=4)
    ratings = [Kerawanan.KURANG_RAWAN, Kerawanan.RAWAN, Kerawanan.SANGAT_RAWAN, Kerawanan.KURANG_RAWAN]
    with runtime.db.session(write=True) as session:
        for level, code in (("kpu", area.kpu), ("ppk", area.ppk), ("pps", area.pps)):
            session.execute(update(Site).where(Site.code == code).values(lat=COORDS[level].lat, lon=COORDS[level].lon))
        for n, code in enumerate(area.tps):
            session.execute(update(Site).where(Site.code == code).values(
                lat=COORDS["tps"].lat, lon=COORDS["tps"].lon, kerawanan=ratings[n], special=n == 3,
            ))  # fmt: skip
    return area


@pytest.fixture
def area(runtime, new_log) -> Area:
    """Overrides the suite's: this module's rules need places and a TPS khusus."""
    return placed(runtime, new_log.id)


def located(point: Point, accuracy_m: float = 15.0) -> dict:
    return {"location": {"lat": point.lat, "lon": point.lon, "accuracy_m": accuracy_m}}


class Clock:
    """Observed times a few minutes apart, from some hours ago: a plausible day."""

    def __init__(self, start: datetime, step: timedelta = timedelta(minutes=40)) -> None:
        self.now, self.step = start, step

    def tick(self) -> datetime:
        self.now += self.step
        return self.now


def walk(area: Area, crew, box: str, clock: Clock, *, back: bool = True, **extra) -> list[dict]:
    """Seal, three handoffs down, open, count, reseal (and three back): every scan made
    where its site is, with the fields in `extra`; returns every result."""
    kpu, ppk, pps, kpps = crew["kpu"], crew["ppk"], crew["pps"], crew["kpps"]
    tps = area.tps[0]
    at = {area.kpu: COORDS["kpu"], area.ppk: COORDS["ppk"], area.pps: COORDS["pps"], tps: COORDS["tps"]}

    def scan(phone, kind, site, **fields):
        return phone.send(phone.scan(kind, box, site, observed=clock.tick(), **located(at[site]), **extra, **fields))

    results = scan(kpu, "seal", area.kpu, seals=["S-1"])
    legs = [(kpu, area.kpu, ppk, area.ppk), (ppk, area.ppk, pps, area.pps), (pps, area.pps, kpps, tps)]
    for sender, origin, receiver, destination in legs:
        results += scan(sender, "dispatch", origin, counterparty=destination, seals=["S-1"])
        results += scan(receiver, "receive", destination, counterparty=origin, seals=["S-1"])
    for kind in ("open", "count"):
        results += scan(kpps, kind, tps)
    results += scan(kpps, "reseal", tps, seals=["S-2"])
    for receiver, destination, sender, origin in reversed(legs) if back else ():
        results += scan(sender, "dispatch", origin, counterparty=destination, seals=["S-2"])
        results += scan(receiver, "receive", destination, counterparty=origin, seals=["S-2"])
    return results


def alerts_of(person, **params) -> list[dict]:
    response = person.get("/api/v1/alerts", params={"state": "all", **params})
    assert response.status_code == 200, response.text
    return response.json()["alerts"]


def entry(client, log_id: str, index: int) -> dict:
    page = client.get(f"/api/v1/logs/{log_id}/entries", params={"start": index, "end": index + 1}).json()
    return json.loads(base64.b64decode(page["entries"][0]["entry"]))


# -- A clean route is quiet ---------------------------------------------------------


@pytest.fixture(scope="module")
def clean_route(client, runtime, app_runtime):
    """A box out and back by its own custodians, every scan where its site is, on the
    current label, before the return deadline (armed for the walk), each dispatch
    received; and what the timer would find a month later."""
    area = placed(runtime, runtime.create_log(new_regency()).id)
    crew = make_crew(client, runtime, area)
    register(crew, (area.tps[0], "BUP"))
    deadline = app_runtime.settings.return_deadline
    app_runtime.settings.return_deadline = datetime.now(UTC) + timedelta(days=1)
    try:
        results = walk(area, crew, area.item(), Clock(datetime.now(UTC) - timedelta(hours=11)), label=1)
    finally:
        app_runtime.settings.return_deadline = deadline
    with runtime.db.reads() as session:
        late = overdue(session, Allowance.of(app_runtime.settings), datetime.now(UTC) + timedelta(days=30))
    return area, crew, results, late


@pytest.mark.parametrize("rule", RULES)
def test_a_clean_route_raises_no_alert(clean_route, rule):
    area, crew, results, late = clean_route
    accepted(results)  # every scan accepted, without a flag
    assert len(results) == 16
    assert [a for a in alerts_of(crew["kpu"].person) if a["rule"] == rule] == []
    if rule == "not_received":
        assert [a for a in late if a.log_id == area.kpu] == []  # every dispatch was received


# -- Each rule, triggered ----------------------------------------------------------


def test_a_scan_far_from_its_site_raises_far_from_site(area, crew):
    register(crew, (area.tps[0], "BUP"))
    kpu, box = crew["kpu"], area.item()
    kupang = Point(-10.17, 123.60)  # 125 km away
    near = Point(COORDS["kpu"].lat + 0.01, COORDS["kpu"].lon)  # 1.1 km: within the 2 km allowed
    earlier = datetime.now(UTC) - timedelta(hours=3)  # time enough to drive back from Kupang
    (far,) = kpu.send(kpu.scan("seal", box, area.kpu, seals=["S-1"], observed=earlier, **located(kupang)))
    assert far["flags"] == ["far_from_site"]
    accepted(kpu.send(kpu.scan("store", box, area.kpu, **located(near))))
    # A fix 3 km off but only good to 5 km might well be at the site.
    blurred = Point(COORDS["kpu"].lat + 0.027, COORDS["kpu"].lon)
    assert distance_km(blurred, COORDS["kpu"]) > 2.9
    accepted(kpu.send(kpu.scan("store", box, area.kpu, **located(blurred, accuracy_m=5000))))
    (alert,) = alerts_of(kpu.person, rule="far_from_site")
    assert (alert["item_id"], alert["site"], alert["severity"]) == (box, area.kpu, "warning")
    assert alert["evidence"] == [far["index"]] and "2 km" in alert["detail"]


def test_a_site_without_coordinates_is_never_far(runtime, area, crew):
    with runtime.db.session(write=True) as session:
        session.execute(update(Site).where(Site.code == area.kpu).values(lat=None, lon=None))
    register(crew, (area.tps[0], "BUP"))
    kpu = crew["kpu"]
    accepted(kpu.send(kpu.scan("seal", area.item(), area.kpu, seals=["S-1"], **located(Point(-10.17, 123.60)))))


def test_a_box_faster_than_a_car_raises_impossible_travel(area, crew):
    """Dispatched at Kefamenanu and received 26 km away ten minutes later: by the sites'
    coordinates alone (no fix), that is 150 km/h."""
    register(crew, (area.tps[0], "BUP"))
    kpu, ppk, box = crew["kpu"], crew["ppk"], area.item()
    sent = datetime.now(UTC) - timedelta(hours=1)
    (dispatch,) = accepted(kpu.send(kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk, observed=sent)))
    (receive,) = ppk.send(ppk.scan("receive", box, area.ppk, counterparty=area.kpu, observed=sent + timedelta(minutes=10)))
    assert receive["flags"] == ["impossible_travel"]
    (alert,) = alerts_of(kpu.person, rule="impossible_travel")
    assert alert["evidence"] == [dispatch["index"], receive["index"]]
    assert (alert["severity"], alert["site"]) == ("critical", area.ppk)


def test_two_far_scans_of_one_batch_raise_impossible_travel(area, crew):
    """A copied label scanned in two places the same hour, synced together."""
    register(crew, (area.tps[0], "BUP"))
    kpu, box = crew["kpu"], area.item()
    seen = datetime.now(UTC) - timedelta(hours=2)
    first, second = kpu.send(
        kpu.scan("seal", box, area.kpu, seals=["S-1"], observed=seen, **located(COORDS["kpu"])),
        kpu.scan("store", box, area.kpu, observed=seen + timedelta(minutes=30), **located(Point(-8.60, 125.50))),
    )
    assert first["flags"] == [] and "impossible_travel" in second["flags"]
    (alert,) = alerts_of(kpu.person, rule="impossible_travel")
    assert alert["evidence"] == [first["index"], second["index"]]


def test_a_revoked_label_scanned_raises_revoked_label(client, area, crew):
    register(crew, (area.tps[0], "BUP"))
    kpu, box = crew["kpu"], area.item()
    reprinted = kpu.person.post(f"/api/v1/items/{box}/labels")
    assert reprinted.status_code == 201, reprinted.text
    history = client.get(f"/api/v1/items/{box}/history").json()["trail"]
    (revocation,) = [t["index"] for t in history if t["entry"].get("revokes") == 1]
    (old,) = kpu.send(kpu.scan("seal", box, area.kpu, seals=["S-1"], label=1))
    assert old["status"] == "accepted" and old["flags"] == ["revoked_label"]
    accepted(kpu.send(kpu.scan("store", box, area.kpu, label=2)))
    (unknown,) = kpu.send(kpu.scan("store", box, area.kpu, label=3))
    assert unknown["status"] == "rejected" and "never printed" in unknown["reason"]
    (alert,) = alerts_of(kpu.person, rule="revoked_label")
    assert alert["evidence"] == [revocation, old["index"]] and alert["severity"] == "critical"
    assert entry(client, area.kpu, old["index"])["scan"]["label"] == 1  # the device signed which label


def test_return_leg_scans_after_the_deadline_raise_late_return(app_runtime, monkeypatch, area, crew):
    register(crew, (area.tps[0], "BUP"))
    clock = Clock(datetime.now(UTC) - timedelta(hours=11), step=timedelta(minutes=30))
    # The deadline falls while the box is counted: reseal and the way back are late.
    monkeypatch.setattr(app_runtime.settings, "return_deadline", clock.now + timedelta(minutes=30 * 9 + 10))
    results = walk(area, crew, area.item(), clock)
    flagged = [r["flags"] for r in results]
    assert flagged[:9] == [[]] * 9  # seal, three handoffs, open, count
    assert flagged[9:] == [["late_return"]] * 7  # reseal, three handoffs back
    alerts = alerts_of(crew["kpu"].person, rule="late_return")
    assert [a["evidence"] for a in alerts] == [[r["index"]] for r in results[9:]]
    # Home at the KPU, the box's return is over: storing it later is not late.
    kpu = crew["kpu"]
    accepted(kpu.send(kpu.scan("store", area.item(), area.kpu, **located(COORDS["kpu"]))))


def test_a_scan_outside_the_jurisdiction_is_refused_and_raises_outside_jurisdiction(client, runtime, area, crew):
    register(crew, (area.tps[0], "BUP"))
    stranger = make_person(client, runtime, Role.PPS, area.other_pps)  # the next village's committee
    phone = Phone(stranger).register()
    registered = {d["id"]: d for d in stranger.get("/api/v1/devices").json()}[phone.id]["registered_index"]
    attempt = phone.scan("receive", area.item(), area.pps, counterparty=area.ppk)
    for _ in range(2):  # a replay is the same attempt
        (result,) = phone.send(attempt)
        assert result["status"] == "rejected" and "outside your jurisdiction" in result["reason"]
    forged = phone.scan("receive", area.item(), area.pps, counterparty=area.ppk)
    forged["scan"]["seals"] = ["X"]
    assert phone.send(forged)[0]["status"] == "rejected"  # not the device's word: no alert
    (alert,) = alerts_of(crew["kpu"].person, rule="outside_jurisdiction")
    assert alert["evidence"] == [registered] and alert["event_id"] == attempt["scan"]["event_id"]
    assert (alert["item_id"], alert["site"]) == (area.item(), area.pps)
    item = crew["kpu"].person.get(f"/api/v1/items/{area.item()}").json()
    assert (item["custodian"], item["status"]) == (area.kpu, "registered")  # custody never moved


def test_an_outsider_from_another_regency_is_recorded_in_their_own_log(client, runtime, area, crew):
    register(crew, (area.tps[0], "BUP"))
    other = new_area(runtime)
    outsider = Phone(make_person(client, runtime, Role.PPK, other.ppk)).register()
    (result,) = outsider.send(outsider.scan("receive", area.item(), area.ppk, counterparty=area.kpu))
    assert result["status"] == "rejected"
    auditor = make_person(client, runtime, Role.AUDITOR, other.kpu)
    (alert,) = alerts_of(auditor, rule="outside_jurisdiction")
    assert (alert["log_id"], alert["item_id"]) == (other.kpu, area.item())


# -- Not received in time ----------------------------------------------------------


def test_not_received_in_time_by_kerawanan(runtime, area, crew):
    """Four boxes, of a kurang rawan, a rawan and a sangat rawan polling station and of a
    TPS khusus, sent on together from the district to the village: each alert comes
    when its allowance has passed, and once."""
    register(crew, *[(t, "BUP") for t in area.tps])
    now = datetime.now(UTC)
    kpu, ppk = crew["kpu"], crew["ppk"]
    for n in range(4):
        accepted(kpu.send(kpu.scan("dispatch", area.item(n), area.kpu, counterparty=area.ppk, observed=now - timedelta(hours=2))))
        accepted(ppk.send(ppk.scan("receive", area.item(n), area.ppk, counterparty=area.kpu, observed=now - timedelta(hours=1))))
    dispatches = [
        ppk.send(ppk.scan("dispatch", area.item(n), area.ppk, counterparty=area.pps, observed=now))[0]
        for n in range(4)
    ]
    allowance = Allowance({Kerawanan.KURANG_RAWAN: 24, Kerawanan.RAWAN: 12, Kerawanan.SANGAT_RAWAN: 6, "khusus": 8})

    def due(hours: float) -> dict[str, list[int]]:
        with runtime.db.reads() as session:
            found = overdue(session, allowance, now + timedelta(hours=hours))
        return {a.item_id: a.evidence for a in found if a.log_id == area.kpu}

    assert due(5.9) == {}
    assert due(6) == {area.item(2): [dispatches[2]["index"]]}
    assert set(due(8)) == {area.item(2), area.item(3)}  # khusus: 8 h, though kurang rawan
    assert set(due(12)) == {area.item(1), area.item(2), area.item(3)}
    assert set(due(24)) == {area.item(n) for n in range(4)}
    with runtime.db.reads() as session:
        found = [a for a in overdue(session, allowance, now + timedelta(hours=13)) if a.log_id == area.kpu]
    assert len(raise_once(runtime.db, found)) == 3
    assert raise_once(runtime.db, found) == []  # once, whatever the ticks
    assert set(due(13)) == set()  # the raised ones are not found again
    alerts = alerts_of(crew["kpu"].person, rule="not_received")
    assert sorted(a["item_id"] for a in alerts) == [area.item(n) for n in (1, 2, 3)]
    assert {a["site"] for a in alerts} == {area.pps} and {a["severity"] for a in alerts} == {"critical"}
    assert "within 6 hours (sangat rawan)" in {a["item_id"]: a for a in alerts}[area.item(2)]["detail"]


def test_a_received_box_is_never_overdue(runtime, area, crew):
    register(crew, (area.tps[0], "BUP"))
    kpu, ppk, box = crew["kpu"], crew["ppk"], area.item()
    accepted(kpu.send(kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk, observed=hours_ago(1))))
    accepted(ppk.send(ppk.scan("receive", box, area.ppk, counterparty=area.kpu)))
    with runtime.db.reads() as session:
        found = overdue(session, Allowance.of(runtime.settings), datetime.now(UTC) + timedelta(days=30))
    assert [a for a in found if a.item_id == box] == []


def test_the_watch_raises_overdue_alerts_on_its_own(runtime, area, crew):
    """The background thread, with the real clock: a box of a sangat rawan polling
    station sent to its district 7 hours ago, and never received."""
    register(crew, (area.tps[2], "BUP"))
    kpu, box = crew["kpu"], area.item(2)
    (dispatch,) = accepted(kpu.send(kpu.scan(
        "dispatch", box, area.kpu, counterparty=area.ppk, observed=datetime.now(UTC) - timedelta(hours=7)
    )))  # fmt: skip
    watch = OverdueWatch(runtime.db, Allowance.of(runtime.settings), interval=0.05)
    watch.start()
    try:
        found = wait_for(lambda: alerts_of(kpu.person, rule="not_received", item=box), "the watch's alert", timeout=20)
    finally:
        watch.stop()
    assert [a["evidence"] for a in found] == [[dispatch["index"]]]
    again = raise_overdue(runtime.db, Allowance.of(runtime.settings), datetime.now(UTC))
    assert box not in {a.item_id for a in again}


# -- Acknowledging -----------------------------------------------------------------


def far_alerts(crew, box: str, site: str, count: int) -> list[dict]:
    """`count` far_from_site alerts about `box`: stores scanned at Kupang, 125 km off."""
    kpu = crew["kpu"]
    results = kpu.send(*[
        kpu.scan("store", box, site, observed=hours_ago(3), **located(Point(-10.17, 123.60))) for _ in range(count)
    ])  # fmt: skip
    assert [r["flags"] for r in results] == [["far_from_site"]] * count
    wanted = {r["event_id"] for r in results}
    return [a for a in alerts_of(kpu.person, rule="far_from_site", item=box) if a["event_id"] in wanted]


def test_an_acknowledgement_is_an_entry_in_the_log(client, runtime, area, crew):
    register(crew, (area.tps[0], "BUP"))
    (alert,) = far_alerts(crew, area.item(), area.kpu, 1)
    auditor = make_person(client, runtime, Role.AUDITOR, area.kpu)
    response = auditor.post(f"/api/v1/alerts/{alert['id']}/ack", json={"reason": "  GPS rusak di gudang; dicek Bawaslu  "})
    assert response.status_code == 200, response.text
    acked = response.json()
    assert acked["ack_reason"] == "GPS rusak di gudang; dicek Bawaslu" and acked["acked_by"] == str(auditor.id)
    assert acked["acked_at"] is not None
    record = entry(client, area.kpu, acked["ack_index"])
    assert record["type"] == "alert_ack" and record["item"] is None
    assert {k: record[k] for k in ("alert", "rule", "evidence", "reason", "actor", "role")} == {
        "alert": alert["id"], "rule": "far_from_site", "evidence": alert["evidence"],
        "reason": "GPS rusak di gudang; dicek Bawaslu", "actor": str(auditor.id), "role": "auditor",
    }  # fmt: skip
    kpu = crew["kpu"].person
    assert [a["id"] for a in kpu.get("/api/v1/alerts", params={"state": "acked"}).json()["alerts"]] == [alert["id"]]
    assert alert["id"] not in [a["id"] for a in kpu.get("/api/v1/alerts").json()["alerts"]]  # open ones by default


def test_an_acknowledgement_needs_a_reason_and_happens_once(area, crew):
    register(crew, (area.tps[0], "BUP"))
    (alert,) = far_alerts(crew, area.item(), area.kpu, 1)
    ppk = crew["ppk"].person  # the box is bound for its district; the KPU made the flagged scan
    path = f"/api/v1/alerts/{alert['id']}/ack"
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 1001}, {"reason": "ok", "extra": 1}):
        refused = ppk.post(path, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    assert ppk.post(path, json={"reason": "segel diganti, berita acara no. 7"}).status_code == 200
    again = ppk.post(path, json={"reason": "sekali lagi"})
    assert again.status_code == 409 and "was acknowledged" in again.json()["detail"]
    for missing, status in (("00000000-0000-0000-0000-000000000000", 404), ("not-a-uuid", 422)):
        assert ppk.post(f"/api/v1/alerts/{missing}/ack", json={"reason": "r"}).status_code == status


def test_who_may_acknowledge(client, runtime, area, crew):
    """ppk and auditor of the area; nobody else, and nobody from elsewhere. Not the KPU:
    it made the flagged scans, at its own warehouse (tests/test_alert_ack_rules.py)."""
    register(crew, (area.tps[0], "BUP"))
    alerts = iter(far_alerts(crew, area.item(), area.kpu, 3))  # two acknowledged, one left
    other = new_area(runtime)
    people = {
        "kpu": crew["kpu"].person,
        "ppk": crew["ppk"].person,
        "auditor": make_person(client, runtime, Role.AUDITOR, area.kpu),
        **{role.value: make_person(client, runtime, role, jurisdiction) for role, jurisdiction in (
            (Role.ADMIN, ""), (Role.PPS, area.pps), (Role.KPPS, area.tps[0]), (Role.ESCORT, area.kpu),
            (Role.INTEGRATOR, area.kpu),
        )},
        "kpu-B": make_person(client, runtime, Role.KPU, other.kpu),
        "auditor-B": make_person(client, runtime, Role.AUDITOR, other.kpu),
    }  # fmt: skip
    target = next(alerts)
    for who, person in [*people.items(), ("anonymous", None)]:
        # National and other regencies' accounts name the log; the rest default to theirs.
        params = {"log": area.kpu} if who == "admin" or who.endswith("-B") else {}
        headers = person.headers if person else {}
        response = client.post(
            f"/api/v1/alerts/{target['id']}/ack", params=params, json={"reason": "diperiksa"}, headers=headers
        )
        expected = 200 if who in ("ppk", "auditor") else 401 if who == "anonymous" else 403
        assert response.status_code == expected, (who, response.text)
        if expected == 200:
            target = next(alerts)
        else:
            assert response.headers["content-type"] == "application/problem+json"
    assert len(alerts_of(crew["kpu"].person, state="acked")) == 2


def test_a_ppk_acknowledges_only_its_own_districts_alerts(area, other_district, crew):
    register(crew, (area.tps[0], "BUP"), (other_district.tps[0], "BUP"))
    (theirs,) = far_alerts(crew, other_district.item(), area.kpu, 1)
    (ours,) = far_alerts(crew, area.item(), area.kpu, 1)
    ppk = crew["ppk"].person
    refused = ppk.post(f"/api/v1/alerts/{theirs['id']}/ack", json={"reason": "bukan wilayah kami"})
    assert refused.status_code == 403 and "outside your jurisdiction" in refused.json()["detail"]
    assert ppk.post(f"/api/v1/alerts/{ours['id']}/ack", json={"reason": "dicek"}).status_code == 200
    assert [a["id"] for a in alerts_of(ppk)] == [ours["id"]]  # and it sees only its own


# -- Finding alerts ----------------------------------------------------------------


def test_alerts_are_filtered_and_paged(client, area, crew):
    register(crew, (area.tps[0], "BUP"), (area.tps[1], "BUP"))
    far = far_alerts(crew, area.item(0), area.kpu, 2)
    kpu, ppk = crew["kpu"], crew["ppk"]
    accepted(kpu.send(kpu.scan("dispatch", area.item(1), area.kpu, counterparty=area.ppk, observed=hours_ago(2))))
    (mismatch,) = ppk.send(ppk.scan("receive", area.item(1), area.ppk, counterparty=area.kpu, seals=["X"]))
    assert mismatch["flags"] == ["seal_mismatch"]
    assert ppk.person.post(f"/api/v1/alerts/{far[0]['id']}/ack", json={"reason": "dicek"}).status_code == 200

    def ids(**params) -> list[str]:
        return [a["id"] for a in alerts_of(kpu.person, **params)]

    every = ids()
    assert len(every) == 3
    assert ids(rule="far_from_site") == [a["id"] for a in far]
    assert ids(severity="critical") == ids(rule="seal_mismatch") == ids(site=area.ppk) == ids(item=area.item(1))
    assert len(ids(severity="critical")) == 1 and ids(severity="info") == []
    assert ids(item=area.item(0)) == [a["id"] for a in far]
    assert ids(site=area.kpu) == every  # a site and everything below it
    assert ids(state="acked") == [far[0]["id"]]
    assert ids(state="open") == every[1:] == [a["id"] for a in kpu.person.get("/api/v1/alerts").json()["alerts"]]
    paged, cursor = [], None
    while True:
        page = kpu.person.get("/api/v1/alerts", params={"state": "all", "limit": 1, **({"cursor": cursor} if cursor else {})})
        paged += [a["id"] for a in page.json()["alerts"]]
        if (cursor := page.json()["next"]) is None:
            break
    assert paged == every
    for bad in ({"severity": "dire"}, {"state": "closed"}, {"site": "x' OR 1=1"}, {"rule": "DROP"}):
        response = kpu.person.get("/api/v1/alerts", params=bad)
        assert response.status_code == 422, (bad, response.text)


# -- Settings ----------------------------------------------------------------------


def test_rule_settings_come_from_the_environment(monkeypatch):
    for name, value in {
        "FAR_FROM_SITE_KM": "5", "MAX_TRAVEL_KMH": "80", "RETURN_DEADLINE": "2024-11-28T18:00:00+08:00",
        "NOT_RECEIVED_HOURS_SANGAT_RAWAN": "3", "NOT_RECEIVED_CHECK_INTERVAL": "30",
    }.items():  # fmt: skip
        monkeypatch.setenv(f"JEJAK_{name}", value)
    settings = Settings()
    assert (settings.far_from_site_km, settings.max_travel_kmh) == (5, 80)
    assert settings.return_deadline == datetime(2024, 11, 28, 10, tzinfo=UTC)
    assert Allowance.of(settings).hours == {"kurang_rawan": 24, "rawan": 12, "sangat_rawan": 3, "khusus": 12}
    assert settings.not_received_check_interval == 30
    monkeypatch.setenv("JEJAK_RETURN_DEADLINE", "2024-11-28T18:00:00")
    with pytest.raises(ValidationError, match="needs a time zone"):
        Settings()
    monkeypatch.setenv("JEJAK_RETURN_DEADLINE", "2024-11-28T18:00:00Z")
    monkeypatch.setenv("JEJAK_MAX_TRAVEL_KMH", "0")
    with pytest.raises(ValidationError, match="greater than 0"):
        Settings()
