"""Read-only figures for the dashboard: distribution progress by area and stage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from models.accounts import policy
from models.core.errors import Unprocessable
from models.custody.stats import Progress, progress
from models.places.sites import Site

from api.deps import DatabasesDep, Permit
from api.stats.schemas import AreaOut, ProgressOut, StageCounts

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])

ProgressReader = Permit("stats.progress")


def _area(site: Site, counts: Progress) -> AreaOut:
    return AreaOut(
        code=site.code,
        name=site.name,
        level=site.level,
        lat=site.lat,
        lon=site.lon,
        coords_synthetic=site.coords_synthetic,
        items=StageCounts(outbound=counts.outbound, back=counts.back, total=counts.total),
    )


@router.get("/progress")
def distribution_progress(
    actor: ProgressReader,
    databases: DatabasesDep,
    site: Annotated[
        str | None,
        Query(
            max_length=32,
            pattern=r"^[0-9.\-]+$",
            description="A regency, district, village or TPS; defaults to your jurisdiction",
            examples=["53.03.08"],
        ),
    ] = None,
) -> ProgressOut:
    """How many items bound for `site` stand at each stage of their route, outbound and
    on the way back, in all and for each area one level down (with its coordinates)."""
    code = site or actor.jurisdiction
    if not code:
        raise Unprocessable("a national account names the area: site=53.03", code="area_required")
    policy.permit(actor, "stats.progress", at=code)
    with databases.for_log(code).reads() as session:
        report = progress(session, code)
    return ProgressOut(
        site=_area(report.site, report.progress),
        areas=[_area(area.site, area.progress) for area in report.areas],
    )
