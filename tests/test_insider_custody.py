"""Insiders with legitimate accounts try to bend custody through the API: hijack another
site's truckload, move a box they do not hold. Each attempt is refused or recorded as
evidence that moves nothing (issue: "Custody that no insider can bend")."""

from __future__ import annotations

import pytest

from models.accounts.actor import Role
from models.places.sites import Site, SiteLevel
from tests.factories import Area, Phone, make_area, make_person


@pytest.fixture
def area(runtime, new_log) -> Area:
    return make_area(runtime, new_log.id)


@pytest.fixture
def second_district(runtime, area) -> str:
    code = f"{area.kpu}.02"
    with runtime.db.session(write=True) as session:
        session.add(Site(code=code, level=SiteLevel.PPK, name="Kecamatan Dua", parent_code=area.kpu, regency=area.kpu))
    return code


def phones(client, runtime, area: Area, *roles: Role) -> list[Phone]:
    at = {Role.KPU: area.kpu, Role.PPK: area.ppk, Role.PPS: area.pps, Role.KPPS: area.tps[0]}
    return [Phone(make_person(client, runtime, role, at[role])).register() for role in roles]


def register(kpu: Phone, *boxes: tuple[str, str]) -> None:
    body = {"items": [{"kind": "kotak_suara", "destination": d, "code": c, "contest": c} for d, c in boxes]}
    assert kpu.person.post("/api/v1/items", json=body).status_code == 201


def item_of(phone: Phone, box: str) -> dict:
    response = phone.person.get(f"/api/v1/items/{box}")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_truckload_cannot_be_hijacked_by_naming_its_handoff(client, runtime, area, second_district):
    """Finding 1: the KPU names the PPK's truckload for a box bound elsewhere."""
    kpu, ppk, pps = phones(client, runtime, area, Role.KPU, Role.PPK, Role.PPS)
    insana_box, kpu_box = area.item(0), area.item(1)
    register(kpu, *[(tps, "BUP") for tps in area.tps])
    # The district's box goes down to the village in the district's truck.
    kpu.send(kpu.scan("dispatch", insana_box, area.kpu, counterparty=area.ppk, handoff=f"{area.kpu}-{area.ppk}-1"))
    ppk.send(ppk.scan("receive", insana_box, area.ppk, counterparty=area.kpu))
    truck = f"{area.ppk}-{area.pps}-1"
    [sent] = ppk.send(ppk.scan("dispatch", insana_box, area.ppk, counterparty=area.pps, handoff=truck))
    assert sent["status"] == "accepted", sent
    # The KPU names that truck for its own box to another district: refused, with why.
    [hijack] = kpu.send(kpu.scan("dispatch", kpu_box, area.kpu, counterparty=second_district, handoff=truck))
    assert hijack["status"] == "rejected"
    assert "begins with the dispatching site's code" in hijack["reason"]
    assert item_of(kpu, kpu_box)["status"] == "registered"
    # Its own truck to one district cannot then carry a box to another.
    own = f"{area.kpu}-{second_district}-1"
    [sent] = kpu.send(kpu.scan("dispatch", kpu_box, area.kpu, counterparty=second_district, handoff=own))
    assert sent["status"] == "accepted", sent
    [other_end] = kpu.send(kpu.scan("dispatch", area.item(2), area.kpu, counterparty=area.ppk, handoff=own))
    assert other_end["status"] == "rejected" and f"goes from {area.kpu} to {second_district}" in other_end["reason"]
    # The village receives and closes the district's truck: nothing missing, no alert.
    pps.send(pps.scan("receive", insana_box, area.pps, counterparty=area.ppk))
    closed = pps.person.post(f"/api/v1/handoffs/{area.kpu}/{truck}/close")
    assert closed.status_code == 200, closed.text
    assert closed.json()["items"] == [insana_box] and closed.json()["missing"] == []
    alerts = kpu.person.get("/api/v1/alerts").json()["alerts"]
    assert [a for a in alerts if a["rule"] == "missing"] == []
    # A closed truckload takes no more boxes.
    [late] = ppk.send(ppk.scan("dispatch", area.item(0), area.ppk, counterparty=area.pps, handoff=truck))
    assert late["status"] == "rejected" and "was closed" in late["reason"]


def test_a_box_one_does_not_hold_cannot_be_moved(client, runtime, area):
    """Finding 3: a KPPS 'dispatches' a box the KPU holds; the village 'receives' it."""
    kpu, pps, kpps = phones(client, runtime, area, Role.KPU, Role.PPS, Role.KPPS)
    box = area.item(0)
    register(kpu, (area.tps[0], "BUP"))
    kpu.send(kpu.scan("seal", box, area.kpu, seals=["S-1"]))
    [grab] = kpps.send(kpps.scan("dispatch", box, area.tps[0], counterparty=area.pps, seals=["S-1"]))
    assert grab["status"] == "accepted" and grab["flags"] == ["not_custodian"]
    found = item_of(kpu, box)
    assert (found["status"], found["custodian"]) == ("sealed", area.kpu)
    [take] = pps.send(pps.scan("receive", box, area.pps, counterparty=area.tps[0], seals=["S-1"]))
    assert take["status"] == "accepted" and take["flags"] == ["no_dispatch"]
    found = item_of(kpu, box)
    assert (found["status"], found["custodian"]) == ("sealed", area.kpu)
    rules = {a["rule"] for a in kpu.person.get("/api/v1/alerts").json()["alerts"] if a["item_id"] == box}
    assert rules == {"not_custodian", "no_dispatch"}


def test_a_receive_at_the_wrong_site_leaves_custody_with_the_dispatcher(client, runtime, area):
    kpu, ppk, pps = phones(client, runtime, area, Role.KPU, Role.PPK, Role.PPS)
    box = area.item(0)
    register(kpu, (area.tps[0], "BUP"))
    kpu.send(kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk))
    ppk.send(ppk.scan("receive", box, area.ppk, counterparty=area.kpu))
    ppk.send(ppk.scan("dispatch", box, area.ppk, counterparty=area.other_pps))
    [wrong] = pps.send(pps.scan("receive", box, area.pps, counterparty=area.ppk))
    assert wrong["status"] == "accepted" and wrong["flags"] == ["wrong_site"]
    found = item_of(kpu, box)
    assert (found["status"], found["custodian"]) == ("in_transit", area.ppk)
