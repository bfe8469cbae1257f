"""The dashboard as supervisors act from it (issue 23, findings 11 and 12): open alerts
at the top, the most severe first, in words, each with the acknowledge action and its
reason (refusals in words too); links to the area's reports, the regency's whole custody
report among them; two columns on a desktop; map dots that name their site and open it;
drilling into an area is in the URL (Back and bookmarks work); a box's timeline in the
order things happened, the log's time beside. At phone size (360 × 740) and desktop
size, in Debian's Chromium; screenshots land in test-results/ (not committed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest

from models.core.settings import Settings
from models.custody.alerts import new_alert, raise_once
from models.runtime import Runtime
from scripts import seed_demo
from tests.helpers import DESKTOP, PHONE, RESULTS, demo_served, launched_chromium, lowest_contrast, smallest_target

pytestmark = pytest.mark.browser

BOX = "53.03.08.2010-001-BUP"  # a Bupati box of Tapenpah, held by PPK Insana in the demo
SEAL_MISMATCH = "Nomor segel yang dipindai berbeda dari yang tercatat"
AT_THE_WAREHOUSE = "Label lama yang sudah diganti dipindai"  # a critical alert at the KPU's own site
LATE_SYNC = "Pindaian terlambat disinkronkan"


def _more_alerts(runtime: Runtime, settings: Settings) -> None:
    raise_once(runtime.db, [
        new_alert("53.03", "late_sync", item_id=BOX, site="53.03.08", event_id="t-info", detail="synced late"),
        new_alert("53.03", "seal_mismatch", item_id=BOX, site="53.03.08", event_id="t-seal",
                  detail="seal numbers at receive (X) differ from those recorded"),
        new_alert("53.03", "revoked_label", item_id=BOX, site="53.03", event_id="t-warehouse",
                  detail="seal read label 1, revoked by a reprint"),
    ])  # fmt: skip


@pytest.fixture(scope="module")
def base(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seeded demo, with alerts of every severity besides its own (no_pickup, a
    warning): a critical one in a district, a critical one at the KPU's warehouse (for
    the regency's Bawaslu to acknowledge, not its KPU) and an informational one."""
    with demo_served(database_url, tmp_path_factory.mktemp("dashboard"), _more_alerts) as (served, _):
        yield served


@pytest.fixture(scope="module")
def chromium(base: str) -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


@contextmanager
def _signed_in(chromium: Any, base: str, viewport: dict[str, int]) -> Iterator[Any]:
    """The dashboard opened by the regency's KPU; no script error allowed."""
    context = chromium.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/dashboard")
    page.fill("#login input[name=username]", "kpu.ttu")
    page.fill("#login input[name=password]", seed_demo.PASSWORD)
    page.click("#login button")
    page.wait_for_selector("body[data-loaded]", timeout=30_000)
    yield page
    context.close()
    assert errors == []


@pytest.fixture
def phone(chromium: Any, base: str) -> Iterator[Any]:
    with _signed_in(chromium, base, PHONE) as page:
        yield page


def _box(page: Any, selector: str) -> dict[str, float]:
    found: dict[str, float] = page.locator(selector).bounding_box()
    return found


def test_open_alerts_come_first_most_severe_first_in_words(phone):
    severities = [a.get_attribute("data-severity") for a in phone.locator("#alerts li[data-alert]").all()]
    rank = {"critical": 0, "warning": 1, "info": 2}
    assert severities[0] == "critical" and severities[-1] == "info"
    assert [rank[s] for s in severities] == sorted(rank[s] for s in severities)
    text = phone.locator("#alerts").inner_text()
    assert SEAL_MISMATCH in text and LATE_SYNC in text and "Muatan berpengawal belum diambil" in text
    for code in ("seal_mismatch", "no_pickup", "late_sync"):
        assert code not in text  # the rule in words, not its code
    assert "Tapenpah" in text or "Insana" in text  # the site by its name
    # At the top of the page, not under the progress, the road and the log's card.
    assert _box(phone, "#alerts-card")["y"] < _box(phone, "#bars-outbound")["y"]
    phone.screenshot(path=RESULTS / "dashboard-alerts-phone.png", full_page=True)


def test_a_supervisor_acknowledges_an_alert_with_a_reason_and_is_told_when_it_is_not_theirs(phone):
    seal = phone.locator("#alerts li[data-rule=seal_mismatch]")
    seal.locator("details.ack summary").click()
    seal.locator("textarea[name=reason]").fill("Segel diperiksa di PPK Insana bersama Panwaslu: nomor tertukar saat ditulis.")
    seal.locator(".ack-form button").click()
    phone.wait_for_selector("#alerts li[data-rule=seal_mismatch][data-acked]")
    assert "Diakui: entri log #" in seal.inner_text()
    # A critical alert at the KPU's own warehouse is for the regency's Bawaslu: said in words.
    warehouse = phone.locator("#alerts li[data-rule=revoked_label]")
    assert AT_THE_WAREHOUSE in warehouse.inner_text()
    warehouse.locator("details.ack summary").click()
    warehouse.locator("textarea[name=reason]").fill("Sudah diperiksa.")
    warehouse.locator(".ack-form button").click()
    refusal = warehouse.locator(".error")
    refusal.wait_for(state="visible")
    assert "Tidak dapat diakui: Peringatan kritis diakui oleh KPU kabupaten" in refusal.inner_text()
    assert "Bawaslu kabupaten" in refusal.inner_text()
    phone.screenshot(path=RESULTS / "dashboard-ack-phone.png", full_page=True)


def test_the_regencys_reports_are_a_tap_away(phone):
    links = phone.locator("#reports a")
    assert links.count() == 10
    text = phone.locator("#reports").inner_text()
    assert "Berita acara penguasaan" in text and "Kelengkapan TPS" in text and "Lembar konvoi" in text
    assert "Pengembalian kotak" in text and "Kotak yatim" in text
    for name, start in (
        ("berita-acara-53.03.pdf", b"%PDF"), ("custody-53.03.csv", b"item,kind"), ("events-53.03.csv", b"log,entry_index"),
        ("kelengkapan-53.03.pdf", b"%PDF"), ("kelengkapan-53.03.csv", b"tps,nama"), ("konvoi-53.03.pdf", b"%PDF"),
        ("pengembalian-53.03.pdf", b"%PDF"), ("pengembalian-53.03.csv", b"kode,wilayah"),
        ("kotak-yatim-53.03.pdf", b"%PDF"), ("kotak-yatim-53.03.csv", b"barang,ditemukan"),
    ):  # fmt: skip
        with phone.expect_download(timeout=120_000) as download:
            phone.click(f"#reports a[data-report='{name}']")
        assert download.value.suggested_filename == name
        assert open(download.value.path(), "rb").read(len(start)) == start


def test_drilling_into_an_area_is_in_the_url_and_back_comes_up_again(phone, base):
    loaded = phone.get_attribute("body", "data-loaded")
    phone.click("#bars-outbound g.pick[data-code='53.03.08']")
    phone.wait_for_url("**/dashboard?site=53.03.08")
    phone.wait_for_selector(f"body:not([data-loaded='{loaded}'])")
    phone.wait_for_function("() => document.querySelector('#crumbs strong')?.textContent.includes('Insana')")
    phone.go_back()
    phone.wait_for_url(f"{base}/dashboard")
    phone.wait_for_function("() => !document.querySelector('#crumbs strong')?.textContent.includes('Insana')")
    phone.wait_for_selector("#bars-outbound g.pick[data-code='53.03.08']")  # the regency's districts again
    phone.go_forward()
    phone.wait_for_url("**/dashboard?site=53.03.08")
    # A bookmark opens the area it names.
    phone.goto(f"{base}/dashboard?site=53.03.08")
    phone.wait_for_function("() => document.querySelector('#crumbs strong')?.textContent.includes('Insana')")


def test_the_maps_dots_name_their_site_and_open_it(phone):
    insana = phone.locator("#map g.site[data-code='53.03.08']")
    assert insana.locator("text").text_content() == "Insana"
    insana.click()
    phone.wait_for_url("**/dashboard?site=53.03.08")
    phone.screenshot(path=RESULTS / "dashboard-map-phone.png", full_page=True)


def test_a_timeline_is_in_the_order_things_happened_with_the_logs_time_beside(phone):
    phone.fill("#search input[name=box]", BOX)
    phone.click("#search button")
    phone.wait_for_selector("#timeline li")
    observed = [li.get_attribute("data-observed") for li in phone.locator("#timeline li").all()]
    moments = [datetime.fromisoformat(moment) for moment in observed]  # "…17Z" and "…17.43Z" alike
    assert len(moments) > 2 and moments == sorted(moments)
    text = phone.locator("#timeline").inner_text()
    assert "dicatat" in text and "WITA" in text and " AM" not in text and " PM" not in text
    assert "Insana (53.03.08)" in text  # places by name beside their codes
    assert phone.locator("#item-report a").inner_text() == "Berita acara kotak ini (PDF)"


def test_on_a_desktop_alerts_and_progress_stand_side_by_side(chromium, base):
    with _signed_in(chromium, base, DESKTOP) as desktop:
        alerts, progress = _box(desktop, "#alerts-card"), _box(desktop, "#bars-outbound")
        assert alerts["x"] + alerts["width"] <= progress["x"]  # two columns
        assert alerts["y"] < 300  # at the top, no scrolling
        desktop.screenshot(path=RESULTS / "dashboard-desktop.png", full_page=True)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_dashboard_has_big_targets_and_readable_contrast(chromium, base, size):
    with _signed_in(chromium, base, PHONE if size == "phone" else DESKTOP) as page:
        page.click("#alerts li[data-rule=late_sync] details.ack summary")  # an open form counts too
        target, contrast = smallest_target(page), lowest_contrast(page)
    print(f"/dashboard at {size} size: smallest tap target {target['width']:.0f}×{target['height']:.0f} px "
          f"({target['what'][:70]}), lowest contrast {contrast['ratio']:.2f}:1 ({contrast['what'][:70]})")
    assert target["side"] >= 44, target
    assert contrast["ratio"] >= 4.5, contrast


def test_without_javascript_the_dashboard_says_why_it_is_empty(chromium, base):
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(base + "/dashboard")
    assert "memerlukan JavaScript" in page.locator("#no-script").inner_text()
    context.close()
