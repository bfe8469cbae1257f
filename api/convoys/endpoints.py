"""The convoy picture for Polres: truckloads on the road now or dispatched on a day,
with their escorts, and a printable daily sheet."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from models.accounts.actor import Actor, Role
from models.accounts.users import nrp_of
from models.core.base import utcnow
from models.custody.convoys import LISTED, Convoy, ConvoyPicture, convoys
from models.custody.overdue import Allowance
from models.places.zones import zone_of

from api.convoys.schemas import ConvoyOut, ConvoysOut, LastScanOut
from api.convoys.sheet import convoy_sheet_pdf
from api.deps import DatabasesDep, Permit, SettingsDep, actor_area
from api.export.endpoints import PDF, pdf_response

router = APIRouter(prefix="/api/v1/convoys", tags=["convoys"])

ConvoyReader = Permit("convoys.read")
AreaQuery = Annotated[
    str | None,
    Query(max_length=32, pattern=r"^[0-9.\-]+$", examples=["53.03"], description="An area; defaults to your jurisdiction"),
]
DayQuery = Annotated[date | None, Query(description="Truckloads dispatched that day (local time) instead of those on the road")]


def _picture(
    actor: Actor, databases: DatabasesDep, settings: SettingsDep, site: str | None, day: date | None, listed: int | None = None
) -> tuple[str, ConvoyPicture]:
    code = actor_area(actor, "convoys.read", site)
    nrp = None
    if actor.role is Role.ESCORT:  # shown the convoys naming them, by their account's NRP
        with databases.home.reads() as session:  # accounts live on the home database
            nrp = nrp_of(session, actor.id) or "-"
    with databases.for_log(code).reads() as session:
        return code, convoys(session, code, Allowance.of(settings), utcnow(), day=day, nrp=nrp, listed=listed)


def _convoy(convoy: Convoy, names: dict[str, str]) -> ConvoyOut:
    h, last = convoy.handoff, convoy.last
    return ConvoyOut(
        handoff=h.id, log_id=h.log_id, from_site=h.from_site, from_name=names.get(h.from_site), to_site=h.to_site,
        to_name=names.get(h.to_site), kerawanan=convoy.kerawanan, vehicle=h.vehicle, escorts=h.escorts, status=h.status,
        dispatched_at=h.dispatched_at, minutes_since_dispatch=int(convoy.since_dispatch.total_seconds() // 60),
        allowance_hours=convoy.allowance_hours, overdue=convoy.overdue, boxes=convoy.boxes, on_road=convoy.on_road,
        picked_up_at=h.picked_up_at, delivered_at=h.delivered_at,
        last_scan=None if last is None else LastScanOut(
            type=last.type, site=last.site, site_name=names.get(last.site), observed_at=last.observed_at,
            entry_index=last.entry_index,
        ),
    )  # fmt: skip


@router.get("")
def convoy_picture(
    actor: ConvoyReader, databases: DatabasesDep, settings: SettingsDep, site: AreaQuery = None, day: DayQuery = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="At most this many truckloads listed, the most urgent")] = LISTED,
) -> ConvoysOut:
    """The truckloads leaving or reaching the area that are on the road now (some box
    still in transit in them), or, with `day`, those dispatched that day: ends,
    kerawanan, vehicle, escorts' NRPs, time since dispatch against the allowance before
    `not_received`, and where the last scan was made. An escort sees those naming them."""
    code, picture = _picture(actor, databases, settings, site, day, listed=limit)
    return ConvoysOut(
        site=code, day=day, now=utcnow(), total=picture.total, overdue=picture.overdue,
        convoys=[_convoy(c, picture.names) for c in picture.convoys],
    )  # fmt: skip


@router.get("/sheet.pdf", response_class=Response, responses=PDF)
def convoy_sheet(
    actor: ConvoyReader, databases: DatabasesDep, settings: SettingsDep, site: AreaQuery = None, day: DayQuery = None
) -> Response:
    """The day's convoy sheet (A4 landscape, Bahasa Indonesia) to print for the Polres
    command post: every truckload dispatched that day (default: today, local time)."""
    code = actor_area(actor, "convoys.read", site)
    chosen = day or utcnow().astimezone(zone_of(code)[0]).date()
    code, picture = _picture(actor, databases, settings, code, chosen)
    return pdf_response(convoy_sheet_pdf(code, chosen, picture), f"konvoi-{code}-{chosen}.pdf")
