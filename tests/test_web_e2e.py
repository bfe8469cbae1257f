"""The web pages in a real browser: Debian's Chromium, headless, driven by Playwright,
against the real service (uvicorn in its own process) serving a seeded demo of
Timor Tengah Utara in a database of its own.

The story: an escort scans a box's label with the phone's camera (a fake camera
showing the label the API prints) and sees it genuine, then a counterfeit photo
flagged. Handoffs are scanned by the custodians (models/custody/rules.py): PPK Insana
dispatches the box under the escort's guard (their pickup and delivery go through the
API: their scanner reads a manifest, and this truck's is not printed); the village's
PPS, offline, reopens the scanner from the service worker, receives it and sees the
scan queued; back online it is in the log with a checked receipt. The dashboard shows
the box on the road and the counts moving; the public check page verifies the trail in
the browser, and fails when a proof is tampered with. A printed truckload manifest is
read by its escort with no signal, picked up in one tap, delivered at the district, and
shown to the receiving PPK before the box is received.

Screenshots of every page at 360 × 740 land in test-results/e2e/. No page
may log a console error. Without /usr/bin/chromium the tests skip, unless
JEJAK_TEST_REQUIRE_BROWSER=1 (CI), which makes that a failure."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import qrcode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ledger.jcs import canonicalize

from models.accounts.actor import Role

from models.accounts.users import create_user
from models.core.settings import Settings
from models.custody.items import get_item, label_url
from models.runtime import Runtime
from scripts import seed_demo
from tests.helpers import CAMERA, RESULTS, PhonePage, fake_camera, fresh_database, launched_chromium, serve_live

pytestmark = pytest.mark.browser

SHOTS = RESULTS / "e2e"
PASSWORD = seed_demo.PASSWORD
BOX = "53.03.08.2010-001-BUP"  # a Bupati box of Tapenpah, held by PPK Insana in the demo
VILLAGE = "53.03.08.2010"
RECEIVER = "pps.tapenpah"  # the village's PPS officer: the demo has none, the test adds one
# Insana Utara's truckload left the warehouse under escort.polres.ttu's name, not yet picked up.
TRUCK, TRUCK_TO = "53.03-53.03.09-demo", "53.03.09"
TRUCK_RECEIVER = "ppk.insanautara"  # the demo has none, the test adds one


@dataclass
class Demo:
    base: str
    label_url: str  # what the box's QR code holds
    label_png: bytes  # the label as the API prints it
    seals: list[str]
    coords: dict[str, tuple[float, float]]


def _token(base: str, username: str) -> str:
    response = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    response.raise_for_status()
    return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def demo(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("web")
    with fresh_database(database_url, tmp) as url:
        settings = Settings(environment="test", database_url=url, host="jejak.test", keys_dir=tmp / "keys")
        runtime = Runtime(settings)
        try:
            seed_demo.seed(runtime, out=lambda line: None)
            with runtime.db.session(write=True) as session:
                create_user(session, username=RECEIVER, password=PASSWORD, role=Role.PPS, jurisdiction=VILLAGE)
                create_user(session, username=TRUCK_RECEIVER, password=PASSWORD, role=Role.PPK, jurisdiction=TRUCK_TO)
            with runtime.db.reads() as session:
                qr_text = label_url(settings.public_url, get_item(session, BOX))
        finally:
            runtime.close()
        with serve_live(settings) as base:
            kpu = {"Authorization": f"Bearer {_token(base, 'kpu.ttu')}"}
            item = httpx.get(f"{base}/api/v1/items/{BOX}", headers=kpu).json()
            png = httpx.get(f"{base}/api/v1/items/{BOX}/label.png", headers=kpu).content
            coords = {}
            for code in ("53.03", "53.03.08", TRUCK_TO, VILLAGE):
                site = httpx.get(f"{base}/api/v1/sites/{code}").json()
                coords[code] = (site["lat"], site["lon"])
            yield Demo(base, qr_text, png, item["seals"], coords)


def _escort_attests(base: str, box: str) -> None:
    """The escort the dispatch named takes the box's truck under guard at the PPK and
    hands it over at the village: one signed scan each, from their own phone, through
    the API (the scanner attests by a printed manifest, which this truck has not)."""
    headers = {"Authorization": f"Bearer {_token(base, 'escort.polres.ttu')}"}
    key = Ed25519PrivateKey.generate()
    public = base64.b64encode(key.public_key().public_bytes_raw()).decode()
    device = httpx.post(f"{base}/api/v1/devices", json={"public_key": public, "name": "hp polres"}, headers=headers)
    assert device.status_code == 201, device.text
    events = httpx.get(f"{base}/api/v1/events", params={"item": box, "type": "dispatch"}, headers=headers).json()
    truck = events["events"][-1]["handoff_id"]
    envelopes = []
    for seq, (kind, site, minutes) in enumerate((("pickup", "53.03.08", 50), ("delivery", VILLAGE, 10)), 1):
        observed = (datetime.now(UTC) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
        scan = {"event_id": f"e2e-{kind}-{truck}", "type": kind, "handoff": truck, "site": site,
                "observed_at": observed, "device": device.json()["id"], "device_seq": seq}  # fmt: skip
        envelopes.append({"scan": scan, "sig": base64.b64encode(key.sign(canonicalize(scan))).decode()})
    results = httpx.post(f"{base}/api/v1/events", json={"scans": envelopes}, headers=headers).json()["results"]
    assert [(r["status"], r["flags"]) for r in results] == [("accepted", [])] * 2, results


@pytest.fixture(scope="module")
def browser(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    video = fake_camera([demo.label_png], tmp_path_factory.mktemp("camera") / "label.y4m")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with launched_chromium(*CAMERA, f"--use-file-for-fake-video-capture={video}") as chromium:
        yield chromium


@pytest.fixture
def phones(browser: Any, demo: Demo) -> Iterator[Any]:
    opened: list[PhonePage] = []

    def phone(site: str | None = None) -> PhonePage:
        opened.append(PhonePage(browser, demo.base, demo.coords.get(site or ""), SHOTS))
        return opened[-1]

    yield phone
    for each in opened:
        each.close()


def _scan_with_camera(page: Any) -> Any:
    """Reads the label in front of the camera; the scan form it opens."""
    page.click("#camera")
    page.wait_for_selector("#verdict:not([hidden])", timeout=15_000)
    return page.wait_for_selector("#scan:not([hidden])")


def _counterfeit(label_url: str, path: Path) -> Path:
    """The genuine label's header and payload, signed by a key that is not the KPU's."""
    prefix, jws = label_url.split("#")
    header, payload, _ = jws.split(".")
    forged = Ed25519PrivateKey.generate().sign(f"{header}.{payload}".encode())
    fake = f"{prefix}#{header}.{payload}.{base64.urlsafe_b64encode(forged).rstrip(b'=').decode()}"
    qrcode.make(fake, error_correction=qrcode.constants.ERROR_CORRECT_Q, box_size=6).save(path)
    return path


CANONICAL_CASES = [
    {"event_id": "a1", "type": "dispatch", "item": BOX, "seals": ["TTU-000159"], "device_seq": 9007199254740991},
    {"location": {"lat": -9.6649, "lon": 124.5727, "accuracy_m": 12}, "z": None, "a": True, "m": False},
    {"numbers": [0, -0.0, 1.0, 0.1, 0.30000000000000004, 1e21, 1e-7, 5e-324, -1.5e300, 123456789.125]},
    {"reason": "Kotak basah — segel \"rusak\"\n\ttab \u2028 \u0007 😀 ü", "\uffff": 1, "😀": 2, "é": 3, "E": 4},
    [{"nested": [[], {}, [{"b": 1, "a": 2}]]}, "", "\\"],
]


def test_canonical_json_in_the_browser_is_the_servers(browser, demo):
    """jcs.js (what the phone signs) gives the bytes ledger/jcs.py gives."""
    page = browser.new_page()
    page.goto(demo.base + "/scan")
    in_browser = page.evaluate(
        "async (cases) => { const { canonicalize } = await import('/static/js/jcs.js');"
        " return cases.map(canonicalize); }",
        CANONICAL_CASES,
    )
    assert in_browser == [canonicalize(case).decode() for case in CANONICAL_CASES]
    refused = page.evaluate(
        "async () => { const { canonicalize } = await import('/static/js/jcs.js');"
        " return ['\\ud800', {k: '\\udc00'}, NaN, Infinity].map((v) => { try { canonicalize(v); return false } catch { return true } }); }"
    )
    assert refused == [True, True, True, True]
    page.close()


def test_the_escort_sees_a_genuine_label_and_a_counterfeit_flagged(phones, demo, tmp_path):
    escort = phones("53.03.08")
    escort.open("/scan")
    escort.sign_in("escort.polres.ttu")
    escort.page.wait_for_selector("body[data-ready]")
    _scan_with_camera(escort.page)
    verdict = escort.page.locator("#verdict")
    assert "good" in verdict.get_attribute("class")
    assert "Label asli" in verdict.inner_text() and VILLAGE in verdict.inner_text()
    # An escort only reports incidents: that is the one scan offered.
    assert escort.page.locator("#scan select[name=type] option").all_inner_texts() == ["Laporkan kejadian"]
    escort.shot("scan-genuine-label")

    escort.page.set_input_files("#photo", _counterfeit(demo.label_url, tmp_path / "fake.png"))
    escort.page.wait_for_selector("#verdict.bad")
    assert "LABEL PALSU" in verdict.inner_text()
    assert "tanda tangan tidak sah" in verdict.inner_text()
    assert escort.page.locator("#scan").is_hidden()  # nothing to sign for a counterfeit
    escort.shot("scan-counterfeit-label")


def _outbound_counts(dashboard: PhonePage, code: str) -> dict[str, int]:
    row = dashboard.page.locator(f"#progress-table tr[data-code='{code}'] td[data-stage]")
    return {cell.get_attribute("data-stage"): int(cell.inner_text()) for cell in row.all()}


def _reload_dashboard(dashboard: PhonePage) -> None:
    before = dashboard.page.get_attribute("body", "data-loaded")
    dashboard.page.click("#refresh")
    dashboard.page.wait_for_selector(f"body:not([data-loaded='{before}'])")


def test_a_box_handed_over_offline_then_checked_publicly(phones, demo):
    # The KPU's dashboard before anything moves.
    dashboard = phones()
    dashboard.open("/dashboard")
    dashboard.sign_in("kpu.ttu")
    dashboard.page.wait_for_selector("body[data-loaded]")
    before = _outbound_counts(dashboard, "53.03.08")
    assert before["ppk"] > 0

    # PPK Insana dispatches the box to the village, online, an hour before the village
    # receives it (its phone's clock set back): 8 km in seconds would be impossible travel.
    ppk = phones("53.03.08")
    ppk.context.clock.set_system_time(datetime.now(UTC) - timedelta(hours=1))
    ppk.open("/scan")
    ppk.sign_in("ppk.insana")
    ppk.page.wait_for_selector("body[data-ready]")
    _scan_with_camera(ppk.page)
    form = ppk.page.locator("#scan")
    assert form.locator("select[name=type]").input_value() == "dispatch"
    assert form.locator("input[name=counterparty]").input_value() == VILLAGE
    form.locator("input[name=seals]").fill(", ".join(demo.seals))
    form.locator("input[name=vehicle]").fill("DH 8123 EA")
    form.locator("input[name=escorts]").fill("85061234")
    ppk.shot("scan-dispatch-form")
    form.locator("button[type=submit]").click()
    ppk.page.wait_for_selector("#outbox li[data-state=logged] a.receipt", timeout=15_000)
    assert "Catatan" not in ppk.page.locator("#outbox li").inner_text()  # no custody flag
    ppk.shot("scan-dispatch-in-log")
    # The truckload's manifest, to print for the escort, from the dispatch just made.
    with ppk.page.expect_response("**/manifest.pdf") as printed:
        ppk.page.click("#outbox li[data-state=logged] [data-manifest]")
    assert printed.value.status == 200 and printed.value.headers["content-type"] == "application/pdf"
    _escort_attests(demo.base, BOX)

    # The KPU opens Insana (a tap on its bar): the box is on the road to Tapenpah.
    loaded = dashboard.page.get_attribute("body", "data-loaded")
    dashboard.page.click("#bars-outbound g[data-code='53.03.08']")
    dashboard.page.wait_for_selector(f"body:not([data-loaded='{loaded}'])")
    assert dashboard.page.locator("#crumbs").inner_text().endswith("Insana")
    assert dashboard.page.locator(f"#transit li[data-item='{BOX}']").is_visible()
    assert _outbound_counts(dashboard, "53.03.08")["in_transit"] == before["in_transit"] + 1
    assert _outbound_counts(dashboard, VILLAGE)["in_transit"] == 1

    # The village's PPS signs in while there is signal, then loses it.
    pps = phones(VILLAGE)
    pps.open("/scan")
    pps.sign_in(RECEIVER)
    pps.page.wait_for_selector("body[data-ready]")
    assert pps.page.evaluate("navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller !== null)")
    pps.context.set_offline(True)
    reopened = pps.page.reload()
    assert reopened.from_service_worker  # the app shell, with no network
    pps.page.wait_for_selector("body[data-ready]")
    assert pps.page.locator("#network").inner_text() == "Luring"
    _scan_with_camera(pps.page)
    assert "good" in pps.page.locator("#verdict").get_attribute("class")  # label keys cached
    form = pps.page.locator("#scan")
    assert form.locator("select[name=type]").input_value() == "receive"  # the box due here, cached
    assert form.locator("input[name=counterparty]").input_value() == "53.03.08"
    form.locator("input[name=seals]").fill(" ".join(demo.seals))
    form.locator("button[type=submit]").click()
    queued = pps.page.locator("#outbox li[data-state=queued]")
    queued.wait_for()
    assert "Antre" in queued.inner_text()
    pps.shot("scan-offline-queued")

    pps.context.set_offline(False)  # the `online` event sends it
    logged = pps.page.locator("#outbox li[data-state=logged]")
    logged.wait_for(timeout=15_000)
    assert "Tercatat di log" in logged.inner_text() and "Tanda terima diperiksa" in logged.inner_text()
    assert "Catatan" not in logged.inner_text()  # accepted without a custody flag
    download = logged.locator("a.receipt").get_attribute("download")
    assert download.startswith("receipt-") and download.endswith(".tlog-proof")  # as C2SP suggests
    pps.shot("scan-received-in-log")

    # The dashboard: the box arrived, the counts moved, its timeline shows the handoff.
    _reload_dashboard(dashboard)
    after = _outbound_counts(dashboard, "53.03.08")
    assert (after["ppk"], after["pps"], after["in_transit"]) == (before["ppk"] - 1, before["pps"] + 1, before["in_transit"])
    assert _outbound_counts(dashboard, VILLAGE)["pps"] == 1
    assert not dashboard.page.locator(f"#transit li[data-item='{BOX}']").count()
    dashboard.page.fill("#search input[name=box]", BOX)
    dashboard.page.click("#search button")
    dashboard.page.wait_for_selector("#timeline li[data-type=receive]")
    types = [li.get_attribute("data-type") for li in dashboard.page.locator("#timeline li").all()]
    # In the order things happened: the dispatch (made an hour ago, by the PPK's clock)
    # before entries the log recorded later, the receive last.
    assert types[-1] == "receive" and types.index("dispatch") < types.index("receive")
    dashboard.shot("dashboard")

    # The public check page, as anyone's phone opens it from the QR code.
    public = phones()
    path = demo.label_url[demo.label_url.index("/v/"):]
    public.open(path)
    public.page.wait_for_selector("#verdict[data-result]")
    verdict = public.page.locator("#verdict")
    assert verdict.get_attribute("data-result") == "verified", verdict.inner_text()
    assert "Terverifikasi" in verdict.inner_text() and "Label asli (label ke-1)" in verdict.inner_text()
    trail = [li.get_attribute("data-type") for li in public.page.locator("#trail li").all()]
    assert trail[-2:] == ["dispatch", "receive"]  # the handoff just made
    assert public.page.locator("#trail li.ok").count() == len(trail)  # each entry proven
    text = public.page.locator("#trail").inner_text()
    assert "Tapenpah" in text and "TTU-000" in text and "85061234" not in text  # NRPs counted, not shown
    public.shot("check-verified")

    def tampered(route: Any) -> None:
        history = route.fetch().json()
        proof = history["trail"][-1]["inclusion_proof"]
        proof[0] = base64.b64encode(bytes(32)).decode()
        route.fulfill(json=history)

    public.page.route("**/api/v1/items/*/history", tampered)
    public.page.reload()
    public.page.wait_for_selector("#verdict[data-result]")
    assert verdict.get_attribute("data-result") == "failed"
    assert "GAGAL diverifikasi" in verdict.inner_text() and "tidak cocok dengan checkpoint" in verdict.inner_text()
    public.shot("check-tampered")

    english = phones()
    english.open(path.replace("#", "?lang=en#"))
    english.page.wait_for_selector("#verdict[data-result=verified]")
    assert "Verified" in english.page.locator("#verdict").inner_text()
    english.shot("check-verified-en")


def test_a_truckloads_manifest_checked_publicly(phones, demo):
    """The manifest's QR code opened on a phone: the public page of the truckload checks
    the KPU's signature and every box against the log, in the browser."""
    kpu = {"Authorization": f"Bearer {_token(demo.base, 'kpu.ttu')}"}
    signed = httpx.get(f"{demo.base}/api/v1/handoffs/53.03/53.03-53.03.08-demo/manifest", headers=kpu).json()
    public = phones()
    public.open(signed["url"][signed["url"].index("/v/m/"):])
    public.page.wait_for_selector("#verdict[data-result]", timeout=30_000)
    verdict = public.page.locator("#verdict")
    assert verdict.get_attribute("data-result") == "verified", verdict.inner_text()
    assert f"Manifes asli: {signed['payload']['n']} barang" in verdict.inner_text()
    boxes = public.page.locator("#boxes li")
    assert boxes.count() == signed["payload"]["n"]
    assert public.page.locator("#boxes li[data-fate=received]").count() == signed["payload"]["n"]  # PPK Insana took them
    assert "Insana (53.03.08)" in public.page.locator(".facts").inner_text()
    assert "85061234" not in public.page.locator("main").inner_text()  # the escort counted, not named
    public.shot("truckload-verified")


def _qr_photo(text: str, path: Path) -> Path:
    qrcode.make(text, error_correction=qrcode.constants.ERROR_CORRECT_Q, box_size=4).save(path)
    return path


def test_an_escort_attests_a_truckload_by_its_manifest_offline_and_the_receiver_takes_it(phones, demo, tmp_path):
    """dispatch (the demo) -> pickup -> delivery -> receive through the scanner: the
    escort reads the printed manifest with no signal and signs the pickup in one tap;
    at the district the delivery, then the PPK sees what the truck should carry and
    receives a box with no flag (the truck was delivered)."""
    kpu = {"Authorization": f"Bearer {_token(demo.base, 'kpu.ttu')}"}
    signed = httpx.get(f"{demo.base}/api/v1/handoffs/53.03/{TRUCK}/manifest", headers=kpu).json()
    manifest = _qr_photo(signed["url"], tmp_path / "manifest.png")
    box = signed["boxes"][0]

    escort = phones("53.03")
    escort.context.clock.set_system_time(datetime.now(UTC) - timedelta(minutes=45))  # the drive takes that long
    escort.open("/scan")
    escort.sign_in("escort.polres.ttu")
    escort.page.wait_for_selector("body[data-ready]")  # label keys and place names cached
    escort.context.set_offline(True)  # no signal at the warehouse's gate
    escort.page.set_input_files("#photo", manifest)
    escort.page.wait_for_selector("#truck:not([hidden])")
    assert "Manifes asli" in escort.page.locator("#verdict").inner_text()
    card = escort.page.locator("#truck")
    assert TRUCK in card.inner_text() and "53.03.09 Insana Utara" in card.inner_text()
    assert f"{signed['payload']['n']} kotak" in card.inner_text()
    assert card.locator("#truck-unnamed").is_hidden()  # the dispatch named this escort
    escort.shot("scan-manifest-escort")
    card.locator("[data-attest=pickup]").click()  # one tap from the decoded manifest
    queued = escort.page.locator("#outbox li[data-state=queued]")
    queued.wait_for()
    assert "Diambil pengawal" in queued.inner_text() and TRUCK in queued.inner_text()
    escort.context.set_offline(False)
    logged = escort.page.locator("#outbox li[data-state=logged]")
    logged.wait_for(timeout=15_000)
    assert "Catatan" not in logged.inner_text()  # attested: the escort the truck names, at its origin

    # At the district, the app reopened (a fresh position fix) 45 minutes later.
    escort.context.set_geolocation(dict(zip(("latitude", "longitude"), demo.coords[TRUCK_TO], strict=True)))
    escort.context.clock.set_system_time(datetime.now(UTC))
    escort.page.reload()
    escort.page.wait_for_selector("body[data-ready]")
    escort.page.set_input_files("#photo", manifest)
    escort.page.locator("#truck [data-attest=delivery]").click()
    delivered = escort.page.locator("#outbox li[data-state=logged]", has_text="Diserahkan pengawal")
    delivered.wait_for(timeout=15_000)
    assert "Catatan" not in delivered.inner_text()

    # The district's PPK reads the manifest first: what the truck should carry.
    ppk = phones(TRUCK_TO)
    ppk.open("/scan")
    ppk.sign_in(TRUCK_RECEIVER)
    ppk.page.wait_for_selector("body[data-ready]")
    ppk.page.set_input_files("#photo", manifest)
    ppk.page.wait_for_selector("#truck-boxes summary")
    assert ppk.page.locator("#truck [data-attest=pickup]").is_hidden()  # custodians do not attest
    ppk.page.click("#truck-boxes summary")
    assert box["item"] in ppk.page.locator("#truck-boxes").inner_text()
    ppk.shot("scan-manifest-receiver")
    label = httpx.get(f"{demo.base}/api/v1/items/{box['item']}/label.png", headers=kpu).content
    ppk.page.set_input_files("#photo", {"name": "label.png", "mimeType": "image/png", "buffer": label})
    form = ppk.page.wait_for_selector("#scan:not([hidden])")
    assert form.query_selector("select[name=type]").input_value() == "receive"
    assert form.query_selector("input[name=handoff]").input_value() == TRUCK  # the truckload just read
    form.query_selector("input[name=seals]").fill(", ".join(box["seals"]))
    form.query_selector("button[type=submit]").click()
    received = ppk.page.locator("#outbox li[data-state=logged]")
    received.wait_for(timeout=15_000)
    assert "Catatan" not in received.inner_text()  # no no_delivery: the escort delivered it

    receives = httpx.get(f"{demo.base}/api/v1/events", params={"item": box["item"], "type": "receive"}, headers=kpu)
    assert receives.json()["events"][-1]["handoff_id"] == TRUCK  # checked against its manifest (manifest_mismatch)
    truck = httpx.get(f"{demo.base}/api/v1/handoffs/53.03/{TRUCK}", headers=kpu).json()
    assert truck["picked_up_at"] and truck["delivered_at"]



def test_a_stock_take_counted_on_the_scanner_and_closed(phones, demo):
    """KPPS Nansean TPS 001 counts the two boxes it holds: each typed id is signed and
    queued at once (no form), then the stock-take closes with both found."""
    kpps = phones(f"{seed_demo.NANSEAN}-001")
    kpps.open("/scan")
    kpps.sign_in("kpps.nansean.001")
    kpps.page.wait_for_selector("body[data-ready]")
    kpps.page.click("#stocktake button:has-text('Mulai stock opname')")
    for contest in seed_demo.CONTESTS:
        kpps.page.fill("#typed input[name=box]", f"{seed_demo.NANSEAN}-001-{contest}")
        kpps.page.click("#typed button[type=submit]")
        kpps.page.wait_for_selector(f"#stocktake p.muted:has-text('{seed_demo.CONTESTS.index(contest) + 1} kotak')")
    assert kpps.page.locator("#scan").is_hidden()  # counted without the scan form
    kpps.page.wait_for_selector("#outbox li[data-state=logged] >> nth=1", timeout=15_000)
    kpps.shot("scan-stocktake")
    kpps.page.click("#stocktake button:has-text('Tutup stock opname')")
    kpps.page.wait_for_selector("#stocktake p:has-text('Ditutup: 2 ditemukan, 0 hilang, 0 tak terduga.')", timeout=15_000)
    with kpps.page.expect_response("**/report.pdf") as printed:
        kpps.page.click("#stocktake button:has-text('Cetak berita acara')")
    assert printed.value.status == 200 and printed.value.headers["content-type"] == "application/pdf"


def test_the_dashboard_shows_the_polling_stations_kits(phones, demo):
    dashboard = phones()
    dashboard.open(f"/dashboard?site={seed_demo.NANSEAN}")
    dashboard.sign_in("kpu.ttu")
    dashboard.page.wait_for_selector("body[data-loaded]")
    assert dashboard.page.locator("#kit-counts").inner_text() == (
        "1 TPS lengkap · 1 belum lengkap · 0 belum menerima apa pun"
    )
    incomplete = dashboard.page.locator(f"#completeness li[data-tps='{seed_demo.NANSEAN}-002']")
    assert "GUB: Diterima dan disimpan 53.03.08.2005" in incomplete.inner_text()
    dashboard.shot("dashboard-completeness")


def test_the_dashboard_shows_the_convoys_on_the_road_and_the_returns(phones, demo):
    dashboard = phones()
    dashboard.open("/dashboard")
    dashboard.sign_in("auditor.bawaslu.ttu")
    dashboard.page.wait_for_selector("body[data-loaded]")
    truck = dashboard.page.locator(f"#convoys li[data-handoff='{TRUCK}']")
    assert "NRP pengawal 85061234" in truck.inner_text()
    dashboard.shot("dashboard-convoys")
    # After the count: nothing counted yet; the box PPK Insana's stock-take found is an orphan.
    assert dashboard.page.locator("#returns-table tr >> nth=1").locator("[data-stage=back]").inner_text() == "0"
    assert dashboard.page.locator("#orphans li").count() == 1
