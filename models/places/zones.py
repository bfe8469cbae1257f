"""Indonesia's three time zones, by province (a site code's first two digits): the time
people at a site read on their clocks. Pure: pages, PDFs and the simulator ask here.

WIB (UTC+7): Sumatra, Java, West and Central Kalimantan. WIT (UTC+9): Maluku, North
Maluku and the Papua provinces (91 and up). WITA (UTC+8): the rest, Nusa Tenggara Timur
(53) among them; test regencies 83 to 90, which Indonesia does not have, read WITA too."""

from __future__ import annotations

from zoneinfo import ZoneInfo

WIB, WITA, WIT = "WIB", "WITA", "WIT"
# The zone's name as people there say it → its IANA zone (no daylight saving in any).
IANA = {WIB: "Asia/Jakarta", WITA: "Asia/Makassar", WIT: "Asia/Jayapura"}
# Provinces outside WITA, by their code.
_PROVINCES = {
    **{p: WIB for p in (11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 61, 62)},
    **{p: WIT for p in (81, 82)},
}
FIRST_PAPUA = 91  # 91 to 96: the Papua provinces, all WIT


def zone_name(site_code: str) -> str:
    """"WIB", "WITA" or "WIT" for a site code ("53.03.08" → "WITA"); ValueError when the
    code does not start with a province's two digits."""
    head = site_code[:2]
    if len(head) != 2 or not head.isdigit() or not head.isascii():
        raise ValueError(f"{site_code!r} does not start with a province code")
    province = int(head)
    if province >= FIRST_PAPUA:
        return WIT
    return _PROVINCES.get(province, WITA)


def zone_of(site_code: str) -> tuple[ZoneInfo, str]:
    """The site's time zone and its name: zone_of("53.03") == (ZoneInfo("Asia/Makassar"), "WITA")."""
    name = zone_name(site_code)
    return ZoneInfo(IANA[name]), name


def zone_table() -> dict[str, list[str]]:
    """Every province code with a zone other than WITA's, and the default, as the pages'
    scripts read it: {"53": …} is not listed (WITA is the default); {"31": ["Asia/Jakarta", "WIB"]}."""
    table = {f"{p:02d}": [IANA[name], name] for p, name in _PROVINCES.items()}
    table.update({str(p): [IANA[WIT], WIT] for p in range(FIRST_PAPUA, 100)})
    table["default"] = [IANA[WITA], WITA]
    return table
