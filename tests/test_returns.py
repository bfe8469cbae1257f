"""After the count (issue 25): return reconciliation per district and for the regency
(back, on the way, missing, still out, not counted; reseal seals that differ), and
the orphans list: boxes received or stock-taken where the log did not expect them,
with what happened next."""

from __future__ import annotations

import pytest

from models.accounts.actor import Role
from tests.factories import Phone, make_crew, make_person, new_area, register, walk_out_and_back

RESEALED = ["TTU-900101", "TTU-900102"]


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
