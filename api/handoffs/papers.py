"""A truckload's papers (docs/LABELS.md, *Manifests*): its manifest signed by the KPU's
label key (JSON, and one A4 page with its QR code to hand the escort), its berita acara
serah terima, its receipt, and the public view of its entries that its check page
(/v/m/{log}/{handoff}) verifies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from models.accounts import policy
from models.accounts.actor import Actor
from models.custody.handoffs import Handoff, HandoffStatus, get_handoff
from models.custody.scans import TOKEN_PATTERN
from models.custody.truckloads import (
    berita_acara, closing_receipt, read_truckload, sign_manifest, truckload_history,
)  # fmt: skip
from models.log.reads import check_log_id
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.deps import DatabasesDep, KeysDep, LogIdPath, SettingsDep, TilesDep, public_rate
from api.events.endpoints import receipt_saved_as
from api.export.endpoints import PDF, pdf_response
from api.handoffs.documents import berita_acara_pdf, manifest_pdf
from api.handoffs.endpoints import HandoffReader
from api.items.schemas import TrailEntryOut

router = APIRouter(prefix="/api/v1/handoffs", tags=["handoffs"])

# A handoff id as a scan names it (models/custody/scans.py): anything else is a 422.
HandoffIdPath = Annotated[
    str,
    Path(max_length=64, pattern=TOKEN_PATTERN, examples=["53.03.08-53.03.08.2005-2026-12-07"]),
]
# A truckload changes as boxes join it and arrive: nobody keeps an old copy.
_NO_STORE = {"Cache-Control": "no-store"}


def permitted_handoff(actor: Actor, session: Session, log_id: str, handoff_id: str) -> Handoff:
    """The handoff, if the actor may read it: either end in their jurisdiction."""
    found = get_handoff(session, check_log_id(log_id), handoff_id)
    policy.permit(actor, "handoffs.read", at=(found.to_site, found.from_site))
    return found


class Place(BaseModel):
    code: str
    name: str | None


class ManifestBox(BaseModel):
    index: int = Field(description="The log index of the dispatch that loaded it")
    item: str
    seals: list[str]


class ManifestOut(BaseModel):
    log: str
    handoff: str
    url: str = Field(description="What the manifest's QR code holds: the public check page, the JWS in its fragment")
    jws: str = Field(description="Compact JWS (EdDSA, typ jejak-manifest+jws) by the log's label key")
    kid: str
    digest: str = Field(
        description="sha256 of the payload's RFC 8785 form: what an escort's attestation of the whole truckload cites"
    )
    payload: dict[str, Any] = Field(description="What the JWS signs (docs/LABELS.md, *Manifests*)")
    boxes: list[ManifestBox] = Field(description="The boxes and their seals; `payload.boxes` is their digest")
    origin: Place
    destination: Place


@router.get("/{log_id}/{handoff_id}/manifest")
def manifest(
    log_id: LogIdPath, handoff_id: HandoffIdPath, actor: HandoffReader, databases: DatabasesDep, keys: KeysDep,
    settings: SettingsDep, response: Response,
) -> ManifestOut:
    """The truckload's manifest, signed by the KPU's label key like a label: its ends,
    vehicle, escorts' NRPs, when it left, and every box with its seals, as the log's
    dispatches loaded them. A box that joins later changes it (and its digest)."""
    with databases.for_log(log_id).reads() as session:
        found = permitted_handoff(actor, session, log_id, handoff_id)
        signed = sign_manifest(session, keys, settings.public_url, read_truckload(session, found))
    response.headers.update(_NO_STORE)
    payload = signed.manifest.payload
    return ManifestOut(
        log=log_id,
        handoff=handoff_id,
        url=signed.url,
        jws=signed.jws,
        kid=signed.kid,
        digest=signed.manifest.digest,
        payload=payload,
        boxes=[ManifestBox(**box) for box in signed.manifest.boxes],
        origin=Place(code=payload["from"], name=signed.names.get(payload["from"])),
        destination=Place(code=payload["to"], name=signed.names.get(payload["to"])),
    )


@router.get("/{log_id}/{handoff_id}/manifest.pdf", response_class=Response, responses=PDF)
def manifest_sheet(
    log_id: LogIdPath, handoff_id: HandoffIdPath, actor: HandoffReader, databases: DatabasesDep, keys: KeysDep,
    settings: SettingsDep,
) -> Response:
    """The manifest to print and hand to the escort: one A4 page with its signed QR code
    and every box and seal."""
    with databases.for_log(log_id).reads() as session:
        found = permitted_handoff(actor, session, log_id, handoff_id)
        signed = sign_manifest(session, keys, settings.public_url, read_truckload(session, found))
    # Rendered after the read ends.
    return pdf_response(manifest_pdf(signed), f"manifes-{handoff_id}.pdf")


@router.get("/{log_id}/{handoff_id}/berita-acara.pdf", response_class=Response, responses=PDF)
def berita_acara_sheet(
    log_id: LogIdPath, handoff_id: HandoffIdPath, actor: HandoffReader, databases: DatabasesDep,
    settings: SettingsDep, tiles: TilesDep,
) -> Response:
    """The berita acara serah terima of a closed truckload: who handed over, the escorts,
    who took over, every box and seal, the times in the site's zone, each party's log
    entries, and the QR code of the truckload's receipt. 409 until the receiver has closed
    it, and (with Retry-After) until a signed checkpoint covers the closing."""
    with databases.for_log(log_id).reads() as session:
        found = permitted_handoff(actor, session, log_id, handoff_id)
        document = berita_acara(session, tiles, settings.public_url, found)
    return pdf_response(berita_acara_pdf(document), f"berita-acara-{handoff_id}.pdf")


@router.get(
    "/{log_id}/{handoff_id}/receipt",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "A C2SP tlog-proof"}},
)
def truckload_receipt(
    log_id: LogIdPath, handoff_id: HandoffIdPath, actor: HandoffReader, databases: DatabasesDep, tiles: TilesDep
) -> Response:
    """The truckload's receipt: a C2SP tlog-proof of its closing entry (index, inclusion
    proof, cosigned checkpoint; the entry in its `extra` line), verifiable offline. 409
    until the truckload is closed and a signed checkpoint covers the closing."""
    with databases.for_log(log_id).reads() as session:
        truckload = read_truckload(session, permitted_handoff(actor, session, log_id, handoff_id))
        _, proof = closing_receipt(session, tiles, truckload)
    return Response(proof, media_type="text/plain; charset=utf-8", headers=receipt_saved_as(f"receipt-{handoff_id}"))


class TruckloadHistory(BaseModel):
    log: str
    handoff: str
    from_site: str
    to_site: str
    status: HandoffStatus
    checkpoint: str = Field(description="The signed checkpoint the proofs lead to")
    tree_size: int
    entries: list[TrailEntryOut] = Field(
        description="In log order: the dispatches that loaded the truckload, the receives that took its boxes "
        "over, receives naming it of boxes it did not carry, its missing boxes and its closing"
    )


@router.get("/{log_id}/{handoff_id}/history", dependencies=[Depends(public_rate)])
def history(log_id: LogIdPath, handoff_id: HandoffIdPath, databases: DatabasesDep, tiles: TilesDep) -> TruckloadHistory:
    """Public: the truckload's entries, each with its inclusion proof against the latest
    checkpoint, for its public check page (/v/m/{log}/{handoff}), which verifies them and
    a manifest or receipt against them. No login: entries name no one. Rate limited per
    client address."""
    with databases.for_log(log_id).reads() as session:
        found = truckload_history(session, tiles, get_handoff(session, log_id, handoff_id))
    handoff = found.truckload.handoff
    return TruckloadHistory(
        log=log_id,
        handoff=handoff.id,
        from_site=handoff.from_site,
        to_site=handoff.to_site,
        status=handoff.status,
        checkpoint=found.checkpoint.note,
        tree_size=found.checkpoint.tree_size,
        entries=[TrailEntryOut.of(entry) for entry in found.entries],
    )

