"""Insiders with legitimate accounts try to bend custody through the API: hijack another
site's truckload, move a box they do not hold. Each attempt is refused or recorded as
evidence that moves nothing (issue: "Custody that no insider can bend")."""

from __future__ import annotations

from tests.factories import Phone, register


def item_of(phone: Phone, box: str) -> dict:
    response = phone.person.get(f"/api/v1/items/{box}")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_truckload_cannot_be_hijacked_by_naming_its_handoff(area, crew, other_district):
    second_district = other_district.ppk
    """Finding 1: the KPU names the PPK's truckload for a box bound elsewhere."""
    kpu, ppk, pps = crew["kpu"], crew["ppk"], crew["pps"]
    insana_box, kpu_box = area.item(0), area.item(1)
    register(crew, *[(tps, "BUP") for tps in area.tps])
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


def test_a_box_one_does_not_hold_cannot_be_moved(area, crew):
    """Finding 3: a KPPS 'dispatches' a box the KPU holds; the village 'receives' it."""
    kpu, pps, kpps = crew["kpu"], crew["pps"], crew["kpps"]
    box = area.item(0)
    register(crew, (area.tps[0], "BUP"))
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


def test_a_receive_at_the_wrong_site_leaves_custody_with_the_dispatcher(area, crew):
    kpu, ppk, pps = crew["kpu"], crew["ppk"], crew["pps"]
    box = area.item(0)
    register(crew, (area.tps[0], "BUP"))
    kpu.send(kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk))
    ppk.send(ppk.scan("receive", box, area.ppk, counterparty=area.kpu))
    ppk.send(ppk.scan("dispatch", box, area.ppk, counterparty=area.other_pps))
    [wrong] = pps.send(pps.scan("receive", box, area.pps, counterparty=area.ppk))
    assert wrong["status"] == "accepted" and wrong["flags"] == ["wrong_site"]
    found = item_of(kpu, box)
    assert (found["status"], found["custodian"]) == ("in_transit", area.ppk)
