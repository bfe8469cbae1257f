"""Signed scans in (one or many, idempotent on event_id), custody events out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import PlainTextResponse
from models.accounts import policy
from models.custody.events import EventFilter, get_event, list_events
from models.custody.ingest import MAX_SCANS_PER_REQUEST, submit_scans_async
from models.custody.refusals import REASONS, resendable
from models.custody.scans import ScanType
from models.custody.work import rules_of
from models.log.receipts import receipt, receipt_file
from models.log.sequencer import b64
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from api import paging
from api.deps import DatabasesDep, IngestDep, Instant, Permit, TilesDep, actor_log
from api.events.scan_schema import EXAMPLE_SIGNED_SCAN, REF
from api.versioning import deprecated

router = APIRouter(prefix="/api/v1/events", tags=["events"])

# Each scan is then judged on its own by the custody rules, at its site and level.
ScanSubmitter = Permit("events.submit")
EventReader = Permit("events.list")
ReceiptReader = Permit("events.receipt")


class ScansIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"scans": [EXAMPLE_SIGNED_SCAN]}]})

    # Any JSON value: a malformed element is refused on its own (its result says why),
    # not with its whole batch, which an offline outbox would retry for ever.
    scans: list[Annotated[Any, WithJsonSchema({"$ref": REF.format(model="SignedScan")})]] = Field(
        min_length=1,
        max_length=MAX_SCANS_PER_REQUEST,
        description='Signed scans, each {"scan": {...}, "sig": "base64 Ed25519 signature over '
        'the RFC 8785 bytes of scan"}; an offline batch keeps the order the device made them. '
        "Each gets its own result: a malformed one is rejected alone",
    )


class ScanResultOut(BaseModel):
    event_id: str
    status: str = Field(
        description="accepted; duplicate (a replay of the same signed scan: the first result); conflict (its "
        "event_id or its device's device_seq is another scan's, entry `entry_index`: not recorded); or rejected "
        "(see reason_code and resend)"
    )
    reason: str | None = Field(description="Why it was rejected, or what it conflicts with: prose for a person")
    reason_code: str | None = Field(
        description="Why, as a stable code a client branches on; null when recorded. One of "
        + ", ".join(REASONS)
        + " (docs/API.md, *Scan refusals*); v1 may add codes: a client treats one it does not know by `resend`",
        examples=["item_unknown"],
    )
    resend: bool | None = Field(
        description="Rejected: whether sending this same signed scan again later can succeed (keep it in the "
        "outbox) or never can (make a new scan, or none); null when recorded"
    )
    entry_index: int | None = Field(description="Its entry's index in the log; for a conflict, the other scan's")
    index: int | None = Field(
        description="Deprecated: entry_index, the name events and webhooks use", json_schema_extra={"deprecated": True}
    )
    leaf_hash: str | None
    flags: list[str] = Field(description="Custody irregularities recorded with it")


class ScanResults(BaseModel):
    results: list[ScanResultOut]


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    log_id: str
    event_id: str
    entry_index: int
    item_id: str | None = Field(description="The box; null for an escort's pickup or delivery of a whole truckload")
    type: str
    site: str
    counterparty: str | None
    actor_id: uuid.UUID
    role: str
    device_id: str
    device_seq: int | None = Field(description="The phone's own number for the scan (null for scans logged before it was kept)")
    handoff_id: str | None
    observed_at: datetime
    received_at: datetime
    flags: list[str]


class EventPage(BaseModel):
    events: list[EventOut]
    next: str | None


@router.post("")
async def submit(
    body: ScansIn,
    actor: ScanSubmitter,
    services: IngestDep,
) -> ScanResults:
    """Submit signed scans; each gets its own result. Replaying a scan returns the first
    result and appends nothing; another scan under a used event_id or device_seq is a
    conflict, and appends nothing either."""
    databases, devices, sequencer, settings = services
    results = await submit_scans_async(databases, devices, sequencer, rules_of(settings), actor, body.scans)
    return ScanResults(
        results=[
            ScanResultOut(
                event_id=r.event_id,
                status=r.status,
                reason=r.reason,
                reason_code=r.reason_code,
                resend=resendable(r.reason_code) if r.reason_code else None,
                entry_index=r.index,
                index=r.index,
                leaf_hash=b64(r.leaf_hash) if r.leaf_hash else None,
                flags=r.flags,
            )
            for r in results
        ]
    )


def _code(description: str, deprecated: bool = False) -> Any:
    """A query parameter naming an item or a site."""
    return Query(max_length=64, pattern=r"^[0-9A-Za-z.\-]+$", description=description, deprecated=deprecated or None)


LogQuery = Annotated[str | None, Query(pattern=r"^\d{2}\.\d{2}$", description="A national account names the log")]


def event_filter(
    response: Response,
    item_id: Annotated[str | None, _code("Only this item's events")] = None,
    at: Annotated[str | None, _code("Only events at exactly this site")] = None,
    within: Annotated[str | None, _code("Only events at this site or any site below it")] = None,
    actor_id: Annotated[str | None, Query(alias="actor", max_length=36)] = None,
    type: ScanType | None = None,
    since: Instant | None = None,
    until: Instant | None = None,
    item: Annotated[str | None, _code("Deprecated: item_id", deprecated=True)] = None,
    site: Annotated[str | None, _code("Deprecated: at (exactly this site)", deprecated=True)] = None,
) -> EventFilter:
    """The filters of GET /api/v1/events, shared with its CSV export. `item` and `site`
    are the names before the one vocabulary (docs/API.md, *Names*)."""
    kind = type.value if type else None
    if item is not None or site is not None:
        deprecated(response)
    return EventFilter(item_id or item, at or site, actor_id, kind, since, until, within=within)


EventFilterDep = Annotated[EventFilter, Depends(event_filter)]


@router.get("")
def events(
    pager: paging.PagerDep,
    actor: EventReader,
    databases: DatabasesDep,
    filter: EventFilterDep,
    log: LogQuery = None,
    cursor: paging.Cursor = None,
    limit: paging.Limit = 100,
) -> EventPage:
    """Custody events in your jurisdiction, newest last, by item, site, actor, type, time."""
    log_id = actor_log(actor, "events.list", log)
    after = paging.decode(cursor, int)
    with databases.for_log(log_id).reads() as session:
        rows = list_events(
            session,
            log_id=log_id,
            jurisdiction=actor.jurisdiction,
            filter=filter,
            after=after[0] if after else None,
            limit=limit + 1,
        )
    rows, next_page = pager.page(rows, limit, lambda e: [e.entry_index])
    return EventPage(events=[EventOut.model_validate(e) for e in rows], next=next_page)


def receipt_saved_as(name: str) -> dict[str, str]:
    """Saved under the receipt's file name, the extension C2SP's tlog-proof suggests."""
    return {"Content-Disposition": f'attachment; filename="{receipt_file(name)}"'}


@router.get(
    "/{event_id}/receipt",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {}}, "description": "A C2SP tlog-proof bundle"},
        409: {"description": "In the log, but no checkpoint covers it yet (see Retry-After)"},
    },
)
def event_receipt(
    event_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")],
    actor: ReceiptReader,
    databases: DatabasesDep,
    tiles: TilesDep,
    log: LogQuery = None,
) -> PlainTextResponse:
    """The scan's receipt: a C2SP tlog-proof (index, inclusion proof, cosigned checkpoint)
    whose `extra` line is the entry itself, so it verifies offline with ledger/ alone."""
    log_id = actor_log(actor, "events.receipt", log)
    with databases.for_log(log_id).reads() as session:
        event = get_event(session, log_id, event_id)
        # The same events an officer may list: those at their sites or of boxes bound for them.
        policy.permit(actor, "events.receipt", at=(event.site, event.item_id))
        proof = receipt(session, tiles, log_id, event.entry_index, f"event {event.event_id}")
    return PlainTextResponse(proof, headers={"Cache-Control": "no-cache", **receipt_saved_as(f"receipt-{event.event_id}")})
