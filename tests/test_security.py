"""Hostile input and access: forged and misused tokens, password guessing, oversized
bodies and batches, injection through every filter, tricks in tile paths, CORS and the
security headers, rate limits on the public reads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from urllib.parse import quote, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from ledger.jws import thumbprint
from pydantic import ValidationError

from api import paging
from api.app import create_app
from models.accounts.actor import Role
from models.accounts.trail import list_records
from models.core.settings import Settings
from tests.factories import PASSWORD, Phone, make_person


@pytest.fixture(scope="module", autouse=True)
def box_on_the_road(world) -> None:
    """A box of regency A dispatched on a truck: what no one of B may find, whatever
    they send."""
    a, _, people = world
    kpu = Phone(people["kpu"]).register()
    body = {"items": [{"kind": "kotak_suara", "destination": a.tps[0], "code": "BUP"}]}
    assert people["kpu"].post("/api/v1/items", json=body).status_code == 201
    kpu.send(kpu.scan("dispatch", a.item(), a.kpu, counterparty=a.ppk, handoff=f"{a.kpu}-truck-1"))


@contextmanager
def own_app(settings: Settings, address: str = "testclient", **changes) -> Iterator[TestClient]:
    """An app of the test's own, so its limits and counters are its own; its start-up
    (the metrics collector) the session's app has done."""
    app = create_app(settings.model_copy(update=changes), start_background=False)
    try:
        yield TestClient(app, client=(address, 50000))
    finally:
        app.state.runtime.close()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, sign: Callable[[bytes], bytes]) -> str:
    signed = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signed}.{_b64(sign(signed.encode()))}"


def answer(client: TestClient, token: str):
    return client.get("/api/v1/items", headers={"Authorization": f"Bearer {token}"})


# --- Tokens -----------------------------------------------------------------------------


def test_forged_tokens_are_refused(client, app_runtime, world):
    a, b, people = world
    real = people["kpu"].token
    header, claims = jwt.get_unverified_header(real), jwt.decode(real, options={"verify_signature": False})
    public = app_runtime.keys.token_key().public_key()
    spki = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    forgeries = {
        "alg none": forge({**header, "alg": "none"}, claims, lambda _: b""),
        "alg none, admin": forge({**header, "alg": "none"}, {**claims, "role": "admin", "jur": ""}, lambda _: b""),
        # The classic confusion: an HMAC keyed with the public key, in each form it is published.
        **{
            f"HS256 keyed with the public key ({form})": forge(
                {**header, "alg": "HS256"}, {**claims, "role": "admin"},
                lambda data, key=key: hmac.new(key, data, hashlib.sha256).digest(),
            )
            for form, key in [("raw", public.public_bytes_raw()), ("PEM", spki),
                              ("JWK x", _b64(public.public_bytes_raw()).encode())]
        },
        # A real signature over other claims.
        "claims changed after signing": ".".join(
            [real.split(".")[0], _b64(json.dumps({**claims, "role": "admin", "jur": ""}).encode()), real.split(".")[2]]
        ),
    }
    for name, token in forgeries.items():
        response = answer(client, token)
        assert response.status_code == 401, f"{name}: {response.text}"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"


def test_tokens_by_another_key_or_for_another_service_are_refused(client, app_runtime, world):
    a, b, people = world
    claims = jwt.decode(people["kpu"].token, options={"verify_signature": False})
    key = app_runtime.keys.token_key()
    kid = thumbprint(key.public_key())
    stranger = Ed25519PrivateKey.generate()
    now = int(time.time())
    cases = {
        "another key, our kid": (stranger, kid, {}, "not valid"),
        "another key, its own kid": (stranger, thumbprint(stranger.public_key()), {}, "a key this service does not use"),
        "expired": (key, kid, {"iat": now - 3600, "exp": now - 60}, "expired"),
        "another audience": (key, kid, {"aud": "silog"}, "not valid"),
        "another issuer": (key, kid, {"iss": "jejak.evil.example"}, "not valid"),
        "no expiry": (key, kid, {"exp": None}, "not valid"),
    }
    for name, (signer, key_id, changes, words) in cases.items():
        payload = {k: v for k, v in {**claims, **changes}.items() if v is not None}
        token = jwt.encode(payload, signer, algorithm="EdDSA", headers={"kid": key_id})
        response = answer(client, token)
        assert response.status_code == 401 and words in response.json()["detail"], f"{name}: {response.text}"
    # The same claims, properly signed, pass: the refusals above are the changes' doing.
    assert answer(client, jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})).status_code == 200


def test_a_token_of_another_jurisdiction_reads_nothing_here(world):
    a, b, people = world
    outsider = people["kpu-B"]
    assert outsider.get(f"/api/v1/items/{a.item()}").status_code == 403
    assert outsider.get("/api/v1/events", params={"log": a.kpu}).status_code == 403
    assert outsider.get("/api/v1/export/custody.csv", params={"site": a.ppk}).status_code == 403
    listed = outsider.get("/api/v1/items").json()["items"]
    assert listed == [] or all(item["id"].startswith(b.kpu) for item in listed)


# --- Password guessing ------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2id_at_rfc_9106s_cost(light_passwords):
    """Production's hasher (the tests' own process uses a light one: conftest.py):
    Argon2id, 64 MiB, 3 passes, 4 lanes, RFC 9106's second recommended option."""
    stored = light_passwords.hash("a long passphrase")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), stored
    assert light_passwords.verify(stored, "a long passphrase")


def sign_in(client: TestClient, username: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(client, runtime, settings, world):
    a, b, people = world
    victim = make_person(client, runtime, Role.PPS, a.pps)
    with own_app(settings, "10.1.0.1", sign_in_max_failures=3, sign_in_lock_minutes=15) as guarded:
        for _ in range(3):
            assert sign_in(guarded, victim.username, "guess-" + uuid.uuid4().hex).status_code == 400
        locked = sign_in(guarded, victim.username, PASSWORD)  # even the right password
        assert locked.status_code == 423, locked.text
        assert "locked until" in locked.json()["detail"]
        assert 14 * 60 < int(locked.headers["retry-after"]) <= 15 * 60
        with runtime.db.reads() as session:
            (lock,) = list_records(session, jurisdiction="", action="user.lock", target=victim.username,
                                   before=None, limit=10)
            assert (lock.actor_id, lock.jurisdiction, lock.details["failures"]) == (None, a.pps, 3)

        # A KPU of another regency, or a village officer, may not lift it; its own KPU may.
        path = f"/api/v1/users/{victim.username}/unlock"
        assert people["kpu-B"].post(path).status_code == 403
        assert people["pps"].post(path).status_code == 403
        assert client.post(path).status_code == 401
        assert people["kpu"].post("/api/v1/users/no.such.user/unlock").status_code == 404
        unlocked = people["kpu"].post(path)
        assert unlocked.status_code == 200 and unlocked.json()["locked_until"] is None, unlocked.text
        assert sign_in(guarded, victim.username, PASSWORD).status_code == 200
        with runtime.db.reads() as session:
            (record,) = list_records(session, jurisdiction=a.kpu, action="user.unlock", target=victim.username,
                                     before=None, limit=10)
            assert (record.actor_id, record.actor_role) == (people["kpu"].id, "kpu")


def test_a_right_password_forgets_the_wrong_ones(client, runtime, settings, world):
    a, b, people = world
    officer = make_person(client, runtime, Role.PPS, a.pps)
    with own_app(settings, "10.1.0.2", sign_in_max_failures=3) as guarded:
        for attempt in ["x-wrong-1", "x-wrong-2", PASSWORD, "x-wrong-3", "x-wrong-4"]:
            expected = 200 if attempt == PASSWORD else 400
            assert sign_in(guarded, officer.username, attempt).status_code == expected
        assert sign_in(guarded, officer.username, PASSWORD).status_code == 200


def test_failed_sign_ins_are_limited_per_address(client, runtime, settings, world):
    a, b, people = world
    officer = make_person(client, runtime, Role.PPS, a.pps)
    with own_app(settings, "10.1.0.3", sign_in_failures_per_minute=3) as guesser:
        # Guessing across accounts (password spraying) is what the per-account lock misses.
        for n in range(3):
            assert sign_in(guesser, f"someone.{n}", "password123").status_code == 400
        refused = sign_in(guesser, officer.username, PASSWORD)
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["content-type"] == "application/problem+json"
        # Another address, and successful sign-ins before the limit, are not affected.
        other = TestClient(guesser.app, client=("10.1.0.4", 50000))
        assert sign_in(other, officer.username, PASSWORD).status_code == 200
    with own_app(settings, "10.1.0.5", sign_in_failures_per_minute=3) as busy_office:
        for _ in range(10):
            assert sign_in(busy_office, officer.username, PASSWORD).status_code == 200


# --- Oversized bodies and batches -------------------------------------------------------


def test_bodies_over_the_limit_are_refused_with_413(settings, world):
    a, b, people = world
    headers = {**people["kpu"].headers, "Content-Type": "application/json"}
    with own_app(settings, max_body_bytes=4096) as small:
        body = json.dumps({"scans": [{"scan": {"pad": "x" * 5000}, "sig": ""}]}).encode()
        declared = small.post("/api/v1/events", content=body, headers=headers)
        assert declared.status_code == 413, declared.text
        assert declared.headers["content-type"] == "application/problem+json"
        assert "at most 4,096 bytes" in declared.json()["detail"]
        # Streamed in chunks, with no Content-Length to refuse it by.
        streamed = small.post("/api/v1/events", content=iter([body[:3000], body[3000:]]), headers=headers)
        assert streamed.status_code == 413 and "content-length" not in streamed.request.headers
        # The sign-in form and the CSV upload have the same ceiling.
        form = small.post("/api/v1/auth/token", data={"username": "x", "password": "p" * 5000})
        assert form.status_code == 413
        csv_body = "kind,destination,code\n" + f"kotak_suara,{a.tps[0]},BUP\n" * 200
        upload = small.post("/api/v1/items", content=csv_body, headers={**headers, "Content-Type": "text/csv"})
        assert upload.status_code == 413


def test_batches_over_their_count_are_refused(world):
    a, b, people = world
    kpu = people["kpu"]
    scans = kpu.post("/api/v1/events", json={"scans": [{"scan": {}, "sig": ""}] * 1001})
    assert scans.status_code == 422 and "1000" in scans.text
    items = [{"kind": "kotak_suara", "destination": a.tps[0], "code": f"C{n:04d}"} for n in range(1001)]
    assert kpu.post("/api/v1/items", json={"items": items}).status_code == 422


def test_bodies_built_to_hurt_the_parser_are_4xx(world):
    a, b, people = world
    headers = {**people["kpu"].headers, "Content-Type": "application/json"}
    for path in ("/api/v1/events", "/api/v1/items", "/api/v1/devices", "/api/v1/webhooks"):
        for body in ("[" * 100_000, '{"scans": ' * 50_000, "\x00", '{"a": 1e999999}', "\ud800", "{}" * 10):
            response = people["kpu"].post(path, content=body.encode("utf-8", "surrogatepass"), headers=headers)
            assert 400 <= response.status_code < 500, f"{path} {body[:20]!r}: {response.status_code} {response.text}"


# --- Injection through the filters ------------------------------------------------------

def hostile(regency: str) -> list[str]:
    """Values meant to break out of a filter, many of them aimed at `regency`'s rows."""
    return [
        "' OR '1'='1",
        f"{regency}' --",
        f"{regency}'; DROP TABLE users; --",
        "%",
        "_",
        f"{regency[:-1]}_",
        f"{regency}%",
        f"{regency}\x00",
        "\x00",
        regency.translate(FULL_WIDTH),  # full-width digits: \d matches them
        f"{regency}\u200b",
        "😀",
        "x" * 10_000,
        "-1",
        str(2**70),
        "1e308",
        "NaN",
        "../../etc/passwd",
        "2024-01-01T00:00:00",  # a time without its zone
    ]


FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")
FILTERS = {
    "/api/v1/items": ["bound_for", "site", "status", "custodian", "contest", "cursor", "limit"],
    "/api/v1/events": ["log", "item", "site", "actor", "type", "since", "until", "cursor", "limit"],
    "/api/v1/alerts": ["log", "state", "rule", "severity", "item", "site", "cursor", "limit"],
    "/api/v1/export/epcis": ["log", "GE_eventTime", "LT_eventTime", "EQ_bizStep", "MATCH_epc",
                             "EQ_bizLocation", "WD_bizLocation", "cursor", "limit"],
    "/api/v1/export/events.csv": ["log", "item", "site", "actor", "type", "since", "until"],
    "/api/v1/export/custody.csv": ["site"],
    "/api/v1/reports/custody.pdf": ["site"],
    "/api/v1/labels.pdf": ["site"],
    "/api/v1/stats/progress": ["site", "log"],
    "/api/v1/webhooks": ["cursor", "limit"],
    "/api/v1/audit": ["action", "target", "cursor", "limit"],
}


def _cursors(regency: str) -> list[str]:
    """Well-formed cursors carrying hostile keys: past the base64, into the query."""
    naive = datetime(2024, 1, 1).isoformat()
    return [paging.encode(key) for key in (
        ["' OR 1=1 --"], [regency, "' OR 1=1 --"], [2**70], [-(2**70)], [naive, str(uuid.uuid4())],
        ["2024-01-01T00:00:00+00:00", "not-a-uuid"], ["\x00"], [None], [],
    )]  # fmt: skip


@pytest.mark.parametrize("who", ["kpu-B", "auditor-B"])
def test_hostile_filters_are_refused_or_find_nothing_of_another_regency(world, who):
    a, b, people = world
    person = people[who]
    for path, params in FILTERS.items():
        for param in params:
            for value in hostile(a.kpu) + (_cursors(a.kpu) if param == "cursor" else []):
                response = person.get(path, params={param: value})
                where = f"{who} GET {path}?{param}={value[:40]!r}"
                assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
                if response.status_code == 200:
                    # Never a row of regency A, whatever the filter said.
                    assert a.kpu + "." not in response.text and a.item() not in response.text, where


def test_hostile_values_in_the_public_log_reads_are_4xx(client, world):
    a, b, people = world
    reads = {
        f"/api/v1/logs/{a.kpu}/entries": ["start", "end"],
        f"/api/v1/logs/{a.kpu}/proof/inclusion": ["index", "tree_size"],
        f"/api/v1/logs/{a.kpu}/proof/consistency": ["first", "second"],
        "/api/v1/sites": ["parent", "under", "level", "cursor", "limit"],
    }
    for path, params in reads.items():
        for param in params:
            for value in hostile(a.kpu) + _cursors(a.kpu) + [str(2**63), str(-(2**63) - 1)]:
                response = client.get(path, params={param: value})
                assert response.status_code < 500, f"{path}?{param}={value[:40]!r}: {response.text[:300]}"
    for item in hostile(a.kpu):
        response = client.get(f"/api/v1/items/{quote(item, safe='')}/history")
        assert response.status_code < 500, f"history of {item[:40]!r}: {response.text[:300]}"


# --- Tile paths -------------------------------------------------------------------------


def raw_get(base: str, path: str) -> tuple[int, bytes]:
    """GET a path exactly as written: no client normalizes it first."""
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_tricks_in_tile_paths_reach_no_file_and_no_error(live_server, world):
    a, b, people = world
    log = a.kpu
    status, bundle = raw_get(live_server, f"/logs/{log}/tile/entries/000.p/3")
    assert status == 200 and len(bundle) > 0  # the path itself works
    # Encoded slashes are decoded before routing: the same tile, nothing beside it.
    assert raw_get(live_server, f"/logs/{log}/tile/entries%2F000.p%2F3") == (200, bundle)
    assert raw_get(live_server, f"/logs/{log}/tile/entries/000.p/3?x=../../etc/passwd") == (200, bundle)
    tricks = [
        f"/logs/{log}/tile/../../etc/passwd",
        f"/logs/{log}/tile/..%2F..%2F..%2Fetc%2Fpasswd",
        f"/logs/{log}/tile/%2e%2e/%2e%2e/etc/passwd",
        f"/logs/{log}/tile/0%2F..%2F..%2Fcheckpoint",
        f"/logs/{log}/tile/0/x001/../000.p/3",
        f"/logs/{log}/tile/entries/x001/../../../../etc/passwd",
        f"/logs/{log}/tile/0/-1",
        f"/logs/{log}/tile/0/x-01/000",
        f"/logs/{log}/tile/0/{'9' * 30}",
        f"/logs/{log}/tile/0/" + "x999/" * 12 + "999",
        f"/logs/{log}/tile/99/000",
        f"/logs/{log}/tile/-1/000",
        f"/logs/{log}/tile/0/000.p/0",
        f"/logs/{log}/tile/0/000.p/257",
        f"/logs/{log}/tile/entries/000.p/-5",
        f"/logs/{log}/tile/entries/000%00",
        "/logs/..%2F..%2Fetc/tile/0/000",
        "/logs/../../etc/passwd",
        f"/logs/{log}/tile//etc/passwd",
        f"/logs/{log}/tile/entries/" + "0" * 5000,
    ]
    for path in tricks:
        status, body = raw_get(live_server, path)
        assert status in (400, 404, 422), f"{path[:80]}: {status} {body[:200]!r}"
        assert b"root:" not in body


# --- CORS and security headers ----------------------------------------------------------

SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def test_no_other_origin_is_allowed_by_default(client):
    preflight = client.options(
        "/api/v1/items", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    simple = client.get("/api/v1/logs", headers={"Origin": "https://evil.example"})
    assert simple.status_code == 200 and "access-control-allow-origin" not in simple.headers


def test_configured_origins_get_their_preflight_answered(settings, world):
    a, b, people = world
    with own_app(settings, cors_origins=("https://dasbor.bawaslu.example",)) as app:
        preflight = app.options("/api/v1/items", headers={
            "Origin": "https://dasbor.bawaslu.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        })  # fmt: skip
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://dasbor.bawaslu.example"
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        assert {"GET", "POST", "DELETE"} <= set(preflight.headers["access-control-allow-methods"].split(", "))
        assert "access-control-allow-credentials" not in preflight.headers  # bearer tokens, no cookies
        other = app.options("/api/v1/items", headers={
            "Origin": "https://dasbor.bawaslu.example.evil.example", "Access-Control-Request-Method": "GET",
        })  # fmt: skip
        assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
        read = app.get("/api/v1/items", headers={**people["kpu"].headers, "Origin": "https://dasbor.bawaslu.example"})
        assert read.status_code == 200
        assert read.headers["access-control-allow-origin"] == "https://dasbor.bawaslu.example"
        assert "Retry-After" in read.headers["access-control-expose-headers"]
        assert "Origin" in read.headers["vary"]


@pytest.mark.parametrize(
    "origins, ok",
    [("https://a.example, http://localhost:3000", True), ("https://a.example/path", False), ("*", False),
     ("a.example", False), ("https://*.example", False)],
)  # fmt: skip
def test_cors_origins_are_checked_when_configured(monkeypatch, origins, ok):
    monkeypatch.setenv("JEJAK_CORS_ORIGINS", origins)
    if ok:
        assert Settings().cors_origins == ("https://a.example", "http://localhost:3000")
    else:
        with pytest.raises(ValidationError, match="JEJAK_CORS_ORIGINS"):
            Settings()


def test_every_answer_carries_the_security_headers(client, settings, world):
    a, b, people = world
    answers = {
        "JSON": client.get("/api/v1/logs"),
        "problem 401": client.get("/api/v1/items"),
        "problem 422": client.get("/api/v1/sites", params={"level": "nope"}),
        "no route": client.get("/nothing/here"),
        "wrong method": client.put("/api/v1/logs"),
        "tile": client.get(f"/logs/{a.kpu}/tile/entries/000.p/3"),
        "checkpoint": client.get(f"/logs/{a.kpu}/checkpoint"),
        "page": client.get("/scan"),
        "static": client.get("/static/jejak.css"),
        "metrics": client.get("/metrics"),
        "refused preflight": client.options(
            "/api/v1/items", headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"}
        ),
    }
    with own_app(settings, max_body_bytes=1024) as small:
        answers["413"] = small.post("/api/v1/events", content=b"x" * 2048, headers=people["kpu"].headers)
    for name, response in answers.items():
        for header, value in SECURITY.items():
            assert response.headers.get(header) == value, f"{name} ({response.status_code}): {header}"
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy, name
        assert "unsafe-inline" not in policy, name
        assert "strict-transport-security" not in response.headers, name  # not outside production


def test_the_api_docs_page_runs_only_its_own_inline_script(client):
    page = client.get("/docs")
    assert page.status_code == 200
    policy = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
    inline = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    assert inline, "the docs page starts Swagger UI from an inline script"
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"]
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
    assert policy["frame-ancestors"] == "'none'" and policy["default-src"] == "'none'"
    assert client.get("/docs").headers["content-security-policy"] == page.headers["content-security-policy"]


def test_production_answers_insist_on_https(settings):
    production = {"environment": "production", "host": "jejak.kpu.example", "public_url": "https://jejak.kpu.example"}
    with own_app(settings, **production) as app:
        response = app.get("/healthz")
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert int(response.headers["strict-transport-security"].split("=")[1]) >= 31536000


# --- Rate limits on public reads --------------------------------------------------------


def test_public_reads_are_limited_per_address_and_tiles_are_not(settings, world):
    a, b, people = world
    with own_app(settings, "10.2.0.1", public_checks_per_minute=2) as phone:
        assert phone.get(f"/api/v1/items/{a.item()}/history").status_code == 200
        assert phone.get(f"/v/{a.item()}").status_code == 200  # the check page shares the budget
        refused = phone.get(f"/api/v1/items/{a.item()}/history")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1, refused.text
        assert phone.get(f"/v/{a.item()}").status_code == 429
        neighbour = TestClient(phone.app, client=("10.2.0.2", 50000))
        assert neighbour.get(f"/api/v1/items/{a.item()}/history").status_code == 200
        # Tiles and checkpoints are cheap, cacheable reads that mirrors fetch in bulk.
        for _ in range(10):
            assert phone.get(f"/logs/{a.kpu}/tile/entries/000.p/3").status_code == 200
            assert phone.get(f"/logs/{a.kpu}/checkpoint").status_code == 200


def test_the_openapi_document_declares_what_answers_say(client):
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert "$defs" not in json.dumps(spec["paths"])
    token = spec["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert {"400", "401", "413", "422", "423", "429"} <= set(token)
    assert "Retry-After" in token["429"]["headers"] and "Retry-After" in token["423"]["headers"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                oauth = path == "/api/v1/auth/token" and status in ("400", "401")  # RFC 6749 §5.2 bodies
                if status >= "400" and path != "/readyz" and not oauth:
                    assert "application/problem+json" in response["content"], (method, path, status)
            if operation.get("security"):
                assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_an_unsupported_method_names_every_method_of_its_path(client):
    response = client.put("/api/v1/items")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) >= {"GET", "POST"}
