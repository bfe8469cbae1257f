"""Stock-takes (issue 25): a site's officers scan the boxes on its shelves and close
the stock-take; the closing entry names found, missing and unexpected boxes, each
missing or unexpected one raises an alert, no custody moves, the report prints it,
and `jejak verify` reckons the closing again and names one that lies. And the
insider: a stock-take moves nothing and hides nothing of another site's."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import pytest

from models.accounts.actor import Role
from scripts import verify
from tests.factories import (
    Area,
    Cast,
    Phone,
    accepted,
    make_crew,
    make_person,
    new_area,
    register,
)
from tests.helpers import lies_found, log_records, signed_anew, verify_copy

SEALS = ["TTU-000101", "TTU-000102"]


@dataclass
class Counted:
    area: Area
    crew: Cast[Phone]
    stocktake: str
    on_shelf: list[str]  # held at the KPU and scanned
    missing: str  # held at the KPU, not scanned
    orphan: str  # held at the district, scanned at the KPU
    closed: dict[str, Any]  # the closing's answer


def _stocktake_scan(phone: Phone, stocktake: str, box: str, site: str) -> dict[str, Any]:
    return phone.scan("stocktake", box, site, stocktake=stocktake)


@pytest.fixture
def counted(client, runtime) -> Counted:
    """A KPU warehouse counted: two boxes on its shelves found, one not, and a box the
    district holds found there."""
    area = new_area(runtime)
    crew = make_crew(client, runtime, area)
    kpu, ppk = crew["kpu"], crew["ppk"]
    boxes = [area.item(n) for n in range(3)] + [area.item(0, "GUB")]
    register(crew, *[(area.tps[n], "BUP") for n in range(3)], (area.tps[0], "GUB"))
    accepted(kpu.send(*[kpu.scan("seal", b, area.kpu, seals=SEALS) for b in boxes]))
    orphan = boxes[3]
    truck = {"handoff": f"{area.kpu}-{area.ppk}-1", "escorts": [crew["escort"].person.nrp]}
    accepted(kpu.send(kpu.scan("dispatch", orphan, area.kpu, counterparty=area.ppk, seals=SEALS, **truck)))
    ppk.send(ppk.scan("receive", orphan, area.ppk, counterparty=area.kpu, seals=SEALS))
    stocktake = f"{area.kpu}-SO-1"
    accepted(kpu.send(*[_stocktake_scan(kpu, stocktake, b, area.kpu) for b in (boxes[0], boxes[1], orphan)]))
    closed = kpu.person.post(f"/api/v1/stocktakes/{area.kpu}/{stocktake}/close")
    assert closed.status_code == 200, closed.text
    return Counted(area, crew, stocktake, boxes[:2], boxes[2], orphan, closed.json())


def test_the_closing_names_found_missing_and_unexpected_boxes(counted):
    closed = counted.closed
    assert (closed["status"], closed["site"], closed["scanned"]) == ("closed", counted.area.kpu, 3)
    assert closed["found"] == sorted(counted.on_shelf)
    assert closed["missing"] == [counted.missing]
    assert closed["unexpected"] == [counted.orphan]
    assert [(line["item"], line["outcome"]) for line in closed["lines"]] == [
        (counted.missing, "missing"), (counted.orphan, "unexpected"), *[(b, "found") for b in sorted(counted.on_shelf)],
    ]  # fmt: skip


def test_an_unexpected_box_stays_in_its_custodians_hands(counted):
    orphan = counted.crew["kpu"].person.get(f"/api/v1/items/{counted.orphan}").json()
    assert (orphan["custodian"], orphan["status"]) == (counted.area.ppk, "held")
    [line] = [line for line in counted.closed["lines"] if line["item"] == counted.orphan]
    assert line["custodian"] == counted.area.ppk


def test_missing_and_unexpected_boxes_raise_alerts_citing_the_evidence(counted):
    area, kpu = counted.area, counted.crew["kpu"].person
    answer = kpu.get("/api/v1/alerts", params={"log": area.kpu, "site": area.kpu}).json()
    raised = {(a["rule"], a["item_id"]): a for a in answer["alerts"] if a["rule"].startswith("stocktake")}
    assert set(raised) == {("stocktake_missing", counted.missing), ("stocktake_unexpected", counted.orphan)}
    close_index = counted.closed["close_index"]
    assert raised["stocktake_missing", counted.missing]["severity"] == "critical"
    assert raised["stocktake_missing", counted.missing]["evidence"] == [close_index]
    [orphan_line] = [line for line in counted.closed["lines"] if line["item"] == counted.orphan]
    assert raised["stocktake_unexpected", counted.orphan]["evidence"] == orphan_line["evidence"]
    assert orphan_line["evidence"][-1] == close_index and orphan_line["evidence"][0] < close_index


def test_a_closed_stock_take_takes_no_more_scans_and_no_second_closing(counted):
    kpu, area = counted.crew["kpu"], counted.area
    [late] = kpu.send(_stocktake_scan(kpu, counted.stocktake, counted.missing, area.kpu))
    assert late["status"] == "rejected" and "was closed" in late["reason"]
    again = kpu.person.post(f"/api/v1/stocktakes/{area.kpu}/{counted.stocktake}/close")
    assert again.status_code == 409, again.text


def test_the_report_prints_in_bahasa_indonesia(counted):
    kpu, area = counted.crew["kpu"].person, counted.area
    base = f"/api/v1/stocktakes/{area.kpu}/{counted.stocktake}"
    pdf = kpu.get(f"{base}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    rows = list(csv.reader(io.StringIO(kpu.get(f"{base}/report.csv").text)))
    assert rows[0] == ["barang", "hasil", "dipegang_oleh", "nama_tempat", "status", "entri_log"]
    by_box = {row[0]: row for row in rows[1:]}
    assert by_box[counted.missing][1].startswith("HILANG")
    assert by_box[counted.orphan][1].startswith("TAK TERDUGA")
    assert by_box[counted.orphan][2:4] == [area.ppk, "Kecamatan"]


def test_a_stock_take_scan_names_its_stock_take(counted):
    kpu, area = counted.crew["kpu"], counted.area
    [without] = kpu.send(kpu.scan("stocktake", counted.missing, area.kpu))
    assert without["status"] == "rejected" and without["reason"].startswith("stocktake:")
    [other] = kpu.send(kpu.scan("seal", counted.missing, area.kpu, seals=SEALS, stocktake=f"{area.kpu}-SO-2"))
    assert other["status"] == "rejected" and other["reason"].startswith("stocktake:")


def test_an_unknown_stock_take_is_not_found(counted):
    answer = counted.crew["kpu"].person.post(f"/api/v1/stocktakes/{counted.area.kpu}/{counted.area.kpu}-SO-99/close")
    assert answer.status_code == 404


# -- The insider: an officer with a real account trying to use a stock-take -------------


def test_an_insider_cannot_use_a_stock_take_to_move_or_hide_anothers_boxes(client, runtime, counted):
    area, crew = counted.area, counted.crew
    ppk = crew["ppk"]
    # The district counts its shelves under the KPU's stock-take id: refused, not recorded.
    [borrowed] = ppk.send(_stocktake_scan(ppk, counted.stocktake, counted.on_shelf[0], area.ppk))
    assert borrowed["status"] == "rejected" and "is not one of" in borrowed["reason"]
    # It counts a box the KPU holds as if on its own shelves: evidence, nothing moves.
    own = f"{area.ppk}-SO-1"
    accepted(ppk.send(_stocktake_scan(ppk, own, counted.on_shelf[0], area.ppk)))
    closed = ppk.person.post(f"/api/v1/stocktakes/{area.kpu}/{own}/close").json()
    # Its own box (the orphan) it did not scan is missing: its stock-take cannot hide it.
    assert (closed["unexpected"], closed["missing"], closed["found"]) == ([counted.on_shelf[0]], [counted.orphan], [])
    box = ppk.person.get(f"/api/v1/items/{counted.on_shelf[0]}").json()
    assert box["custodian"] == area.kpu
    # A village officer cannot count the district's shelves, nor close its stock-take.
    pps = crew["pps"]
    [at_district] = pps.send(_stocktake_scan(pps, f"{area.ppk}-SO-3", counted.orphan, area.ppk))
    assert at_district["status"] == "rejected"
    accepted(ppk.send(_stocktake_scan(ppk, f"{area.ppk}-SO-4", counted.orphan, area.ppk)))
    refused = pps.person.post(f"/api/v1/stocktakes/{area.kpu}/{area.ppk}-SO-4/close")
    assert refused.status_code == 403, refused.text
    # Another regency's KPU neither reads nor closes it.
    stranger = make_person(client, runtime, Role.KPU, new_area(runtime).kpu)
    assert stranger.get(f"/api/v1/stocktakes/{area.kpu}/{area.ppk}-SO-4").status_code == 403
    assert stranger.post(f"/api/v1/stocktakes/{area.kpu}/{area.ppk}-SO-4/close").status_code == 403


# -- `jejak verify` reckons every closing again ----------------------------------------------


def _closing(records: list[dict[str, Any]]) -> int:
    return next(i for i, r in enumerate(records) if r["type"] == "stocktake_close")


def test_a_log_with_a_stock_take_verifies(counted, runtime, capsys, tmp_path):
    records = log_records(runtime, counted.area.kpu)
    origin, vkey = _log_keys(runtime, counted.area.kpu)
    status, out = verify_copy(signed_anew(runtime, counted.area.kpu, origin, records, tmp_path / "same"), vkey, capsys)
    assert status == verify.EXIT_OK, out
    assert "does not know" not in out  # its scans' signatures and its closing are checked


@pytest.mark.parametrize(
    ("lie", "listed"),
    [
        ("hides the missing box", {"found": None, "missing": []}),
        ("hides the orphan", {"unexpected": []}),
        ("counts the missing box found", {"found": "with-missing", "missing": []}),
    ],
)
def test_a_lying_closing_is_named(counted, runtime, capsys, tmp_path, lie, listed):
    log_id = counted.area.kpu
    records = log_records(runtime, log_id)
    at = _closing(records)
    truth = dict(records[at])
    forged = {**truth, **{k: v for k, v in listed.items() if v is not None}}
    if listed.get("found") == "with-missing":
        forged["found"] = sorted([*truth["found"], counted.missing])
    records[at] = forged
    origin, vkey = _log_keys(runtime, log_id)
    failures = lies_found(runtime, log_id, origin, vkey, records, tmp_path / "lie", capsys)
    expected = [
        f"entry {at}: closes stock-take {counted.stocktake} listing {name} {forged[name]}, but by the custody "
        f"rules {name} are {truth[name]}"
        for name in ("found", "missing", "unexpected")
        if forged[name] != truth[name]
    ]
    assert failures == expected, lie


def test_a_scan_into_a_closed_stock_take_is_named(counted, runtime, capsys, tmp_path):
    log_id = counted.area.kpu
    records = log_records(runtime, log_id)
    at = _closing(records)
    first_scan = next(i for i, r in enumerate(records) if r["type"] == "stocktake")
    late = {**records[first_scan], "scan": {**records[first_scan]["scan"], "event_id": "late-1"}}
    records.insert(at + 1, late)  # as if accepted after the closing (its signature is not the point)
    origin, vkey = _log_keys(runtime, log_id)
    failures = lies_found(runtime, log_id, origin, vkey, records, tmp_path / "lie", capsys)
    assert any(
        f"entry {at + 1}" in f and f"stocktake {counted.stocktake} was closed: a new stock-take needs a new id "
        f"(entry {at})" in f for f in failures
    ), failures


def _log_keys(runtime, log_id: str) -> tuple[str, str]:
    from models.log.tables import Log

    with runtime.db.reads() as session:
        log = session.get(Log, log_id)
        return log.origin, log.verifier_key
