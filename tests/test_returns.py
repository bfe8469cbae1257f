"""After the count (issue 25): return reconciliation per district and for the regency
(back, on the way, missing, still out, not counted; reseal seals that differ), and
the orphans list: boxes received or stock-taken where the log did not expect them,
with what happened next."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from api.export.report_pdf import STATUS
from api.returns.report import TAHAP_KEMBALI
from models.accounts.actor import Role
from tests.factories import Phone, make_crew, make_person, new_area, register, walk_out_and_back
from tests.helpers import pdf_text

RESEALED = ["TTU-900101", "TTU-900102"]
REPORTS = ["/api/v1/returns/report.pdf", "/api/v1/orphans/report.pdf", "/api/v1/orphans/report.csv"]


@pytest.fixture
def counted(client, runtime):
    """One box out and back home; one counted and sent back with other seals in a truck
    the village closed without it (missing); one never sent, 'received' by the district
    (an orphan); and a stock-take at the district finding a box the KPU holds."""
    area = new_area(runtime)
    crew = make_crew(client, runtime, area)
    walk_out_and_back(client, runtime, area, crew)  # area.item(): back at the KPU
    register(crew, (area.tps[1], "BUP"), (area.tps[0], "GUB"))
    kpu, ppk, pps = crew["kpu"], crew["ppk"], crew["pps"]
    kpps = Phone(make_person(client, runtime, Role.KPPS, area.tps[1])).register()
    box = area.item(1)
    for sender, origin, receiver, destination in (
        (kpu, area.kpu, ppk, area.ppk), (ppk, area.ppk, pps, area.pps), (pps, area.pps, kpps, area.tps[1]),
    ):  # fmt: skip
        sender.send(sender.scan("dispatch", box, origin, counterparty=destination))
        receiver.send(receiver.scan("receive", box, destination, counterparty=origin))
    kpps.send(*[kpps.scan(kind, box, area.tps[1]) for kind in ("open", "count")])
    kpps.send(kpps.scan("reseal", box, area.tps[1], seals=RESEALED))
    truck = f"{area.tps[1]}-{area.pps}-back"
    [sent] = kpps.send(kpps.scan("dispatch", box, area.tps[1], counterparty=area.pps, handoff=truck, seals=["X-1"]))
    assert "seal_mismatch" in sent["flags"]
    assert pps.person.post(f"/api/v1/handoffs/{area.kpu}/{truck}/close").json()["missing"] == [box]
    [orphan] = ppk.send(ppk.scan("receive", area.item(0, "GUB"), area.ppk, counterparty=area.kpu))
    assert orphan["flags"] == ["no_dispatch"]
    ppk.send(ppk.scan("stocktake", area.item(0, "GUB"), area.ppk, stocktake=f"{area.ppk}-SO-1"))
    assert ppk.person.post(f"/api/v1/stocktakes/{area.kpu}/{area.ppk}-SO-1/close").status_code == 200
    return area, crew, sent["index"], orphan["index"]


def test_every_box_is_accounted_for_per_district_and_for_the_regency(counted):
    area, crew, mismatch_index, _ = counted
    answer = crew["kpu"].person.get("/api/v1/returns")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    expected = {"back": 1, "on_the_way": 0, "missing": 1, "at_tps": 0, "at_pps": 0, "at_ppk": 0, "not_counted": 1}
    assert found["counts"] == expected
    assert found["districts"] == [{"code": area.ppk, "name": "Kecamatan", "counts": expected}]
    assert found["reseal_mismatches"] == [{"item": area.item(1), "entry_index": mismatch_index}]
    district = crew["ppk"].person.get("/api/v1/returns").json()
    assert district["counts"] == expected
    rows = crew["kpu"].person.get("/api/v1/returns/report.csv").text.splitlines()
    assert rows[0] == "kode,wilayah,kembali_di_kpu,di_jalan,hilang,di_tps,di_pps,di_ppk,belum_dihitung"
    assert rows[1:] == [f"{area.ppk},Kecamatan,1,0,1,0,0,0,1", f"{area.kpu},Kabupaten {area.kpu},1,0,1,0,0,0,1"]


def test_orphans_are_listed_with_what_happened_next(counted):
    area, crew, _, receive_index = counted
    answer = crew["kpu"].person.get("/api/v1/orphans")
    assert answer.status_code == 200, answer.text
    received, stocktaken = answer.json()
    assert (received["item"], received["how"], received["site"], received["entry_index"]) == (
        area.item(0, "GUB"), "received (no_dispatch)", area.ppk, receive_index,
    )  # fmt: skip
    assert (received["custodian"], received["next_type"]) == (area.kpu, None)  # nothing moved it since
    assert (stocktaken["how"], stocktaken["site"]) == (f"stocktake {area.ppk}-SO-1", area.ppk)
    assert stocktaken["entry_index"] > receive_index and stocktaken["observed_at"] is not None


def test_outsiders_do_not_reconcile(client, runtime, counted):
    area, crew, _, _ = counted
    assert crew["pps"].person.get("/api/v1/returns").status_code == 403
    stranger = make_person(client, runtime, Role.KPU, new_area(runtime).kpu)
    assert stranger.get("/api/v1/orphans", params={"site": area.kpu}).status_code == 403


def test_the_reconciliation_prints_in_bahasa_indonesia(counted):
    area, crew, mismatch_index, _ = counted
    text = pdf_text(crew["kpu"].person.get("/api/v1/returns/report.pdf"))
    assert "LAPORAN PENGEMBALIAN LOGISTIK" in text and f"Kabupaten {area.kpu} ({area.kpu})" in text
    assert f"Dari 3 kotak yang menuju Kabupaten {area.kpu}, 1 telah kembali di KPU, 0 di jalan, 1 hilang" in text
    for heading in TAHAP_KEMBALI.values():
        assert heading in text, heading
    assert f"PPK Kecamatan ({area.ppk}) 1 0 1 0 0 0 1 3" in text  # a row per PPK, then the area's total
    assert f"Jumlah Kabupaten {area.kpu} ({area.kpu}) 1 0 1 0 0 0 1 3" in text
    assert f"1 {area.item(1)} #{mismatch_index}" in text  # the box whose return-leg seals differ
    assert re.search(r"pukul \d\d\.\d\d WITA", text)  # made on the site's clock (NTT's zone)
    district = pdf_text(crew["ppk"].person.get("/api/v1/returns/report.pdf"))
    assert f"Kecamatan ({area.ppk})" in district and "Kabupaten" not in district


def test_the_orphans_print_with_the_sites_time_and_where_they_are_now(counted):
    area, crew, _, receive_index = counted
    kpu = crew["kpu"].person
    received, stocktaken = kpu.get("/api/v1/orphans").json()
    text = pdf_text(kpu.get("/api/v1/orphans/report.pdf"))
    assert "LAPORAN KOTAK YATIM" in text and "tercatat 2 temuan atas 1 kotak" in text
    for words in ("diterima tanpa pengiriman", f"ditemukan pada stock opname {area.ppk}-SO-1", f"Kecamatan ({area.ppk})",
                  f"#{receive_index}", f"#{stocktaken['entry_index']}", "belum ada", STATUS[received["status"]]):  # fmt: skip
        assert words in text, words
    assert text.count(area.item(0, "GUB")) == 2
    # Each scan's time on the clock of the site where it was made: WITA, 24-hour, never UTC.
    for orphan in (received, stocktaken):
        observed = datetime.fromisoformat(orphan["observed_at"]).astimezone(ZoneInfo("Asia/Makassar"))
        assert f"{observed:%d/%m/%Y %H.%M} WITA" in text
    assert {zone for zone in re.findall(r"\d\d/\d\d/\d{4} \d\d\.\d\d (WIB|WITA|WIT)\b", text)} == {"WITA"}
    assert not re.search(r"\d[.:]\d\d(:\d\d)? ?UTC", text)
    rows = list(csv.reader(io.StringIO(kpu.get("/api/v1/orphans/report.csv").text)))
    assert rows[0] == ["barang", "ditemukan", "tempat", "nama_tempat", "entri_log", "waktu_pindai", "sesudahnya",
                       "dipegang_oleh", "nama_pemegang", "posisi"]  # fmt: skip
    assert [row[:5] for row in rows[1:]] == [
        [area.item(0, "GUB"), "diterima tanpa pengiriman", area.ppk, "Kecamatan", str(receive_index)],
        [area.item(0, "GUB"), f"ditemukan pada stock opname {area.ppk}-SO-1", area.ppk, "Kecamatan",
         str(stocktaken["entry_index"])],
    ]  # fmt: skip
    assert rows[1][6:] == ["belum ada", area.kpu, f"Kabupaten {area.kpu}",
                           f"{STATUS[received['status']]} Kabupaten {area.kpu} ({area.kpu})"]  # fmt: skip


def test_an_area_with_nothing_to_reconcile_says_so(client, runtime):
    area = new_area(runtime)
    kpu = make_person(client, runtime, Role.KPU, area.kpu)
    text = pdf_text(kpu.get("/api/v1/returns/report.pdf"))
    assert f"Dari 0 kotak yang menuju Kabupaten {area.kpu}" in text and "Tidak ada: setiap kotak" in text
    assert f"Tidak ada kotak yatim di Kabupaten {area.kpu}: tidak ada kotak yang diterima" in pdf_text(
        kpu.get("/api/v1/orphans/report.pdf")
    )
    assert kpu.get("/api/v1/orphans/report.csv").text.splitlines()[1:] == []


@pytest.mark.parametrize("path", REPORTS)
def test_the_reports_are_refused_outside_the_jurisdiction_and_to_other_roles(client, runtime, counted, path):
    area, crew, _, _ = counted
    for role in ("pps", "kpps", "escort"):  # not readers of returns or orphans
        assert crew[role].person.get(path).status_code == 403, role
    assert crew["ppk"].person.get(path, params={"site": area.kpu}).status_code == 403  # above the district
    stranger = make_person(client, runtime, Role.KPU, new_area(runtime).kpu)
    assert stranger.get(path, params={"site": area.kpu}).status_code == 403
