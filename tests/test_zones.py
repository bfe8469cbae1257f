"""The time zone people at a site read, by province (models/places/zones.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from models.places.zones import zone_of


@pytest.mark.parametrize(
    ("site", "iana", "name"),
    [
        ("53.03.08.2010", "Asia/Makassar", "WITA"),  # Timor Tengah Utara, NTT
        ("52.01", "Asia/Makassar", "WITA"),  # NTB
        ("51.71", "Asia/Makassar", "WITA"),  # Bali
        ("73.71", "Asia/Makassar", "WITA"),  # South Sulawesi
        ("64.72", "Asia/Makassar", "WITA"),  # East Kalimantan
        ("31.71", "Asia/Jakarta", "WIB"),  # Jakarta
        ("11.01", "Asia/Jakarta", "WIB"),  # Aceh
        ("61.71", "Asia/Jakarta", "WIB"),  # West Kalimantan
        ("62.71", "Asia/Jakarta", "WIB"),  # Central Kalimantan
        ("81.71", "Asia/Jayapura", "WIT"),  # Maluku
        ("82.71", "Asia/Jayapura", "WIT"),  # North Maluku
        ("91.71", "Asia/Jayapura", "WIT"),  # Papua
        ("96.01", "Asia/Jayapura", "WIT"),  # Southwest Papua
        ("83.01", "Asia/Makassar", "WITA"),  # the test suite's regencies
    ],
)
def test_a_sites_zone_is_its_provinces(site, iana, name):
    assert zone_of(site) == (ZoneInfo(iana), name)


def test_the_same_moment_reads_an_hour_apart_across_the_zones():
    moment = datetime(2026, 12, 7, 1, 15, tzinfo=UTC)
    clocks = [f"{moment.astimezone(zone_of(code)[0]):%H.%M}" for code in ("31.71", "53.03", "91.71")]
    assert clocks == ["08.15", "09.15", "10.15"]


@pytest.mark.parametrize("code", ["", "5", "x3.03", "٥٣.03"])
def test_a_code_with_no_province_is_refused(code):
    with pytest.raises(ValueError, match="province"):
        zone_of(code)
