"""Every role, inside and outside its jurisdiction, against every protected endpoint:
a matrix, so that no right is granted by accident."""

from __future__ import annotations

import base64
import itertools
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from models.runtime import Runtime
from models.users import SCOPES, Role
from tests.factories import Phone, make_area, make_person

ALL = {"admin", "kpu", "ppk", "pps", "kpps", "escort", "auditor", "integrator"}
FIELD = {"kpu", "ppk", "pps", "kpps", "escort"}
_tps = itertools.count(10)


@pytest.fixture(scope="module")
def world(client, runtime: Runtime):
    """Two regencies, A and B; everyone of A, some of B, and a box of A in a truck."""
    # Codes of their own: no other test uses regencies 88.xx.
    a_log, b_log = runtime.create_log("88.01"), runtime.create_log("88.02")
    a, b = make_area(runtime, a_log.id), make_area(runtime, b_log.id)
    people = {
        "admin": make_person(client, runtime, Role.ADMIN, ""),
        "kpu": make_person(client, runtime, Role.KPU, a.kpu),
        "ppk": make_person(client, runtime, Role.PPK, a.ppk),
        "pps": make_person(client, runtime, Role.PPS, a.pps),
        "kpps": make_person(client, runtime, Role.KPPS, a.tps[0]),
        "escort": make_person(client, runtime, Role.ESCORT, a.kpu),
        "auditor": make_person(client, runtime, Role.AUDITOR, a.kpu),
        "integrator": make_person(client, runtime, Role.INTEGRATOR, a.kpu, scopes=SCOPES),
        "integrator-unscoped": make_person(client, runtime, Role.INTEGRATOR, a.kpu),
        "kpu-B": make_person(client, runtime, Role.KPU, b.kpu),
        "auditor-B": make_person(client, runtime, Role.AUDITOR, b.kpu),
        "ppk-B": make_person(client, runtime, Role.PPK, b.ppk),
    }
    kpu = Phone(people["kpu"]).register()
    body = {"items": [{"kind": "kotak_suara", "destination": a.tps[0], "code": "BUP"}]}
    assert people["kpu"].post("/api/v1/items", json=body).status_code == 201
    kpu.send(kpu.scan("dispatch", a.item(), a.kpu, counterparty=a.ppk, handoff=f"{a.kpu}-truck-1"))
    return a, b, people


def _public_key() -> str:
    return base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw()).decode()


def _requests(a, b):
    """(name, method, path, json, roles of A that may) for every protected endpoint.
    Lists answer everyone with a right to list, scoped to their own jurisdiction."""
    box = a.item()
    fresh_tps = lambda: f"{a.pps}-{next(_tps):03d}"  # noqa: E731
    return [
        ("read an item", "GET", f"/api/v1/items/{box}", None, ALL),
        ("list items", "GET", "/api/v1/items", None, ALL),
        ("register items", "POST", "/api/v1/items",
         lambda: {"items": [{"kind": "kotak_suara", "destination": a.tps[1], "code": f"X{uuid.uuid4().hex[:6].upper()}"}]},
         {"admin", "kpu"}),
        ("reprint a label", "POST", f"/api/v1/items/{box}/labels", None, {"admin", "kpu"}),
        ("add a TPS", "POST", "/api/v1/sites", lambda: {"code": fresh_tps(), "name": "TPS baru"}, {"admin", "kpu"}),
        ("list events", "GET", f"/api/v1/events?log={a.kpu}", None, ALL),
        ("submit scans", "POST", "/api/v1/events", lambda: {"scans": [{"scan": {}, "sig": ""}]}, FIELD),
        ("register a device", "POST", "/api/v1/devices", lambda: {"public_key": _public_key(), "log": a.kpu}, FIELD),
        ("list alerts", "GET", f"/api/v1/alerts?log={a.kpu}", None, {"admin", "kpu", "ppk", "auditor", "integrator"}),
        # A KPU → PPK truck: the village and polling-station teams are at neither end.
        ("read a handoff", "GET", f"/api/v1/handoffs/{a.kpu}/{a.kpu}-truck-1", None, ALL - {"integrator", "pps", "kpps"}),
        ("export EPCIS", "GET", f"/api/v1/export/epcis?log={a.kpu}", None, ALL),
        ("export events as CSV", "GET", f"/api/v1/export/events.csv?log={a.kpu}", None, ALL),
        # Custody at a district: the village and polling-station teams are below it.
        ("export custody as CSV", "GET", f"/api/v1/export/custody.csv?site={a.ppk}", None, ALL - {"pps", "kpps"}),
        ("an item's custody report", "GET", f"/api/v1/items/{box}/report.pdf", None, ALL),
        ("a district's custody report", "GET", f"/api/v1/reports/custody.pdf?site={a.ppk}", None, ALL - {"pps", "kpps"}),
    ]


@pytest.mark.parametrize("who", sorted(ALL | {"integrator-unscoped", "kpu-B", "auditor-B", "ppk-B", "anonymous"}))
def test_role_matrix(client, world, who):
    a, b, people = world
    person = people.get(who)
    for name, method, path, body, allowed in _requests(a, b):
        payload = body() if callable(body) else body
        headers = person.headers if person else {}
        response = client.request(method, path, json=payload, headers=headers)
        role = who.split("-")[0]
        if who == "anonymous":
            expected = {401}
        elif role not in allowed:
            expected = {403}
        elif who.endswith("-B"):
            # Outsiders from regency B are refused whatever their role. A list answers
            # them with their own jurisdiction's rows, a batch of scans with a refusal
            # per scan (both tested below).
            expected = {200} if name in ("list items", "submit scans") else {403}
        elif who == "integrator-unscoped":
            expected = {403}
        else:
            expected = {200, 201}
        assert response.status_code in expected, f"{who} may not be {response.status_code} on {name}: {response.text}"
        if response.status_code in (401, 403):
            assert response.headers["content-type"] == "application/problem+json"


def test_outsiders_see_none_of_the_items(world):
    a, b, people = world
    listed = people["auditor-B"].get("/api/v1/items").json()["items"]
    assert all(not item["id"].startswith(a.kpu) for item in listed)


def test_an_outsiders_scans_are_refused(world):
    a, b, people = world
    phone = Phone(people["ppk-B"]).register()
    (result,) = phone.send(phone.scan("receive", a.item(), a.ppk, counterparty=a.kpu))
    assert result["status"] == "rejected"
    assert "outside your jurisdiction" in result["reason"]


def test_tokens_are_checked(client, world):
    a, b, people = world
    token = people["kpu"].token
    for bad, words in [
        ("", "no bearer token"),
        ("garbage", "not valid"),
        (token[:-4] + "AAAA", "not valid"),
    ]:
        response = client.get("/api/v1/items", headers={"Authorization": f"Bearer {bad}"} if bad else {})
        assert response.status_code == 401 and words in response.json()["detail"], response.text
        assert response.headers["www-authenticate"] == "Bearer"


def test_sign_in_errors_are_clear(client, world):
    a, b, people = world
    wrong = client.post("/api/v1/auth/token", data={"username": people["kpu"].username, "password": "nope"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong username or password"
    unknown = client.post("/api/v1/auth/token", data={"username": "nobody.at.all", "password": "whatever"})
    assert unknown.status_code == 401
    missing = client.post("/api/v1/auth/token", data={})
    assert missing.status_code == 422


def test_jwks_publishes_the_token_key(client, world):
    import jwt

    a, b, people = world
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    token = people["auditor"].token
    header = jwt.get_unverified_header(token)
    (jwk,) = [k for k in keys if k["kid"] == header["kid"]]
    assert (jwk["kty"], jwk["crv"], jwk["alg"]) == ("OKP", "Ed25519", "EdDSA")
    claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["EdDSA"], audience="jejak")
    assert (claims["role"], claims["jur"]) == ("auditor", a.kpu)
