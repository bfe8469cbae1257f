"""Segregation of duties for acknowledging alerts (issue 21, finding 2): nobody closes
an alert on their own doing or at the site in their own custody, and critical alerts
go to the regency's KPU (at the KPU's own warehouse, to the regency's Bawaslu)."""

from __future__ import annotations

import uuid

import pytest

from models.accounts.actor import Actor, Role
from models.accounts.policy import AlertFacts, permit_acknowledgement
from models.core.errors import Forbidden
from models.custody.alerts import new_alert, raise_once
from tests.factories import Person, Phone, make_person, register


@pytest.fixture
def auditor(client, runtime, area) -> Person:
    """The regency's auditor (Bawaslu)."""
    return make_person(client, runtime, Role.AUDITOR, area.kpu)


def flagged(auditor: Person, phone: Phone, rule: str, *args, **fields) -> dict:
    """Send one scan, which must be accepted with `rule` among its flags; the alert it
    raised, as the regency's auditor lists it (escorts do not list alerts)."""
    (result,) = phone.send(phone.scan(*args, **fields))
    assert result["status"] == "accepted" and rule in result["flags"], result
    alerts = auditor.get("/api/v1/alerts", params={"rule": rule, "item": args[1]})
    assert alerts.status_code == 200, alerts.text
    (alert,) = [a for a in alerts.json()["alerts"] if a["event_id"] == result["event_id"]]
    assert alert["evidence"][-1] == result["index"]
    return alert


def ack(person, alert: dict):
    return person.post(f"/api/v1/alerts/{alert['id']}/ack", json={"reason": "diperiksa bersama Panwascam"})


def refused(response, *words: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    for word in words:
        assert word in response.json()["detail"], response.json()["detail"]


def test_a_ppk_cannot_acknowledge_the_wrong_site_it_caused(area, other_district, crew, auditor):
    """Finding 2: the PPK receives at its district a box dispatched to another district
    and closes the critical alert itself. Only the regency's KPU may."""
    kpu, ppk = crew["kpu"], crew["ppk"]
    register(crew, (other_district.tps[0], "BUP"))
    box = other_district.item()
    kpu.send(kpu.scan("dispatch", box, area.kpu, counterparty=other_district.ppk, handoff=f"{area.kpu}-truck-2"))
    alert = flagged(auditor, ppk, "wrong_site", "receive", box, area.ppk, counterparty=area.kpu)
    assert alert["severity"] == "critical" and alert["site"] == area.ppk
    refused(ack(ppk.person, alert), f"you made entry {alert['evidence'][-1]}", "another official")
    assert ack(kpu.person, alert).status_code == 200


def test_a_ppk_cannot_acknowledge_the_seal_mismatch_it_caused(area, crew, auditor):
    kpu, ppk = crew["kpu"], crew["ppk"]
    register(crew, (area.tps[0], "BUP"))
    kpu.send(kpu.scan("seal", area.item(), area.kpu, seals=["S-1"]))
    kpu.send(kpu.scan("dispatch", area.item(), area.kpu, counterparty=area.ppk, handoff=f"{area.kpu}-truck-1"))
    alert = flagged(auditor, ppk, "seal_mismatch", "receive", area.item(), area.ppk, counterparty=area.kpu, seals=["X-9"])
    refused(ack(ppk.person, alert), "you made entry")
    acked = ack(kpu.person, alert)
    assert acked.status_code == 200 and acked.json()["acked_by"] == str(kpu.person.id)


def test_a_ppk_cannot_acknowledge_a_warning_at_its_own_site(area, crew, auditor):
    """An escort reports a damaged box at the district office: the PPK holds that site,
    so someone else (its KPU, an auditor) acknowledges."""
    ppk, escort = crew["ppk"], crew["escort"]
    register(crew, (area.tps[0], "BUP"))
    alert = flagged(auditor, escort, "incident_damaged", "incident", area.item(), area.ppk, incident="damaged")
    assert alert["severity"] == "warning"
    refused(ack(ppk.person, alert), f"{area.ppk}", "in your custody")
    assert ack(auditor, alert).status_code == 200


def test_critical_alerts_go_to_the_regencys_kpu(area, crew, auditor):
    """A critical alert in a village of the PPK's district: not the PPK's to close, nor
    the auditor's; the KPU's."""
    kpu, pps = crew["kpu"], crew["pps"]
    register(crew, (area.tps[0], "BUP"))
    alert = flagged(auditor, crew["escort"], "incident_lost", "incident", area.item(), area.pps, incident="lost")
    assert alert["severity"] == "critical"
    refused(ack(crew["ppk"].person, alert), "critical", f"KPU of {area.kpu}")
    refused(ack(auditor, alert), "critical", f"KPU of {area.kpu}")
    refused(ack(pps.person, alert))  # a PPS never acknowledges
    assert ack(kpu.person, alert).status_code == 200


def test_an_auditor_acknowledges_a_critical_alert_at_the_kpus_warehouse(area, crew, auditor):
    kpu, escort = crew["kpu"], crew["escort"]
    register(crew, (area.tps[0], "BUP"))
    alert = flagged(auditor, escort, "incident_seal_broken", "incident", area.item(), area.kpu, incident="seal_broken")
    assert alert["severity"] == "critical" and alert["site"] == area.kpu
    refused(ack(kpu.person, alert), "warehouse", "auditor")
    acked = ack(auditor, alert)
    assert acked.status_code == 200 and acked.json()["acked_by"] == str(auditor.id)


def test_the_kpu_who_made_a_cited_entry_is_refused(client, runtime, area, crew):
    """A dispatch not received in time: the KPU officer who dispatched it does not
    close the alert; another officer of the regency's KPU does."""
    kpu = crew["kpu"]
    register(crew, (area.tps[0], "BUP"))
    truck = f"{area.kpu}-truck-3"
    (dispatch,) = kpu.send(kpu.scan("dispatch", area.item(), area.kpu, counterparty=area.ppk, handoff=truck))
    (alert,) = raise_once(runtime.db, [new_alert(
        area.kpu, "not_received", item_id=area.item(), site=area.ppk, event_id=dispatch["event_id"],
        detail="not received in time", evidence=[dispatch["index"]],
    )])  # fmt: skip
    path = {"id": str(alert.id)}
    refused(ack(kpu.person, path), f"you made entry {dispatch['index']}")
    colleague = make_person(client, runtime, Role.KPU, area.kpu)
    assert ack(colleague, path).status_code == 200


# -- The rule itself, without the HTTP around it ----------------------------------------

REGENCY, DISTRICT, VILLAGE = "53.03", "53.03.08", "53.03.08.2001"
MAKER = uuid.uuid4()


def _actor(role: Role, jurisdiction: str, id: uuid.UUID | None = None) -> Actor:
    return Actor(id or uuid.uuid4(), role, jurisdiction)


@pytest.mark.parametrize(
    ("who", "site", "critical", "cited", "answer"),
    [
        (_actor(Role.KPU, REGENCY), DISTRICT, True, {}, None),
        (_actor(Role.KPU, REGENCY, MAKER), DISTRICT, True, {7: str(MAKER)}, "you made entry 7"),
        (_actor(Role.KPU, "53.04"), DISTRICT, False, {}, "outside your jurisdiction"),
        (_actor(Role.KPU, REGENCY), REGENCY, False, {}, "in your custody"),
        (_actor(Role.KPU, REGENCY), REGENCY, True, {}, "warehouse"),
        (_actor(Role.AUDITOR, REGENCY), REGENCY, True, {}, None),
        (_actor(Role.AUDITOR, REGENCY), REGENCY, False, {}, None),
        (_actor(Role.AUDITOR, REGENCY), DISTRICT, True, {}, "critical"),
        (_actor(Role.AUDITOR, ""), REGENCY, True, {}, "critical"),  # the regency's Bawaslu, not RI's
        (_actor(Role.PPK, DISTRICT), VILLAGE, False, {3: None}, None),  # an entry naming no one
        (_actor(Role.PPK, DISTRICT), DISTRICT, False, {}, "in your custody"),
        (_actor(Role.PPK, DISTRICT), VILLAGE, True, {}, "critical"),
        (_actor(Role.PPS, VILLAGE), VILLAGE, False, {}, "a pps account may not"),
        (_actor(Role.ADMIN, ""), VILLAGE, False, {}, "an admin account may not"),
    ],
)
def test_who_may_acknowledge_what(who, site, critical, cited, answer):
    alert = AlertFacts(log_id=REGENCY, site=site, item=None, critical=critical)
    if answer is None:
        permit_acknowledgement(alert, who, cited)
    else:
        with pytest.raises(Forbidden, match=answer):
            permit_acknowledgement(alert, who, cited)
