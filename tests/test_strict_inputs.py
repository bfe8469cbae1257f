"""Strict inputs (issue 21, findings 6 and 7): every scan of a batch answered on its own,
whatever is wrong with it; times in one RFC 3339 spelling with a sane year; free text
without control or bidi characters; no small-order device keys."""

from __future__ import annotations

import base64

import pytest

from models.accounts.actor import Role
from tests.factories import Phone, make_person, register, sign

# The eight points of Ed25519's small-order subgroup, as encoded keys (libsodium's
# ge25519_has_small_order blocklist, with both x signs; also ed25519-dalek's EIGHT_TORSION).
SMALL_ORDER_KEYS = [
    "0100000000000000000000000000000000000000000000000000000000000000",  # the identity
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
    "0000000000000000000000000000000000000000000000000000000000000000",  # order 4: all zero
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
]
HIDDEN = ["\x00", "\u202e"]  # NUL; RIGHT-TO-LEFT OVERRIDE


@pytest.fixture
def kpu(area, crew) -> Phone:
    """A KPU officer's phone, and two boxes registered to scan."""
    register(crew, (area.tps[0], "BUP"), (area.tps[0], "GUB"))
    return crew["kpu"]


def resigned(phone: Phone, envelope: dict, **changes) -> dict:
    """The envelope's scan with `changes`, signed again: only the change is wrong."""
    return sign(phone.key, {**envelope["scan"], **changes})


def test_a_poison_scan_spoils_only_itself(kpu, area):
    first = kpu.scan("seal", area.item(0, "BUP"), area.kpu, seals=["A-1"])
    far_past = resigned(kpu, kpu.scan("seal", area.item(0, "GUB"), area.kpu), observed_at="0001-01-01T00:00:00+14:00")
    unknown = resigned(kpu, kpu.scan("seal", area.item(0, "GUB"), area.kpu), colour="red")
    forged = {**kpu.scan("seal", area.item(0, "GUB"), area.kpu), "sig": base64.b64encode(bytes(64)).decode()}
    last = kpu.scan("seal", area.item(0, "GUB"), area.kpu, seals=["B-1"])
    batch = [first, 5, far_past, "scan", None, [first], {**first, "extra": 1}, unknown, forged, last]

    response = kpu.person.post("/api/v1/events", json={"scans": batch})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted"] + ["rejected"] * 8 + ["accepted"]
    reasons = [r["reason"] for r in results[1:-1]]
    assert all("not an object" in reasons[n] for n in (0, 2, 3, 4)), reasons
    assert "observed_at" in reasons[1] and "year from 2000 to 2100" in reasons[1]
    assert "unknown field 'extra'" in reasons[5]
    assert "colour" in reasons[6] and "Extra inputs" in reasons[6]
    assert "signature does not verify" in reasons[7]

    recorded = kpu.person.get("/api/v1/events", params={"site": area.kpu}).json()["events"]
    assert {e["event_id"] for e in recorded} == {first["scan"]["event_id"], last["scan"]["event_id"]}
    # The outbox sends the same batch again: the same answers, nothing stuck, nothing twice.
    again = kpu.person.post("/api/v1/events", json={"scans": batch}).json()["results"]
    assert [r["status"] for r in again] == ["duplicate"] + ["rejected"] * 8 + ["duplicate"]


@pytest.mark.parametrize(
    "observed_at",
    [
        "20261207T050000Z",  # ISO 8601 basic format
        "2026-W49-1T05:00:00Z",  # ISO 8601 week date
        "2026-12-07T05:00:00",  # no zone
        "2026-12-07 05:00:00Z",  # no T
        "2026-12-07T05:00Z",  # no seconds
        "1999-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
        "9999-12-31T23:59:59-14:00",
        "٢٠٢٦-12-07T05:00:00Z",  # digits, but not ASCII ones
    ],
)
def test_loose_times_are_refused_in_scans_and_queries(kpu, area, observed_at):
    (result,) = kpu.send(kpu.scan("seal", area.item(), area.kpu, observed_at=observed_at))
    assert result["status"] == "rejected" and "observed_at" in result["reason"], result
    # The EPCIS export answers 400 for it, as EPCIS's QueryParameterException (docs/EPCIS.md).
    for path, name, status in [("/api/v1/events", "since", 422), ("/api/v1/export/epcis", "GE_eventTime", 400)]:
        response = kpu.person.get(path, params={name: observed_at})
        assert response.status_code == status, (path, response.text)
        assert "RFC 3339" in response.json()["detail"] or "2000 to 2100" in response.json()["detail"]


@pytest.mark.parametrize("observed_at", ["2026-12-07T05:00:00Z", "2026-12-07T13:00:00.123+08:00"])
def test_rfc3339_times_pass(kpu, area, observed_at):
    (result,) = kpu.send(kpu.scan("seal", area.item(), area.kpu, observed_at=observed_at))
    assert result["status"] == "accepted", result
    response = kpu.person.get("/api/v1/events", params={"since": observed_at})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("hidden", HIDDEN)
def test_hidden_characters_are_refused_in_a_scan(kpu, area, hidden):
    for field in ("reason", "vehicle"):
        (result,) = kpu.send(kpu.scan("seal", area.item(), area.kpu, **{field: f"ok{hidden}"}))
        assert result["status"] == "rejected", result
        assert field in result["reason"] and f"U+{ord(hidden):04X}" in result["reason"], result
    (result,) = kpu.send(kpu.scan("seal", area.item(), area.kpu, reason="segel utuh", vehicle="DH 1234 AB"))
    assert result["status"] == "accepted", result


@pytest.mark.parametrize("hidden", HIDDEN)
def test_hidden_characters_are_refused_in_names_and_reasons(client, runtime, kpu, area, hidden):
    person = kpu.person
    public = base64.b64encode(kpu.key.public_key().public_bytes_raw()).decode()
    for path, body in [
        ("/api/v1/sites", {"code": f"{area.pps}-099", "name": f"TPS{hidden}099"}),
        ("/api/v1/devices", {"public_key": public, "name": f"hp{hidden}"}),
        ("/api/v1/webhooks", {"url": f"https://silog.example/{hidden}", "kinds": ["events"], "jurisdiction": area.kpu}),
    ]:
        response = person.post(path, json=body)
        assert response.status_code == 422, (path, response.text)
        assert f"U+{ord(hidden):04X}" in response.json()["detail"], response.text
    assert person.post("/api/v1/sites", json={"code": f"{area.pps}-099", "name": "TPS 099"}).status_code == 201


def test_hidden_characters_are_refused_in_an_acknowledgement(client, runtime, kpu, area):
    ppk = Phone(make_person(client, runtime, Role.PPK, area.ppk)).register()
    box = area.item()
    kpu.send(kpu.scan("seal", box, area.kpu, seals=["S-1"]))
    kpu.send(kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk, seals=["S-1"]))
    (received,) = ppk.send(ppk.scan("receive", box, area.ppk, counterparty=area.kpu, seals=["S-2"]))
    assert received["flags"], received  # a seal mismatch: an alert to acknowledge
    (alert,) = kpu.person.get("/api/v1/alerts", params={"item": box}).json()["alerts"]
    for hidden in HIDDEN:
        response = kpu.person.post(f"/api/v1/alerts/{alert['id']}/ack", json={"reason": f"checked{hidden}"})
        assert response.status_code == 422 and f"U+{ord(hidden):04X}" in response.text, response.text
    assert kpu.person.post(f"/api/v1/alerts/{alert['id']}/ack", json={"reason": "checked"}).status_code == 200


@pytest.mark.parametrize("key", SMALL_ORDER_KEYS)
def test_small_order_keys_are_refused(kpu, key):
    response = kpu.person.post(
        "/api/v1/devices", json={"public_key": base64.b64encode(bytes.fromhex(key)).decode(), "name": "hp"}
    )
    assert response.status_code == 400, response.text
    assert "small order" in response.json()["detail"]
