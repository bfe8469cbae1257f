"""The custody hierarchy: KPU Kabupaten/Kota → PPK → PPS → TPS, with official codes.

Codes nest: a regency `53.03`, a district `53.03.08`, a village `53.03.08.2001`, a
polling station `53.03.08.2001-003`. Everything below a code is in its jurisdiction."""

from __future__ import annotations

import enum
import re
from typing import Any

from sqlalchemy import Boolean, Enum, Float, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base
from models.errors import Conflict, InvalidRequest, NotFound


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


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class Site(Base):
    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[SiteLevel] = mapped_column(_enum(SiteLevel))
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("sites.code"), index=True)
    # The regency whose log records this site's custody.
    regency: Mapped[str] = mapped_column(String(16), index=True)
    kerawanan: Mapped[Kerawanan | None] = mapped_column(_enum(Kerawanan))
    special: Mapped[bool] = mapped_column(Boolean, default=False)  # TPS khusus (prisons, hospitals...)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # Demo coordinates are invented; they must never pass for surveyed ones.
    coords_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


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


def under(column: Any, code: str) -> Any:
    """SQL for `within(column, code)`: the code itself or anything below it."""
    return (column == code) | column.startswith(code + ".") | column.startswith(code + "-")


def get_site(session: Session, code: str) -> Site:
    site = session.get(Site, code)
    if site is None:
        level_of(code)  # a malformed code is a 400, not a 404
        raise NotFound(f"there is no site {code}")
    return site



def list_sites(
    session: Session,
    *,
    parent: str | None,
    area: str | None,
    level: SiteLevel | None,
    after: str | None,
    limit: int,
) -> list[Site]:
    query = select(Site).order_by(Site.code).limit(limit)
    if parent is not None:
        query = query.where(Site.parent_code == parent)
    if area is not None:
        query = query.where(under(Site.code, area))
    if level is not None:
        query = query.where(Site.level == level)
    if after is not None:
        query = query.where(Site.code > after)
    return list(session.scalars(query))


def add_tps(
    session: Session,
    *,
    code: str,
    name: str,
    kerawanan: Kerawanan,
    special: bool,
    lat: float | None,
    lon: float | None,
) -> Site:
    if level_of(code) is not SiteLevel.TPS:
        raise InvalidRequest(f"{code} is not a TPS code")
    village = parent_of(code)
    assert village is not None
    get_site(session, village)
    if session.get(Site, code) is not None:
        raise Conflict(f"site {code} exists")
    site = Site(
        code=code,
        level=SiteLevel.TPS,
        name=name,
        parent_code=village,
        regency=regency_of(code),
        kerawanan=kerawanan,
        special=special,
        lat=lat,
        lon=lon,
        coords_synthetic=False,
    )
    session.add(site)
    session.flush()
    return site
