"""The custody chain through the HTTP API: signed scans from several phones move a box
along its route; irregularities are recorded and flagged, forgeries refused."""

from __future__ import annotations

import base64
import itertools
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from models.accounts.actor import Actor, Role
from models.custody.ingest import check_scans, submit_scans
from models.custody.work import rules_of
from models.places.sites import Kerawanan, Site, SiteLevel
from models.places.wilayah import import_areas
from models.runtime import Runtime
from tests.factories import Area, Phone, accepted, hours_ago, make_crew, make_person, register, walk_out_and_back
from tests.helpers import wait_until_queued

WILAYAH = Path(__file__).resolve().parent.parent / "scripts" / "wilayah"


@pytest.fixture
def ttu_area(runtime) -> Area:
    """A real route of Kabupaten Timor Tengah Utara, from the shipped wilayah data:
    KPU TTU (53.03) → PPK Insana (53.03.08) → PPS Nansean (53.03.08.2005), with a
    polling station of this test's own."""
    with runtime.db.session(write=True) as session:
        import_areas(session, WILAYAH, regencies={"53.03"})
    runtime.ensure_log("53.03")
    tps = f"53.03.08.2005-{next(_ttu_tps):03d}"
    with runtime.db.session(write=True) as session:
        session.add(Site(code=tps, level=SiteLevel.TPS, name=f"TPS {tps[-3:]} Nansean",
                         parent_code="53.03.08.2005", regency="53.03", kerawanan=Kerawanan.RAWAN))
    return Area("53.03", "53.03.08", "53.03.08.2005", [tps], "53.03.08.2006")


_ttu_tps = itertools.count(901)


def test_a_box_travels_out_and_back_with_a_verifiable_trail(client, runtime, area, crew):
    walk_out_and_back(client, runtime, area, crew)


def test_a_bupati_box_of_a_real_ttu_polling_station_travels_out_and_back(client, runtime, ttu_area):
    walk_out_and_back(client, runtime, ttu_area, make_crew(client, runtime, ttu_area))


def test_a_replayed_scan_returns_its_first_result_and_appends_nothing(runtime, area, crew):
    register(crew, (area.tps[0], "BUP"))
    kpu = crew["kpu"]
    envelope = kpu.scan("seal", area.item(), area.kpu, seals=["S-1"])
    first = accepted(kpu.send(envelope))[0]
    def size() -> int:  # this log's alone: others' logs and checkpoints move meanwhile
        return {log["log"]: log["size"] for log in kpu.person.client.get("/api/v1/logs").json()["logs"]}[area.kpu]

    before = size()
    again = kpu.send(envelope, envelope)
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert {r["index"] for r in again} == {first["index"]}
    assert size() == before


def test_an_offline_batch_enters_the_log_in_the_order_the_phone_made_it(area, crew):
    register(crew, (area.tps[0], "BUP"), (area.tps[1], "BUP"))
    kpu = crew["kpu"]
    made = [
        kpu.scan("seal", area.item(0), area.kpu, seals=["A"], observed=hours_ago(3)),
        kpu.scan("dispatch", area.item(0), area.kpu, counterparty=area.ppk, seals=["A"], observed=hours_ago(2.9)),
        kpu.scan("seal", area.item(1), area.kpu, seals=["B"], observed=hours_ago(2.8)),
        kpu.scan("dispatch", area.item(1), area.kpu, counterparty=area.ppk, seals=["B"], observed=hours_ago(2.7)),
    ]
    shuffled = [made[3], made[1], made[2], made[0]]
    results = {r["event_id"]: r for r in accepted(kpu.send(*shuffled))}
    indexes = [results[e["scan"]["event_id"]]["index"] for e in made]
    assert indexes == sorted(indexes)


@pytest.mark.parametrize("resealed_by", ["this process", "another process"])
def test_boxes_read_ahead_of_the_lock_are_read_again_if_a_scan_changed_them(runtime, settings, area, crew, resealed_by):
    """A request's boxes are read before it waits for the log's lock; a box that a scan
    changed meanwhile, in any server process, is read again under the lock, so no rule
    judges a stale state."""
    register(crew, (area.tps[0], "BUP"), (area.tps[1], "BUP"))
    kpu = crew["kpu"]
    accepted(kpu.send(kpu.scan("seal", area.item(0), area.kpu, seals=["A"]),
                      kpu.scan("seal", area.item(1), area.kpu, seals=["C"])))  # fmt: skip
    actor = Actor(kpu.person.id, Role.KPU, area.kpu)
    reseal = kpu.scan("seal", area.item(0), area.kpu, seals=["B"])  # numbered first: it is synced first
    truck = [kpu.scan("dispatch", area.item(n), area.kpu, counterparty=area.ppk, seals=[seal])
             for n, seal in ((0, "B"), (1, "C"))]  # fmt: skip
    intake = check_scans(runtime.databases, runtime.device_keys, actor, truck)
    [(log_id, work, size)] = intake.works(actor, rules_of(runtime.settings))
    with runtime.db_for(log_id).reads() as session:
        work.read_ahead(session, log_id)
    if resealed_by == "this process":
        accepted(kpu.send(reseal))
    else:
        other = Runtime(settings)
        try:
            services = (other.databases, other.device_keys, other.sequencer, rules_of(settings))
            assert [r.status for r in submit_scans(*services, actor, [reseal])] == ["accepted"]
        finally:
            other.close()
    item_reads, site_reads = [], []

    def watch(_connection, _cursor, statement, parameters, _context, _many):
        if "FROM items" in statement:
            item_reads.append(str(parameters))
        if "FROM sites" in statement:
            site_reads.append(statement)

    engine = runtime.db_for(log_id).engine
    event.listen(engine, "before_cursor_execute", watch)
    try:
        intake.settle(log_id, runtime.sequencer.submit(log_id, work, size))
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert [(r.status, r.flags) for r in intake.answer()] == [("accepted", []), ("accepted", [])]
    assert len(item_reads) == 1  # the resealed box alone, not the one unchanged since
    assert area.item(0) in item_reads[0] and area.item(1) not in item_reads[0]
    assert site_reads == []  # read ahead too: sites are not in the log


class _Holding:
    """A Work that keeps the log's lock until told to let go, as a long batch does."""

    def __init__(self) -> None:
        self.holding, self.let_go = threading.Event(), threading.Event()

    def prepare(self, batch):
        self.holding.set()
        assert self.let_go.wait(timeout=30)
        return []

    def finish(self, batch, results):
        return results


def _in_one_batch(runtime, log_id, *requests: Callable[[], Any]) -> list[Any]:
    """Run the requests, each from its own thread and queued in this order behind a
    batch that holds the log's lock, so that they are appended together in the next
    batch; their answers, in order."""
    holding = _Holding()
    ahead = threading.Thread(target=runtime.sequencer.submit, args=(log_id, holding, 0))
    ahead.start()
    assert holding.holding.wait(timeout=30)
    answers: dict[int, Any] = {}
    threads = [threading.Thread(target=lambda n=n, r=r: answers.setdefault(n, r())) for n, r in enumerate(requests)]
    for count, thread in enumerate(threads, 1):
        thread.start()
        wait_until_queued(runtime, log_id, count)
    holding.let_go.set()
    for thread in (ahead, *threads):
        thread.join(timeout=30)
    return [answers[n] for n in range(len(requests))]


def test_a_dispatch_and_its_receive_from_two_phones_in_one_batch(app_runtime, area, crew):
    """Requests queued behind a batch are appended together, and each request's
    scans are recorded with the others': the dispatch and the receive that follows it
    from another phone both become events, and the box ends with its receiver."""
    register(crew, (area.tps[0], "BUP"))
    kpu, ppk = crew["kpu"], crew["ppk"]
    box = area.item()
    accepted(kpu.send(kpu.scan("seal", box, area.kpu, seals=["S1"])))
    dispatch = kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk, seals=["S1"])
    receive = ppk.scan("receive", box, area.ppk, counterparty=area.kpu, seals=["S1"])
    sent = _in_one_batch(app_runtime, area.kpu, lambda: kpu.send(dispatch)[0], lambda: ppk.send(receive)[0])
    assert [(s["status"], s["flags"]) for s in sent] == [("accepted", [])] * 2
    assert sent[1]["index"] == sent[0]["index"] + 1
    item = kpu.person.get(f"/api/v1/items/{box}").json()
    assert (item["custodian"], item["status"]) == (area.ppk, "held")
    events = kpu.person.get("/api/v1/events", params={"item": box}).json()["events"]
    assert [e["type"] for e in events] == ["seal", "dispatch", "receive"]
    assert events[1]["received_at"] == events[2]["received_at"]  # one batch, one transaction


def test_two_receivers_race_for_one_box(client, runtime, area, crew):
    register(crew, (area.tps[0], "BUP"))
    kpu = crew["kpu"]
    accepted(kpu.send(kpu.scan("dispatch", area.item(), area.kpu, counterparty=area.ppk)))
    rivals = [crew["ppk"], Phone(make_person(client, runtime, Role.PPK, area.ppk)).register()]
    envelopes = [p.scan("receive", area.item(), area.ppk, counterparty=area.kpu) for p in rivals]
    outcomes = {}
    start = threading.Barrier(2)

    def receive(n):
        start.wait()
        outcomes[n] = rivals[n].send(envelopes[n])[0]

    threads = [threading.Thread(target=receive, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {o["status"] for o in outcomes.values()} == {"accepted"}  # both are evidence
    assert sorted(o["flags"] for o in outcomes.values()) == [[], ["no_dispatch"]]
    item = kpu.person.get(f"/api/v1/items/{area.item()}").json()
    assert (item["custodian"], item["status"]) == (area.ppk, "held")
    alerts = kpu.person.get("/api/v1/alerts", params={"item": area.item()}).json()["alerts"]
    assert [a["rule"] for a in alerts] == ["no_dispatch"]


@pytest.mark.parametrize(
    ("case", "flag"),
    [
        ("wrong_site", "wrong_site"),
        ("seal_mismatch", "seal_mismatch"),
        ("wrong_origin", "wrong_origin"),
        ("level_skipped", "level_skipped"),
        ("late_sync", "late_sync"),
        ("incident", "incident_wet"),
    ],
)
def test_irregularities_are_recorded_and_flagged(client, runtime, area, crew, case, flag):
    register(crew, (area.tps[0], "BUP"))
    kpu, ppk = crew["kpu"], crew["ppk"]
    box = area.item()
    accepted(kpu.send(kpu.scan("seal", box, area.kpu, seals=["S-1"])))
    if case == "wrong_site":
        other = Phone(make_person(client, runtime, Role.PPS, area.other_pps)).register()
        accepted(kpu.send(kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk, seals=["S-1"])))
        result = other.send(other.scan("receive", box, area.other_pps, counterparty=area.kpu, seals=["S-1"]))
    elif case == "seal_mismatch":
        accepted(kpu.send(kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk, seals=["S-1"])))
        result = ppk.send(ppk.scan("receive", box, area.ppk, counterparty=area.kpu, seals=["S-9"]))
    elif case == "wrong_origin":
        accepted(kpu.send(kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk, seals=["S-1"])))
        result = ppk.send(ppk.scan("receive", box, area.ppk, counterparty=area.pps, seals=["S-1"]))
    elif case == "level_skipped":
        result = kpu.send(kpu.scan("dispatch", box, area.kpu, counterparty=area.pps, seals=["S-1"]))
    elif case == "late_sync":
        result = kpu.send(kpu.scan("store", box, area.kpu, observed=hours_ago(30)))
    else:
        escort = crew["escort"]
        result = escort.send(escort.scan("incident", box, area.ppk, incident="wet", reason="hujan deras"))
    assert result[0]["status"] == "accepted" and flag in result[0]["flags"], result
    alerts = kpu.person.get("/api/v1/alerts", params={"item": box}).json()["alerts"]
    assert flag in [a["rule"] for a in alerts]
    trail = client.get(f"/api/v1/items/{box}/history").json()["trail"]
    assert flag in trail[-1]["entry"]["flags"]  # the evidence is in the log itself


def test_forgeries_and_strangers_are_refused(client, runtime, area, crew):
    register(crew, (area.tps[0], "BUP"))
    kpu = crew["kpu"]
    box = area.item()
    forged = kpu.scan("seal", box, area.kpu, seals=["S-1"])
    forged["scan"]["seals"] = ["S-2"]  # altered after signing
    stranger = Phone(make_person(client, runtime, Role.KPU, area.kpu))  # never registered
    stranger.id = "d-0000000000000000"
    borrowed = Phone(crew["ppk"].person, key=kpu.key, id=kpu.id)  # someone else's phone
    revoked = Phone(make_person(client, runtime, Role.KPU, area.kpu)).register()
    assert revoked.person.post(f"/api/v1/devices/{area.kpu}/{revoked.id}/revoke").status_code == 200
    size_before = _log_size(client, area.kpu)
    cases = [
        (kpu, forged, "signature does not verify"),
        (stranger, stranger.scan("seal", box, area.kpu), "is not registered"),
        (borrowed, borrowed.scan("receive", box, area.ppk), "belongs to another user"),
        (revoked, revoked.scan("seal", box, area.kpu), "was revoked"),
        (kpu, kpu.scan("seal", f"{area.tps[1]}-BUP", area.kpu), "there is no item"),
        (kpu, kpu.scan("seal", box, "53.99"), "outside your jurisdiction"),
        (kpu, kpu.scan("seal", box, area.ppk), "a kpu officer scans at a KPU site"),
        (kpu, kpu.scan("dispatch", box, area.kpu), "names its destination"),
        (kpu, {**kpu.scan("seal", box, area.kpu), "extra": 1}, "each scan comes as"),
        (kpu, kpu.scan("seal", box, area.kpu, smuggled="x"), "Extra inputs are not permitted"),
        (kpu, kpu.scan("seal", box, area.kpu, observed_at_typo=1), "Extra inputs"),
    ]
    for phone, envelope, reason in cases:
        (result,) = phone.send(envelope)
        assert result["status"] == "rejected" and reason in result["reason"], (reason, result)
    assert _log_size(client, area.kpu) == size_before  # nothing refused entered the log


def _log_size(client, log_id):
    return {e["log"]: e for e in client.get("/api/v1/logs").json()["logs"]}[log_id]["size"]


def test_closing_a_handoff_flags_what_did_not_arrive(area, crew):
    register(crew, *[(t, "BUP") for t in area.tps])
    kpu, ppk = crew["kpu"], crew["ppk"]
    truck = {"handoff": f"{area.kpu}-truck-7", "vehicle": "DH 9 XY"}
    accepted(kpu.send(*[kpu.scan("dispatch", area.item(n), area.kpu, counterparty=area.ppk, **truck) for n in range(3)]))
    accepted(ppk.send(*[ppk.scan("receive", area.item(n), area.ppk, counterparty=area.kpu, handoff=f"{area.kpu}-truck-7") for n in range(2)]))
    closed = ppk.person.post(f"/api/v1/handoffs/{area.kpu}/{area.kpu}-truck-7/close")
    assert closed.status_code == 200, closed.text
    assert closed.json()["missing"] == [area.item(2)]
    assert closed.json()["status"] == "closed"
    alerts = kpu.person.get("/api/v1/alerts", params={"rule": "missing"}).json()["alerts"]
    assert [a["item_id"] for a in alerts] == [area.item(2)]
    again = ppk.person.post(f"/api/v1/handoffs/{area.kpu}/{area.kpu}-truck-7/close")
    assert again.status_code == 409


def test_a_box_received_in_the_batch_that_closes_its_handoff_is_not_missing(app_runtime, area, crew):
    """The last box's receive and the closing, sent together, can land in one batch,
    the receive first: the box arrived before the closing, so it is not flagged missing
    (a "missing" entry in the log could never be taken back)."""
    register(crew, *[(t, "BUP") for t in area.tps[:2]])
    kpu, ppk = crew["kpu"], crew["ppk"]
    truck = {"handoff": f"{area.kpu}-truck-8", "vehicle": "DH 8 XY"}
    accepted(kpu.send(*[kpu.scan("dispatch", area.item(n), area.kpu, counterparty=area.ppk, **truck) for n in range(2)]))
    accepted(ppk.send(ppk.scan("receive", area.item(0), area.ppk, counterparty=area.kpu, handoff=f"{area.kpu}-truck-8")))
    last = ppk.scan("receive", area.item(1), area.ppk, counterparty=area.kpu, handoff=f"{area.kpu}-truck-8")
    received, closed = _in_one_batch(
        app_runtime, area.kpu,
        lambda: ppk.send(last)[0],
        lambda: ppk.person.post(f"/api/v1/handoffs/{area.kpu}/{area.kpu}-truck-8/close"),
    )  # fmt: skip
    assert received["status"] == "accepted"
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["missing"]) == ("closed", [])
    assert kpu.person.get("/api/v1/alerts", params={"rule": "missing"}).json()["alerts"] == []
    events = kpu.person.get("/api/v1/events", params={"item": area.item(1)}).json()["events"]
    assert [e["type"] for e in events] == ["dispatch", "receive"]
    assert events[1]["received_at"] == closed.json()["closed_at"]  # one batch


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 422),
        (json.dumps({"scans": []}).encode(), 422),
        (json.dumps({"scans": [{}] * 1001}).encode(), 422),
        (json.dumps({"scans": "x"}).encode(), 422),
        (json.dumps([1, 2]).encode(), 422),
    ],
)
def test_malformed_event_bodies_are_clear_4xx(crew, body, status):
    kpu = crew["kpu"]
    response = kpu.person.post("/api/v1/events", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_hostile_scan_fields_are_rejected_per_scan(area, crew):
    register(crew, (area.tps[0], "BUP"))
    kpu = crew["kpu"]
    hostile = [
        kpu.scan("seal", area.item(), area.kpu, seals=["x" * 10_000]),
        kpu.scan("seal", area.item(), area.kpu, seals=["'; DROP TABLE items; --"]),
        kpu.scan("seal", area.item() + "' OR 1=1", area.kpu),
        kpu.scan("seal", area.item(), area.kpu, location={"lat": 1e308, "lon": 0}),
        kpu.scan("teleport", area.item(), area.kpu),
    ]
    results = kpu.send(*hostile)
    assert [r["status"] for r in results] == ["rejected"] * len(hostile)


def test_an_oversized_body_is_a_clear_413(client, settings, crew):
    kpu = crew["kpu"]
    huge = b'{"scans": [' + b" " * settings.max_body_bytes + b"]}"
    response = kpu.person.post("/api/v1/events", content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "at most" in response.json()["detail"]


def _all_pages(person, path, key, **params):
    seen, cursor = [], None
    while True:
        body = person.get(path, params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += body[key]
        cursor = body["next"]
        if cursor is None:
            return seen


def test_lists_page_with_opaque_cursors(client, area, crew):
    register(crew, *[(t, c) for t in area.tps for c in ("BUP", "GUB")])
    kpu = crew["kpu"]
    items = _all_pages(kpu.person, "/api/v1/items", "items", bound_for=area.kpu)
    assert sorted(i["id"] for i in items) == sorted(f"{t}-{c}" for t in area.tps for c in ("BUP", "GUB"))
    accepted(kpu.send(*[kpu.scan("seal", i["id"], area.kpu, seals=["S"]) for i in items]))
    events = _all_pages(kpu.person, "/api/v1/events", "events", type="seal")
    assert len(events) == 6 and [e["entry_index"] for e in events] == sorted(e["entry_index"] for e in events)
    sites = _all_pages(kpu.person, "/api/v1/sites", "sites", parent=area.pps)
    assert [s["code"] for s in sites] == area.tps
    forged = base64.urlsafe_b64encode(b'["x"]').decode()  # valid JSON, wrong type
    for path, cursor in [("/api/v1/items", "not-a-cursor"), ("/api/v1/events", forged), ("/api/v1/alerts", forged),
                         ("/api/v1/alerts", base64.urlsafe_b64encode(b'["x", "y"]').decode())]:
        bad = kpu.person.get(path, params={"cursor": cursor})
        assert bad.status_code == 400 and "cursor" in bad.json()["detail"], (path, bad.text)


def test_a_correction_annotates_an_earlier_scan_of_the_same_box(area, crew):
    register(crew, (area.tps[0], "BUP"), (area.tps[1], "BUP"))
    kpu = crew["kpu"]
    sealed = kpu.scan("seal", area.item(0), area.kpu, seals=["S-1"])
    accepted(kpu.send(sealed))
    same_batch = kpu.scan("store", area.item(0), area.kpu)
    fixes = [
        kpu.scan("correction", area.item(0), area.kpu, ref=sealed["scan"]["event_id"], reason="seal S-1 is S-7"),
        same_batch,
        kpu.scan("correction", area.item(0), area.kpu, ref=same_batch["scan"]["event_id"], reason="gudang B"),
        kpu.scan("correction", area.item(0), area.kpu, ref="no-such-event"),
        kpu.scan("correction", area.item(1), area.kpu, ref=sealed["scan"]["event_id"]),
    ]
    results = kpu.send(*fixes)
    assert [r["status"] for r in results] == ["accepted", "accepted", "accepted", "rejected", "rejected"]
    assert "no earlier event" in results[3]["reason"] and "no earlier event" in results[4]["reason"]
    item = kpu.person.get(f"/api/v1/items/{area.item(0)}").json()
    assert item["seals"] == ["S-1"]  # a correction annotates; it never edits


def test_a_replay_after_a_restart_is_still_recognised(client, area, crew):
    """The log tip is rebuilt from the database after a restart, idempotency keys too."""
    register(crew, (area.tps[0], "BUP"))
    kpu = crew["kpu"]
    envelope = kpu.scan("seal", area.item(), area.kpu, seals=["S-1"])
    first = accepted(kpu.send(envelope))[0]
    client.app.state.runtime.sequencer._queues.clear()  # as a fresh process would start
    (again,) = kpu.send(envelope)
    assert (again["status"], again["index"]) == ("duplicate", first["index"])
