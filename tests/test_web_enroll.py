"""Enrolling a phone in a real browser (Debian's Chromium, headless, Playwright) at
360 × 740: the officer opens the link of their printed QR (/enroll#CODE), chooses a
password, and the scanner then opens with the phone's key registered, ready to scan,
without the officer typing a username; a phone whose camera app opens no links reads
the card's QR on the page itself (a fake camera). The service runs in its own process on the
suite's database (conftest's live_server). Skips without Chromium unless
JEJAK_TEST_REQUIRE_BROWSER=1 (CI)."""

from __future__ import annotations

import io

import pytest
import qrcode

from models.accounts.actor import Role
from tests.factories import PASSWORD, make_person
from tests.helpers import CAMERA, PHONE, RESULTS, fake_camera, launched_chromium, wait_for

pytestmark = pytest.mark.browser

SHOTS = RESULTS / "enroll"


def test_an_officer_enrolls_a_phone_from_the_printed_link(client, runtime, area, live_server, tmp_path):
    kpu = make_person(client, runtime, Role.KPU, area.kpu)
    nik = f"53{area.kpu.replace('.', '')}0101900001"[:16]
    text = (
        f"name,role,jurisdiction,nik,phone\nMaria Lake,pps,{area.pps},{nik},081234567890\n"
        f"Yohanes Bria,kpps,{area.tps[0]},{nik[:-1]}2,081234567891\n"
    )
    imported = kpu.post("/api/v1/users/import", content=text.encode(), headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    officer, shown = imported.json()["created"]
    # The second officer's card in front of the fake camera.
    card = io.BytesIO()
    qrcode.make(f"{live_server}/enroll#{shown['code']}", box_size=8).save(card, format="PNG")
    video = fake_camera([card.getvalue()], tmp_path / "card.y4m")
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with launched_chromium(*CAMERA, f"--use-file-for-fake-video-capture={video}") as browser:
        context = browser.new_context(viewport=PHONE)
        context.on("console", lambda m: m.type == "error" and errors.append(m.text))
        context.on("weberror", lambda e: errors.append(str(e.error)))
        page = context.new_page()
        page.goto(f"{live_server}/enroll#{officer['code']}")
        assert page.input_value("#enroll input[name=code]") == officer["code"]
        assert "#" not in page.url, "the code leaves the address bar"
        page.fill("#enroll input[name=password]", "kata sandi rahasia")
        page.fill("#enroll input[name=again]", "kata sandi rahasia")
        page.screenshot(path=SHOTS / "enroll.png", full_page=True)
        page.click("#enroll button")
        page.wait_for_selector("#enrolled:not([hidden])", timeout=15_000)
        assert officer["username"] in page.text_content("#enrolled-who")
        page.screenshot(path=SHOTS / "enroll-done.png", full_page=True)
        # The scanner finds the session and the key: no sign-in, no second registration.
        page.click("#enrolled a")
        page.wait_for_selector("#app:not([hidden])", timeout=15_000)
        page.wait_for_selector("#device >> text=Ponsel ini terdaftar", timeout=15_000)
        # Reading the same link again on another phone: the code is spent.
        other = browser.new_context(viewport=PHONE).new_page()
        other.goto(f"{live_server}/enroll#{officer['code']}")
        other.fill("#enroll input[name=password]", "kata sandi lain sekali")
        other.fill("#enroll input[name=again]", "kata sandi lain sekali")
        other.click("#enroll button")
        other.wait_for_selector("#enroll .error:not([hidden])", timeout=15_000)
        assert "sudah dipakai" in other.text_content("#enroll .error")
        # A phone whose camera app opens no links reads the card on the page itself.
        reader = browser.new_context(viewport=PHONE, permissions=["camera"]).new_page()
        reader.on("console", lambda m: m.type == "error" and errors.append(m.text))
        reader.goto(f"{live_server}/enroll")
        reader.click("#camera")
        wait_for(lambda: reader.input_value("#enroll input[name=code]") == shown["code"], "the camera reading the card")
        reader.fill("#enroll input[name=password]", "kata sandi kedua sekali")
        reader.fill("#enroll input[name=again]", "kata sandi kedua sekali")
        reader.click("#enroll button")
        reader.wait_for_selector("#enrolled:not([hidden])", timeout=15_000)
        assert shown["username"] in reader.text_content("#enrolled-who")
    assert errors == [] or all("410" in e for e in errors), errors
    for username in (officer["username"], shown["username"]):
        (account,) = kpu.get(f"/api/v1/users?search={username}").json()["accounts"]
        assert account["enrolled"] and len(account["phones"]) == 1


def test_a_kpu_imports_and_resets_officers_on_the_accounts_page(client, runtime, area, live_server):
    kpu = make_person(client, runtime, Role.KPU, area.kpu)
    nik = f"53{area.kpu.replace('.', '')}0201900001"[:16]
    wrong = f"name,role,jurisdiction,nik,phone\n,pps,{area.pps},12,0812\n".encode()
    right = f"name,role,jurisdiction,nik,phone\nAni Taek,pps,{area.other_pps},{nik},081234567899\n".encode()
    errors: list[str] = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    with launched_chromium() as browser:
        page = browser.new_context(viewport=PHONE).new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(f"{live_server}/dashboard/accounts")
        page.fill("#login input[name=username]", kpu.username)
        page.fill("#login input[name=password]", PASSWORD)
        page.click("#login button")
        page.wait_for_selector("#app:not([hidden])", timeout=15_000)
        page.set_input_files("#import input[name=file]", files=[{"name": "salah.csv", "mimeType": "text/csv", "buffer": wrong}])
        page.click("#import button[value='0']")
        page.wait_for_selector("#import-result li")
        assert "Baris 2, nik" in page.text_content("#import-result")
        page.set_input_files("#import input[name=file]", files=[{"name": "benar.csv", "mimeType": "text/csv", "buffer": right}])
        page.click("#import button[value='0']")
        page.wait_for_selector("#import-result >> text=1 akun dibuat")
        page.wait_for_selector("#accounts >> text=Ani Taek")
        assert f"{area.other_pps} Desa Lain" in page.text_content("#accounts")
        page.screenshot(path=SHOTS / "accounts.png", full_page=True)
        page.click("#accounts button:has-text('Atur ulang')")
        page.wait_for_selector("#code:not([hidden])")
        assert f"pps.{area.other_pps}.1" in page.text_content("#code")
    assert all("422" in e for e in errors), errors  # the wrong file's answer
