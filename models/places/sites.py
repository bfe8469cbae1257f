"""The sites of the custody hierarchy, stored: names, kerawanan, coordinates. Their codes
and what the codes spell are models/places/codes.py's."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean, Enum, Float, ForeignKey, String, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.core.base import Base
from models.core.db import one_of
from models.core.errors import Conflict, InvalidRequest, NotFound
# The codes' arithmetic is models/places/codes.py's; it is imported here too, where the
# callers of the sites have always found it.
from models.places.codes import Kerawanan, SiteLevel, level_of, parent_of, regency_of, route_to, within  # noqa: F401


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


def under(column: Any, code: str) -> Any:
    """SQL for `within(column, code)`: the code itself or anything below it."""
    return (column == code) | column.startswith(code + ".") | column.startswith(code + "-")


def in_area(regency: Any, code: str, *places: Any) -> list[Any]:
    """SQL conditions for rows of the regency's (its log's) at or below `code`, by
    their `regency` column and the place columns named: the places are compared only
    below the regency (a LIKE on a whole regency made PostgreSQL scan every row)."""
    whole = regency_of(code)
    return [regency == whole] + ([or_(*(under(place, code) for place in places))] if code != whole else [])


def get_site(session: Session, code: str) -> Site:
    site = session.get(Site, code)
    if site is None:
        level_of(code)  # a malformed code is a 400, not a 404
        raise NotFound(f"there is no site {code}", code="site_not_found")
    return site


def site_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """The names of those of these sites that exist, by code."""
    rows = session.execute(select(Site.code, Site.name).where(one_of(session, Site.code, sorted(codes))))
    return {code: name for code, name in rows}


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
