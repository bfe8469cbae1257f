"""Site codes and the custody hierarchy they spell: KPU Kabupaten/Kota → PPK → PPS → TPS.

Codes nest: a regency `53.03`, a district `53.03.08`, a village `53.03.08.2001`, a
polling station `53.03.08.2001-003`. Everything below a code is in its jurisdiction.
Pure (no database): the custody rules, and so the auditors' replay of them, use it."""

from __future__ import annotations

import enum
import re

from models.core.errors import InvalidRequest


class SiteLevel(enum.StrEnum):
    KPU = "kpu"  # KPU Kabupaten/Kota (regency or city): the log's owner
    PPK = "ppk"  # district (kecamatan)
    PPS = "pps"  # village (desa/kelurahan)
    TPS = "tps"  # polling station


class Kerawanan(enum.StrEnum):
    KURANG_RAWAN = "kurang_rawan"
    RAWAN = "rawan"
    SANGAT_RAWAN = "sangat_rawan"


_CODE = {
    SiteLevel.KPU: re.compile(r"\d{2}\.\d{2}"),
    SiteLevel.PPK: re.compile(r"\d{2}\.\d{2}\.\d{2}"),
    SiteLevel.PPS: re.compile(r"\d{2}\.\d{2}\.\d{2}\.\d{4}"),
    SiteLevel.TPS: re.compile(r"\d{2}\.\d{2}\.\d{2}\.\d{4}-\d{3}"),
}
# The longest site code at the start of a text, as in a handoff id `53.03.08-…`.
LEADING_CODE = re.compile(r"\d{2}\.\d{2}(?:\.\d{2}(?:\.\d{4}(?:-\d{3})?)?)?")


def level_of(code: str) -> SiteLevel:
    for level, pattern in _CODE.items():
        if pattern.fullmatch(code):
            return level
    raise InvalidRequest(
        f"{code!r} is not a site code: expected e.g. 53.03, 53.03.08, 53.03.08.2001 "
        "or 53.03.08.2001-003"
    )


def parent_of(code: str) -> str | None:
    level = level_of(code)
    if level is SiteLevel.KPU:
        return None
    if level is SiteLevel.TPS:
        return code.rsplit("-", 1)[0]
    return code.rsplit(".", 1)[0]


def regency_of(code: str) -> str:
    level_of(code)
    return code[:5]


def route_to(tps: str) -> list[str]:
    """The outbound route to a polling station: KPU, PPK, PPS, TPS codes."""
    if level_of(tps) is not SiteLevel.TPS:
        raise InvalidRequest(f"{tps} is not a polling station (TPS) code")
    village = parent_of(tps)
    assert village is not None
    return [tps[:5], tps[:8], village, tps]


def within(code: str, jurisdiction: str) -> bool:
    """Whether `code` is `jurisdiction` or lies below it. The empty jurisdiction is national."""
    return (
        jurisdiction == ""
        or code == jurisdiction
        or code.startswith(jurisdiction + ".")
        or code.startswith(jurisdiction + "-")
    )
