"""Completeness per TPS (kelengkapan, issue 25): the kit each kind of election sends a
TPS, each TPS judged complete, incomplete (what is missing, where it is) or not
started, as a table without a database; then an area through the API, its counts per
area below, its most vulnerable TPS first, and its report."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from models.accounts.actor import Role
from sqlalchemy import select

from models.custody.completeness import _URGENCY, Held, Missing, State, assess, kit, need_by, recount
from models.custody.kits import StationKit
from models.custody.rules import ItemStatus, Leg
from models.places.codes import Kerawanan
from models.places.sites import Site
from tests.factories import Phone, make_crew, make_person, new_area, register

TPS = "53.03.08.2001-003"
PPK, PPS = "53.03.08", "53.03.08.2001"


def held(code: str, custodian: str, status: ItemStatus = ItemStatus.HELD, leg: Leg = Leg.OUTBOUND,
         dispatch_to: str | None = None) -> Held:  # fmt: skip
    return Held(f"{TPS}-{code}", custodian, status, leg, dispatch_to)


AT_TPS = held("BUP", TPS)
ON_ITS_WAY = held("GUB", PPS, ItemStatus.IN_TRANSIT, dispatch_to=TPS)
AT_PPK = held("GUB", PPK)
COUNTED_AND_GONE_BACK = held("GUB", PPS, ItemStatus.RESEALED, Leg.RETURN)
PAPERS = held("SS", PPK)  # ballot papers registered for the TPS: part of its kit too
PAPERS_HERE = held("SS", TPS)


@pytest.mark.parametrize(
    ("items", "state", "required", "reached", "missing"),
    [
        ([AT_TPS, held("GUB", TPS)], State.COMPLETE, 2, 2, []),
        ([AT_TPS, COUNTED_AND_GONE_BACK], State.COMPLETE, 2, 2, []),  # it was there
        ([AT_TPS, ON_ITS_WAY], State.INCOMPLETE, 2, 1, [Missing("GUB", ON_ITS_WAY)]),
        ([AT_TPS], State.INCOMPLETE, 2, 1, [Missing("GUB", None)]),  # never registered
        ([AT_PPK], State.NOT_STARTED, 2, 0, [Missing("BUP", None), Missing("GUB", AT_PPK)]),
        ([], State.NOT_STARTED, 2, 0, [Missing("BUP", None), Missing("GUB", None)]),
        ([AT_TPS, held("GUB", TPS), PAPERS], State.INCOMPLETE, 3, 2, [Missing("SS", PAPERS)]),
        ([AT_TPS, held("GUB", TPS), PAPERS_HERE], State.COMPLETE, 3, 3, []),
    ],
)
def test_every_state_of_a_polling_stations_kit(items, state, required, reached, missing):
    assert assess(TPS, ("GUB", "BUP"), items) == (state, required, reached, missing)


def test_each_election_declares_its_kit():
    assert kit("pemilu", TPS) == ("PPWP", "DPR", "DPD", "DPRDPROV", "DPRDKAB")
    assert kit("pilkada", TPS) == ("GUB", "BUP")
    assert kit("pilkada", "53.71.01.1001-001") == ("GUB", "WAKO")  # Kota Kupang elects a mayor
    assert kit("pemilu", "53.71.01.1001-001") == kit("pemilu", TPS)


def test_the_most_vulnerable_need_their_kit_first():
    vote = date(2024, 11, 27)
    wita = timezone(timedelta(hours=8))
    assert need_by(TPS, Kerawanan.SANGAT_RAWAN, vote) == datetime(2024, 11, 24, 7, 0, tzinfo=wita)
    assert need_by(TPS, Kerawanan.RAWAN, vote) == datetime(2024, 11, 25, 7, 0, tzinfo=wita)
    assert need_by(TPS, Kerawanan.KURANG_RAWAN, vote) == need_by(TPS, None, vote) == datetime(2024, 11, 26, 7, 0, tzinfo=wita)
    assert need_by(TPS, Kerawanan.RAWAN, None) is None
    # The more urgent a TPS, the sooner it needs its kit: an area lists by urgency alone.
    by_urgency = sorted(_URGENCY, key=_URGENCY.__getitem__)
    assert [need_by(TPS, k, vote) for k in by_urgency] == sorted(need_by(TPS, k, vote) for k in by_urgency)


# -- An area through the API ---------------------------------------------------------------


@pytest.fixture
def area_kits(client, runtime):
    """Three TPS of a village: the first has both boxes, the second its Bupati box and
    its Gubernur box on the road to the district, the third (sangat rawan) nothing
    registered."""
    area = new_area(runtime)
    crew = make_crew(client, runtime, area)
    with runtime.db.session(write=True) as session:
        session.get_one(Site, area.tps[2]).kerawanan = Kerawanan.SANGAT_RAWAN
    register(crew, (area.tps[0], "BUP"), (area.tps[0], "GUB"), (area.tps[1], "BUP"), (area.tps[1], "GUB"))
    kpu, ppk, pps, kpps = (crew[role] for role in ("kpu", "ppk", "pps", "kpps"))
    kpps_1 = Phone(make_person(client, runtime, Role.KPPS, area.tps[1])).register()
    down = [area.item(0), area.item(0, "GUB"), area.item(1)]
    legs = [(kpu, area.kpu, ppk, area.ppk), (ppk, area.ppk, pps, area.pps)]
    for sender, origin, receiver, destination in legs:
        sender.send(*[sender.scan("dispatch", b, origin, counterparty=destination) for b in down])
        receiver.send(*[receiver.scan("receive", b, destination, counterparty=origin) for b in down])
    for box, phone, tps in ((down[0], kpps, area.tps[0]), (down[1], kpps, area.tps[0]), (down[2], kpps_1, area.tps[1])):
        pps.send(pps.scan("dispatch", box, area.pps, counterparty=tps))
        [received] = phone.send(phone.scan("receive", box, tps, counterparty=area.pps))
        assert received["status"] == "accepted", received
    kpu.send(kpu.scan("dispatch", area.item(1, "GUB"), area.kpu, counterparty=area.ppk))
    return area, crew


def test_an_area_answers_per_tps_and_per_area_below(area_kits):
    area, crew = area_kits
    answer = crew["kpu"].person.get("/api/v1/completeness", params={"site": area.ppk})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["code"], found["election"]) == (area.ppk, "pilkada")
    assert found["counts"] == {"complete": 1, "incomplete": 1, "not_started": 1}
    assert [(a["code"], a["counts"]) for a in found["areas"]] == [
        (area.pps, {"complete": 1, "incomplete": 1, "not_started": 1}),
        (area.other_pps, {"complete": 0, "incomplete": 0, "not_started": 0}),
    ]
    # Sangat rawan first; what is missing and where it is.
    assert [(s["code"], s["state"], s["reached"], s["required"]) for s in found["stations"]] == [
        (area.tps[2], "not_started", 0, 2), (area.tps[1], "incomplete", 1, 2),
    ]
    assert found["stations"][0]["missing"] == [
        {"code": code, "item": None, "custodian": None, "status": None, "dispatch_to": None} for code in ("BUP", "GUB")
    ]
    assert found["stations"][1]["missing"] == [
        {"code": "GUB", "item": area.item(1, "GUB"), "custodian": area.kpu, "status": "in_transit", "dispatch_to": area.ppk}
    ]
    assert found["stations_total"] == 2


def test_a_village_officer_reads_their_village_only(area_kits):
    area, crew = area_kits
    pps = crew["pps"].person
    assert pps.get("/api/v1/completeness").json()["counts"] == {"complete": 1, "incomplete": 1, "not_started": 1}
    assert pps.get("/api/v1/completeness", params={"site": area.other_pps}).status_code == 403
    assert crew["kpps"].person.get("/api/v1/completeness").status_code == 403  # not a reader


def test_the_report_prints_in_bahasa_indonesia(area_kits):
    area, crew = area_kits
    kpu = crew["kpu"].person
    pdf = kpu.get("/api/v1/completeness/report.pdf", params={"site": area.pps})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    rows = list(csv.reader(io.StringIO(kpu.get("/api/v1/completeness/report.csv", params={"site": area.pps}).text)))
    assert rows[0] == ["tps", "nama", "kerawanan", "keadaan", "diterima", "dibutuhkan", "batas_waktu", "kurang"]
    assert [row[0] for row in rows[1:]] == [area.tps[2], area.tps[1]]
    assert rows[1][2:6] == ["sangat_rawan", "belum diterima", "0", "2"]
    assert rows[2][7] == f"GUB: dalam perjalanan {area.kpu} -> {area.ppk}"


def test_need_by_times_follow_the_voting_day(area_kits, app_runtime, monkeypatch):
    area, crew = area_kits
    monkeypatch.setattr(app_runtime.settings, "voting_day", date(2024, 11, 27))
    found = crew["kpu"].person.get("/api/v1/completeness", params={"site": area.pps}).json()
    need = {s["code"]: datetime.fromisoformat(s["need_by"]).astimezone(UTC) for s in found["stations"]}
    assert need == {
        area.tps[2]: datetime(2024, 11, 23, 23, 0, tzinfo=UTC),  # 07:00 WITA, three days before
        area.tps[1]: datetime(2024, 11, 24, 23, 0, tzinfo=UTC),  # rawan: two days before
    }


def _kits(runtime, log_id):
    with runtime.db.reads() as session:
        rows = session.scalars(select(StationKit).where(StationKit.log_id == log_id).order_by(StationKit.tps))
        return [(k.tps, k.pieces, k.reached, k.codes) for k in rows]


def test_the_kits_kept_as_custody_moves_match_a_count_from_the_items(area_kits, runtime):
    """Registration adds pieces, a receive at the TPS one reached, and a box sent away
    from its TPS before the vote takes it off again: the same as counting the items."""
    area, crew = area_kits
    kpps = crew["kpps"]
    [sent] = kpps.send(kpps.scan("dispatch", area.item(0), area.tps[0], counterparty=area.pps))
    assert sent["status"] == "accepted", sent
    found = crew["kpu"].person.get("/api/v1/completeness", params={"site": area.pps}).json()
    assert found["counts"] == {"complete": 0, "incomplete": 2, "not_started": 1}
    kept = _kits(runtime, area.kpu)
    assert kept == [(area.tps[0], 2, 1, ",BUP,GUB,"), (area.tps[1], 2, 1, ",BUP,GUB,")]
    with runtime.db.session(write=True) as session:
        recount(session, area.kpu)
    assert _kits(runtime, area.kpu) == kept


def test_the_answer_lists_the_most_urgent_and_counts_them_all(area_kits):
    area, crew = area_kits
    found = crew["kpu"].person.get("/api/v1/completeness", params={"site": area.pps, "limit": 1}).json()
    assert [s["code"] for s in found["stations"]] == [area.tps[2]]  # sangat rawan
    assert found["stations_total"] == 2 and found["counts"]["incomplete"] + found["counts"]["not_started"] == 2
