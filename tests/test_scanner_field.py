"""The scanner (/scan) and its sign-in as an officer in the field uses them, in Debian's
Chromium at 360 × 740 (issue 23, findings 1-7): seals required and read by the camera, a
failed lookup closing the form, a failed upload saying so, words rather than codes and
English, the first visit's weight, tap targets and contrast.

The demo of Timor Tengah Utara is served by the real service; the phone's fake camera
shows the seals of the box (their QR codes in turn), and the box's label is read from a
photo. Screenshots land in test-results/ (a CI artifact, not committed)."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import qrcode

from models.accounts.actor import Role
from models.accounts.users import create_user
from models.core.settings import Settings
from models.runtime import Runtime
from scripts import seed_demo
from tests.helpers import (
    CAMERA, PHONE, RESULTS, PhonePage, demo_served, fake_camera, launched_chromium, lowest_contrast, smallest_target,
)

pytestmark = pytest.mark.browser

SHOTS = RESULTS / "scanner"
BOX = "53.03.08.2010-001-BUP"  # bound for Tapenpah, whose PPS the test adds
VILLAGE = "53.03.08.2010"
PPK = "ppk.insana"
FIRST_VISIT_BUDGET = 300 * 1024  # bytes: page and service-worker precache together
TIME = re.compile(r"\b\d{2}\.\d{2} WITA\b")  # 24-hour, Timor's zone


@dataclass
class Box:
    id: str
    label_png: Path  # a photo of its label, as the API prints it
    seals: list[str]
    village: str  # the name of the village it is bound for


@dataclass
class Field:
    base: str
    boxes: list[Box]  # boxes PPK Insana holds, one for each test that signs for one
    elsewhere: str  # a box outside PPK Insana's district


def _qr(text: str, path: Path) -> Path:
    qrcode.make(text, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8).save(path)
    return path


def _pps_of_tapenpah(runtime: Runtime, settings: Settings) -> None:
    with runtime.db.session(write=True) as session:
        create_user(session, username="pps.tapenpah", password=seed_demo.PASSWORD, role=Role.PPS, jurisdiction=VILLAGE)


@pytest.fixture(scope="module")
def field(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Field]:
    tmp = tmp_path_factory.mktemp("field")
    with demo_served(database_url, tmp, _pps_of_tapenpah) as (base, _):
        token = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": "kpu.ttu", "password": seed_demo.PASSWORD}
        ).json()["access_token"]
        kpu = {"Authorization": f"Bearer {token}"}
        held = httpx.get(f"{base}/api/v1/items", params={"custodian": "53.03.08", "status": "held", "limit": 4}, headers=kpu).json()["items"]
        warehouse = httpx.get(f"{base}/api/v1/items", params={"custodian": "53.03", "limit": 1}, headers=kpu).json()["items"]
        assert len(held) == 4 and not warehouse[0]["id"].startswith("53.03.08"), (held, warehouse)
        boxes = []
        for item in held:
            label = tmp / f"{item['id']}.png"
            label.write_bytes(httpx.get(f"{base}/api/v1/items/{item['id']}/label.png", headers=kpu).content)
            village = httpx.get(f"{base}/api/v1/sites/{item['destination'][:13]}").json()["name"]
            boxes.append(Box(item["id"], label, item["seals"], village))
        yield Field(base, boxes, warehouse[0]["id"])


@pytest.fixture(scope="module")
def browser(field: Field, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Chromium whose camera shows the first box's seals, one QR code after the other."""
    tmp = tmp_path_factory.mktemp("camera")
    seals = [_qr(seal, tmp / f"seal-{i}.png").read_bytes() for i, seal in enumerate(field.boxes[0].seals)]
    video = fake_camera(seals, tmp / "seals.y4m", fps=2)
    with launched_chromium(*CAMERA, f"--use-file-for-fake-video-capture={video}") as chromium:
        SHOTS.mkdir(parents=True, exist_ok=True)
        yield chromium


@pytest.fixture
def phone(browser: Any, field: Field) -> Iterator[PhonePage]:
    opened = PhonePage(browser, field.base, None, SHOTS)
    yield opened
    opened.close()


def _signed_in(phone: PhonePage, username: str = PPK) -> Any:
    phone.open("/scan")
    phone.sign_in(username)
    phone.page.wait_for_selector("body[data-ready]")
    return phone.page


def _read_label(page: Any, box: Box) -> Any:
    page.set_input_files("#photo", box.label_png)
    return page.wait_for_selector("#scan:not([hidden])")


def test_seals_are_required_and_read_by_the_camera_two_taps_from_the_label(phone, field):
    """Finding 1: a dispatch with no seal is refused in words, nothing signed; with the
    camera reading the seals, a decoded label is a queued scan in two taps."""
    page = _signed_in(phone)
    _read_label(page, field.boxes[0])
    form = page.locator("#scan")
    assert form.locator("select[name=type]").input_value() == "dispatch"
    form.locator("button[type=submit]").click()
    missing = page.locator("#seals-missing")
    assert missing.is_visible() and "Nomor segel wajib" in missing.inner_text()
    assert page.locator("#outbox li[data-event]").count() == 0  # nothing signed
    said, head = missing.bounding_box(), page.locator("#chosen").bounding_box()
    assert said and head and head["y"] + head["height"] <= said["y"] <= 740, (head, said)  # in view, not under the box's head
    page.screenshot(path=SHOTS / "field-seals-required.png")  # what the screen shows

    _read_label(page, field.boxes[0])  # the label read again: count the taps from here
    taps = 0
    page.click("#scan-seal")  # 1: the camera reads the seals, one after the other
    taps += 1
    page.wait_for_function(
        "(seals) => seals.every((s) => document.querySelector('#seals').value.includes(s))", arg=field.boxes[0].seals
    )
    assert page.locator("#video").is_hidden()  # every recorded seal read: the camera stopped
    phone.shot("field-seals-read")
    form.locator("button[type=submit]").click()  # 2: signed and queued
    taps += 1
    sent = page.locator("#outbox li[data-state=logged], #outbox li[data-state=sent]")
    sent.first.wait_for(timeout=15_000)
    assert taps == 2
    assert "Catatan" not in sent.first.inner_text()  # no seal_mismatch flag
    assert "Kirim kotak" in sent.first.inner_text()


def test_a_failed_lookup_closes_the_form_and_says_why(phone, field):
    """Finding 2: the chosen box stays in view down to the signature; a box outside one's
    area, or none, closes the previous box's form and says so in words."""
    page = _signed_in(phone)
    page.fill("#typed input[name=box]", field.boxes[0].id)
    page.click("#typed button")
    page.wait_for_selector("#scan:not([hidden])")
    page.locator("#scan button[type=submit]").scroll_into_view_if_needed()
    chosen = page.locator("#chosen")
    box = chosen.bounding_box()
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= 740, box  # in view at the signature
    assert field.boxes[0].id in chosen.inner_text() and field.boxes[0].village in chosen.inner_text()
    phone.shot("field-chosen-box-in-view")

    page.fill("#typed input[name=box]", field.elsewhere)
    page.click("#typed button")
    page.wait_for_selector("#verdict.bad")
    verdict = page.locator("#verdict").inner_text()
    assert "di luar wilayah Anda" in verdict and "53.03.08 Insana" in verdict, verdict
    assert page.locator("#scan").is_hidden()
    phone.shot("field-outside-area")

    page.fill("#typed input[name=box]", field.boxes[0].id)
    page.click("#typed button")
    page.wait_for_selector("#scan:not([hidden])")
    page.fill("#typed input[name=box]", "53.03.08.2010-001-XYZ")
    page.click("#typed button")
    page.wait_for_selector("#verdict.bad")
    assert "tidak terdaftar" in page.locator("#verdict").inner_text()
    assert page.locator("#scan").is_hidden()
    phone.forgive("Failed to load resource")  # the 403 and 404 asked for


def _problem(route: Any, status: int, code: str) -> None:
    route.fulfill(status=status, json={"type": "about:blank", "status": status, "detail": "x", "code": code},
                  headers={"Content-Type": "application/problem+json"})  # fmt: skip


def _refused(route: Any, code: str, reason: str) -> None:
    """The service's answer refusing each scan sent, as it answers a scan it judged."""
    scans = route.request.post_data_json["scans"]
    results = [{"event_id": s["scan"]["event_id"], "status": "rejected", "reason": reason, "reason_code": code,
                "resend": False, "flags": []} for s in scans]  # fmt: skip
    route.fulfill(status=200, json={"results": results})


def _report_incident(page: Any) -> None:
    """An incident on the box bound for Tapenpah (its id typed), signed and queued."""
    page.fill("#typed input[name=box]", BOX)
    page.click("#typed button")
    page.wait_for_selector("#scan:not([hidden])")
    page.select_option("#scan select[name=type]", "incident")
    page.click("#scan button[type=submit]")


def test_a_failed_upload_says_so_and_when_it_retries(phone, field):
    """Finding 3: the server unreachable while the phone is online, then a 503: the upload
    is shown failed with the time of the next try; a refusal says why, in words."""
    page = _signed_in(phone, "pps.tapenpah")
    page.route("**/api/v1/events", lambda route: route.abort("connectionrefused"))
    _report_incident(page)
    failed = page.locator("#sync-failed")
    failed.wait_for()
    text = failed.inner_text()
    assert "Unggah gagal" in text and "server tidak dapat dihubungi" in text and "Dicoba lagi otomatis dalam 15 detik, pukul" in text
    assert len(TIME.findall(text)) == 2, text
    assert page.locator("#outbox li[data-state=queued]").count() == 1
    assert "gagal" in page.locator("#verdict").inner_text()  # not a green "saved" alone
    phone.shot("field-upload-failed")

    page.unroute("**/api/v1/events")
    page.route("**/api/v1/events", lambda route: _problem(route, 503, "database_unavailable"))
    page.click("#sync")
    page.wait_for_function("() => document.querySelector('#sync-failed').innerText.includes('tidak dapat menyimpan')")

    page.unroute("**/api/v1/events")
    page.route("**/api/v1/events", lambda route: _problem(route, 400, "invalid_request"))
    page.click("#sync")
    refused = page.locator("#outbox li[data-state=rejected]")
    refused.wait_for()
    assert "Ditolak" in refused.inner_text() and "isian tidak sah" in refused.inner_text()
    assert failed.is_hidden()
    assert TIME.search(page.locator("#last-sync").inner_text())
    phone.shot("field-upload-refused")

    # A scan the server judged and refused: its reason_code in words, not the server's English.
    page.unroute("**/api/v1/events")
    page.route("**/api/v1/events", lambda route: _refused(route, "label_unknown", "label serial 9 of X was never printed"))
    _report_incident(page)
    page.click("#sync")
    page.wait_for_function("() => document.querySelector('#outbox').innerText.includes('tidak pernah dicetak')")
    assert "never printed" not in page.locator("#outbox").inner_text()

    # Another scan whose number the log already holds for another: in conflict, in words.
    page.unroute("**/api/v1/events")
    page.route("**/api/v1/events", lambda route: route.fulfill(json={"results": [
        {"event_id": route.request.post_data_json["scans"][0]["scan"]["event_id"], "status": "conflict", "index": 7,
         "reason": "device_seq 2 was used for another scan, entry 7", "flags": []}]}))  # fmt: skip
    _report_incident(page)
    conflict = page.locator("#outbox li[data-state=conflict]")
    conflict.wait_for()
    assert "Bentrok" in conflict.inner_text() and "bentrok dengan entri ke-7" in conflict.inner_text()
    phone.forgive("Failed to load resource")


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (401, {"code": "invalid_credentials", "detail": "wrong username or password"}, "Nama pengguna atau kata sandi salah."),
        (400, {"error": "invalid_grant", "error_description": "wrong username or password"}, "Nama pengguna atau kata sandi salah."),
        (423, {"code": "account_locked", "detail": "locked"}, "Akun dikunci sementara"),
        (429, {"code": "rate_limited", "detail": "slow down"}, "Terlalu banyak permintaan"),
    ],
)
def test_the_login_says_what_went_wrong_in_words(phone, status, body, words):
    """Finding 4: the sign-in's refusals, as the token endpoint gives them today (problem
    codes) and as RFC 6749 will (invalid_grant), in Bahasa Indonesia."""
    phone.page.route("**/api/v1/auth/token", lambda route: route.fulfill(status=status, json=body))
    phone.open("/scan")
    phone.sign_in(PPK, "wrong")
    error = phone.page.locator("#login .error")
    error.wait_for()
    assert words in error.inner_text()
    assert "wrong" not in error.inner_text() and "slow" not in error.inner_text()
    phone.forgive("Failed to load resource")


def test_the_real_wrong_password_in_both_languages(phone):
    phone.open("/scan")
    phone.sign_in(PPK, "not-the-password")
    phone.page.wait_for_selector("#login .error:not([hidden])")
    assert phone.page.locator("#login .error").inner_text() == "Nama pengguna atau kata sandi salah."
    phone.shot("field-login-wrong-password")
    phone.open("/scan?lang=en")
    phone.sign_in(PPK, "not-the-password")
    phone.page.wait_for_selector("#login .error:not([hidden])")
    assert phone.page.locator("#login .error").inner_text() == "Wrong username or password."
    phone.forgive("Failed to load resource")


def test_names_beside_codes_and_one_verb_per_meaning(phone, field):
    """Findings 4 and 5: the box's places by name, the phone's key in words, the receipt
    in plain words, "Kirim kotak" for a box and "Unggah" for data, the clock 24-hour WITA."""
    page = _signed_in(phone)
    assert "d-" not in page.locator("#device").inner_text() and "Ponsel ini terdaftar" in page.locator("#device").inner_text()
    assert "53.03.08 Insana" in page.locator("#who").inner_text()
    box = field.boxes[1]
    _read_label(page, box)
    assert f"tujuan {box.id[:17]} TPS {box.id[14:17]} {box.village}" in page.locator("#verdict").inner_text()
    assert "Dipegang oleh 53.03.08 Insana" in page.locator("#scan-state").inner_text()
    assert page.locator("#counterparty-name").inner_text() == box.village
    assert "Kirim kotak" in page.locator("#scan select[name=type]").inner_text()
    assert page.locator("#sync").inner_text() == "Unggah sekarang"
    assert "Antrean unggah" in page.locator("body").inner_text() and "Kotak keluar" not in page.locator("body").inner_text()
    page.fill("#seals", ", ".join(box.seals))
    page.click("#scan button[type=submit]")
    logged = page.locator("#outbox li[data-state=logged]")
    logged.wait_for(timeout=20_000)
    text = logged.inner_text()
    assert "tercatat permanen di log publik" in text and "checkpoint" not in text, text
    assert TIME.search(text) and TIME.search(page.locator("#last-sync").inner_text())
    phone.shot("field-names-and-words")


def test_the_first_visit_is_light(phone, field):
    """Finding 6: the scanner's first visit, the page and the service worker's precache
    together, transfers at most 300 KB (gzip; the QR decoder loaded only with the camera;
    the worker keeps only the scanner's files)."""
    page = phone.page
    phone.open("/scan")
    page.wait_for_function("() => navigator.serviceWorker.ready.then((r) => r.active?.state === 'activated')")
    page.wait_for_function("() => caches.keys().then((k) => k.some((n) => n.startsWith('jejak-scan-')))")
    worker = phone.context.service_workers[0]
    entries = "performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')).map((e) => [e.name, e.transferSize])"
    fetched = page.evaluate(entries) + worker.evaluate(entries)
    # The worker's own script is fetched by the browser, outside both lists: as gzip.
    script = httpx.get(f"{field.base}/scan/sw.js", headers={"Accept-Encoding": "gzip"})
    script_bytes = len(gzip.compress(script.content)) if script.headers.get("content-encoding") == "gzip" else len(script.content)
    total = sum(size for _, size in fetched) + script_bytes
    print(f"\nfirst visit of /scan: {total / 1024:.1f} KB transferred ({len(fetched) + 1} requests)")
    for name, size in sorted(fetched, key=lambda f: -f[1])[:8]:
        print(f"  {size / 1024:7.1f} KB  {name}")
    assert fetched[0][1] > 0  # the page itself came over the network
    assert not any("jsQR" in name for name, _ in page.evaluate(entries))  # no decoder before the camera
    assert not any("dashboard" in name or "check.js" in name for name, _ in fetched)
    assert total <= FIRST_VISIT_BUDGET, f"{total} bytes"


# What a finger taps on the scanner; a checkbox by its label, which takes the tap.
SCANNER_TARGETS = "a, button, input:not([type=checkbox]), select, summary, label.button, label.check"


def test_tap_targets_and_contrast(phone, field):
    """Finding 7: every tap target at least 44 × 44 CSS px and every text at least 4.5:1,
    on the sign-in, the form, and the upload queue with a receipt."""
    page = phone.page
    phone.open("/scan")
    page.wait_for_selector("#login:not([hidden])")
    screens = {"login": (smallest_target(page, SCANNER_TARGETS), lowest_contrast(page))}
    assert screens["login"][0]["side"] >= 44, screens  # the language link, "Masuk"
    phone.sign_in(PPK)
    page.wait_for_selector("body[data-ready]")
    _read_label(page, field.boxes[2])
    page.fill("#seals", ", ".join(field.boxes[2].seals))
    screens["form"] = (smallest_target(page, SCANNER_TARGETS), lowest_contrast(page))
    page.click("#scan button[type=submit]")
    page.locator("#outbox li[data-state=logged] a.receipt").wait_for(timeout=20_000)
    screens["outbox"] = (smallest_target(page, SCANNER_TARGETS), lowest_contrast(page))
    phone.shot("field-outbox")
    smallest = min((target for target, _ in screens.values()), key=lambda found: found["side"])
    lowest = min((contrast for _, contrast in screens.values()), key=lambda found: found["ratio"])
    print(f"\nsmallest tap target on /scan: {smallest['side']:.1f} px ({smallest['what']}); lowest contrast {lowest['ratio']:.2f}:1 ({lowest['what']})")
    assert smallest["side"] >= 44, screens
    assert lowest["ratio"] >= 4.5, screens


def test_without_javascript_the_scanner_says_why(browser, field):
    """The scanner and its sign-in need JavaScript: without it, a message says so."""
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(field.base + "/scan")
    assert "Pemindai Jejak memerlukan JavaScript" in page.locator("main").inner_text()
    page.screenshot(path=SHOTS / "field-noscript.png", full_page=True)
    context.close()
