"""The authorization matrix, generated from the policy table: every route of the app
either is public (listed below) or names exactly one action of the table, and every
role, inside and outside its jurisdiction, gets from each route what the table says for
its action. So no right is granted by accident, and none without a rule."""

from __future__ import annotations

import base64
import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.routing import APIRoute

from models.accounts.actor import SCOPES, Role
from models.accounts.policy import POLICY, Reach, Rule, markdown_table
from models.custody.alerts import new_alert, raise_once
from models.places.sites import within
from models.runtime import Runtime
from tests.factories import Area, Person, Phone, World, make_person

# Served to anyone, without an account: the log and its proofs (anyone may verify),
# the site hierarchy, the public check, pages, health and the API's own description.
PUBLIC = {
    ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"),
    ("POST", "/api/v1/auth/token"), ("GET", "/.well-known/jwks.json"),
    ("GET", "/api/v1/sites"), ("GET", "/api/v1/sites/{code}"),
    ("GET", "/api/v1/items/{item_id}/history"), ("GET", "/api/v1/logs/{log_id}/label-keys"),
    ("GET", "/api/v1/handoffs/{log_id}/{handoff_id}/history"), ("GET", "/v/m/{log_id}/{handoff_id}"),
    ("GET", "/api/v1/logs"), ("GET", "/api/v1/logs/{log_id}/checkpoint"),
    ("GET", "/api/v1/logs/{log_id}/checkpoints/{size}"), ("GET", "/api/v1/logs/{log_id}/entries"),
    ("GET", "/api/v1/logs/{log_id}/proof/inclusion"), ("GET", "/api/v1/logs/{log_id}/proof/consistency"),
    ("GET", "/api/v1/logs/{log_id}/items/{item_id}/entries"),
    # A witness signs in with nothing: its cosignature, checked against the configured keys, is its proof.
    ("POST", "/api/v1/logs/{log_id}/cosignatures"),
    ("GET", "/logs/{log_id}/checkpoint"), ("GET", "/logs/{log_id}/checkpoints/{size}"),
    ("GET", "/logs/{log_id}/tile/{tile_path:path}"),
    # An enrollment code is its own credential (one-time, limited per address like signing in).
    ("POST", "/api/v1/enroll"), ("GET", "/enroll"), ("GET", "/dashboard/accounts"),
    ("GET", "/scan"), ("GET", "/dashboard"), ("GET", "/v/{item_id}"), ("GET", "/scan/sw.js"),
    ("GET", "/static"), ("GET", "/static/words/{name}"), ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
    # What each problem code means: the pages problems' `type` URIs name.
    ("GET", "/problems"), ("GET", "/problems/{code}"), ("GET", "/ns/epcis/"),
}  # fmt: skip
_tps = itertools.count(10)


def _routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        if (included := getattr(route, "original_router", None)) is not None:
            yield from _routes(included.routes)  # FastAPI keeps an included router whole
        else:
            yield route


def _app_routes(client) -> dict[tuple[str, str], Any]:
    """Every route of the app by (method, path template)."""
    return {
        (method, route.path): route
        for route in _routes(client.app.routes)
        for method in (getattr(route, "methods", None) or {"GET"}) - {"HEAD"}  # a Mount (static files) serves GET
    }


def _actions(route: Any) -> list[str]:
    """The actions a route names: its `Permit(...)` dependencies, however deep."""
    found, pending = [], [route.dependant] if isinstance(route, APIRoute) else []
    while pending:
        dependant = pending.pop()
        if (action := getattr(dependant.call, "action", None)) is not None:
            found.append(action)
        pending += dependant.dependencies
    return found


# -- The scene: two regencies, everyone of each, and what the routes act on --------------


@dataclass
class Scene:
    runtime: Runtime
    a: Area
    b: Area
    people: dict[str, Person]  # the world's (conftest), and an integrator of A without scopes
    kpu: Phone  # the KPU of A's phone
    owner: Person  # a PPS officer of A, owner of the devices others try to revoke
    dispatch: dict[str, Any] = field(default_factory=dict)  # truck-1's dispatch result
    subscription: str = ""  # a webhook of the integrator of A
    client: Any = None  # the app, to make more officers


@pytest.fixture(scope="module")
def scene(client, runtime: Runtime, world: World) -> Scene:
    """The world (regencies A and B, every role of each; an admin is national), an
    integrator of A without scopes, and a box of A in a truck."""
    a, b = world.a, world.b
    people = {**world.people, "integrator-unscoped": make_person(client, runtime, Role.INTEGRATOR, a.kpu)}
    kpu = Phone(people["kpu"]).register()
    body = {"items": [{"kind": "kotak_suara", "destination": a.tps[n], "code": "BUP"} for n in (0, 2)]}
    assert people["kpu"].post("/api/v1/items", json=body).status_code == 201
    (dispatch,) = kpu.send(kpu.scan("dispatch", a.item(), a.kpu, counterparty=a.ppk, handoff=f"{a.kpu}-truck-1"))
    hook = {"url": "https://silog.example/hook", "kinds": ["events"], "jurisdiction": a.kpu}
    subscribed = people["integrator"].post("/api/v1/webhooks", json=hook)
    assert subscribed.status_code == 201, subscribed.text
    owner = make_person(client, runtime, Role.PPS, a.pps)
    return Scene(runtime, a, b, people, kpu, owner, dispatch, subscribed.json()["id"], client)


# -- One request per route -----------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A request to a route, made afresh for each caller (some are used up: a deleted
    webhook, an acknowledged alert), and the target the route's action is judged at:
    a code (or codes, any of which will do), a log for a rule of Reach.LOG, or None."""

    request: Callable[[Scene], tuple[str, Any]]  # the URL and the JSON body
    target: Callable[[Scene], str | tuple[str, ...] | None]
    allowed: frozenset[int] = frozenset({200, 201, 204})
    refused: frozenset[int] = frozenset({403})
    csv: bool = False  # the body is a CSV file, not JSON


def _public_key() -> str:
    return base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw()).decode()


def _fresh_handoff(w: Scene) -> str:
    """A new truck from A's KPU to its district, for closing."""
    handoff = f"{w.a.kpu}-truck-{uuid.uuid4().hex[:8]}"
    (sent,) = w.kpu.send(w.kpu.scan("dispatch", w.a.item(2), w.a.kpu, counterparty=w.a.ppk, handoff=handoff))
    assert sent["status"] == "accepted", sent
    return handoff


def _fresh_stocktake(w: Scene) -> str:
    """A new stock-take of A's KPU warehouse, one box scanned, for reading or closing."""
    stocktake = f"{w.a.kpu}-SO-{uuid.uuid4().hex[:8]}"
    (scanned,) = w.kpu.send(w.kpu.scan("stocktake", w.a.item(2), w.a.kpu, stocktake=stocktake))
    assert scanned["status"] == "accepted", scanned
    return stocktake


def _fresh_officer(w: Scene) -> Person:
    """A new PPS officer of A, for disabling or enabling (either ends the tokens the
    officer holds: never the owner's, which later tests use)."""
    return make_person(w.client, w.runtime, Role.PPS, w.a.pps)


def _officers_csv(w: Scene) -> str:
    """One new PPS officer of A's village to import (a NIK no one has)."""
    return f"name,role,jurisdiction,nik,phone\nMaria Lake,pps,{w.a.pps},53{uuid.uuid4().int % 10**14:014d},081234567890\n"


def _fresh_alert(w: Scene) -> str:
    """A warning at a village of A that cites no one's entry: only the table decides."""
    (alert,) = raise_once(w.runtime.db, [new_alert(
        w.a.kpu, "far_from_site", item_id=w.a.item(), site=w.a.pps, event_id=str(uuid.uuid4()), detail="far",
        evidence=[],
    )])  # fmt: skip
    return str(alert.id)


def _fresh_subscription(w: Scene) -> str:
    hook = {"url": "https://silog.example/hook", "kinds": ["events"], "jurisdiction": w.a.kpu}
    return str(w.people["integrator"].post("/api/v1/webhooks", json=hook).json()["id"])


GET, POST, DELETE = "GET", "POST", "DELETE"
REGENCY = lambda w: w.a.kpu  # noqa: E731: A's log, and its KPU's site
BOX = lambda w: w.a.tps[0]  # noqa: E731: the box's destination
DISTRICT = lambda w: w.a.ppk  # noqa: E731
VILLAGE = lambda w: w.a.pps  # noqa: E731
NOWHERE = lambda w: None  # noqa: E731: a list, cut to the caller's jurisdiction
# An integrator is shown only its own webhooks: another's is not found (404).
HIDDEN = frozenset({403, 404})

CASES: dict[tuple[str, str], Case] = {
    (POST, "/api/v1/items"): Case(lambda w: ("/api/v1/items", {"items": [
        {"kind": "kotak_suara", "destination": w.a.tps[1], "code": f"X{uuid.uuid4().hex[:6].upper()}"}]}),
        lambda w: w.a.tps[1]),  # fmt: skip
    (GET, "/api/v1/items"): Case(lambda w: ("/api/v1/items", None), NOWHERE),
    (GET, "/api/v1/items/{item_id}"): Case(lambda w: (f"/api/v1/items/{w.a.item()}", None), BOX),
    (POST, "/api/v1/items/{item_id}/labels"): Case(lambda w: (f"/api/v1/items/{w.a.item()}/labels", None), BOX),
    (GET, "/api/v1/items/{item_id}/label.svg"): Case(lambda w: (f"/api/v1/items/{w.a.item()}/label.svg", None), BOX),
    (GET, "/api/v1/items/{item_id}/label.png"): Case(lambda w: (f"/api/v1/items/{w.a.item()}/label.png", None), BOX),
    (GET, "/api/v1/labels.pdf"): Case(lambda w: (f"/api/v1/labels.pdf?site={w.a.ppk}", None), DISTRICT),
    (POST, "/api/v1/sites"): Case(
        lambda w: ("/api/v1/sites", {"code": f"{w.a.pps}-{next(_tps):03d}", "name": "TPS baru"}), VILLAGE
    ),
    (POST, "/api/v1/devices"): Case(lambda w: ("/api/v1/devices", {"public_key": _public_key(), "log": w.a.kpu}), REGENCY),
    (GET, "/api/v1/devices"): Case(lambda w: ("/api/v1/devices", None), NOWHERE),
    (POST, "/api/v1/devices/{log_id}/{device_id}/revoke"): Case(
        lambda w: (f"/api/v1/devices/{w.a.kpu}/{Phone(w.owner).register().id}/revoke", None), REGENCY
    ),
    # Each scan is then judged on its own (an outsider's are refused one by one: below).
    (POST, "/api/v1/events"): Case(lambda w: ("/api/v1/events", {"scans": [{"scan": {}, "sig": ""}]}), NOWHERE),
    (GET, "/api/v1/events"): Case(lambda w: (f"/api/v1/events?log={w.a.kpu}", None), REGENCY),
    # 409 until a checkpoint covers the scan.
    (GET, "/api/v1/events/{event_id}/receipt"): Case(
        lambda w: (f"/api/v1/events/{w.dispatch['event_id']}/receipt?log={w.a.kpu}", None),
        lambda w: (w.a.kpu, w.a.item()), allowed=frozenset({200, 409}),
    ),
    (GET, "/api/v1/export/epcis"): Case(lambda w: (f"/api/v1/export/epcis?log={w.a.kpu}", None), REGENCY),
    (GET, "/api/v1/epcis/events"): Case(lambda w: (f"/api/v1/epcis/events?log={w.a.kpu}", None), REGENCY),
    (GET, "/api/v1/export/events.csv"): Case(lambda w: (f"/api/v1/export/events.csv?log={w.a.kpu}", None), REGENCY),
    (GET, "/api/v1/export/custody.csv"): Case(lambda w: (f"/api/v1/export/custody.csv?site={w.a.ppk}", None), DISTRICT),
    (GET, "/api/v1/items/{item_id}/report.pdf"): Case(lambda w: (f"/api/v1/items/{w.a.item()}/report.pdf", None), BOX),
    (GET, "/api/v1/reports/custody.pdf"): Case(lambda w: (f"/api/v1/reports/custody.pdf?site={w.a.ppk}", None), DISTRICT),
    # Either end of a KPU → PPK truck.
    (GET, "/api/v1/handoffs/{log_id}/{handoff_id}"): Case(
        lambda w: (f"/api/v1/handoffs/{w.a.kpu}/{w.a.kpu}-truck-1", None), lambda w: (w.a.ppk, w.a.kpu)
    ),
    # Its papers, read by either end; the berita acara and receipt wait for its closing (409).
    **{
        (GET, f"/api/v1/handoffs/{{log_id}}/{{handoff_id}}/{paper}"): Case(
            lambda w, paper=paper: (f"/api/v1/handoffs/{w.a.kpu}/{w.a.kpu}-truck-1/{paper}", None),
            lambda w: (w.a.ppk, w.a.kpu), allowed=frozenset({200, 409}),
        )
        for paper in ("manifest", "manifest.pdf", "berita-acara.pdf", "receipt")
    },
    (POST, "/api/v1/handoffs/{log_id}/{handoff_id}/close"): Case(
        lambda w: (f"/api/v1/handoffs/{w.a.kpu}/{_fresh_handoff(w)}/close", None), DISTRICT
    ),
    # The site counted: A's KPU warehouse.
    **{
        (method, f"/api/v1/stocktakes/{{log_id}}/{{stocktake_id}}{tail}"): Case(
            lambda w, tail=tail: (f"/api/v1/stocktakes/{w.a.kpu}/{_fresh_stocktake(w)}{tail}", None), REGENCY
        )
        for method, tail in ((GET, ""), (POST, "/close"), (GET, "/report.pdf"), (GET, "/report.csv"))
    },
    **{
        (GET, f"/api/v1/completeness{tail}"): Case(
            lambda w, tail=tail: (f"/api/v1/completeness{tail}?site={w.a.ppk}", None), DISTRICT
        )
        for tail in ("", "/report.pdf", "/report.csv")
    },
    (GET, "/api/v1/convoys"): Case(lambda w: (f"/api/v1/convoys?site={w.a.kpu}", None), REGENCY),
    (GET, "/api/v1/convoys/sheet.pdf"): Case(lambda w: (f"/api/v1/convoys/sheet.pdf?site={w.a.kpu}", None), REGENCY),
    **{
        (GET, f"/api/v1/{path}"): Case(lambda w, path=path: (f"/api/v1/{path}?site={w.a.ppk}", None), DISTRICT)
        for path in ("returns", "returns/report.pdf", "returns/report.csv", "orphans", "orphans/report.pdf",
                     "orphans/report.csv")
    },
    (GET, "/api/v1/alerts"): Case(lambda w: (f"/api/v1/alerts?log={w.a.kpu}", None), REGENCY),
    (POST, "/api/v1/alerts/{alert_id}/ack"): Case(
        lambda w: (f"/api/v1/alerts/{_fresh_alert(w)}/ack?log={w.a.kpu}", {"reason": "diperiksa"}),
        VILLAGE,
    ),
    (GET, "/api/v1/logs/{log_id}/export"): Case(lambda w: (f"/api/v1/logs/{w.a.kpu}/export", None), REGENCY),
    (GET, "/api/v1/stats/progress"): Case(lambda w: (f"/api/v1/stats/progress?site={w.a.ppk}", None), DISTRICT),
    (POST, "/api/v1/users/{username}/unlock"): Case(
        lambda w: (f"/api/v1/users/{w.owner.username}/unlock", None), VILLAGE
    ),
    (POST, "/api/v1/users/{username}/disable"): Case(
        lambda w: (f"/api/v1/users/{_fresh_officer(w).username}/disable", None), VILLAGE
    ),
    (POST, "/api/v1/users/{username}/enable"): Case(
        lambda w: (f"/api/v1/users/{_fresh_officer(w).username}/enable", None), VILLAGE
    ),
    (POST, "/api/v1/users/import"): Case(lambda w: ("/api/v1/users/import", _officers_csv(w)), VILLAGE, csv=True),
    (GET, "/api/v1/users"): Case(lambda w: ("/api/v1/users", None), NOWHERE),
    (POST, "/api/v1/users/{username}/reset"): Case(
        lambda w: (f"/api/v1/users/{_fresh_officer(w).username}/reset", None), VILLAGE
    ),
    (POST, "/api/v1/users/{username}/enrollment/revoke"): Case(
        lambda w: (f"/api/v1/users/{w.owner.username}/enrollment/revoke", None), VILLAGE
    ),
    (POST, "/api/v1/users/enrollment-sheet"): Case(
        lambda w: (f"/api/v1/users/enrollment-sheet?site={w.a.pps}", None), VILLAGE
    ),
    # A dry run (the default): nothing is disabled.
    (POST, "/api/v1/users/periods/{period}/disable"): Case(
        lambda w: ("/api/v1/users/periods/pemilu-2029/disable", None), NOWHERE
    ),
    # A new password too short: refused after the policy let the caller through.
    (POST, "/api/v1/me/password"): Case(
        lambda w: ("/api/v1/me/password", {"current": "x", "new": "short"}), NOWHERE, allowed=frozenset({422})
    ),
    (GET, "/api/v1/me"): Case(lambda w: ("/api/v1/me", None), NOWHERE),
    (GET, "/api/v1/audit"): Case(lambda w: ("/api/v1/audit", None), NOWHERE),
    (POST, "/api/v1/webhooks"): Case(
        lambda w: ("/api/v1/webhooks", {"url": "https://silog.example/h", "kinds": ["events"], "jurisdiction": w.a.kpu}),
        REGENCY,
    ),
    (GET, "/api/v1/webhooks"): Case(lambda w: ("/api/v1/webhooks", None), NOWHERE),
    (GET, "/api/v1/webhooks/{subscription_id}"): Case(
        lambda w: (f"/api/v1/webhooks/{w.subscription}", None), REGENCY, refused=HIDDEN
    ),
    (DELETE, "/api/v1/webhooks/{subscription_id}"): Case(
        lambda w: (f"/api/v1/webhooks/{_fresh_subscription(w)}", None), REGENCY, refused=HIDDEN
    ),
    (GET, "/api/v1/webhooks/{subscription_id}/deliveries"): Case(
        lambda w: (f"/api/v1/webhooks/{w.subscription}/deliveries", None), REGENCY, refused=HIDDEN
    ),
    # No delivery was made yet: let through, the caller learns there is no delivery 1.
    (POST, "/api/v1/webhooks/{subscription_id}/deliveries/{number}/redeliver"): Case(
        lambda w: (f"/api/v1/webhooks/{w.subscription}/deliveries/1/redeliver", None), REGENCY,
        allowed=frozenset({404}), refused=HIDDEN,
    ),
}  # fmt: skip


def permitted(rule: Rule, person: Person, scopes: frozenset[str], target: str | tuple[str, ...] | None) -> bool:
    """What the table says, read here on its own: the role, an integrator's scope, and
    the target within the person's jurisdiction (for a log: the person's regency's)."""
    if person.role not in rule.roles:
        return False
    if person.role is Role.INTEGRATOR and rule.scope is not None and rule.scope not in scopes:
        return False
    if target is None:
        return True
    if rule.reach is Reach.LOG:
        return person.jurisdiction == "" or person.jurisdiction[:5] == target
    codes = (target,) if isinstance(target, str) else target
    return any(within(code, person.jurisdiction) for code in codes)


def test_every_route_is_public_or_names_one_action(client):
    for key, route in _app_routes(client).items():
        actions = _actions(route) if isinstance(route, APIRoute) else []
        if key in PUBLIC:
            assert actions == [], f"{key} is listed as public but names {actions}"
            continue
        assert len(actions) == 1, f"{key} names {actions or 'no action'}: give it exactly one Permit(...)"
        assert actions[0] in POLICY
        assert key in CASES, f"{key} ({actions[0]}) has no request in the matrix: add a Case"
    assert PUBLIC <= set(_app_routes(client)), PUBLIC - set(_app_routes(client))


def test_every_action_has_a_route(client):
    named = {action for route in _routes(client.app.routes) for action in _actions(route)}
    assert named == set(POLICY), set(POLICY) - named


def test_the_readme_shows_the_table():
    readme = Path(__file__).parent.parent / "README.md"
    assert markdown_table() in readme.read_text(encoding="utf-8")


WHO = sorted({*(r.value for r in Role), *(f"{r.value}-B" for r in Role if r is not Role.ADMIN), "integrator-unscoped"})


@pytest.mark.parametrize("key", sorted(CASES), ids=lambda key: f"{key[0]} {key[1]}")
def test_matrix(client, scene, key):
    """Every role inside (regency A) and outside (regency B) its jurisdiction, and no
    one signed in, against what the table says for the route's action."""
    routes = _app_routes(client)
    assert key in routes, f"{key} is not a route of the app"
    (action,) = _actions(routes[key])
    rule, case = POLICY[action], CASES[key]
    method = key[0]
    for who in [*WHO, "anonymous"]:
        person = scene.people.get(who)
        url, body = case.request(scene)
        headers = person.headers if person else {}
        if case.csv:
            response = client.request(method, url, content=body, headers={**headers, "Content-Type": "text/csv"})
        else:
            response = client.request(method, url, json=body, headers=headers)
        if person is None:
            expected = {401}
        else:
            scopes = SCOPES if who in ("integrator", "integrator-B") else frozenset()
            expected = case.allowed if permitted(rule, person, scopes, case.target(scene)) else case.refused
        assert response.status_code in expected, f"{who} on {action}: {response.status_code} {response.text}"
        if response.status_code in (401, 403):
            assert response.headers["content-type"] == "application/problem+json"


def test_outsiders_see_none_of_the_items(scene):
    listed = scene.people["auditor-B"].get("/api/v1/items").json()["items"]
    assert all(not item["id"].startswith(scene.a.kpu) for item in listed)


def test_an_outsiders_scans_are_refused(scene):
    phone = Phone(scene.people["ppk-B"]).register()
    (result,) = phone.send(phone.scan("receive", scene.a.item(), scene.a.ppk, counterparty=scene.a.kpu))
    assert result["status"] == "rejected"
    assert "outside your jurisdiction" in result["reason"]


def test_a_device_is_revoked_by_its_owner(scene):
    phone = Phone(scene.owner).register()
    revoked = scene.owner.post(f"/api/v1/devices/{scene.a.kpu}/{phone.id}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_index"] is not None


def test_tokens_are_checked(client, scene):
    token = scene.people["kpu"].token
    for bad, words in [
        ("", "no bearer token"),
        ("garbage", "not valid"),
        (token[:-4] + "AAAA", "not valid"),
    ]:
        response = client.get("/api/v1/items", headers={"Authorization": f"Bearer {bad}"} if bad else {})
        assert response.status_code == 401 and words in response.json()["detail"], response.text
        assert response.headers["www-authenticate"] == "Bearer"


def test_sign_in_errors_are_clear(client, scene):
    wrong = client.post("/api/v1/auth/token", data={"username": scene.people["kpu"].username, "password": "nope"})
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant", "error_description": "wrong username or password"}
    unknown = client.post("/api/v1/auth/token", data={"username": "nobody.at.all", "password": "whatever"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"
    missing = client.post("/api/v1/auth/token", data={})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


def test_jwks_publishes_the_token_key(client, scene):
    import jwt

    keys = client.get("/.well-known/jwks.json").json()["keys"]
    token = scene.people["auditor"].token
    header = jwt.get_unverified_header(token)
    (jwk,) = [k for k in keys if k["kid"] == header["kid"]]
    assert (jwk["kty"], jwk["crv"], jwk["alg"]) == ("OKP", "Ed25519", "EdDSA")
    claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["EdDSA"], audience="jejak")
    assert (claims["role"], claims["jur"]) == ("auditor", scene.a.kpu)
