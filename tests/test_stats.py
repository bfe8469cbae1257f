"""GET /api/v1/stats/progress: items counted by stage of their route, per area."""

from __future__ import annotations

import pytest

from models.accounts.actor import SCOPES, Role
from tests.factories import make_person, register


@pytest.fixture
def under_way(area, crew) -> None:
    """Three boxes of the area's village: one still in the warehouse, one on the road to
    the PPK, one received by the PPK and sent on to the village."""
    kpu, ppk = crew["kpu"], crew["ppk"]
    register(crew, *[(tps, "BUP") for tps in area.tps])
    _, on_road, sent_on = (area.item(n) for n in range(3))
    for box in (on_road, sent_on):
        kpu.send(kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk))
    ppk.send(ppk.scan("receive", sent_on, area.ppk, counterparty=area.kpu))
    ppk.send(ppk.scan("dispatch", sent_on, area.ppk, counterparty=area.pps))


def counts(stages: dict[str, int]) -> dict[str, int]:
    return {stage: n for stage, n in stages.items() if n}


def test_progress_counts_items_by_stage_per_area_one_level_down(area, crew, under_way):
    kpu, ppk = crew["kpu"].person, crew["ppk"].person
    response = kpu.get("/api/v1/stats/progress")  # defaults to the KPU's regency
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["site"]["code"] == area.kpu and body["site"]["items"]["total"] == 3
    assert list(body["site"]["items"]["outbound"]) == ["kpu", "in_transit", "ppk", "pps", "tps", "voting"]
    assert list(body["site"]["items"]["return"]) == ["tps", "in_transit", "pps", "ppk", "kpu"]
    assert counts(body["site"]["items"]["outbound"]) == {"kpu": 1, "in_transit": 2}
    assert [a["code"] for a in body["areas"]] == [area.ppk]
    assert counts(body["areas"][0]["items"]["outbound"]) == {"kpu": 1, "in_transit": 2}

    village = ppk.get("/api/v1/stats/progress", params={"site": area.pps}).json()
    assert [a["code"] for a in village["areas"]] == area.tps
    assert [a["items"]["total"] for a in village["areas"]] == [1, 1, 1]
    tps = village["areas"][0]
    assert (tps["lat"], tps["lon"], tps["coords_synthetic"], tps["level"]) == (-9.45, 124.5, True, "tps")
    # The other village of the district has no items: listed, with zeros.
    district = ppk.get("/api/v1/stats/progress").json()
    assert [(a["code"], a["items"]["total"]) for a in district["areas"]] == [(area.pps, 3), (area.other_pps, 0)]


def test_a_received_box_counts_where_its_custodian_is(area, crew, under_way):
    kpu, pps = crew["kpu"].person, crew["pps"]
    pps.send(pps.scan("receive", area.item(2), area.pps, counterparty=area.ppk))
    body = kpu.get("/api/v1/stats/progress", params={"site": area.ppk}).json()
    assert counts(body["site"]["items"]["outbound"]) == {"kpu": 1, "in_transit": 1, "pps": 1}


@pytest.mark.parametrize(
    ("who", "site", "status"),
    [
        ("ppk", "kpu", 403),  # above the PPK's district
        ("pps", "pps", 403),  # not a role that follows distribution
        ("escort", "kpu", 403),
        ("integrator-unscoped", "kpu", 403),
        ("integrator", "kpu", 200),
        ("auditor", "kpu", 200),
        ("admin", None, 422),  # a national account names the area
        ("admin", "kpu", 200),
        ("anonymous", "kpu", 401),
    ],
)
def test_progress_is_read_by_role_in_jurisdiction(client, runtime, area, under_way, who, site, status):
    role, jurisdiction, scopes = {
        "ppk": (Role.PPK, area.ppk, frozenset()),
        "pps": (Role.PPS, area.pps, frozenset()),
        "escort": (Role.ESCORT, area.kpu, frozenset()),
        "integrator-unscoped": (Role.INTEGRATOR, area.kpu, frozenset()),
        "integrator": (Role.INTEGRATOR, area.kpu, SCOPES),
        "auditor": (Role.AUDITOR, area.kpu, frozenset()),
        "admin": (Role.ADMIN, "", frozenset()),
        "anonymous": (None, "", frozenset()),
    }[who]
    headers = make_person(client, runtime, role, jurisdiction, scopes).headers if role else {}
    params = {"site": getattr(area, site)} if site else {}
    response = client.get("/api/v1/stats/progress", params=params, headers=headers)
    assert response.status_code == status, response.text
    if status != 200:
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("site", "status"), [("53.03.99.9999-999", 404), ("5303", 400), ("1" * 40, 422)])
def test_a_bad_area_is_a_clear_4xx(client, runtime, site, status):
    admin = make_person(client, runtime, Role.ADMIN, "")
    response = admin.get("/api/v1/stats/progress", params={"site": site})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
