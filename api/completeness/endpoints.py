"""Completeness per TPS (kelengkapan): for an area, which TPS have their whole kit,
part of it, or none yet, and for those not complete what is missing and where it is."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.completeness.report import KEADAAN, completeness_pdf, where
from api.completeness.schemas import (
    AreaCompletenessOut,
    CompletenessOut,
    CountsOut,
    MissingOut,
    StationOut,
)
from api.deps import DatabasesDep, Permit, SettingsDep, actor_area
from api.export.endpoints import PDF, csv_response, pdf_response
from models.accounts.actor import Actor
from models.custody.completeness import LISTED, Completeness, Station, completeness

router = APIRouter(prefix="/api/v1/completeness", tags=["completeness"])

CompletenessReader = Permit("completeness.read")
AreaQuery = Annotated[
    str | None,
    Query(
        max_length=32, pattern=r"^[0-9.\-]+$", examples=["53.03.08"],
        description="A regency, district, village or TPS; defaults to your jurisdiction",
    ),
]  # fmt: skip


def _read(
    actor: Actor, databases: DatabasesDep, settings: SettingsDep, site: str | None, listed: int | None = None
) -> Completeness:
    code = actor_area(actor, "completeness.read", site)
    with databases.for_log(code).reads() as session:
        return completeness(session, code, settings.election, settings.voting_day, listed=listed)


def _station(station: Station) -> StationOut:
    missing = [
        MissingOut(
            code=m.code, item=m.item and m.item.id, custodian=m.item and m.item.custodian,
            status=m.item and m.item.status.value, dispatch_to=m.item and m.item.dispatch_to,
        )
        for m in station.missing
    ]  # fmt: skip
    return StationOut(**{**asdict(station), "missing": missing})


@router.get("")
def area_completeness(
    actor: CompletenessReader,
    databases: DatabasesDep,
    settings: SettingsDep,
    site: AreaQuery = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="At most this many TPS listed")] = LISTED,
) -> CompletenessOut:
    """Every TPS at or below `site`: complete, incomplete or not started, counted in all
    and per area one level down; those not complete listed with what is missing and
    where the log places it now, the most vulnerable and most urgent first."""
    found = _read(actor, databases, settings, site, listed=limit)
    return CompletenessOut(
        code=found.site.code, name=found.site.name, level=found.site.level, election=found.election,
        counts=CountsOut(**asdict(found.counts)),
        areas=[AreaCompletenessOut(code=a.code, name=a.name, counts=CountsOut(**asdict(a.counts))) for a in found.areas],
        stations=[_station(s) for s in found.stations], stations_total=found.open,
    )  # fmt: skip


@router.get("/report.pdf", response_class=Response, responses=PDF)
def report_pdf(actor: CompletenessReader, databases: DatabasesDep, settings: SettingsDep, site: AreaQuery = None) -> Response:
    """The area's completeness as an A4 report in Bahasa Indonesia: the counts per area,
    then every TPS not complete with what is missing and where it is."""
    found = _read(actor, databases, settings, site)
    return pdf_response(completeness_pdf(found), f"kelengkapan-{found.site.code}.pdf")


@router.get(
    "/report.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per TPS not complete (Bahasa Indonesia)"}},
)
def report_csv(actor: CompletenessReader, databases: DatabasesDep, settings: SettingsDep, site: AreaQuery = None) -> Response:
    """Every TPS not complete, most urgent first, as UTF-8 CSV in Bahasa Indonesia."""
    found = _read(actor, databases, settings, site)
    rows = (
        [s.code, s.name, s.kerawanan.value if s.kerawanan else "", KEADAAN[s.state], s.reached, s.required,
         s.need_by.isoformat() if s.need_by else "", "; ".join(f"{m.code}: {where(m)}" for m in s.missing)]
        for s in found.stations
    )  # fmt: skip
    header = ["tps", "nama", "kerawanan", "keadaan", "diterima", "dibutuhkan", "batas_waktu", "kurang"]
    return csv_response(header, rows, f"kelengkapan-{found.site.code}.csv")
