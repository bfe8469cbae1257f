"""The KPU → PPK → PPS → TPS hierarchy: public to read, KPU to extend with TPS."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from models.accounts import policy
from models.places.sites import SiteLevel, add_tps, get_site, list_sites
from models.places.wilayah import share_sites

from api import paging
from api.deps import DatabasesDep, Permit, SessionDep
from api.sites.schemas import SiteOut, SitePage, TpsIn

router = APIRouter(prefix="/api/v1/sites", tags=["sites"])

SiteAdder = Permit("sites.add")

SiteCode = Annotated[str, Query(max_length=32, pattern=r"^[0-9.\-]+$")]


@router.get("")
def sites(
    pager: paging.PagerDep,
    session: SessionDep,
    parent: SiteCode | None = None,
    under: SiteCode | None = None,
    level: SiteLevel | None = None,
    cursor: paging.Cursor = None,
    limit: paging.Limit = 100,
) -> SitePage:
    """Sites by parent, by area (`under`: everything below a code) or level, in code order."""
    after = paging.decode(cursor, str)
    rows = list_sites(
        session, parent=parent, area=under, level=level, after=after[0] if after else None, limit=limit + 1
    )
    rows, next_page = pager.page(rows, limit, lambda s: [s.code])
    return SitePage(sites=[SiteOut.model_validate(s) for s in rows], next=next_page)


@router.get("/{code}")
def site(code: str, session: SessionDep) -> SiteOut:
    return SiteOut.model_validate(get_site(session, code))


@router.post("", status_code=201)
def create_tps(body: TpsIn, actor: SiteAdder, databases: DatabasesDep) -> SiteOut:
    """Add a polling station (TPS) to a village; KPU and admins, in their jurisdiction."""
    policy.permit(actor, "sites.add", at=body.code)
    with databases.home.session(write=True) as session:
        created = SiteOut.model_validate(add_tps(session, **body.model_dump()))
    share_sites(databases, databases.home, {created.code[:5]})  # where the regency's log lives, if elsewhere
    return created
