"""The convoy picture for Polres (issue 25): the truckloads on the road now, the
overdue first, with ends, kerawanan, vehicle, escorts, time since dispatch against
the allowance and the last scan's place; a chosen day's; an escort sees only the
convoys naming them; a printable daily sheet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.accounts.actor import Role
from models.places.zones import zone_of
from tests.factories import Phone, hours_ago, make_crew, make_person, new_area, register


@pytest.fixture
def road(client, runtime):
    """Two trucks from the KPU to the district: the first (two boxes, escorted by the
    area's escort, who picked it up) left now; the second (one box, another escort)
    left 30 hours ago and is overdue."""
    area = new_area(runtime)
    crew = make_crew(client, runtime, area)
    kpu, escort = crew["kpu"], crew["escort"]
    other = Phone(make_person(client, runtime, Role.ESCORT, area.kpu)).register()
    register(crew, *[(area.tps[n], "BUP") for n in range(3)])
    fresh, late = f"{area.kpu}-{area.ppk}-1", f"{area.kpu}-{area.ppk}-0"
    kpu.send(*[
        kpu.scan("dispatch", area.item(n), area.kpu, counterparty=area.ppk, handoff=fresh, vehicle="DH 1 KA",
                 escorts=[escort.person.nrp])
        for n in (0, 1)
    ])  # fmt: skip
    kpu.send(kpu.scan("dispatch", area.item(2), area.kpu, observed=hours_ago(30), counterparty=area.ppk, handoff=late,
                      escorts=[other.person.nrp]))  # fmt: skip
    [picked] = escort.send(escort.scan("pickup", None, area.kpu, handoff=fresh))
    assert picked["status"] == "accepted", picked
    return area, crew, other, fresh, late, picked["index"]


def test_the_trucks_on_the_road_now(road):
    area, crew, other, fresh, late, pickup_index = road
    answer = crew["kpu"].person.get("/api/v1/convoys")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["site"], found["day"]) == (area.kpu, None)
    assert [c["handoff"] for c in found["convoys"]] == [late, fresh]  # overdue first
    overdue, now = found["convoys"]
    assert (overdue["overdue"], overdue["allowance_hours"], overdue["escorts"]) == (True, 24, [other.person.nrp])
    assert overdue["minutes_since_dispatch"] >= 30 * 60 - 1 and overdue["last_scan"]["type"] == "dispatch"
    assert {k: now[k] for k in ("from_site", "from_name", "to_site", "to_name", "vehicle", "boxes", "on_road")} == {
        "from_site": area.kpu, "from_name": f"Kabupaten {area.kpu}", "to_site": area.ppk, "to_name": "Kecamatan",
        "vehicle": "DH 1 KA", "boxes": 2, "on_road": 2,
    }  # fmt: skip
    assert (now["overdue"], now["picked_up_at"] is not None) == (False, True)
    assert (now["last_scan"]["type"], now["last_scan"]["site"], now["last_scan"]["entry_index"]) == (
        "pickup", area.kpu, pickup_index,
    )  # fmt: skip


def test_a_truck_whose_boxes_are_all_received_is_off_the_road_but_in_its_days_sheet(road):
    area, crew, other, fresh, late, _ = road
    ppk = crew["ppk"]
    ppk.send(*[ppk.scan("receive", area.item(n), area.ppk, counterparty=area.kpu, handoff=fresh) for n in (0, 1)])
    kpu = crew["kpu"].person
    assert [c["handoff"] for c in kpu.get("/api/v1/convoys").json()["convoys"]] == [late]
    today = datetime.now(UTC).astimezone(zone_of(area.kpu)[0]).date()
    day = kpu.get("/api/v1/convoys", params={"day": today.isoformat()}).json()
    [sent_today] = day["convoys"]
    assert (sent_today["handoff"], sent_today["on_road"], sent_today["last_scan"]["type"]) == (fresh, 0, "receive")
    before = (today - timedelta(days=1)).isoformat()
    assert [c["handoff"] for c in kpu.get("/api/v1/convoys", params={"day": before}).json()["convoys"]] in ([late], [])
    sheet = kpu.get("/api/v1/convoys/sheet.pdf", params={"day": today.isoformat()})
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")


def test_an_escort_sees_the_convoys_naming_them(client, runtime, road):
    area, crew, other, fresh, late, _ = road
    assert [c["handoff"] for c in crew["escort"].person.get("/api/v1/convoys").json()["convoys"]] == [fresh]
    assert [c["handoff"] for c in other.person.get("/api/v1/convoys").json()["convoys"]] == [late]
    unnamed = make_person(client, runtime, Role.ESCORT, area.kpu)
    assert unnamed.get("/api/v1/convoys").json()["convoys"] == []
    stranger = make_person(client, runtime, Role.ESCORT, new_area(runtime).kpu)
    assert stranger.get("/api/v1/convoys", params={"site": area.kpu}).status_code == 403
    assert crew["pps"].person.get("/api/v1/convoys").status_code == 403  # villages do not follow convoys


def test_the_answer_lists_the_most_urgent_and_counts_them_all(road):
    area, crew, other, fresh, late, pickup_index = road
    found = crew["kpu"].person.get("/api/v1/convoys", params={"limit": 1}).json()
    assert [c["handoff"] for c in found["convoys"]] == [late]
    assert (found["total"], found["overdue"]) == (2, 1)
    assert crew["kpu"].person.get("/api/v1/convoys", params={"limit": 0}).status_code == 422
