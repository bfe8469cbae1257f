"""Ballot boxes and packages: register, find, follow their custody trail."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from models.accounts import policy
from models.custody.items import (
    Item,
    ItemSpec,
    ItemStatus,
    get_item,
    list_items,
    prove,
    register_items,
    reprint_label,
    trail_rows,
)
from models.accounts.actor import Actor
from models.core.errors import Unprocessable
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import caching, paging
from api.deps import (
    DatabasesDep,
    KeysDep,
    Permit,
    SequencerDep,
    SessionDep,
    SettingsDep,
    TilesDep,
    public_read,
    public_refusal,
    public_spend,
    public_wait,
)
from api.items.schemas import History, ItemIn, ItemOut, ItemPage, ItemsCreated, ItemsIn, TrailEntryOut
from api.versioning import deprecated

router = APIRouter(prefix="/api/v1/items", tags=["items"])

ItemRegistrar = Permit("items.register")
ItemLister = Permit("items.list")
ItemReader = Permit("items.read")
LabelReprinter = Permit("labels.reprint")


def permitted_item(actor: Actor, action: str, item: Item) -> Item:
    """The item, if `action` on it is the actor's to take: it is bound for their area."""
    policy.permit(actor, action, at=item.destination)
    return item


async def _specs(request: Request) -> list[ItemSpec]:
    """JSON {"items": [...]} or CSV with a header kind,destination,code[,contest,serial]."""
    body = await request.body()
    try:
        if request.headers.get("content-type", "").startswith("text/csv"):
            rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
            parsed = ItemsIn(items=[ItemIn(**{k: v for k, v in r.items() if v}) for r in rows])
        else:
            parsed = ItemsIn.model_validate(json.loads(body))
    except (ValueError, TypeError, csv.Error, RecursionError) as error:
        detail = error.errors()[0]["msg"] if isinstance(error, ValidationError) else str(error)
        raise Unprocessable(f"the item list is not valid: {detail}", code="invalid_item_list") from error
    return [ItemSpec(i.kind, i.destination, i.code, i.contest, i.serial) for i in parsed.items]


def _named(schema: dict[str, Any]) -> dict[str, Any]:
    """A body's schema as a named component (api/problems.py hoists `$defs` there), so a
    generated client names its type after it."""
    definitions = schema.pop("$defs", {})
    return {"$ref": f"#/$defs/{schema['title']}", "$defs": {**definitions, schema["title"]: schema}}


@router.post(
    "",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": _named(ItemsIn.model_json_schema()),
                    "example": {"items": [{"kind": "kotak_suara", "destination": "53.03.08.2001-003", "code": "BUP"}]},
                },
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "kind,destination,code\nkotak_suara,53.03.08.2001-003,BUP\n",
                },
            }
        }
    },
)
async def register(
    request: Request, actor: ItemRegistrar, databases: DatabasesDep, keys: KeysDep, sequencer: SequencerDep
) -> ItemsCreated:
    """Register items (JSON or CSV), each with its first signed label; all or none."""
    specs = await _specs(request)
    for spec in specs:
        policy.permit(actor, "items.register", at=spec.destination)
    items = await run_in_threadpool(register_items, databases, keys, sequencer, actor, specs)
    return ItemsCreated(items=[ItemOut.model_validate(i) for i in items])


@router.get("")
def items(
    pager: paging.PagerDep,
    response: Response,
    actor: ItemLister,
    session: SessionDep,
    bound_for: Annotated[
        str | None,
        Query(max_length=32, pattern=r"^[0-9.\-]+$", description="Items whose destination is this site or below it"),
    ] = None,
    site: Annotated[
        str | None, Query(max_length=32, pattern=r"^[0-9.\-]+$", description="Deprecated: bound_for", deprecated=True)
    ] = None,
    status: ItemStatus | None = None,
    custodian: Annotated[str | None, Query(max_length=32, pattern=r"^[0-9.\-]+$")] = None,
    contest: Annotated[str | None, Query(max_length=16, pattern=r"^[A-Z0-9_]+$")] = None,
    cursor: paging.Cursor = None,
    limit: paging.Limit = 100,
) -> ItemPage:
    """Items in your jurisdiction, filtered by where they are bound (`bound_for`), status,
    custodian, contest."""
    if site is not None:
        deprecated(response)
    after = paging.decode(cursor, str, str)
    rows = list_items(
        session,
        jurisdiction=actor.jurisdiction,
        site=bound_for or site,
        status=status,
        custodian=custodian,
        contest=contest,
        after=(after[0], after[1]) if after else None,
        limit=limit + 1,
    )
    rows, next_page = pager.page(rows, limit, lambda i: [i.log_id, i.id])
    return ItemPage(items=[ItemOut.model_validate(i) for i in rows], next=next_page)


@router.get("/{item_id}")
def item(item_id: str, actor: ItemReader, session: SessionDep) -> ItemOut:
    """The item: current custodian, status, last seals."""
    return ItemOut.model_validate(permitted_item(actor, "items.read", get_item(session, item_id)))


@router.get(
    "/{item_id}/history",
    responses={
        304: {"description": "The client holds this history (ETag)"},
        429: {"description": "Too many public reads just now (this process's budget or this address's): wait Retry-After seconds"},
    },
)
async def history(
    item_id: str, request: Request, databases: DatabasesDep, tiles: TilesDep, settings: SettingsDep
) -> History:
    """The public custody trail: every entry of the item with its log index, leaf hash
    and inclusion proof against the latest checkpoint. No login: entries name no one.
    Rate limited like the public check page that reads it; cacheable for a few seconds,
    and answered 304 to an `If-None-Match` naming its ETag (which changes with a new
    entry of the item or a new checkpoint)."""

    def read(session: Session) -> tuple[str, bytes | None]:
        checkpoint, rows = trail_rows(session, item_id)
        etag = caching.etag_of("history", item_id, checkpoint.tree_size, *(idx for idx, _, _ in rows))
        if caching.held(request, etag):  # free: no proof, no body
            return etag, None
        if wait := public_wait(request, settings):
            raise public_refusal(wait)
        public_spend(request, settings)
        trail = [TrailEntryOut.of(t) for t in prove(session, tiles, checkpoint, rows)]
        found = History(item=item_id, log=checkpoint.log_id, checkpoint=checkpoint.note, tree_size=checkpoint.tree_size, trail=trail)
        return etag, found.model_dump_json().encode()  # serialized here, once: not validated again on the way out

    etag, body = await public_read(databases, item_id, read)
    if body is None:
        return caching.not_modified(etag, caching.SHORT_LIVED)  # type: ignore[return-value]
    headers = {"ETag": etag, "Cache-Control": caching.SHORT_LIVED}
    return Response(body, media_type="application/json", headers=headers)  # type: ignore[return-value]


@router.post("/{item_id}/labels", status_code=201)
def reprint(
    item_id: str, actor: LabelReprinter, databases: DatabasesDep, keys: KeysDep, sequencer: SequencerDep
) -> ItemOut:
    """Print a new label; the log records that it revokes the previous one."""
    with databases.for_log(item_id).reads() as session:
        found = permitted_item(actor, "labels.reprint", get_item(session, item_id))
    return ItemOut.model_validate(reprint_label(keys, sequencer, actor, found))
