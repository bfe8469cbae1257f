"""The public check page (/v/<item>#<label signature>) as the public meets it: a label
whose signature is forged is called counterfeit while the genuine box's trail stays
proven (finding 9 of issue 23); a changed fragment is checked again without a reload
(8); without JavaScript the trail is there, server-rendered, with a word on why nothing
was checked (10); a wrong address is a page in Bahasa Indonesia, not problem+json.
Browser tests at phone size (360 × 740) in Debian's Chromium; screenshots land in
test-results/ (not committed)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.pages.i18n import MESSAGES
from models.accounts.actor import Role
from models.core.settings import Settings
from models.custody.items import get_item, label_url
from models.runtime import Runtime
from tests.factories import Area, Phone, make_area, make_person
from tests.helpers import PHONE, RESULTS, demo_served, launched_chromium, lowest_contrast, smallest_target

BOX = "53.03.08.2010-001-BUP"  # a Bupati box of Tapenpah, held by PPK Insana in the demo


def _forged(jws: str) -> str:
    """The genuine label's header and payload, signed by a key that is not the KPU's."""
    header, payload, _ = jws.split(".")
    signature = Ed25519PrivateKey.generate().sign(f"{header}.{payload}".encode())
    return f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


# ---- As HTTP answers -------------------------------------------------------------------


def _received_at(client, runtime, area: Area, village: str) -> str:
    """A box for the area's first polling station, registered, then scanned as received
    from the district by the PPS of `village` while the KPU holds it (flagged)."""
    kpu = make_person(client, runtime, Role.KPU, area.kpu)
    body = {"items": [{"kind": "kotak_suara", "destination": area.tps[0], "code": "BUP"}]}
    assert kpu.post("/api/v1/items", json=body).status_code == 201
    box = area.item()
    pps = Phone(make_person(client, runtime, Role.PPS, village)).register()
    pps.send(pps.scan("receive", box, village, counterparty=area.ppk, observed_at="2026-12-06T15:05:00Z"))
    return box


@pytest.fixture
def flagged_box(client, runtime, new_log) -> str:
    """A box whose trail holds a flagged entry: a PPS scans it while the KPU holds it."""
    area = make_area(runtime, new_log.id)
    return _received_at(client, runtime, area, area.pps)


def _trail(html: str) -> str:
    found = re.search(r'<ol id="trail" class="timeline">(.*?)</ol>', html, re.S)
    assert found, "no trail in the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


def test_the_trail_is_in_the_page_without_javascript_in_words_and_the_sites_time(client, flagged_box):
    page = client.get(f"/v/{flagged_box}")
    trail = _trail(page.text)
    assert "Didaftarkan" in trail and "Terima" in trail  # every entry, by its type in words
    assert "belum diperiksa" in trail  # the server's word until the browser checks it
    # The flag in words, not its code; the time as the site's clock reads it (WITA, 24 h).
    assert MESSAGES["id"]["flag_no_dispatch"] in trail or MESSAGES["id"]["flag_not_custodian"] in trail, trail
    assert "no_dispatch" not in trail and "not_custodian" not in trail
    assert "6 Des 2026 23.05 WITA" in trail
    assert "<noscript>" in page.text and MESSAGES["id"]["check_noscript"] in page.text
    english = _trail(client.get(f"/v/{flagged_box}", params={"lang": "en"}).text)
    client.cookies.clear()  # the suite shares one client: not the next test's language
    assert "6 Dec 2026 23:05 WITA" in english and "not checked yet" in english


def test_the_page_names_each_place_beside_its_code_on_the_boxs_route_or_off_it(client, runtime, new_log):
    """The route's names come with the box in one read; a place off its route (a box
    taken to another village) is named too."""
    area = make_area(runtime, new_log.id)
    box = _received_at(client, runtime, area, area.other_pps)
    page = client.get(f"/v/{box}").text
    trail = _trail(page)
    assert f"Desa Lain ({area.other_pps})" in trail and f"Kecamatan ({area.ppk})" in trail, trail
    assert f"Kabupaten {area.kpu} ({area.kpu})" in trail  # where it was registered
    assert f"TPS 001 ({area.tps[0]})" in page  # its destination


@pytest.mark.parametrize(
    ("path", "status"),
    [("/v/", 404), ("/v/53.03/too/many/parts", 404), ("/v/53.03.08.2010-001-BUP?lang=fr", 422)],
)
def test_a_wrong_public_address_is_a_page_in_bahasa_indonesia(client, path, status):
    page = client.get(path)
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html"), page.text[:200]
    assert "about:blank" not in page.text and MESSAGES["id"]["error_page"] in page.text
    assert '<html lang="id">' in page.text


def test_the_api_keeps_its_problems(client):
    answer = client.get("/api/v1/items/not-a-box/history")
    assert answer.headers["content-type"].startswith("application/problem+json")


# ---- In the browser --------------------------------------------------------------------


def _label_path(runtime: Runtime, settings: Settings) -> str:
    with runtime.db.reads() as session:
        link = label_url(settings.public_url, get_item(session, BOX))
    return link[link.index("/v/") :]


@pytest.fixture(scope="module")
def demo(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The seeded demo, served; (base URL, the box's label path)."""
    with demo_served(database_url, tmp_path_factory.mktemp("public"), _label_path) as served:
        yield served


@pytest.fixture(scope="module")
def chromium(demo: tuple[str, str]) -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def phone(chromium: Any, demo: tuple[str, str]) -> Iterator[Any]:
    """A page at phone size; no console error allowed."""
    context = chromium.new_context(viewport=PHONE)
    errors: list[str] = []
    context.on("weberror", lambda e: errors.append(str(e.error)))
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    yield page
    context.close()
    assert errors == []


def _verdict(page: Any, result: str) -> str:
    page.wait_for_selector(f"#verdict[data-result={result}]", timeout=30_000)
    return str(page.locator("#verdict").inner_text())


@pytest.mark.browser
def test_a_forged_label_is_called_counterfeit_and_the_trail_stays_the_genuine_boxs(phone, demo):
    base, path = demo
    prefix, jws = path.split("#")
    phone.goto(f"{base}{prefix}#{_forged(jws)}")
    verdict = _verdict(phone, "counterfeit")
    assert "LABEL PALSU" in verdict and "tanda tangan tidak sah" in verdict
    assert f"riwayat kotak asli {BOX}" in verdict
    entries = phone.locator("#trail li")
    assert entries.count() > 2 and phone.locator("#trail li.ok").count() == entries.count()
    assert "tidak terbukti" not in phone.locator("#trail").inner_text()
    phone.screenshot(path=RESULTS / "public-counterfeit-label.png", full_page=True)


@pytest.mark.browser
def test_a_changed_fragment_is_checked_again_without_a_reload(phone, demo):
    base, path = demo
    prefix, jws = path.split("#")
    phone.goto(base + path)
    assert "Label asli (label ke-1)" in _verdict(phone, "verified")
    phone.evaluate("() => { window.notReloaded = true; }")
    phone.evaluate(f"() => {{ location.hash = {_forged(jws)!r}; }}")
    assert "LABEL PALSU" in _verdict(phone, "counterfeit")
    phone.evaluate(f"() => {{ location.hash = {jws!r}; }}")
    assert "Label asli" in _verdict(phone, "verified")
    assert phone.evaluate("() => window.notReloaded") is True


@pytest.mark.browser
def test_without_javascript_the_trail_is_shown_and_nobody_waits_for_a_check(chromium, demo):
    base, path = demo
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(base + path)
    assert "JavaScript mati" in page.locator("#no-script").inner_text()
    assert page.locator("#trail li").count() > 2
    assert "belum diperiksa" in page.locator("#trail").inner_text()
    assert not page.locator("#verdict").is_visible()  # no "Memeriksa…" forever
    page.screenshot(path=RESULTS / "public-no-javascript.png", full_page=True)
    context.close()


@pytest.mark.browser
def test_the_public_page_has_big_targets_and_readable_contrast(phone, demo):
    base, path = demo
    for where, lang in (("verified", "id"), ("verified", "en")):
        phone.goto(f"{base}{path.replace('#', f'?lang={lang}#')}")
        _verdict(phone, where)
        target, contrast = smallest_target(phone), lowest_contrast(phone)
        print(f"/v/ ({lang}) at 360×740: smallest tap target {target['width']:.0f}×{target['height']:.0f} px "
              f"({target['what'][:60]}), lowest contrast {contrast['ratio']:.2f}:1 ({contrast['what'][:60]})")
        assert target["side"] >= 44, target
        assert contrast["ratio"] >= 4.5, contrast
    phone.screenshot(path=RESULTS / "public-verified-en.png", full_page=True)
