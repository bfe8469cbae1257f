"""One vocabulary and one paging style: the same name for the same thing in queries and
answers (older names kept, marked deprecated), `at` and `within` for a site exactly
and for it with everything below, and every JSON list paged by `next` and `Link`."""

from __future__ import annotations

from tests.factories import PASSWORD, accepted, register


def test_events_are_asked_for_by_the_names_they_answer_with(crew, area) -> None:
    register(crew, (area.tps[0], "BUP"))
    box = area.item(0)
    handoff = f"{area.kpu}-{area.ppk}-1"
    (sealed,) = accepted(crew["kpu"].send(crew["kpu"].scan("seal", box, area.kpu, seals=["S-1"])))
    assert sealed["entry_index"] == sealed["index"] is not None  # the name events use, and the old one
    dispatch = crew["kpu"].scan("dispatch", box, area.kpu, counterparty=area.ppk, handoff=handoff, seals=["S-1"])
    receive = crew["ppk"].scan("receive", box, area.ppk, counterparty=area.kpu, handoff=handoff, seals=["S-1"])
    for phone, scan in ((crew["kpu"], dispatch), (crew["ppk"], receive)):
        assert phone.send(scan)[0]["status"] == "accepted"
    kpu = crew["kpu"].person

    def sites(**params: str) -> list[str]:
        response = kpu.get("/api/v1/events", params=params)
        assert response.status_code == 200, response.text
        return [event["site"] for event in response.json()["events"]]

    assert sites(item_id=box) == sites(item=box) == [area.kpu, area.kpu, area.ppk]
    assert sites(at=area.kpu) == sites(site=area.kpu) == [area.kpu, area.kpu]
    assert sites(within=area.ppk) == [area.ppk] and sites(within=area.kpu) == [area.kpu, area.kpu, area.ppk]
    assert sealed["entry_index"] in {e["entry_index"] for e in kpu.get("/api/v1/events").json()["events"]}


def test_old_names_are_marked_deprecated_in_the_contract(client) -> None:
    spec = client.get("/openapi.json").json()
    parameters = {p["name"]: p for p in spec["paths"]["/api/v1/events"]["get"]["parameters"]}
    assert parameters["item"].get("deprecated") and parameters["site"].get("deprecated")
    assert not parameters["item_id"].get("deprecated") and not parameters["within"].get("deprecated")
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if any(p.get("deprecated") for p in operation.get("parameters", [])):
                assert {"Deprecation", "Sunset"} <= set(operation["responses"]["200"]["headers"]), (method, path)
    result = spec["components"]["schemas"]["ScanResultOut"]["properties"]
    assert result["index"]["deprecated"] is True and "deprecated" not in result["entry_index"]


def test_every_json_list_names_its_next_page_in_a_link_header_too(client, area) -> None:
    response = client.get("/api/v1/sites", params={"under": area.kpu, "limit": 1})
    assert response.status_code == 200
    cursor = response.json()["next"]
    link = response.headers["link"]
    assert link.endswith('>; rel="next"') and f"cursor={cursor}" in link
    following = client.get(link[link.index("<") + 1 : link.index(">")].removeprefix("http://testserver"))
    assert following.status_code == 200 and following.json()["sites"] != response.json()["sites"]
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if any(p["name"] == "cursor" for p in operation.get("parameters", [])):
                assert "Link" in operation["responses"]["200"]["headers"], (method, path)


def test_a_deprecated_name_is_answered_with_deprecation_and_sunset(crew, client) -> None:
    kpu = crew["kpu"].person
    old = kpu.get("/api/v1/events", params={"site": crew["kpu"].person.jurisdiction})
    assert old.status_code == 200
    assert old.headers["deprecation"] == "@1796601600"  # RFC 9745: 2026-12-07
    assert old.headers["sunset"] == "Tue, 07 Dec 2027 00:00:00 GMT"  # RFC 8594
    new = kpu.get("/api/v1/events", params={"at": crew["kpu"].person.jurisdiction})
    assert "deprecation" not in new.headers and "sunset" not in new.headers
    token = client.post("/api/v1/auth/token", data={"username": kpu.username, "password": PASSWORD})
    assert token.status_code == 200 and "deprecation" in token.headers  # no grant_type
    form = {"grant_type": "password", "username": kpu.username, "password": PASSWORD}
    assert "deprecation" not in client.post("/api/v1/auth/token", data=form).headers


def test_alerts_are_asked_for_by_the_same_names(crew, area) -> None:
    register(crew, (area.tps[0], "BUP"))
    box = area.item(0)
    crew["ppk"].send(crew["ppk"].scan("receive", box, area.ppk, counterparty=area.kpu))  # nothing was dispatched
    kpu = crew["kpu"].person

    def rules(**params: str) -> list[str]:
        response = kpu.get("/api/v1/alerts", params=params)
        assert response.status_code == 200, response.text
        return [alert["rule"] for alert in response.json()["alerts"]]

    assert "no_dispatch" in rules(item_id=box)
    assert rules(item_id=box) == rules(item=box) and rules(within=area.ppk) == rules(site=area.ppk)
    assert "deprecation" in kpu.get("/api/v1/alerts", params={"item": box}).headers


def test_the_csv_export_says_so_too(crew) -> None:
    kpu = crew["kpu"].person
    old = kpu.get("/api/v1/export/events.csv", params={"item": "53.03.08.2001-001-BUP"})
    assert old.status_code == 200 and old.headers["sunset"] == "Tue, 07 Dec 2027 00:00:00 GMT"
    assert "sunset" not in kpu.get("/api/v1/export/events.csv", params={"item_id": "53.03.08.2001-001-BUP"}).headers


def test_items_are_asked_for_by_where_they_are_bound(crew, area) -> None:
    register(crew, (area.tps[0], "BUP"), (area.tps[1], "BUP"))
    kpu = crew["kpu"].person

    def bound(**params: str) -> list[str]:
        response = kpu.get("/api/v1/items", params=params)
        assert response.status_code == 200, response.text
        return sorted(item["id"] for item in response.json()["items"])

    assert bound(bound_for=area.tps[0]) == [area.item(0)]
    assert bound(bound_for=area.pps) == bound(site=area.pps) == sorted([area.item(0), area.item(1)])
    assert "deprecation" in kpu.get("/api/v1/items", params={"site": area.pps}).headers
    assert "deprecation" not in kpu.get("/api/v1/items", params={"bound_for": area.pps}).headers
