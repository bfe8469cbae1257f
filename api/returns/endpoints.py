"""After the count: return reconciliation per district and for the regency, and the
orphans (boxes received or found where the log did not expect them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from models.accounts.actor import Actor
from models.custody.returns import STAGES, Orphan, Reconciliation, orphans, reconcile
from models.places.sites import Site, get_site, site_names
from pydantic import BaseModel, Field

from api.deps import DatabasesDep, Permit, actor_area
from api.export.endpoints import PDF, csv_response, pdf_response
from api.returns.report import ditemukan, orphan_list_pdf, posisi, reconciliation_pdf, sesudahnya, tahap_csv

router = APIRouter(prefix="/api/v1", tags=["returns"])

ReturnsReader = Permit("returns.read")
OrphansReader = Permit("orphans.read")
AreaQuery = Annotated[
    str | None,
    Query(max_length=32, pattern=r"^[0-9.\-]+$", examples=["53.03"], description="An area; defaults to your jurisdiction"),
]
StageCounts = Annotated[
    dict[str, int],
    Field(description="Boxes by where they stand on the way home: " + ", ".join(STAGES), examples=[dict.fromkeys(STAGES, 0)]),
]


class DistrictReturns(BaseModel):
    code: str
    name: str | None
    counts: StageCounts


class ResealMismatch(BaseModel):
    item: str
    entry_index: int = Field(description="The return-leg scan that found other seals than the reseal recorded")


class ReturnsOut(BaseModel):
    site: str
    name: str
    counts: StageCounts
    districts: list[DistrictReturns] = Field(description="Per PPK, by the boxes' destinations")
    reseal_mismatches: list[ResealMismatch]


class OrphanOut(BaseModel):
    item: str
    how: str = Field(description="`received (no_dispatch)`, `received (wrong_site)`, or `stocktake <id>`: found there")
    site: str
    entry_index: int = Field(description="The receive, or the box's stocktake scan")
    observed_at: datetime | None
    next_type: str | None = Field(description="What happened next: the box's following event")
    next_site: str | None
    next_index: int | None
    custodian: str = Field(description="Where the log places the box now")
    status: str


def _reconciled(actor: Actor, databases: DatabasesDep, site: str | None) -> Reconciliation:
    code = actor_area(actor, "returns.read", site)
    with databases.for_log(code).reads() as session:
        return reconcile(session, code)


def _orphans(actor: Actor, databases: DatabasesDep, site: str | None) -> tuple[Site, list[Orphan], dict[str, str]]:
    """The area, its orphans, and the names of the sites they cite."""
    code = actor_area(actor, "orphans.read", site)
    with databases.for_log(code).reads() as session:
        found = orphans(session, code)
        cited = {code} | {c for o in found for c in (o.site, o.custodian, o.next_site) if c}
        return get_site(session, code), found, site_names(session, cited)


@router.get("/returns")
def returns(actor: ReturnsReader, databases: DatabasesDep, site: AreaQuery = None) -> ReturnsOut:
    """After the count: the boxes bound for the regency (or district) back at the KPU, on
    their way, missing (their truckload closed without them), still at a TPS, PPS or
    PPK, or not counted yet; per PPK; and the boxes whose return-leg seals differ from
    those their reseal recorded."""
    found = _reconciled(actor, databases, site)
    return ReturnsOut(
        site=found.site.code, name=found.site.name, counts=found.total.counts,
        districts=[DistrictReturns(code=c, name=found.names.get(c), counts=t.counts) for c, t in found.districts.items()],
        reseal_mismatches=[ResealMismatch(item=i, entry_index=n) for i, n in found.reseal_mismatches],
    )  # fmt: skip


@router.get("/returns/report.pdf", response_class=Response, responses=PDF)
def returns_pdf(actor: ReturnsReader, databases: DatabasesDep, site: AreaQuery = None) -> Response:
    """The return reconciliation as an A4 report in Bahasa Indonesia: the counts in a
    sentence, a row per PPK and the area's total, and the boxes whose return-leg seals
    differ from their reseal's."""
    found = _reconciled(actor, databases, site)
    return pdf_response(reconciliation_pdf(found), f"pengembalian-{found.site.code}.pdf")


@router.get(
    "/returns/report.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per PPK and one for the area (Bahasa Indonesia)"}},
)
def returns_csv(actor: ReturnsReader, databases: DatabasesDep, site: AreaQuery = None) -> Response:
    """The return reconciliation as UTF-8 CSV: a row per PPK, then the area's total."""
    found = _reconciled(actor, databases, site)
    code = found.site.code
    rows = [[c, found.names.get(c, ""), *t.counts.values()] for c, t in found.districts.items()]
    rows.append([code, found.site.name, *found.total.counts.values()])
    return csv_response(["kode", "wilayah", *tahap_csv()], rows, f"pengembalian-{code}.csv")


@router.get("/orphans")
def orphan_boxes(actor: OrphansReader, databases: DatabasesDep, site: AreaQuery = None) -> list[OrphanOut]:
    """Every box received, or found in a closed stock-take, at or below the area where
    the log did not expect it, in log order, with what happened next and where it is now."""
    code = actor_area(actor, "orphans.read", site)
    with databases.for_log(code).reads() as session:
        return [OrphanOut(**vars(o)) for o in orphans(session, code)]


@router.get("/orphans/report.pdf", response_class=Response, responses=PDF)
def orphans_pdf(actor: OrphansReader, databases: DatabasesDep, site: AreaQuery = None) -> Response:
    """The orphans as an A4 report in Bahasa Indonesia: each box with how it was found,
    where and when (the site's clock), its log entry, what happened next and where the
    log places it now."""
    area, found, names = _orphans(actor, databases, site)
    return pdf_response(orphan_list_pdf(area, found, names), f"kotak-yatim-{area.code}.pdf")


@router.get(
    "/orphans/report.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per orphan, in log order (Bahasa Indonesia)"}},
)
def orphans_csv(actor: OrphansReader, databases: DatabasesDep, site: AreaQuery = None) -> Response:
    """The orphans as UTF-8 CSV in Bahasa Indonesia, one row each, in log order."""
    area, found, names = _orphans(actor, databases, site)
    rows = (
        [o.item, ditemukan(o), o.site, names.get(o.site, ""), o.entry_index, o.observed_at.isoformat() if o.observed_at else "",
         sesudahnya(o, names), o.custodian, names.get(o.custodian, ""), posisi(o, names)]
        for o in found
    )  # fmt: skip
    header = ["barang", "ditemukan", "tempat", "nama_tempat", "entri_log", "waktu_pindai", "sesudahnya",
              "dipegang_oleh", "nama_pemegang", "posisi"]  # fmt: skip
    return csv_response(header, rows, f"kotak-yatim-{area.code}.csv")
