"""Indonesia's three time zones by province (models/places/codes.py zone_of): the one
rule behind the scanner's clock and the papers' times. NTT is WITA."""

from __future__ import annotations

import pytest

from models.places.codes import zone_of


@pytest.mark.parametrize(
    ("code", "zone"),
    [
        ("11", "WIB"),  # Aceh
        ("31.71", "WIB"),  # Jakarta
        ("36", "WIB"),  # Banten
        ("61", "WIB"),  # West Kalimantan
        ("62", "WIB"),  # Central Kalimantan
        ("51", "WITA"),  # Bali
        ("53.03.08.2010", "WITA"),  # Nusa Tenggara Timur
        ("63", "WITA"),  # South Kalimantan
        ("65", "WITA"),  # North Kalimantan
        ("73", "WITA"),  # South Sulawesi
        ("81", "WIT"),  # Maluku
        ("82", "WIT"),  # North Maluku
        ("91", "WIT"),  # Papua
        ("96", "WIT"),  # Southwest Papua
    ],
)
def test_each_province_has_its_zone(code, zone):
    assert zone_of(code).tzname(None) == zone
    assert zone_of(code).utcoffset(None).total_seconds() == {"WIB": 7, "WITA": 8, "WIT": 9}[zone] * 3600
