"""GET /api/v1/export/epcis: real scans through the API come out as an EPCIS 2.0
document that GS1's own JSON Schema (docs/epcis/) accepts, with the CBV mapping of
docs/EPCIS.md, the EPCIS query parameters and cursor paging."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from models.accounts.actor import Role
from models.custody.epcis import Identifiers
from tests.factories import SEALS, Route, make_person, new_area, walk

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "docs" / "epcis" / "EPCIS-JSON-Schema.json").read_text())
# Formats checked too: every URI, every date-time.
VALIDATOR = Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)


def invalid(document: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(document)]


@pytest.fixture(scope="module")
def route(client, runtime) -> Route:
    return walk(client, runtime)


def export(person, **params: Any) -> dict[str, Any]:
    response = person.get("/api/v1/export/epcis", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/ld+json"
    document: dict[str, Any] = response.json()
    assert invalid(document) == []
    return document


def origin_of(client, log_id: str) -> str:
    (origin,) = [log["origin"] for log in client.get("/api/v1/logs").json()["logs"] if log["log"] == log_id]
    return str(origin)


def events_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = document["epcisBody"]["eventList"]
    return events


def test_the_export_is_an_epcis_document_gs1s_schema_accepts(route):
    document = export(route.crew["kpu"].person)
    assert document["type"] == "EPCISDocument" and document["schemaVersion"] == "2.0"
    context = document["@context"]
    assert context[0] == "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
    assert context[1]["jejak"].endswith("/ns/epcis/")  # the extension fields' namespace, declared
    events = events_of(document)
    assert {e["type"] for e in events} == {"ObjectEvent"}
    assert {e.get("bizStep") for e in events} == {
        "packing", "departing", "arriving", "inspecting", "accepting", "storing", "unpacking", "cycle_counting",
        "transporting", None,
    }  # fmt: skip
    assert len({e["eventID"] for e in events}) == len(events)
    assert all(re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", e["eventID"]) for e in events)


def test_gs1s_schema_refuses_what_is_not_epcis(route):
    """The check above can fail: the schema and its format checks are live."""
    document = export(route.crew["kpu"].person)
    event = events_of(document)[0]
    for broken in (
        {k: v for k, v in event.items() if k != "eventTimeZoneOffset"},
        {**event, "eventTime": "kemarin"},
        {**event, "logIndex": 3},  # an extension field outside any namespace
        {**event, "action": "SCAN"},
        {**event, "readPoint": {"id": "not a uri"}},
    ):
        assert invalid({**document, "epcisBody": {"eventList": [broken]}}), broken


def test_each_scan_maps_to_its_cbv_steps_and_dispositions(client, route):
    events = events_of(export(route.crew["kpu"].person, MATCH_epc=route.box))
    assert [(e.get("bizStep"), e.get("disposition")) for e in events] == [
        ("packing", "container_closed"),  # seal
        ("departing", "in_transit"),
        ("arriving", None), ("inspecting", "conformant"), ("accepting", "container_closed"),
        ("departing", "in_transit"),
        ("arriving", None), ("inspecting", "non_conformant"), ("accepting", "container_closed"),  # seals swapped
        ("storing", "container_closed"),
        ("inspecting", "damaged"),  # the escort's incident report
        ("departing", "in_transit"),
        ("transporting", "in_transit"), ("arriving", None),  # the escort's pickup and delivery of the box
        ("arriving", None), ("inspecting", "conformant"), ("accepting", "container_closed"),
        ("unpacking", "container_open"), ("cycle_counting", "container_open"), ("packing", "container_closed"),
        ("departing", "in_transit"),  # the return leg
        (None, None),  # the correction: an annotation, not an errorDeclaration
    ]  # fmt: skip
    assert all(e["action"] == "OBSERVE" and e["epcList"] == [e["epcList"][0]] for e in events)
    # Named under the log's origin, which never changes: not under the public URL, which may.
    origin = origin_of(client, route.area.kpu)
    assert events[0]["epcList"][0] == f"https://{origin}/item/{route.box}"

    a = route.area
    site = lambda code: f"http://127.0.0.1:8000/api/v1/sites/{code}"  # noqa: E731
    departing, arriving, inspecting, accepting = events[1:5]
    assert departing["readPoint"] == {"id": site(a.kpu)} and "bizLocation" not in departing  # in transit
    assert departing["sourceList"] == [{"type": "possessing_party", "source": site(a.kpu)},
                                       {"type": "location", "source": site(a.kpu)}]  # fmt: skip
    assert departing["destinationList"] == [{"type": "possessing_party", "destination": site(a.ppk)},
                                            {"type": "location", "destination": site(a.ppk)}]  # fmt: skip
    assert departing["bizTransactionList"] == [
        {"type": "desadv", "bizTransaction": f"https://{origin}/handoff/{a.kpu}-truk-1"}
    ]
    assert departing["jejak:escorts"] == route.escorts and departing["jejak:seals"] == SEALS
    for event in (arriving, inspecting, accepting):
        assert event["readPoint"] == event["bizLocation"] == {"id": site(a.ppk)}
        assert event["jejak:logIndex"] == route.scans["receive ppk"]["result"]["index"]
    assert "sourceList" not in arriving and "sourceList" not in inspecting
    assert accepting["sourceList"][0] == {"type": "possessing_party", "source": site(a.kpu)}
    assert accepting["destinationList"][0] == {"type": "possessing_party", "destination": site(a.ppk)}
    assert events[7]["jejak:flags"] == ["seal_mismatch"]
    assert events[10]["jejak:incident"] == "damaged" and events[10]["jejak:reason"] == "tutup retak"
    correction = events[-1]
    assert correction["jejak:ref"] == route.scans["seal"]["event_id"] and correction["jejak:scanType"] == "correction"
    pickup, delivery = events[12:14]
    assert pickup["readPoint"] == {"id": site(a.pps)} and "bizLocation" not in pickup  # it leaves under guard
    assert delivery["readPoint"] == delivery["bizLocation"] == {"id": site(a.tps[0])}
    assert "sourceList" not in pickup and "destinationList" not in delivery  # custody is the custodians'
    assert [pickup["jejak:scanType"], delivery["jejak:scanType"]] == ["pickup", "delivery"]

    # The time as the phone gave it, in WITA; recorded when the log integrated it.
    seal = events[0]
    assert seal["eventTimeZoneOffset"] == "+08:00"
    observed = datetime.fromisoformat(route.scans["seal"]["observed_at"])
    assert datetime.fromisoformat(seal["eventTime"]) == observed
    assert seal["eventTime"].endswith("Z") and datetime.fromisoformat(seal["recordTime"]) >= observed

    # Each event names the entry that proves it: its index and leaf hash, as the trail has them.
    trail = {t["index"]: t["leaf_hash"] for t in client.get(f"/api/v1/items/{route.box}/history").json()["trail"]}
    assert all(trail[e["jejak:logIndex"]] == e["jejak:leafHash"] for e in events)
    assert all(e["jejak:log"] == a.kpu and e["jejak:scanEventId"] for e in events)


def test_an_escorts_scan_of_a_whole_truckload_is_one_event_of_the_truckload(client, route):
    events = events_of(export(route.crew["kpu"].person, EQ_bizStep="transporting"))
    origin = origin_of(client, route.area.kpu)
    truckload = f"https://{origin}/handoff/{route.area.kpu}-truk-1"
    assert [e["epcList"] for e in events] == [[truckload], [f"https://{origin}/item/{route.box}"]]
    assert events[0]["bizTransactionList"] == [{"type": "desadv", "bizTransaction": truckload}]
    assert events[0]["jejak:role"] == "escort" and events[0]["jejak:flags"] == []


def test_a_receive_with_nothing_dispatched_only_arrives(route):
    events = events_of(export(route.crew["kpu"].person, MATCH_epc=route.unsent))
    assert [(e["bizStep"], e["jejak:flags"]) for e in events] == [("arriving", ["no_dispatch"])]


def test_an_export_keeps_its_event_ids(route):
    first = export(route.crew["kpu"].person, MATCH_epc=route.box)
    again = export(route.crew["kpu"].person, MATCH_epc=route.box)
    assert [e["eventID"] for e in events_of(first)] == [e["eventID"] for e in events_of(again)]
    assert first["creationDate"] <= again["creationDate"]


def test_epcis_query_parameters_select(client, route):
    kpu, a = route.crew["kpu"].person, route.area

    def steps(**params: Any) -> list[tuple[str | None, str]]:
        return [(e.get("bizStep"), e["epcList"][0].rsplit("/", 1)[1]) for e in events_of(export(kpu, **params))]

    departing = steps(EQ_bizStep="departing")
    assert {s for s, _ in departing} == {"departing"} and len(departing) == 5  # the box 4, the truck to the PPK 1
    # CBV's URI forms and several values, '|'-separated or repeated.
    assert steps(EQ_bizStep="https://ref.gs1.org/cbv/BizStep-departing") == departing
    both = steps(EQ_bizStep="departing|accepting")
    assert both == steps(EQ_bizStep=["departing", "urn:epcglobal:cbv:bizstep:accepting"])
    assert {s for s, _ in both} == {"departing", "accepting"} and len(both) == 8
    # MATCH_epc: by id, by the item's EPC, or by the public check URL earlier exports named it by.
    by_uri = steps(MATCH_epc=f"https://{origin_of(client, a.kpu)}/item/{route.in_transit}")
    assert by_uri == steps(MATCH_epc=f"http://127.0.0.1:8000/v/{route.in_transit}")
    assert by_uri == steps(MATCH_epc=route.in_transit) == [("packing", route.in_transit), ("departing", route.in_transit)]
    assert {i for _, i in steps(MATCH_epc=f"{route.in_transit}|{route.unsent}")} == {route.in_transit, route.unsent}
    # EQ_bizLocation: exactly there (a dispatch has no business location: it leaves).
    at_ppk = events_of(export(kpu, EQ_bizLocation=a.ppk))
    assert {e["bizLocation"]["id"].rsplit("/", 1)[1] for e in at_ppk} == {a.ppk}
    assert "departing" not in {e["bizStep"] for e in at_ppk}
    # WD_bizLocation: there and everything below it.
    below_pps = events_of(export(kpu, WD_bizLocation=f"http://127.0.0.1:8000/api/v1/sites/{a.pps}"))
    assert {e["bizLocation"]["id"].rsplit("/", 1)[1] for e in below_pps} == {a.pps, a.tps[0]}
    at_pps = [e["eventID"] for e in events_of(export(kpu, EQ_bizLocation=a.pps))]
    assert at_pps and at_pps == [e["eventID"] for e in below_pps if e["bizLocation"]["id"].endswith("/" + a.pps)]


def test_event_time_bounds(route):
    kpu = route.crew["kpu"].person
    everything = events_of(export(kpu))
    times = sorted({e["eventTime"] for e in everything})
    middle = times[len(times) // 2]
    later = events_of(export(kpu, GE_eventTime=middle))
    earlier = events_of(export(kpu, LT_eventTime=middle))
    assert later and all(e["eventTime"] >= middle for e in later)
    assert all(e["eventTime"] < middle for e in earlier)
    assert len(later) + len(earlier) == len(everything)
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert events_of(export(kpu, GE_eventTime=future)) == []


def test_pages_follow_the_link_header(route):
    kpu = route.crew["kpu"].person
    everything = [e["eventID"] for e in events_of(export(kpu))]
    seen: list[str] = []
    url, pages = "/api/v1/export/epcis?limit=4", 0
    while url:
        response = kpu.get(url)
        assert response.status_code == 200, response.text
        assert invalid(response.json()) == []
        seen += [e["eventID"] for e in events_of(response.json())]
        pages += 1
        link = response.headers.get("link")
        url = re.fullmatch(r'<http://testserver(.*)>; rel="next"', link).group(1) if link else ""
    assert seen == everything
    assert pages == 6  # 21 scans, 4 a page


def test_bad_query_values_are_4xx(route):
    kpu = route.crew["kpu"].person
    for params, status, words in [
        ({"EQ_bizStep": "flying"}, 400, "not a business step"),
        ({"EQ_bizStep": "shipping"}, 400, "departing"),  # CBV, but not a step Jejak exports: the list says which
        ({"MATCH_epc": "kotak-1"}, 400, "not an item id"),
        ({"EQ_bizLocation": "Insana"}, 400, "not a site code"),
        ({"WD_bizLocation": "http://elsewhere.example/53.03"}, 400, "not a site code"),
        ({"GE_eventTime": "2024-11-27T07:00:00"}, 400, "timezone"),  # 400, as docs/EPCIS.md says
        ({"LT_eventTime": "besok"}, 400, "LT_eventTime"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, 400, "cursor"),
        ({"limit": 0}, 422, "limit"),
        ({"limit": 10_000}, 422, "limit"),
        ({"log": "53"}, 422, "log"),
    ]:
        response = kpu.get("/api/v1/export/epcis", params=params)
        assert response.status_code == status, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert words in response.json()["detail"], (params, response.text)


def test_officers_below_the_regency_export_what_they_may_list(client, runtime, route):
    a = route.area

    def items(person) -> set[str]:
        return {e["epcList"][0].rsplit("/", 1)[1] for e in events_of(export(person))}

    kpps = route.crew["kpps"].person  # of the box's TPS: the boxes bound for it, wherever scanned
    assert items(kpps) == {route.box, route.unsent}
    neighbour = make_person(client, runtime, Role.PPS, a.other_pps)  # another village: nothing of these
    assert items(neighbour) == set()
    outsider = make_person(client, runtime, Role.KPU, new_area(runtime).kpu)
    refused = outsider.get("/api/v1/export/epcis", params={"log": a.kpu})
    assert refused.status_code == 403 and "outside your jurisdiction" in refused.json()["detail"]
    assert items(outsider) == set()  # their own log: none of A's


def query(person, **params: Any) -> Any:
    return person.get("/api/v1/epcis/events", params=params)


def test_the_query_interface_answers_an_epcis_query_document_paged_by_token(route):
    kpu = route.crew["kpu"].person
    everything = events_of(export(kpu, limit=500))
    ids, url, pages = [], "/api/v1/epcis/events?perPage=3", 0
    while url:
        response = kpu.get(url)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/ld+json"
        assert response.headers["gs1-epcis-version"] == "2.0"
        document = response.json()
        assert invalid(document) == [] and document["type"] == "EPCISQueryDocument"
        results = document["epcisBody"]["queryResults"]
        assert results["queryName"] == "SimpleEventQuery"
        ids += [e["eventID"] for e in results["resultsBody"]["eventList"]]
        link = response.headers.get("link")
        url = link[link.index("<") + 1 : link.index(">")] if link else ""
        assert not url or "nextPageToken=" in url
        pages += 1
    assert pages > 2 and ids == [e["eventID"] for e in everything]


def test_the_query_interfaces_errors_are_epcis_exceptions(route, world):
    kpu = route.crew["kpu"].person
    for params in ({"GE_eventTime": "2026-12-07T08:00:00"}, {"perPage": "0"}, {"nextPageToken": "nope"},
                   {"MATCH_epc": "not an item"}):  # fmt: skip
        response = query(kpu, **params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["type"] == "epcisException:QueryParameterException"
    elsewhere = query(kpu, log=world.b.kpu)
    assert elsewhere.status_code == 403 and elsewhere.json()["type"] == "epcisException:SecurityException"


def test_the_jejak_vocabulary_is_served_where_its_namespace_points(client, route):
    document = export(route.crew["kpu"].person)
    namespace = document["@context"][1]["jejak"]
    served = client.get(namespace.removeprefix("http://127.0.0.1:8000"))
    assert served.status_code == 200 and served.headers["content-type"] == "application/ld+json"
    defined = {term["@id"] for term in served.json()["@graph"]}
    used = {key for event in events_of(document) for key in event if key.startswith("jejak:")}
    assert used and used <= defined


def test_an_items_epc_does_not_change_with_the_public_url():
    origin = "jejak.kpu.go.id/log/53.03"
    before, after = Identifiers("https://jejak.kpu.go.id", origin), Identifiers("https://jejak.example", origin)
    assert before.item("53.03.08.2001-003-BUP") == after.item("53.03.08.2001-003-BUP")
    assert before.handoff("53.03-53.03.08-1") == after.handoff("53.03-53.03.08-1")
    # An EPC an earlier export gave (the public check URL) still finds the item.
    assert after.item_id("https://jejak.example/v/53.03.08.2001-003-BUP") == "53.03.08.2001-003-BUP"
