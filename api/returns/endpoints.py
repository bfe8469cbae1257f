"""After the count: return reconciliation per district and for the regency, and the
orphans (boxes received or found where the log did not expect them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from models.custody.returns import STAGES, orphans, reconcile
from pydantic import BaseModel, Field

from api.deps import DatabasesDep, Permit, actor_area
from api.export.endpoints import csv_response

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


@router.get("/returns")
def returns(actor: ReturnsReader, databases: DatabasesDep, site: AreaQuery = None) -> ReturnsOut:
    """After the count: the boxes bound for the regency (or district) back at the KPU, on
    their way, missing (their truckload closed without them), still at a TPS, PPS or
    PPK, or not counted yet; per PPK; and the boxes whose return-leg seals differ from
    those their reseal recorded."""
    code = actor_area(actor, "returns.read", site)
    with databases.for_log(code).reads() as session:
        found = reconcile(session, code)
    return ReturnsOut(
        site=code, name=found.site.name, counts=found.total.counts,
        districts=[DistrictReturns(code=c, name=found.names.get(c), counts=t.counts) for c, t in found.districts.items()],
        reseal_mismatches=[ResealMismatch(item=i, entry_index=n) for i, n in found.reseal_mismatches],
    )  # fmt: skip


TAHAP = {
    "back": "kembali_di_kpu", "on_the_way": "di_jalan", "missing": "hilang", "at_tps": "di_tps", "at_pps": "di_pps",
    "at_ppk": "di_ppk", "not_counted": "belum_dihitung",
}  # fmt: skip


@router.get(
    "/returns/report.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per PPK and one for the area (Bahasa Indonesia)"}},
)
def returns_csv(actor: ReturnsReader, databases: DatabasesDep, site: AreaQuery = None) -> Response:
    """The return reconciliation as UTF-8 CSV: a row per PPK, then the area's total."""
    code = actor_area(actor, "returns.read", site)
    with databases.for_log(code).reads() as session:
        found = reconcile(session, code)
    rows = [[c, found.names.get(c, ""), *t.counts.values()] for c, t in found.districts.items()]
    rows.append([code, found.site.name, *found.total.counts.values()])
    return csv_response(["kode", "wilayah", *TAHAP.values()], rows, f"pengembalian-{code}.csv")


@router.get("/orphans")
def orphan_boxes(actor: OrphansReader, databases: DatabasesDep, site: AreaQuery = None) -> list[OrphanOut]:
    """Every box received, or found in a closed stock-take, at or below the area where
    the log did not expect it, in log order, with what happened next and where it is now."""
    code = actor_area(actor, "orphans.read", site)
    with databases.for_log(code).reads() as session:
        return [OrphanOut(**vars(o)) for o in orphans(session, code)]
