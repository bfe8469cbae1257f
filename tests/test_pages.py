"""The web pages as HTTP answers (their behaviour in a browser is tests/test_web_e2e.py):
languages, security headers, the check page's errors and rate limit, static files, the
scanner's service worker."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.limits import PerClientRate
from api.pages.i18n import MESSAGES
from models.accounts.actor import Role
from tests.factories import Phone, make_area, make_person


@pytest.fixture(autouse=True)
def no_language_cookie(client):
    """The suite shares one client: the language a test chose stays in its cookie jar."""
    client.cookies.clear()
    yield
    client.cookies.clear()


@pytest.fixture
def box(client, runtime, new_log) -> str:
    area = make_area(runtime, new_log.id)
    kpu = make_person(client, runtime, Role.KPU, area.kpu)
    body = {"items": [{"kind": "kotak_suara", "destination": area.tps[0], "code": "BUP"}]}
    assert kpu.post("/api/v1/items", json=body).status_code == 201
    return area.item()


def _words_address(html: str) -> str:
    found = re.search(r'<link rel="preload" id="words" href="(/static/words/[^"]+)" as="fetch" crossorigin>', html)
    assert found
    return found.group(1)


def _messages(client, html: str) -> dict[str, str]:
    """The words a page's scripts fetch (static/js/i18n.js)."""
    return dict(client.get(_words_address(html)).json())


@pytest.mark.parametrize("path", ["/scan", "/dashboard"])
def test_pages_are_indonesian_by_default_english_on_request_and_remembered(client, path):
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="id">' in page.text and _messages(client, page.text) == MESSAGES["id"]
    english = client.get(path, params={"lang": "en"})
    assert '<html lang="en">' in english.text and _messages(client, english.text) == MESSAGES["en"]
    assert english.cookies["jejak_lang"] == "en"
    remembered = client.get(path, cookies={"jejak_lang": "en"})
    assert '<html lang="en">' in remembered.text
    assert client.get(path, params={"lang": "fr"}).status_code == 422


def test_the_words_are_fetched_once_and_kept_not_carried_in_every_page(client, box):
    """On 2G every page carried 8 kB of words; now a phone fetches them once a version."""
    page = client.get(f"/v/{box}", headers={"Accept-Encoding": "gzip"})
    assert "check_intro" not in page.text and int(page.headers["content-length"]) < 4000
    address = _words_address(page.text)
    words = client.get(address, headers={"Accept-Encoding": "gzip"})
    assert words.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert words.headers["content-type"] == "application/json" and words.headers["content-encoding"] == "gzip"
    assert words.json() == MESSAGES["id"]
    # A page cached before a deployment asks for an older version: today's words, revalidated.
    older = client.get("/static/words/id-000000000000.json")
    assert older.json() == MESSAGES["id"] and older.headers["cache-control"] == "no-cache"
    assert client.get("/static/words/fr-000000000000.json").status_code == 404


def test_both_languages_have_every_phrase_with_the_same_placeholders():
    for key, indonesian in MESSAGES["id"].items():
        assert re.findall(r"\{\w+\}", indonesian) == re.findall(r"\{\w+\}", MESSAGES["en"][key]), key


def test_pages_carry_a_strict_content_security_policy(client, box):
    for path in ("/scan", "/dashboard", f"/v/{box}", "/static/js/scanner.js", "/scan/sw.js"):
        response = client.get(path)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'self'" in policy, path
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "http" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        if response.headers["content-type"].startswith("text/html"):
            # No inline script: every <script> loads a file of ours or is JSON data.
            for tag in re.findall(r"<script[^>]*>", response.text):
                assert 'src="/static/' in tag or 'type="application/json"' in tag, tag


def test_the_check_page_names_the_box_and_its_places(client, runtime, box):
    page = client.get(f"/v/{box}")
    assert page.status_code == 200
    assert box in page.text and 'data-log="' + box[:5] + '"' in page.text
    assert "/static/js/check.js" in page.text
    facts = _facts(page.text)
    assert "Terdaftar" in facts and "Sedang dikirim ke" not in facts  # its status, in words
    kpu = Phone(make_person(client, runtime, Role.KPU, box[:5])).register()
    kpu.send(kpu.scan("dispatch", box, box[:5], counterparty=box[:8]))
    facts = _facts(client.get(f"/v/{box}").text)
    assert "Dalam perjalanan" in facts and f"Sedang dikirim ke</dt><dd>Kecamatan ({box[:8]})" in facts


def _facts(html: str) -> str:
    found = re.search(r'<dl class="facts">(.*?)</dl>', html, re.S)
    assert found
    return found.group(1)


@pytest.mark.parametrize(
    ("item", "status", "words"),
    [("53.03.99.9999-999-BUP", 404, "Kotak tidak ditemukan"), ("not-a-box", 400, "bukan nomor barang")],
)
def test_the_check_page_of_an_unknown_or_malformed_box_is_a_page_not_a_500(client, item, status, words):
    page = client.get(f"/v/{item}")
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html") and words in page.text


def test_public_checks_are_rate_limited_per_client(settings, box):
    limited = settings.model_copy(update={"public_checks_per_minute": 3})
    app = create_app(limited, start_background=False)
    try:
        client = TestClient(app)  # no lifespan: the suite's app holds the metrics registry
        answers = [client.get(f"/v/{box}").status_code, client.get(f"/api/v1/items/{box}/history").status_code]
        answers += [client.get(f"/v/{box}").status_code]
        assert answers == [200, 200, 200]
        page = client.get(f"/v/{box}")
        assert page.status_code == 429 and int(page.headers["retry-after"]) >= 1
        assert "Terlalu banyak permintaan" in page.text
        api = client.get(f"/api/v1/items/{box}/history")
        assert api.status_code == 429 and api.headers["content-type"] == "application/problem+json"
        # Other pages are not public checks.
        assert client.get("/scan").status_code == 200
    finally:
        app.state.runtime.close()


def test_a_token_bucket_refills_with_time(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("api.limits.time.monotonic", lambda: now[0])
    rate = PerClientRate(per_minute=2, max_clients=2)
    assert [rate.take("a"), rate.take("a")] == [0, 0]
    assert rate.take("a") == pytest.approx(30)  # one request every 30 s
    assert rate.take("b") == 0  # another address has its own bucket
    now[0] += 30
    assert rate.take("a") == 0
    rate.take("c")  # a third address: the least recently seen ("b") is forgotten
    assert list(rate._buckets) == ["a", "c"]


def test_static_files_are_served_with_their_licences_and_nothing_outside(client):
    module = client.get("/static/js/jcs.js")
    assert module.status_code == 200 and module.headers["content-type"].startswith("text/javascript")
    assert "Apache License" in client.get("/static/vendor/jsQR.LICENSE").text
    licence = client.get("/static/vendor/noble-ed25519.LICENSE")
    assert "MIT License" in licence.text and licence.headers["content-type"].startswith("text/plain")
    manifest = client.get("/static/scan.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    assert manifest.json()["start_url"] == "/scan"
    for escape in ("/static/../pages/endpoints.py", "/static/%2e%2e/pages/endpoints.py", "/static/js", "/static/nope.js"):
        assert client.get(escape).status_code == 404, escape


def test_static_files_are_revalidated_on_each_use(client):
    style = client.get("/static/jejak.css")
    assert style.headers["cache-control"] == "no-cache"
    again = client.get("/static/jejak.css", headers={"If-None-Match": style.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_the_service_worker_precaches_the_shell_under_the_scanner_scope(client):
    worker = client.get("/scan/sw.js")
    assert worker.status_code == 200 and worker.headers["service-worker-allowed"] == "/scan"
    version = re.search(r'const VERSION = "([0-9a-f]{16})";', worker.text)
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", worker.text).group(1))
    assert version and shell[0] == "/scan"
    for asset in ("/static/js/scanner.js", "/static/vendor/jsQR.js", "/static/jejak.css", "/static/icons/icon-192.png"):
        assert asset in shell
    # Both languages' words, as the page names them: the scanner opens offline in either.
    for lang in ("id", "en"):
        assert _words_address(client.get("/scan", params={"lang": lang}).text) in shell
    assert all(client.get(asset).status_code == 200 for asset in shell)


def test_pages_and_static_files_are_gzipped_the_api_is_not(client):
    """The scanner's first visit on 2G/3G: pages and their files travel compressed."""
    for path in ("/scan", "/static/js/scanner.js", "/static/jejak.css", "/scan/sw.js"):
        answer = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200 and answer.headers.get("content-encoding") == "gzip", path
    assert "content-encoding" not in client.get("/api/v1/logs", headers={"Accept-Encoding": "gzip"}).headers
    assert "content-encoding" not in client.get("/scan", headers={"Accept-Encoding": "identity"}).headers


def test_the_service_worker_keeps_only_the_scanners_files(client):
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", client.get("/scan/sw.js").text).group(1))
    assert "/static/js/outbox.js" in shell and "/static/js/jcs.js" in shell  # scanner.js's imports, and theirs
    for other in ("/static/js/dashboard.js", "/static/js/check.js", "/static/js/charts.js", "/static/vendor/jsQR.LICENSE"):
        assert other not in shell
    page = client.get("/scan").text
    assert "jsQR" not in page  # the decoder is fetched when the camera first opens


def test_the_scanner_knows_each_provinces_time_zone(client):
    """The scanner's clock: NTT (53) and Bali (51) are WITA, the default; Java WIB, Papua WIT."""
    zones = json.loads(re.search(r'<script type="application/json" id="zones">(.*?)</script>', client.get("/scan").text).group(1))
    assert zones.get("53", zones["default"]) == ["Asia/Makassar", "WITA"] and "51" not in zones
    assert zones["31"] == ["Asia/Jakarta", "WIB"] and zones["94"] == ["Asia/Jayapura", "WIT"]
