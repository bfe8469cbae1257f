"""Strict idempotency of signed scans (issue 21, finding 5): a replay is answered with
its first entry; another scan under a used `event_id` or `device_seq` is a `conflict`
that records nothing; a scan its phone held back is flagged `out_of_order_sync`; and a
gap in a phone's numbers left open too long raises `device_gap`, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.custody.device_gaps import gaps, raise_gaps
from tests.factories import Phone, hours_ago, register


@pytest.fixture
def kpu(area, crew) -> Phone:
    """A KPU officer's registered phone, with one box of the area registered to scan."""
    register(crew, (area.tps[0], "BUP"))
    return crew["kpu"]


def log_size(phone: Phone, log_id: str) -> int:
    return {log["log"]: log["size"] for log in phone.person.client.get("/api/v1/logs").json()["logs"]}[log_id]


def seals_of(phone: Phone, item: str) -> list[str]:
    return phone.person.get(f"/api/v1/items/{item}").json()["seals"]


def alerts_of(phone: Phone, rule: str) -> list[dict]:
    response = phone.person.get("/api/v1/alerts", params={"state": "all", "rule": rule})
    assert response.status_code == 200, response.text
    return response.json()["alerts"]


def test_an_exact_replay_in_a_later_request_is_answered_with_the_first_entry(kpu, area):
    envelope = kpu.scan("seal", area.item(), area.kpu, seals=["S-1"], observed=hours_ago(13))
    (first,) = kpu.send(envelope)
    assert (first["status"], first["flags"]) == ("accepted", ["late_sync"])
    size = log_size(kpu, area.kpu)
    (again,) = kpu.send(envelope)
    assert again == {**first, "status": "duplicate"}
    assert again["leaf_hash"] is not None
    assert log_size(kpu, area.kpu) == size


@pytest.mark.parametrize("in_one_request", [False, True], ids=["across requests", "in one request"])
def test_another_scan_under_a_used_event_id_is_a_conflict_that_records_nothing(kpu, area, in_one_request):
    box = area.item()
    sealed = kpu.scan("seal", box, area.kpu, seals=["S-1"])
    other = kpu.scan("seal", box, area.kpu, seals=["S-2"], event_id=sealed["scan"]["event_id"])
    if in_one_request:
        first, conflict = kpu.send(sealed, other)
    else:
        (first,) = kpu.send(sealed)
        (conflict,) = kpu.send(other)
    size = log_size(kpu, area.kpu)
    assert first["status"] == "accepted"
    assert (conflict["status"], conflict["index"], conflict["leaf_hash"]) == ("conflict", first["index"], None)
    assert conflict["reason"] == (
        f"event_id {sealed['scan']['event_id']} was used for another scan, entry {first['index']}; "
        "this scan was not recorded"
    )
    assert log_size(kpu, area.kpu) == size == first["index"] + 1
    assert seals_of(kpu, box) == ["S-1"]
    # The first scan, sent again as it was, is still its own replay.
    (again,) = kpu.send(sealed)
    assert again == {**first, "status": "duplicate"}


@pytest.mark.parametrize("in_one_request", [False, True], ids=["across requests", "in one request"])
def test_a_reused_device_seq_is_a_conflict_that_records_nothing(kpu, area, in_one_request):
    box = area.item()
    sealed = kpu.scan("seal", box, area.kpu, seals=["S-1"])
    kpu.seq -= 1
    reused = kpu.scan("seal", box, area.kpu, seals=["S-2"])
    assert reused["scan"]["device_seq"] == sealed["scan"]["device_seq"]
    if in_one_request:
        first, conflict = kpu.send(sealed, reused)
    else:
        (first,) = kpu.send(sealed)
        (conflict,) = kpu.send(reused)
    assert first["status"] == "accepted"
    assert (conflict["status"], conflict["index"]) == ("conflict", first["index"])
    assert conflict["reason"] == (
        f"device_seq {sealed['scan']['device_seq']} of device {kpu.id} was used for another scan, "
        f"entry {first['index']}; this scan was not recorded"
    )
    assert log_size(kpu, area.kpu) == first["index"] + 1
    assert seals_of(kpu, box) == ["S-1"]


def test_a_scan_synced_after_a_later_numbered_one_is_flagged_out_of_order_sync(kpu, area):
    box = area.item()
    earlier = kpu.scan("seal", box, area.kpu, seals=["S-1"])
    later = kpu.scan("seal", box, area.kpu, seals=["S-1"])
    (sent_first,) = kpu.send(later)
    (held_back,) = kpu.send(earlier)
    assert (sent_first["status"], sent_first["flags"]) == ("accepted", [])
    assert (held_back["status"], held_back["flags"]) == ("accepted", ["out_of_order_sync"])
    (alert,) = alerts_of(kpu, "out_of_order_sync")
    assert (alert["severity"], alert["evidence"]) == ("warning", [held_back["index"]])
    assert f"scan 1 of device {kpu.id}" in alert["detail"]


def test_a_gap_in_a_phones_numbers_left_open_too_long_raises_one_alert(runtime, kpu, area):
    box = area.item()
    (first,) = kpu.send(kpu.scan("seal", box, area.kpu, seals=["S-1"]))
    withheld = [kpu.scan("seal", box, area.kpu, seals=["S-1"]) for _ in range(2)]
    (above,) = kpu.send(kpu.scan("seal", box, area.kpu, seals=["S-1"]))
    now = datetime.now(UTC)

    def found(hours_later: float) -> list:
        with runtime.db.reads() as session:
            return [a for a in gaps(session, 12, now + timedelta(hours=hours_later)) if a.log_id == area.kpu]

    assert found(11) == []
    (gap,) = found(12.1)
    assert (gap.rule, gap.severity, gap.event_id, gap.site) == ("device_gap", "warning", above["event_id"], area.kpu)
    assert gap.evidence == [first["index"], above["index"]]
    assert f"device {kpu.id}'s scans 2 to 3 never reached the log" in gap.detail
    # The held-back scans arrive: flagged, and the gap is closed.
    assert [r["flags"] for r in kpu.send(*withheld)] == [["out_of_order_sync"]] * 2
    assert found(24) == []


def test_a_gap_is_raised_once_and_counts_from_a_phones_first_number(runtime, kpu, area):
    """A phone whose first scan in the log is its third: its scans 1 and 2 are missing."""
    kpu.seq = 2
    (third,) = kpu.send(kpu.scan("seal", area.item(), area.kpu, seals=["S-1"]))
    now = datetime.now(UTC) + timedelta(hours=13)
    raised = [a for a in raise_gaps(runtime.db, 12, now) if a.log_id == area.kpu]
    assert [(a.event_id, a.evidence) for a in raised] == [(third["event_id"], [third["index"]])]
    assert f"device {kpu.id}'s scans 1 to 2 never reached the log" in raised[0].detail
    assert [a for a in raise_gaps(runtime.db, 12, now + timedelta(hours=1)) if a.log_id == area.kpu] == []
    assert [a["evidence"] for a in alerts_of(kpu, "device_gap")] == [[third["index"]]]
