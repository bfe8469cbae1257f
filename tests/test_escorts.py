"""Escort officers in the chain (issue 27): escorts are people with an NRP; their own
phones sign `pickup` (the truckload taken under guard at its origin) and `delivery`
(handed over at its destination), for a whole truckload in one scan and one entry, or
box by box. Custody stays with the custodians. Each rule is a test through the API,
each insider's attempt is refused or recorded as evidence, and `jejak verify` finds an
attestation the operator bent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from models.accounts.actor import Role
from models.accounts.users import User, create_user
from models.core.base import utcnow
from models.core.errors import Conflict, InvalidRequest
from models.custody.alerts import Alert, raise_once
from models.custody.pickups import RULE as NO_PICKUP, unpicked
from models.log.export import write_export
from models.places.sites import Kerawanan, Site, SiteLevel
from scripts import verify
from tests.factories import PASSWORD, Area, Cast, Phone, make_person, new_area, new_nrp, sign
from tests.helpers import lies_found, log_records, verify_copy

SEALS = ["TTU-000101", "TTU-000102"]


class Convoy:
    """The custodians of a route with their phones, and a Polres escort with theirs (the
    suite's crew), with what each does to a truckload."""

    def __init__(self, crew: Cast[Phone], area: Area) -> None:
        self.area = area
        self.kpu, self.ppk, self.pps, self.kpps, self.escort = (crew[r] for r in ("kpu", "ppk", "pps", "kpps", "escort"))

    @property
    def nrp(self) -> str:
        assert self.escort.person.nrp is not None
        return self.escort.person.nrp

    def register(self, *boxes: str) -> None:
        """Registered and sealed at the KPU."""
        body = {"items": [dict(zip(("destination", "code"), b.rsplit("-", 1)), kind="kotak_suara") for b in boxes]}
        response = self.kpu.person.post("/api/v1/items", json=body)
        assert response.status_code == 201, response.text
        sealed = self.kpu.send(*[self.kpu.scan("seal", b, self.area.kpu, seals=SEALS) for b in boxes])
        assert all(r["flags"] == [] for r in sealed), sealed

    def dispatch(self, boxes: list[str], handoff: str | None, escorts: list[str] | None = None) -> list[dict]:
        """The KPU sends the boxes to the district in one truckload."""
        truck = {"handoff": handoff} if handoff else {}
        escorts = [self.nrp] if escorts is None else escorts
        return self.kpu.send(*[
            self.kpu.scan("dispatch", b, self.area.kpu, counterparty=self.area.ppk, seals=SEALS, escorts=escorts,
                          vehicle="DH 1234 KA", **truck)
            for b in boxes
        ])  # fmt: skip

    def receive(self, boxes: list[str]) -> list[dict]:
        return self.ppk.send(*[self.ppk.scan("receive", b, self.area.ppk, counterparty=self.area.kpu, seals=SEALS)
                               for b in boxes])  # fmt: skip


@pytest.fixture
def convoy(crew, area) -> Convoy:
    return Convoy(crew, area)


def accepted(results: list[dict], flags: list[str] | None = None) -> dict:
    """The one result, accepted, with these flags (none if not given)."""
    [result] = results
    assert result["status"] == "accepted", result
    assert result["flags"] == (flags or []), result
    return result


def rejected(results: list[dict], because: str) -> None:
    [result] = results
    assert result["status"] == "rejected" and because in result["reason"], result


def truckload(phone: Phone, log_id: str, handoff: str) -> dict[str, Any]:
    response = phone.person.get(f"/api/v1/handoffs/{log_id}/{handoff}")
    assert response.status_code == 200, response.text
    return response.json()


def alerts(phone: Phone, **params: Any) -> list[dict]:
    return phone.person.get("/api/v1/alerts", params=params).json()["alerts"]


# -- The path: dispatch → pickup → delivery → receive ------------------------------------


def test_a_truckload_is_dispatched_picked_up_delivered_and_received(convoy, area):
    boxes = [area.item(n) for n in range(3)]
    convoy.register(*boxes)
    truck = f"{area.kpu}-{area.ppk}-1"
    assert all(r["flags"] == [] for r in convoy.dispatch(boxes, truck))
    pickup = accepted(convoy.escort.send(convoy.escort.scan("pickup", None, area.kpu, handoff=truck)))
    delivery = accepted(convoy.escort.send(convoy.escort.scan("delivery", None, area.ppk, handoff=truck)))
    assert all(r["status"] == "accepted" and r["flags"] == [] for r in convoy.receive(boxes))
    load = truckload(convoy.ppk, area.kpu, truck)
    assert (load["escorts"], load["escorted"], load["items"]) == ([convoy.nrp], True, boxes)
    assert load["picked_up_at"] is not None and load["delivered_at"] is not None
    attested = [(a["type"], a["item"], a["site"], a["nrp"], a["attests"], a["entry_index"]) for a in load["attestations"]]
    assert attested == [
        ("pickup", None, area.kpu, convoy.nrp, True, pickup["index"]),
        ("delivery", None, area.ppk, convoy.nrp, True, delivery["index"]),
    ]  # fmt: skip
    # Custody moved by the custodians' scans only: the district holds the boxes.
    for box in boxes:
        item = convoy.kpu.person.get(f"/api/v1/items/{box}").json()
        assert (item["status"], item["custodian"]) == ("held", area.ppk)
    # The escort reads the truckload they guard; the events list shows a whole truckload's scans.
    assert truckload(convoy.escort, area.kpu, truck)["attestations"] == load["attestations"]
    events = convoy.kpu.person.get("/api/v1/events", params={"type": "pickup"}).json()["events"]
    assert [(e["item_id"], e["handoff_id"], e["role"]) for e in events] == [(None, truck, "escort")]


def test_a_whole_truckload_is_one_scan_and_one_entry(client, runtime, convoy, area):
    """Issue 27, Performance: a 200-box truckload attested by one scan is one entry, not 200."""
    boxes = [area.item(0, f"C{n:03d}") for n in range(200)]
    convoy.register(*boxes)
    truck = f"{area.kpu}-{area.ppk}-besar"
    assert {r["status"] for r in convoy.dispatch(boxes, truck)} == {"accepted"}
    before = len(log_records(runtime, area.kpu))
    pickup = accepted(convoy.escort.send(convoy.escort.scan("pickup", None, area.kpu, handoff=truck)))
    records = log_records(runtime, area.kpu)
    assert len(records) == before + 1 and pickup["index"] == before
    entry = records[pickup["index"]]
    assert (entry["type"], entry["item"], entry["seq"], entry["scan"]["handoff"]) == ("pickup", None, None, truck)
    assert entry["role"] == "escort" and "nrp" not in entry  # the NRP is the phone's registration's
    [registration] = [r for r in records if r["type"] == "device_register" and r["device"] == convoy.escort.id]
    assert registration["nrp"] == convoy.nrp


def test_an_escort_may_count_the_boxes_one_by_one(convoy, area):
    boxes = [area.item(n) for n in range(2)]
    convoy.register(*boxes, area.item(2))
    truck = f"{area.kpu}-{area.ppk}-1"
    convoy.dispatch(boxes, truck)
    counted = [convoy.escort.scan("pickup", b, area.kpu, handoff=truck, seals=SEALS) for b in boxes]
    assert [r["flags"] for r in convoy.escort.send(*counted)] == [[], []]
    # A box this truckload does not carry, or one whose seals differ, is flagged.
    accepted(convoy.escort.send(convoy.escort.scan("pickup", area.item(2), area.kpu, handoff=truck)), ["not_in_truckload"])
    accepted(convoy.escort.send(convoy.escort.scan("delivery", boxes[0], area.ppk, handoff=truck, seals=["X-1"])),
             ["seal_mismatch"])  # fmt: skip
    history = convoy.kpu.person.get(f"/api/v1/items/{boxes[0]}/history").json()["trail"]
    assert [e["entry"]["type"] for e in history] == ["register", "label", "seal", "dispatch", "pickup", "delivery"]
    load = truckload(convoy.kpu, area.kpu, truck)
    assert [(a["item"], a["attests"]) for a in load["attestations"]] == [
        (boxes[0], True), (boxes[1], True), (area.item(2), False), (boxes[0], True),
    ]  # fmt: skip


def test_the_manifest_read_is_recorded_with_the_attestation(runtime, convoy, area, new_log, capsys, tmp_path):
    """The truckload manifest the escort read is named by its digest, and must be one the
    truckload has had: one citing a forged paper attests nothing, and jejak verify
    rebuilds the manifests from the dispatches to check it again."""
    convoy.register(area.item(0), area.item(1))
    truck = f"{area.kpu}-{area.ppk}-1"
    convoy.dispatch([area.item(0)], truck)
    printed = convoy.kpu.person.get(f"/api/v1/handoffs/{area.kpu}/{truck}/manifest").json()["digest"]
    convoy.dispatch([area.item(1)], truck)  # a box loaded after the paper was printed: it is still the truck's
    forged = "sha256:" + "ab" * 32
    fake = accepted(convoy.escort.send(convoy.escort.scan("pickup", None, area.kpu, handoff=truck, manifest=forged)),
                    ["unknown_manifest"])  # fmt: skip
    assert truckload(convoy.kpu, area.kpu, truck)["picked_up_at"] is None
    result = accepted(convoy.escort.send(convoy.escort.scan("pickup", None, area.kpu, handoff=truck, manifest=printed)))
    assert log_records(runtime, area.kpu)[result["index"]]["scan"]["manifest"] == printed
    assert truckload(convoy.kpu, area.kpu, truck)["picked_up_at"] is not None
    records = log_records(runtime, area.kpu)
    assert records[fake["index"]]["flags"] == ["unknown_manifest"]
    # jejak verify rebuilds the manifests from the dispatch entries: the operator who
    # hides the forgery (drops the flag) is named.
    records[fake["index"]]["flags"] = []
    assert lies_found(runtime, new_log.id, new_log.origin, new_log.verifier_key, records, tmp_path, capsys) == [
        f"entry {fake['index']}: records the flags [], but the custody rules give [unknown_manifest]"
    ]
    digest = printed
    rejected(convoy.escort.send(convoy.escort.scan("pickup", None, area.kpu, handoff=truck, manifest="md5:1")), "manifest")
    rejected(convoy.kpu.send(convoy.kpu.scan("seal", area.item(0), area.kpu, manifest=digest)), "only an escort's")


def test_a_pickup_names_a_truckload_already_in_the_log(convoy, area):
    rejected(convoy.escort.send(convoy.escort.scan("pickup", None, area.kpu)), "handoff: a pickup names the truckload")
    rejected(convoy.escort.send(convoy.escort.scan("delivery", None, area.ppk, handoff="truk-1")),
             "does not begin with its dispatching site's code")  # fmt: skip
    # Its dispatch not synced yet: refused with a reason the phone can act on.
    rejected(convoy.escort.send(convoy.escort.scan("pickup", None, area.kpu, handoff=f"{area.kpu}-{area.ppk}-9")),
             "there is no truckload")  # fmt: skip


# -- The rules --------------------------------------------------------------------------


def test_a_dispatch_to_a_vulnerable_destination_names_an_escort(convoy, area):
    box = area.item(0)
    convoy.register(box)
    convoy.kpu.send(convoy.kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk, seals=SEALS))
    convoy.ppk.send(convoy.ppk.scan("receive", box, area.ppk, counterparty=area.kpu, seals=SEALS))
    convoy.ppk.send(convoy.ppk.scan("dispatch", box, area.ppk, counterparty=area.pps, seals=SEALS))
    convoy.pps.send(convoy.pps.scan("receive", box, area.pps, counterparty=area.ppk, seals=SEALS))
    # The polling stations of the area are rawan: a dispatch there names its escort.
    sent = accepted(convoy.pps.send(convoy.pps.scan("dispatch", box, area.pps, counterparty=area.tps[0], seals=SEALS)),
                    ["no_escort"])  # fmt: skip
    [alert] = alerts(convoy.kpu, rule="no_escort")
    assert (alert["severity"], alert["item_id"], alert["evidence"]) == ("warning", box, [sent["index"]])


def test_the_requirement_is_the_settings_and_the_log_records_it(client, runtime, app_runtime, convoy, area, monkeypatch):
    box = area.item(0)
    convoy.register(box)
    with runtime.db.session(write=True) as session:
        session.get_one(Site, area.ppk).kerawanan = Kerawanan.SANGAT_RAWAN
    settings = app_runtime.settings
    monkeypatch.setattr(app_runtime, "settings", settings.model_copy(update={"escort_required": frozenset()}))
    accepted(convoy.kpu.send(convoy.kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk, seals=SEALS)))
    monkeypatch.setattr(app_runtime, "settings", settings.model_copy(update={"escort_required": {"sangat_rawan"}}))
    accepted(convoy.kpu.send(convoy.kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk, seals=SEALS)),
             ["already_in_transit", "no_escort"])  # fmt: skip
    records = log_records(runtime, area.kpu)
    assert [r["escort_required"] for r in records if r["type"] == "rules"] == [
        ["rawan", "sangat_rawan"], [], ["sangat_rawan"],  # the defaults when the boxes were sealed, then these
    ]  # fmt: skip
    assert [r["kerawanan"] for r in records if r["type"] == "dispatch"] == ["sangat_rawan", "sangat_rawan"]


def test_an_nrp_of_no_escort_is_flagged(client, runtime, convoy, area):
    boxes = [area.item(n) for n in range(3)]
    convoy.register(*boxes)
    stranger = make_person(client, runtime, Role.ESCORT, new_area(runtime).kpu)
    [typed, elsewhere, known] = convoy.kpu.send(*[
        convoy.kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk, escorts=escorts, seals=SEALS)
        for box, escorts in zip(boxes, (["12345678"], [stranger.nrp], [convoy.nrp]), strict=True)
    ])  # fmt: skip
    # A typed number that is nobody's, and another regency's escort, who cannot guard it.
    assert (typed["flags"], elsewhere["flags"], known["flags"]) == (["unknown_escort"], ["unknown_escort"], [])
    assert {a["item_id"] for a in alerts(convoy.kpu, rule="unknown_escort")} == set(boxes[:2])


def test_a_truckload_not_picked_up_in_time_raises_one_alert(runtime, convoy, area):
    convoy.register(area.item(0), area.item(1))
    late, guarded = f"{area.kpu}-{area.ppk}-1", f"{area.kpu}-{area.ppk}-2"
    first = convoy.dispatch([area.item(0)], late)[0]
    convoy.dispatch([area.item(1)], guarded)
    accepted(convoy.escort.send(convoy.escort.scan("pickup", None, area.kpu, handoff=guarded)))
    db = runtime.db_for(area.kpu)

    def due(minutes_later: float) -> list[Alert]:
        with db.reads() as session:
            later = utcnow() + timedelta(minutes=minutes_later)
            return [a for a in unpicked(session, 60, later) if a.log_id == area.kpu]

    assert due(30) == []  # within JEJAK_PICKUP_MINUTES (60)
    [alert] = due(61)
    assert (alert.rule, alert.site, alert.item_id, alert.evidence) == (NO_PICKUP, area.kpu, None, [first["index"]])
    assert late in alert.detail and convoy.nrp in alert.detail
    assert len(raise_once(db, [alert])) == 1
    assert due(61) == []  # raised once
    [listed] = alerts(convoy.kpu, rule=NO_PICKUP)
    assert listed["severity"] == "warning"


def test_a_delivery_elsewhere_is_critical_and_the_receive_then_lacks_its_delivery(convoy, area):
    convoy.register(area.item(0))
    truck = f"{area.kpu}-{area.ppk}-1"
    convoy.dispatch([area.item(0)], truck)
    accepted(convoy.escort.send(convoy.escort.scan("pickup", None, area.kpu, handoff=truck)))
    astray = accepted(convoy.escort.send(convoy.escort.scan("delivery", None, area.pps, handoff=truck)),
                      ["delivery_wrong_site"])  # fmt: skip
    [alert] = alerts(convoy.kpu, rule="delivery_wrong_site")
    assert (alert["severity"], alert["site"], alert["evidence"]) == ("critical", area.pps, [astray["index"]])
    assert f"not at its destination {area.ppk}" in alert["detail"]
    # It delivered nothing: the district's receive says so.
    accepted(convoy.receive([area.item(0)]), ["no_delivery"])
    assert truckload(convoy.kpu, area.kpu, truck)["delivered_at"] is None


def test_a_receive_from_an_escorted_truckload_without_its_delivery_is_flagged(convoy, area):
    convoy.register(area.item(0), area.item(1))
    escorted, plain = f"{area.kpu}-{area.ppk}-1", f"{area.kpu}-{area.ppk}-2"
    convoy.dispatch([area.item(0)], escorted)
    convoy.dispatch([area.item(1)], plain, escorts=[])
    received = accepted(convoy.receive([area.item(0)]), ["no_delivery"])
    accepted(convoy.receive([area.item(1)]))  # nobody was to deliver it
    [alert] = alerts(convoy.kpu, rule="no_delivery")
    assert (alert["severity"], alert["evidence"]) == ("warning", [received["index"]])


# -- Insiders ---------------------------------------------------------------------------


def test_an_escort_the_truckload_does_not_name_attests_nothing(client, runtime, convoy, area):
    convoy.register(area.item(0))
    truck = f"{area.kpu}-{area.ppk}-1"
    convoy.dispatch([area.item(0)], truck)
    other = Phone(make_person(client, runtime, Role.ESCORT, area.kpu)).register()
    accepted(other.send(other.scan("pickup", None, area.kpu, handoff=truck)), ["not_escort"])
    accepted(other.send(other.scan("delivery", None, area.ppk, handoff=truck)), ["not_escort"])
    load = truckload(convoy.kpu, area.kpu, truck)
    assert (load["picked_up_at"], load["delivered_at"]) == (None, None)
    assert [(a["nrp"], a["attests"]) for a in load["attestations"]] == [(other.person.nrp, False)] * 2
    accepted(convoy.receive([area.item(0)]), ["no_delivery"])
    assert {a["rule"] for a in alerts(convoy.kpu)} == {"not_escort", "no_delivery"}


def test_an_escort_cannot_claim_another_nrp_in_the_scan(convoy, area):
    """An escort's NRP is their phone's registration's, never what a scan says."""
    convoy.register(area.item(0))
    truck = f"{area.kpu}-{area.ppk}-1"
    convoy.dispatch([area.item(0)], truck, escorts=["87654321"])
    rejected(convoy.escort.send(convoy.escort.scan("pickup", None, area.kpu, handoff=truck, nrp="87654321")), "nrp")
    accepted(convoy.escort.send(convoy.escort.scan("pickup", None, area.kpu, handoff=truck)), ["not_escort"])


def test_another_jurisdictions_escort_is_refused(client, runtime, convoy, area):
    convoy.register(area.item(0))
    truck = f"{area.kpu}-{area.ppk}-1"
    convoy.dispatch([area.item(0)], truck)
    # Another regency's Polres: their phone is in their own log, the site outside their jurisdiction.
    regency = new_area(runtime).kpu
    belu = Phone(make_person(client, runtime, Role.ESCORT, regency)).register()
    rejected(belu.send(belu.scan("pickup", None, area.kpu, handoff=truck)), "outside your jurisdiction")
    [stray] = alerts(Phone(make_person(client, runtime, Role.KPU, regency)), rule="outside_jurisdiction")
    assert stray["detail"].startswith(f"pickup of truckload {truck} at {area.kpu} refused")  # in their own log
    rejected(belu.send(belu.scan("pickup", None, regency, handoff=truck)), f"not registered in log {area.kpu}")
    # A Polsek of another district of the same regency: neither end of the truck is theirs.
    district = f"{area.kpu}.09"
    with runtime.db.session(write=True) as session:
        session.add(Site(code=district, level=SiteLevel.PPK, name="Kecamatan Lain", parent_code=area.kpu,
                         regency=area.kpu))  # fmt: skip
    polsek = Phone(make_person(client, runtime, Role.ESCORT, district)).register()
    rejected(polsek.send(polsek.scan("pickup", None, area.kpu, handoff=truck)), "outside your jurisdiction")
    rejected(polsek.send(polsek.scan("pickup", None, district, handoff=truck)),
             f"goes from {area.kpu} to {area.ppk}, outside your jurisdiction {district}")  # fmt: skip
    # The district's own Polsek guards what comes into its district.
    local = Phone(make_person(client, runtime, Role.ESCORT, area.ppk)).register()
    accepted(local.send(local.scan("delivery", None, area.ppk, handoff=truck)), ["not_escort"])
    assert truckload(convoy.kpu, area.kpu, truck)["picked_up_at"] is None


def test_a_custodian_who_types_an_escorts_nrp_cannot_attest_for_them(client, runtime, convoy, area):
    """A KPU worker names a real escort's NRP, then tries to take the truck 'under guard'
    with their own account, and to pass the escort's signed scan off as their own."""
    convoy.register(area.item(0))
    truck = f"{area.kpu}-{area.ppk}-1"
    convoy.dispatch([area.item(0)], truck)
    rejected(convoy.kpu.send(convoy.kpu.scan("pickup", None, area.kpu, handoff=truck)), "an escort officer's own")
    rejected(convoy.ppk.send(convoy.ppk.scan("delivery", None, area.ppk, handoff=truck)), "an escort officer's own")
    signed = convoy.escort.scan("pickup", None, area.kpu, handoff=truck)
    rejected(convoy.kpu.send(signed), "an escort officer's own")
    # Nor does another escort, who took the named escort's signed scan from the phone's outbox.
    thief = Phone(make_person(client, runtime, Role.ESCORT, area.kpu)).register()
    rejected(thief.send(signed), "belongs to another user")
    assert truckload(convoy.kpu, area.kpu, truck)["picked_up_at"] is None
    # And an escort does not dispatch or receive.
    rejected(convoy.escort.send(convoy.escort.scan("receive", area.item(0), area.ppk, counterparty=area.kpu)),
             "handoffs are scanned by the custodians")  # fmt: skip


def test_a_replayed_pickup_is_the_first_one(runtime, convoy, area):
    convoy.register(area.item(0), area.item(1))
    first, second = f"{area.kpu}-{area.ppk}-1", f"{area.kpu}-{area.ppk}-2"
    convoy.dispatch([area.item(0)], first)
    pickup = convoy.escort.scan("pickup", None, area.kpu, handoff=first)
    original = accepted(convoy.escort.send(pickup))
    size = len(log_records(runtime, area.kpu))
    [again] = convoy.escort.send(pickup)
    assert (again["status"], again["index"]) == ("duplicate", original["index"])
    assert again["leaf_hash"] == original["leaf_hash"]
    # The same event id for another truckload is a conflict: nothing recorded.
    convoy.dispatch([area.item(1)], second)
    reused = convoy.escort.scan("pickup", None, area.kpu, handoff=second)["scan"] | {"event_id": pickup["scan"]["event_id"]}
    [conflict] = convoy.escort.send(sign(convoy.escort.key, reused))
    assert conflict["status"] == "conflict" and conflict["index"] == original["index"]
    assert len(log_records(runtime, area.kpu)) == size + 1  # the second dispatch only
    assert truckload(convoy.kpu, area.kpu, second)["picked_up_at"] is None


def test_a_phone_registered_without_an_nrp_attests_nothing(client, runtime, convoy, area):
    """An escort account made before NRPs were required registered its phone without one."""
    convoy.register(area.item(0))
    truck = f"{area.kpu}-{area.ppk}-1"
    convoy.dispatch([area.item(0)], truck)
    legacy = make_person(client, runtime, Role.ESCORT, area.kpu)
    with runtime.db.session(write=True) as session:
        session.get_one(User, legacy.id).nrp = None
    phone = Phone(legacy).register()
    rejected(phone.send(phone.scan("pickup", None, area.kpu, handoff=truck)), "registered without an NRP")


# -- Accounts ---------------------------------------------------------------------------


def test_an_escort_account_has_its_own_nrp(runtime, area):
    with runtime.db.session() as session, pytest.raises(InvalidRequest, match="needs the officer's NRP"):
        create_user(session, username="escort.tanpa.nrp", password=PASSWORD, role=Role.ESCORT, jurisdiction=area.kpu)
    nrp = new_nrp()
    with runtime.db.session(write=True) as session:
        create_user(session, username=f"escort.{nrp}", password=PASSWORD, role=Role.ESCORT, jurisdiction=area.kpu,
                    nrp=nrp)  # fmt: skip
    with runtime.db.session() as session, pytest.raises(Conflict, match=f"NRP {nrp} is another account's"):
        create_user(session, username=f"escort.{nrp}.b", password=PASSWORD, role=Role.ESCORT, jurisdiction=area.kpu,
                    nrp=nrp)  # fmt: skip
    with runtime.db.session() as session, pytest.raises(InvalidRequest, match="an NRP is"):
        create_user(session, username="escort.bad", password=PASSWORD, role=Role.ESCORT, jurisdiction=area.kpu,
                    nrp="85 06")  # fmt: skip


# -- jejak verify -----------------------------------------------------------------------


@pytest.fixture
def attested(client, runtime, convoy, area, new_log) -> tuple[Convoy, Phone, list[dict[str, Any]]]:
    """A truckload picked up by an escort it does not name, then by its own, delivered
    at the wrong site, then where it goes."""
    convoy.register(area.item(0))
    truck = f"{area.kpu}-{area.ppk}-1"
    convoy.dispatch([area.item(0)], truck)
    other = Phone(make_person(client, runtime, Role.ESCORT, area.kpu)).register()
    accepted(other.send(other.scan("pickup", None, area.kpu, handoff=truck)), ["not_escort"])
    accepted(convoy.escort.send(convoy.escort.scan("pickup", None, area.kpu, handoff=truck)))
    accepted(convoy.escort.send(convoy.escort.scan("delivery", None, area.pps, handoff=truck)), ["delivery_wrong_site"])
    accepted(convoy.escort.send(convoy.escort.scan("delivery", None, area.ppk, handoff=truck)))
    accepted(convoy.receive([area.item(0)]))
    return convoy, other, log_records(runtime, new_log.id)


def test_a_log_with_attestations_verifies(runtime, attested, new_log, capsys, tmp_path):
    bundle = tmp_path / "log.tar.gz"
    with runtime.db.reads() as session, bundle.open("wb") as out:
        write_export(session, new_log.id, out)
    status, out = verify_copy(bundle, new_log.verifier_key, capsys)
    assert status == verify.EXIT_OK, out
    assert "pickup 2" in out and "delivery 2" in out


def _at(records: list[dict[str, Any]], kind: str, device: str) -> int:
    return next(i for i, r in enumerate(records) if r["type"] == kind and r.get("device") == device)


def test_jejak_verify_finds_a_suppressed_not_escort(runtime, attested, new_log, capsys, tmp_path):
    _, other, records = attested
    index = _at(records, "pickup", other.id)
    records[index]["flags"] = []
    assert lies_found(runtime, new_log.id, new_log.origin, new_log.verifier_key, records, tmp_path, capsys) == [
        f"entry {index}: records the flags [], but the custody rules give [not_escort]"
    ]


def test_jejak_verify_finds_an_escorts_nrp_rewritten(runtime, attested, new_log, capsys, tmp_path):
    """The operator records the unnamed escort's phone as the named escort's: its pickup
    would then attest, and the log says otherwise."""
    convoy, other, records = attested
    records[_at(records, "device_register", other.id)]["nrp"] = convoy.nrp
    index = _at(records, "pickup", other.id)
    assert lies_found(runtime, new_log.id, new_log.origin, new_log.verifier_key, records, tmp_path, capsys) == [
        f"entry {index}: records the flags [not_escort], but the custody rules give []"
    ]


def test_jejak_verify_finds_a_delivery_moved_to_the_right_site(runtime, attested, new_log, capsys, tmp_path):
    """The site of a signed attestation cannot be changed: its signature no longer verifies."""
    convoy, _, records = attested
    index = _at(records, "delivery", convoy.escort.id)
    records[index]["scan"]["site"] = convoy.area.ppk
    records[index]["flags"] = []
    lines = lies_found(runtime, new_log.id, new_log.origin, new_log.verifier_key, records, tmp_path, capsys)
    assert any(line.startswith(f"entry {index}") and "signature" in line for line in lines), lines


def test_jejak_verify_finds_an_attestation_of_no_truckload(runtime, attested, new_log, capsys, tmp_path):
    """A pickup stays in the log while the operator removes the dispatch it attests."""
    convoy, _, records = attested
    del records[next(i for i, r in enumerate(records) if r["type"] == "dispatch")]
    lines = lies_found(runtime, new_log.id, new_log.origin, new_log.verifier_key, records, tmp_path, capsys)
    index = _at(records, "pickup", convoy.escort.id)
    truck = f"{convoy.area.kpu}-{convoy.area.ppk}-1"
    assert f"entry {index}: attests truckload {truck}, which no dispatch before it opened" in lines
