"""Stock-takes (stock opname): a site's boxes scanned on its shelves, then closed by a
custodian; the closing names what was found, missing and unexpected."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import DatabasesDep, Permit, SequencerDep
from api.export.endpoints import PDF, csv_response, pdf_response
from api.stocktakes.report import HASIL, stocktake_pdf
from api.stocktakes.schemas import LineOut, StocktakeOut
from models.accounts import policy
from models.accounts.actor import Actor
from models.custody.stocktakes import (
    StocktakeClose,
    StocktakeReport,
    get_stocktake,
    stocktake_report,
)
from models.log.reads import check_log_id

router = APIRouter(prefix="/api/v1/stocktakes", tags=["stocktakes"])

StocktakeReader = Permit("stocktakes.read")
StocktakeCloser = Permit("stocktakes.close")


def _read(databases: DatabasesDep, actor: Actor, action: str, log_id: str, stocktake_id: str) -> StocktakeReport:
    with databases.for_log(check_log_id(log_id)).reads() as session:
        found = get_stocktake(session, log_id, stocktake_id)
        policy.permit(actor, action, at=found.site)
        return stocktake_report(session, found)


def _shaped(report: StocktakeReport) -> StocktakeOut:
    found = report.stocktake
    return StocktakeOut(
        log_id=found.log_id, id=found.id, site=found.site, site_name=report.names.get(found.site),
        status=found.status, opened_at=found.opened_at, closed_at=found.closed_at, close_index=found.close_index,
        scanned=len(found.scans), found=found.found, missing=found.missing, unexpected=found.unexpected,
        lines=[LineOut(**vars(line)) for line in report.lines],
    )  # fmt: skip


@router.get("/{log_id}/{stocktake_id}")
def stocktake(log_id: str, stocktake_id: str, actor: StocktakeReader, databases: DatabasesDep) -> StocktakeOut:
    """A stock-take: the boxes scanned so far, or, once closed, those found, missing and
    unexpected, each with where the log places it now and its evidence in the log."""
    return _shaped(_read(databases, actor, "stocktakes.read", log_id, stocktake_id))


@router.post("/{log_id}/{stocktake_id}/close")
def close(
    log_id: str, stocktake_id: str, actor: StocktakeCloser, databases: DatabasesDep, sequencer: SequencerDep
) -> StocktakeOut:
    """A custodian of the site closes the stock-take: the server compares its scans with
    what the log says the site holds and appends a `stocktake_close` entry naming the
    boxes found, missing and unexpected; each missing and each unexpected box raises an
    alert. No custody moves. Scans still on a phone's outbox count only if they arrive
    before the closing: sync first."""
    with databases.for_log(check_log_id(log_id)).reads() as session:
        found = get_stocktake(session, log_id, stocktake_id)
        policy.permit(actor, "stocktakes.close", at=found.site)
    sequencer.submit(log_id, StocktakeClose(stocktake_id, actor), len(found.scans) + 1)
    return _shaped(_read(databases, actor, "stocktakes.close", log_id, stocktake_id))


@router.get("/{log_id}/{stocktake_id}/report.pdf", response_class=Response, responses=PDF)
def report_pdf(log_id: str, stocktake_id: str, actor: StocktakeReader, databases: DatabasesDep) -> Response:
    """The stock-take's berita acara (A4, Bahasa Indonesia): missing and unexpected boxes
    first, each with where the log places it and the log entries that are the evidence."""
    report = _read(databases, actor, "stocktakes.read", log_id, stocktake_id)
    return pdf_response(stocktake_pdf(report), f"stock-opname-{stocktake_id}.pdf")


@router.get(
    "/{log_id}/{stocktake_id}/report.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per box, with a header row (Bahasa Indonesia)"}},
)
def report_csv(log_id: str, stocktake_id: str, actor: StocktakeReader, databases: DatabasesDep) -> Response:
    """The stock-take box by box as UTF-8 CSV, headers and results in Bahasa Indonesia."""
    report = _read(databases, actor, "stocktakes.read", log_id, stocktake_id)
    rows = (
        [line.item, HASIL[line.outcome], line.custodian, report.names.get(line.custodian or "", ""), line.status,
         " ".join(f"#{index}" for index in line.evidence)]
        for line in report.lines
    )  # fmt: skip
    header = ["barang", "hasil", "dipegang_oleh", "nama_tempat", "status", "entri_log"]
    return csv_response(header, rows, f"stock-opname-{stocktake_id}.csv")
