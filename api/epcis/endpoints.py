"""EPCIS 2.0's query interface (SimpleEventQuery over the REST binding's `events`
resource) and the `jejak:` vocabulary its documents use. The export
(GET /api/v1/export/epcis) stays as it was; this answers as an EPCIS repository does:
an EPCISQueryDocument, paged by `perPage` and `nextPageToken`, its errors
`epcisException:…` problems (docs/EPCIS.md, *Query interface*)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from models.core.errors import InvalidRequest, JejakError
from models.custody import epcis
from models.log.reads import get_log

from api import paging
from api.contract import LINK
from api.deps import DatabasesDep, Permit, SettingsDep, actor_log
from api.problems import problem

router = APIRouter(tags=["epcis"])

EpcisQuerier = Permit("exports.epcis")
JSON_LD = "application/ld+json"
_HEADERS = {"GS1-EPCIS-Version": "2.0", "GS1-CBV-Version": "2.0"}
# A JejakError's status → the EPCIS 2.0 exception it is.
_EXCEPTIONS = {
    400: "QueryParameterException",
    422: "QueryParameterException",
    403: "SecurityException",
    404: "NoSuchResourceException",
}

Text = Annotated[str | None, Query(max_length=200)]
Values = Annotated[list[str] | None, Query()]


def _per_page(value: str | None) -> int:
    if value is None:
        return 100
    if not value.isdigit() or not 1 <= int(value) <= 500:
        raise InvalidRequest("perPage: a whole number from 1 to 500")
    return int(value)


@router.get(
    "/api/v1/epcis/events",
    response_class=JSONResponse,
    responses={
        200: {
            "content": {JSON_LD: {}},
            "description": "An EPCISQueryDocument (JSON-LD) of one page",
            "headers": {"Link": LINK},
        },
        400: {"description": "epcisException:QueryParameterException: a parameter EPCIS does not take so"},
        403: {"description": "epcisException:SecurityException: not this account's log"},
        404: {"description": "epcisException:NoSuchResourceException: no such log"},
    },
)
def events(
    request: Request,
    actor: EpcisQuerier,
    databases: DatabasesDep,
    settings: SettingsDep,
    log: Annotated[str | None, Query(max_length=8, description="A national account names the regency log")] = None,
    ge_event_time: Annotated[
        Text, Query(alias="GE_eventTime", description="Observed at or after (RFC 3339, with its zone)")
    ] = None,
    lt_event_time: Annotated[
        Text, Query(alias="LT_eventTime", description="Observed before (RFC 3339, with its zone)")
    ] = None,
    biz_steps: Annotated[
        Values, Query(alias="EQ_bizStep", description="CBV business steps, bare or as URIs, '|'-separated or repeated")
    ] = None,
    epcs: Annotated[
        Values, Query(alias="MATCH_epc", description="Items, by EPC or id, '|'-separated or repeated")
    ] = None,
    at: Annotated[Text, Query(alias="EQ_bizLocation", description="Exactly this site (URI or code)")] = None,
    within: Annotated[
        Text, Query(alias="WD_bizLocation", description="This site and everything below it (URI or code)")
    ] = None,
    per_page: Annotated[Text, Query(alias="perPage", description="Scans per page, 1 to 500 (default 100)")] = None,
    token: Annotated[
        str | None, Query(alias="nextPageToken", max_length=512, description="From the previous page's Link header")
    ] = None,
) -> JSONResponse:
    """EPCIS 2.0 SimpleEventQuery: the custody events as ObjectEvents (docs/EPCIS.md),
    in log order, one page at a time; the next page's URL, with its `nextPageToken`,
    is in the `Link` header (rel="next"). Who may ask: as GET /api/v1/export/epcis."""
    try:
        log_id = actor_log(actor, "exports.epcis", log)
        limit, after = _per_page(per_page), paging.decode(token, int)
        with databases.for_log(log_id).reads() as session:
            ids = epcis.Identifiers(settings.public_url, get_log(session, log_id).origin)
            query = ids.parse_query(
                since=ge_event_time, until=lt_event_time, biz_steps=biz_steps, epcs=epcs, at=at, within=within
            )
            records = epcis.select_scans(
                session, log_id=log_id, jurisdiction=actor.jurisdiction, query=query,
                after=after[0] if after else None, limit=limit + 1,
            )  # fmt: skip
    except JejakError as error:
        if (exception := _EXCEPTIONS.get(error.status)) is None:
            raise
        status = 400 if exception == "QueryParameterException" else error.status
        return problem(status, error.detail, exception, error.code, kind=f"epcisException:{exception}")
    records, next_page = paging.page(records, limit, lambda r: [r.event.entry_index])
    headers = dict(_HEADERS)
    if next_page is not None:
        headers["Link"] = f'<{request.url.include_query_params(nextPageToken=next_page)}>; rel="next"'
    return JSONResponse(epcis.query_document(records, ids, query.biz_steps), media_type=JSON_LD, headers=headers)


@router.get(
    epcis.NAMESPACE_PATH,
    response_class=JSONResponse,
    responses={200: {"content": {JSON_LD: {}}, "description": "The jejak: vocabulary (JSON-LD)"}},
)
def vocabulary(settings: SettingsDep) -> JSONResponse:
    """What each `jejak:` extension field of the EPCIS documents means: the document the
    namespace IRI names."""
    ids = epcis.Identifiers(settings.public_url, "")
    return JSONResponse(epcis.vocabulary(ids), media_type=JSON_LD, headers={"Cache-Control": "public, max-age=3600"})
