"""Labels (docs/DESIGN.md §6): an item's current signed QR label as SVG or PNG, A4 sheets of
labels to print, and the public label keys a scanner checks them with offline.

Reprinting (a new label that revokes the one before) is POST /api/v1/items/{id}/labels."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from ledger import jws
from models.accounts import policy
from models.core.errors import InvalidRequest, NotFound
from models.custody.items import Item, bound_for, get_item, label_url
from models.custody.labels import label_keys_of
from models.log import reads
from models.places.sites import get_site, regency_of
from pydantic import BaseModel, Field

from api.deps import DatabasesDep, LogIdPath, Permit, SessionDep, SettingsDep
from api.items.endpoints import permitted_item
from api.labels import render

router = APIRouter(tags=["labels"])

LabelPrinter = Permit("labels.print")

# A sheet costs 40 to 75 ms a label on one core, most of it the QR encoder choosing
# its mask: 1000 labels (48 A4 pages) take 40 to 75 s. That covers a district, the
# unit a warehouse prints at a time; a regency asks district by district.
MAX_LABELS_PER_SHEET = 1000

# A reprint replaces the label: nobody (browser, proxy) may keep the old one.
_NO_STORE = {"Cache-Control": "no-store"}
ItemIdPath = Annotated[str, Path(max_length=64, examples=["53.03.08.2001-003-BUP"])]


def _image(media_type: str, description: str) -> dict[int | str, dict[str, object]]:
    return {200: {"content": {media_type: {}}, "description": description}}


def label_of(public_url: str, item: Item) -> render.Label:
    """What the item's current label shows."""
    return render.Label(
        url=label_url(public_url, item),
        item=item.id,
        kind=item.kind.value,
        contest=item.contest,
        destination=item.destination,
        serial=item.label_serial,
    )


@router.get(
    "/api/v1/items/{item_id}/label.svg",
    response_class=Response,
    responses=_image("image/svg+xml", "The current label, drawn for 0.5 mm modules"),
)
def label_svg(item_id: ItemIdPath, actor: LabelPrinter, session: SessionDep, settings: SettingsDep) -> Response:
    """The item's current label: its QR code (error correction Q) with the id beside it."""
    item = permitted_item(actor, "labels.print", get_item(session, item_id))
    return Response(
        render.svg(label_of(settings.public_url, item)),
        media_type="image/svg+xml",
        headers={**_NO_STORE, "Content-Disposition": f'inline; filename="{item.id}.svg"'},
    )


@router.get(
    "/api/v1/items/{item_id}/label.png",
    response_class=Response,
    responses=_image("image/png", "The current label, 8 pixels a module"),
)
def label_png(item_id: ItemIdPath, actor: LabelPrinter, session: SessionDep, settings: SettingsDep) -> Response:
    """The item's current label as a PNG (printed at its dpi, modules are 0.5 mm)."""
    item = permitted_item(actor, "labels.print", get_item(session, item_id))
    return Response(
        render.png(label_of(settings.public_url, item)),
        media_type="image/png",
        headers={**_NO_STORE, "Content-Disposition": f'inline; filename="{item.id}.png"'},
    )


@router.get(
    "/api/v1/labels.pdf",
    response_class=Response,
    responses=_image("application/pdf", "A4 sheets, 3 x 7 labels a page"),
)
def labels_pdf(
    actor: LabelPrinter,
    databases: DatabasesDep,
    settings: SettingsDep,
    site: Annotated[
        str,
        Query(
            max_length=32,
            pattern=r"^[0-9.\-]+$",
            description="A regency, district, village or TPS code: every item bound for it or below",
            examples=["53.03.08"],
        ),
    ],
) -> Response:
    """The current labels of every item whose destination is `site` or lies below it,
    in id order (so by TPS), as an A4 PDF to print: 3 x 7 labels a page, each a QR
    code of 0.4 mm modules with the id in plain (searchable) text beside it."""
    regency = regency_of(site)  # a malformed code is a 400
    policy.permit(actor, "labels.print", at=site)
    with databases.for_log(regency).reads() as session:
        get_site(session, site)
        items = bound_for(session, site, limit=MAX_LABELS_PER_SHEET + 1)
        labels = [label_of(settings.public_url, item) for item in items]
    if not labels:
        raise NotFound(f"no items are registered for {site} or below")
    if len(labels) > MAX_LABELS_PER_SHEET:
        raise InvalidRequest(
            f"more than {MAX_LABELS_PER_SHEET} labels are due under {site}, more than one "
            "sheet request prints: ask for each district (or village) below it in turn"
        )
    # Rendered after the read transaction ends: a big sheet takes a while.
    document = render.sheet(labels, title=f"{site} ({len(labels)} labels)")
    return Response(
        document,
        media_type="application/pdf",
        headers={**_NO_STORE, "Content-Disposition": f'inline; filename="labels-{site}.pdf"'},
    )


class LabelJwk(BaseModel):
    """An Ed25519 public key that signs labels, as a JWK (RFC 8037), with where the
    log published (and, once retired, retired) it."""

    kty: Literal["OKP"] = "OKP"
    crv: Literal["Ed25519"] = "Ed25519"
    x: str = Field(description="The public key, base64url without padding")
    kid: str = Field(description="The RFC 7638 thumbprint: the `kid` of every label it signs")
    use: Literal["sig"] = "sig"
    alg: Literal["EdDSA"] = "EdDSA"
    published_index: int = Field(description="Index of the log's `label_key` entry for it")
    status: Literal["active", "retired"] = Field(
        description="`retired`: it signs no new label, and the labels it signed still verify"
    )
    retired_index: int | None = Field(
        description="Index of the `label_key` entry that retired it (its `retires` names this kid), if any"
    )


class LabelKeySet(BaseModel):
    keys: list[LabelJwk]


@router.get("/api/v1/logs/{log_id}/label-keys", tags=["logs"])
def label_keys(log_id: LogIdPath, session: SessionDep, response: Response) -> LabelKeySet:
    """Public: the keys that sign (and signed) this log's labels, as a JWK Set. A scanner
    caches it and checks labels offline; each key is also a `label_key` entry in the log,
    and a retired key stays listed: the labels it signed are still genuine."""
    log = reads.get_log(session, log_id)
    rows = label_keys_of(session, log.id)
    response.headers["Cache-Control"] = "public, max-age=300"
    return LabelKeySet(
        keys=[
            LabelJwk(
                x=jws.b64url(row.public_key),
                kid=row.kid,
                published_index=row.published_index,
                status="active" if row.retired_index is None else "retired",
                retired_index=row.retired_index,
            )
            for row in rows
        ]
    )
