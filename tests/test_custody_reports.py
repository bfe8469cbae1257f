"""CSV exports (events, current custody) read back with the csv module, and the PDF
custody reports (berita acara) opened and read with pypdf."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from typing import Any

import pytest

from api.export import endpoints as export_endpoints
from api.export.report_pdf import custody_pdf
from models.accounts.actor import Role
from models.custody.items import get_item
from models.custody.reports import item_report
from models.log.tables import LogCheckpoint
from tests.factories import NEW_SEALS, SEALS, Route, accepted, make_person, new_area, register, walk
from tests.helpers import pdf_text, read_pdf


@pytest.fixture(scope="module")
def route(client, runtime) -> Route:
    route = walk(client, runtime)
    runtime.checkpointer.sign_grown_logs()
    return route


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def all_events(person, **params: Any) -> list[dict[str, Any]]:
    """GET /api/v1/events, every page."""
    events, cursor = [], None
    while True:
        page = person.get("/api/v1/events", params={**params, "limit": 5, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        events += page.json()["events"]
        if (cursor := page.json()["next"]) is None:
            return events


# --------------------------------------------------------------------------- CSV


@pytest.mark.parametrize(
    "filters",
    [
        lambda route: {},
        lambda route: {"type": "dispatch"},
        lambda route: {"type": "receive", "site": route.area.ppk},
        lambda route: {"item": route.box},
    ],
    ids=["all", "dispatches", "receives at the district", "one item"],
)
def test_the_events_csv_has_what_the_events_list_has(route, monkeypatch, filters):
    monkeypatch.setattr(export_endpoints, "CSV_CHUNK", 4)  # several chunks, even for a few rows
    kpu = route.crew["kpu"].person
    params = filters(route)
    rows = read_csv(kpu.get("/api/v1/export/events.csv", params=params))
    listed = all_events(kpu, **params)
    assert listed, params
    assert [(r["entry_index"], r["event_id"], r["type"], r["site"]) for r in rows] == [
        (str(e["entry_index"]), e["event_id"], e["type"], e["site"]) for e in listed
    ]
    for row, event in zip(rows, listed, strict=True):
        assert row["flags"].split() == event["flags"]
        assert (row["log"], row["item"], row["role"], row["actor"]) == (
            event["log_id"], event["item_id"] or "", event["role"], str(event["actor_id"]),  # a whole truckload's: none
        )  # fmt: skip


def test_the_events_csv_columns(route):
    kpu = route.crew["kpu"].person
    response = kpu.get("/api/v1/export/events.csv")
    assert response.headers["content-disposition"] == f'attachment; filename="events-{route.area.kpu}.csv"'
    header = response.content.decode("utf-8").splitlines()[0]
    assert header == (
        "log,entry_index,event_id,item,type,site,counterparty,role,actor,device,handoff,observed_at,received_at,flags"
    )
    rows = read_csv(response)
    dispatch = next(r for r in rows if r["event_id"] == route.scans["dispatch kpu"]["event_id"])
    assert (dispatch["counterparty"], dispatch["handoff"]) == (route.area.ppk, f"{route.area.kpu}-truk-1")
    mismatch = next(r for r in rows if r["event_id"] == route.scans["receive pps"]["event_id"])
    assert mismatch["flags"] == "seal_mismatch"


def test_the_events_csv_refuses_bad_filters_before_it_starts(route):
    kpu = route.crew["kpu"].person
    for params, status in [
        ({"actor": "someone"}, 400),
        ({"since": "2024-11-27T07:00:00"}, 422),  # no time zone
        ({"type": "teleport"}, 422),
        ({"site": "53.03 08"}, 422),
    ]:
        response = kpu.get("/api/v1/export/events.csv", params=params)
        assert response.status_code == status, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"


def test_the_custody_csv_lists_what_is_held_at_or_below_a_site(client, route, monkeypatch):
    monkeypatch.setattr(export_endpoints, "CSV_CHUNK", 1)
    a, kpu = route.area, route.crew["kpu"].person
    everything = read_csv(kpu.get("/api/v1/export/custody.csv", params={"site": a.kpu}))
    # In transit, a box is still its dispatcher's: the truck to the PPK is the KPU's.
    assert {r["item"]: r["custodian"] for r in everything} == {
        route.box: a.tps[0], route.in_transit: a.kpu, route.unsent: a.kpu,
    }  # fmt: skip
    box = next(r for r in everything if r["item"] == route.box)
    item = kpu.get(f"/api/v1/items/{route.box}").json()
    assert (box["status"], box["leg"], box["seals"].split(), box["dispatched_to"]) == (
        "in_transit", "return", NEW_SEALS, a.pps,
    )  # fmt: skip
    assert box["last_index"] == str(item["last_index"])
    assert box["kind"] == "kotak_suara" and box["destination"] == a.tps[0]

    at_district = read_csv(kpu.get("/api/v1/export/custody.csv", params={"site": a.ppk}))
    assert [r["item"] for r in at_district] == [route.box]  # held at its TPS, below the district
    assert read_csv(kpu.get("/api/v1/export/custody.csv", params={"site": a.other_pps})) == []
    assert kpu.get("/api/v1/export/custody.csv", params={"site": a.ppk + ".9999"}).status_code == 404
    assert kpu.get("/api/v1/export/custody.csv", params={"site": "85.1"}).status_code == 400
    assert kpu.get("/api/v1/export/custody.csv").status_code == 422


def test_the_custody_csv_is_refused_above_ones_jurisdiction(route):
    ppk = route.crew["ppk"].person
    refused = ppk.get("/api/v1/export/custody.csv", params={"site": route.area.kpu})
    assert refused.status_code == 403 and "outside your jurisdiction" in refused.json()["detail"]
    assert read_csv(ppk.get("/api/v1/export/custody.csv", params={"site": route.area.ppk}))


# --------------------------------------------------------------------------- PDF


def test_an_items_report_lists_its_handoffs_with_what_proves_them(client, route):
    a, kpu = route.area, route.crew["kpu"].person
    response = kpu.get(f"/api/v1/items/{route.box}/report.pdf")
    text = pdf_text(response)
    assert response.headers["cache-control"] == "no-store"
    for words in ("BERITA ACARA", "RIWAYAT PENGUASAAN DAN SERAH TERIMA", "Pada hari ini", route.box, "kotak suara BUP"):
        assert words in text, words
    # Both parties of every handoff, by role and site.
    for words in ("KPU Kab/Kota", f"Kabupaten {a.kpu} ({a.kpu})", "PPK", f"Kecamatan ({a.ppk})", "PPS",
                  f"Desa ({a.pps})", "KPPS", f"TPS 001 ({a.tps[0]})"):  # fmt: skip
        assert words in text, words
    # Escorts by NRP, the vehicle, the truckload, the seals on both sides, irregularities.
    for words in (*route.escorts, "DH 1234 KA", f"{route.area.kpu}-truk-1", *SEALS, "TTU-999999", *NEW_SEALS,
                  "nomor segel tidak cocok", "insiden: rusak", "tutup retak", "Penyimpanan", "Koreksi",
                  "Penghitungan", "belum diterima", " WITA"):  # fmt: skip
        assert words in text, words
    # The entries and the checkpoint (size and root) that proves them, its signed note whole.
    checkpoint = client.get(f"/api/v1/logs/{a.kpu}/checkpoint").text
    origin, size, root = checkpoint.splitlines()[:3]
    assert f"ukuran {size}, root {root}" in text
    (signature,) = [line for line in checkpoint.splitlines() if line.startswith(f"\u2014 {origin} ")]
    assert signature in text  # the log's signature line, whole
    for name in ("dispatch kpu", "receive ppk", "receive pps", "reseal"):
        assert f"#{route.scans[name]['result']['index']}" in text, name
    assert "*" not in text.split("BUKTI LOG")[0]  # every entry is covered by that checkpoint
    assert "Ketua PPK" not in text  # signature lines are for an area's report


def test_a_report_marks_the_entries_its_checkpoint_does_not_cover(runtime, route):
    with runtime.db.reads() as session:
        report = item_report(session, get_item(session, route.in_transit))
        created = session.get(LogCheckpoint, (route.area.kpu, 0))  # signed when the log was made
    text = read_pdf(custody_pdf(report))
    older = read_pdf(custody_pdf(dataclasses.replace(report, checkpoint=created)))
    indexes = [step.index for section in report.items for step in section.others] + [
        section.handoffs[0].dispatch.index for section in report.items
    ]
    assert len(indexes) == 2  # its seal and its dispatch
    for index in indexes:
        assert f"#{index} " in text and f"#{index}*" in older
    assert "ukuran 0," in older


def test_a_report_of_an_item_not_yet_handed_over(area, crew):
    register(crew, (area.tps[0], "BUP"))
    kpu = crew["kpu"]
    accepted(kpu.send(kpu.scan("seal", area.item(), area.kpu, seals=["S-1"])))
    text = pdf_text(kpu.person.get(f"/api/v1/items/{area.item()}/report.pdf"))
    assert "Serah terima Belum ada serah terima." in text and "Penyegelan" in text and "S-1" in text


def test_a_district_report_covers_every_item_bound_for_it(route):
    a, ppk = route.area, route.crew["ppk"].person
    response = ppk.get("/api/v1/reports/custody.pdf", params={"site": a.ppk})
    text = pdf_text(response)
    assert response.headers["content-disposition"] == f'inline; filename="berita-acara-{a.ppk}.pdf"'
    assert f"PPK Kecamatan ({a.ppk})" in text and "untuk 3 barang" in text
    for item in (route.box, route.in_transit, route.unsent):
        assert item in text, item
    assert "diterima tanpa pengiriman" in text  # the box received with nothing dispatched
    for words in ("Mengetahui,", "Ketua PPK", "Panwaslu Kecamatan"):
        assert words in text, words
    village = pdf_text(ppk.get("/api/v1/reports/custody.pdf", params={"site": a.pps}))
    assert "Ketua PPS" in village and route.box in village


def test_a_report_prints_what_latin1_cannot_as_question_marks(area, crew):
    register(crew, (area.tps[0], "BUP"))
    kpu = crew["kpu"]
    accepted(kpu.send(kpu.scan("incident", area.item(), area.kpu, incident="other", reason="kotak ✓ basah 🌧")),
             ["incident_other"])  # fmt: skip
    text = pdf_text(kpu.person.get(f"/api/v1/items/{area.item()}/report.pdf"))
    assert "kotak ? basah ?" in text


def test_report_requests_that_cannot_be_answered(client, runtime, route):
    a, kpu = route.area, route.crew["kpu"].person
    for params, status, words in [
        ({"site": a.tps[0]}, 400, "not a regency (KPU), district"),
        ({"site": f"{a.kpu}.77"}, 404, "no site"),
        ({"site": a.other_pps}, 404, "no items"),
        ({"site": "x"}, 422, "site"),
    ]:
        response = kpu.get("/api/v1/reports/custody.pdf", params=params)
        assert response.status_code == status, (params, response.text)
        assert words in response.json()["detail"], response.text
    assert kpu.get(f"/api/v1/items/{a.pps}-009-BUP/report.pdf").status_code == 404
    assert kpu.get("/api/v1/items/kotak/report.pdf").status_code == 400


def test_reports_are_refused_outside_ones_jurisdiction(client, runtime, route):
    a = route.area
    other = new_area(runtime)
    for role in (Role.KPU, Role.AUDITOR):
        outsider = make_person(client, runtime, role, other.kpu)
        assert outsider.get(f"/api/v1/items/{route.box}/report.pdf").status_code == 403
        assert outsider.get("/api/v1/reports/custody.pdf", params={"site": a.ppk}).status_code == 403
        assert outsider.get("/api/v1/export/custody.csv", params={"site": a.ppk}).status_code == 403
    neighbour = make_person(client, runtime, Role.PPS, a.other_pps)
    assert neighbour.get(f"/api/v1/items/{route.box}/report.pdf").status_code == 403
    assert client.get(f"/api/v1/items/{route.box}/report.pdf").status_code == 401


def test_a_regency_report_covers_the_whole_regency_in_one_pdf(route):
    """Issue 23 (11): an auditor downloads one file for the regency, not one per district."""
    a, kpu = route.area, route.crew["kpu"].person
    response = kpu.get("/api/v1/reports/custody.pdf", params={"site": a.kpu})
    text = pdf_text(response)
    assert f"KPU Kabupaten {a.kpu} ({a.kpu})" in text
    for item in (route.box, route.in_transit, route.unsent):
        assert item in text, item
    for words in ("Ketua KPU Kabupaten/Kota", "Bawaslu Kabupaten/Kota"):
        assert words in text, words
    rows = read_csv(kpu.get("/api/v1/export/custody.csv", params={"site": a.kpu}))
    assert {route.box, route.in_transit, route.unsent} <= {row["item"] for row in rows}


def test_report_times_are_the_sites_on_a_24_hour_clock(route):
    """Issue 23 (words and times): a scan made at 23.05 WITA prints as 23.05 WITA, not in UTC."""
    kpu = route.crew["kpu"].person
    text = pdf_text(kpu.get(f"/api/v1/items/{route.box}/report.pdf"))
    assert not re.search(r"\d[.:]\d\d(:\d\d)? ?UTC", text)  # no time in UTC (a base64 signature may hold "UTC")
    stamps = re.findall(r"\d\d/\d\d/\d{4} (\d\d)\.(\d\d) (WIB|WITA|WIT)\b", text)
    assert stamps and {zone for *_, zone in stamps} == {"WITA"}
    assert all(int(hour) < 24 and int(minute) < 60 for hour, minute, _ in stamps)
    assert not re.search(r"\d[:.]\d\d ?[AP]M\b", text)  # no 12-hour clock (signatures are base64: "AM" may occur)
