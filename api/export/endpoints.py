"""Custody data in the forms other systems and people already use: GS1 EPCIS 2.0,
CSV, and a printable custody report (berita acara) in Bahasa Indonesia."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from models.accounts import policy
from models.core.db import Database
from models.custody import epcis
from models.custody.events import Event, list_events
from models.custody.items import Item, get_item
from models.custody.reports import area_report, held_at, item_report
from models.log.reads import get_log
from models.places.sites import get_site, level_of
from sqlalchemy.orm import Session

from api import paging
from api.contract import LINK
from api.deps import DatabasesDep, Permit, SettingsDep, actor_log
from api.events.endpoints import EventFilterDep, LogQuery
from api.export.report_pdf import custody_pdf
from api.items.endpoints import permitted_item

router = APIRouter(tags=["export"])

EpcisExporter = Permit("exports.epcis")
EventsCsvExporter = Permit("exports.events_csv")
CustodyCsvExporter = Permit("exports.custody_csv")
ItemReportReader = Permit("exports.item_report")
AreaReportReader = Permit("exports.area_report")

T = TypeVar("T")
SiteQuery = Annotated[str, Query(max_length=32, pattern=r"^[0-9.\-]+$", examples=["53.03.08"])]
_NO_STORE = {"Cache-Control": "no-store"}
CSV_CHUNK = 1000  # rows read per short transaction while a CSV streams


@router.get(
    "/api/v1/export/epcis",
    response_class=JSONResponse,
    responses={
        200: {
            "content": {"application/ld+json": {}},
            "description": "An EPCISDocument (JSON-LD)",
            "headers": {"Link": LINK},
        }
    },
)
def export_epcis(
    request: Request,
    actor: EpcisExporter,
    databases: DatabasesDep,
    settings: SettingsDep,
    log: LogQuery = None,
    since: Annotated[
        str | None, Query(alias="GE_eventTime", max_length=64, description="Observed at or after (RFC 3339, with its zone)")
    ] = None,
    until: Annotated[
        str | None, Query(alias="LT_eventTime", max_length=64, description="Observed before (RFC 3339, with its zone)")
    ] = None,
    # Several values are separated by '|' (as EPCIS's REST binding writes them), or repeated.
    biz_steps: Annotated[list[str] | None, Query(alias="EQ_bizStep", description="CBV business steps")] = None,
    epcs: Annotated[list[str] | None, Query(alias="MATCH_epc", description="Items, by URI or id")] = None,
    at: Annotated[str | None, Query(alias="EQ_bizLocation", max_length=200, description="This site")] = None,
    within: Annotated[
        str | None, Query(alias="WD_bizLocation", max_length=200, description="This site and everything below it")
    ] = None,
    cursor: paging.Cursor = None,
    limit: paging.Limit = 100,
) -> JSONResponse:
    """Custody events as a GS1 EPCIS 2.0 EPCISDocument: each scan one ObjectEvent (a
    receive three: arriving, inspecting its seals, accepting), CBV 2.0 business steps
    and dispositions, the log index and leaf hash of each (docs/EPCIS.md). `limit`
    counts scans; the next page is in the `Link` header (rel="next")."""
    log_id = actor_log(actor, "exports.epcis", log)
    after = paging.decode(cursor, int)
    with databases.for_log(log_id).reads() as session:
        ids = epcis.Identifiers(settings.public_url, get_log(session, log_id).origin)
        query = ids.parse_query(since=since, until=until, biz_steps=biz_steps, epcs=epcs, at=at, within=within)
        records = epcis.select_scans(
            session,
            log_id=log_id,
            jurisdiction=actor.jurisdiction,
            query=query,
            after=after[0] if after else None,
            limit=limit + 1,
        )
    records, next_page = paging.page(records, limit, lambda r: [r.event.entry_index])
    headers = {"GS1-EPCIS-Version": "2.0", "GS1-CBV-Version": "2.0"}
    if next_page is not None:
        headers["Link"] = f'<{request.url.include_query_params(cursor=next_page)}>; rel="next"'
    return JSONResponse(
        epcis.document(records, ids, query.biz_steps), media_type="application/ld+json", headers=headers
    )


@router.get(
    "/api/v1/export/events.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per event, with a header row"}},
)
def export_events(
    actor: EventsCsvExporter, databases: DatabasesDep, filter: EventFilterDep, response: Response, log: LogQuery = None
) -> StreamingResponse:
    """The custody events GET /api/v1/events selects (same filters), all of them, in
    log order, as UTF-8 CSV. Flags are separated by spaces."""
    log_id = actor_log(actor, "exports.events_csv", log)

    def rows(session: Session, after: Event | None) -> list[Event]:
        return list_events(
            session,
            log_id=log_id,
            jurisdiction=actor.jurisdiction,
            filter=filter,
            after=after.entry_index if after else None,
            limit=CSV_CHUNK,
        )

    header = [
        "log", "entry_index", "event_id", "item", "type", "site", "counterparty", "role",
        "actor", "device", "handoff", "observed_at", "received_at", "flags",
    ]  # fmt: skip

    def line(e: Event) -> list[Any]:
        return [
            e.log_id, e.entry_index, e.event_id, e.item_id, e.type, e.site, e.counterparty, e.role,
            e.actor_id, e.device_id, e.handoff_id, e.observed_at.isoformat(), e.received_at.isoformat(),
            " ".join(e.flags),
        ]  # fmt: skip

    csv = _csv(databases.for_log(log_id), rows, header, line, f"events-{log_id}.csv")
    # A streamed answer is not the one the filter's dependency wrote its headers on.
    csv.headers.update({k: v for k, v in response.headers.items() if k in ("deprecation", "sunset")})
    return csv


@router.get(
    "/api/v1/export/custody.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per item, with a header row"}},
)
def export_custody(actor: CustodyCsvExporter, databases: DatabasesDep, site: SiteQuery) -> StreamingResponse:
    """Current custody: every item held at `site` or below it (in transit, an item is
    still its dispatcher's), with its status, leg, custodian, seals and last log
    index, as UTF-8 CSV."""
    level_of(site)  # a malformed code is a 400 whoever asks
    policy.permit(actor, "exports.custody_csv", at=site)
    with databases.for_log(site).reads() as session:
        get_site(session, site)  # an unknown site is a 404

    def rows(session: Session, after: Item | None) -> list[Item]:
        return held_at(session, site, after=(after.log_id, after.id) if after else None, limit=CSV_CHUNK)

    header = [
        "item", "kind", "contest", "destination", "status", "leg", "custodian", "seals",
        "dispatched_to", "dispatched_at", "handoff", "last_index", "updated_at",
    ]  # fmt: skip

    def line(i: Item) -> list[Any]:
        return [
            i.id, i.kind.value, i.contest, i.destination, i.status.value, i.leg.value, i.custodian,
            " ".join(i.seals), i.dispatch_to, i.dispatched_at.isoformat() if i.dispatched_at else None,
            i.dispatch_handoff, i.last_index, i.updated_at.isoformat(),
        ]  # fmt: skip

    return _csv(databases.for_log(site), rows, header, line, f"custody-{site}.csv")


def _csv(
    database: Database,
    fetch: Callable[[Session, T | None], list[T]],
    header: Sequence[str],
    line: Callable[[T], list[Any]],
    filename: str,
) -> StreamingResponse:
    """Stream rows as CSV, read CSV_CHUNK at a time after the last row sent, each chunk
    in its own short read. The first is read before the answer starts, so that a bad
    filter is a clean 4xx rather than a broken download."""
    with database.reads() as session:
        first = fetch(session, None)

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        chunk = first
        while True:
            writer.writerows(line(row) for row in chunk)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(chunk) < CSV_CHUNK:
                return
            with database.reads() as session:
                chunk = fetch(session, chunk[-1])

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={**_NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


PDF = {200: {"content": {"application/pdf": {}}, "description": "An A4 PDF in Bahasa Indonesia"}}


@router.get("/api/v1/items/{item_id}/report.pdf", response_class=Response, responses=PDF)
def item_report_pdf(item_id: str, actor: ItemReportReader, databases: DatabasesDep) -> Response:
    """The item's custody report (berita acara): each handoff with both parties' roles
    and sites, escorts, seals, times and irregularities, its other events, and the log
    entries and signed checkpoint that prove them."""
    with databases.for_log(item_id).reads() as session:
        report = item_report(session, permitted_item(actor, "exports.item_report", get_item(session, item_id)))
    # Rendered after the read ends: a long report takes a while.
    return pdf_response(custody_pdf(report), f"berita-acara-{item_id}.pdf")


@router.get("/api/v1/reports/custody.pdf", response_class=Response, responses=PDF)
def area_report_pdf(actor: AreaReportReader, databases: DatabasesDep, site: SiteQuery) -> Response:
    """The custody report of every item bound for a regency, a district or a village,
    item by item, with signature lines for its officials and their supervisors (KPU and
    Bawaslu, PPK and Panwaslu Kecamatan, PPS and the village's supervisor). `site` is a
    regency (KPU), district (PPK) or village (PPS) code."""
    level_of(site)  # a malformed code is a 400 whoever asks
    policy.permit(actor, "exports.area_report", at=site)
    with databases.for_log(site).reads() as session:
        report = area_report(session, site)
    return pdf_response(custody_pdf(report), f"berita-acara-{site}.pdf")


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    """A small CSV read whole (UTF-8, a header row), to download."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={**_NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


def pdf_response(document: bytes, filename: str) -> Response:
    return Response(
        document,
        media_type="application/pdf",
        headers={**_NO_STORE, "Content-Disposition": f'inline; filename="{filename}"'},
    )
