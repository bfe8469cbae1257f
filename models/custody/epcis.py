"""GS1 EPCIS 2.0: custody scans as ObjectEvents with CBV 2.0 business steps and
dispositions. docs/EPCIS.md explains the mapping and the identifiers; the output is
checked against GS1's JSON Schema (docs/epcis/) in the tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Select
from sqlalchemy.orm import Session

from models.core.base import utcnow
from models.core.errors import InvalidRequest
from models.core.times import parse_time
from models.custody.events import Event, observed_between, visible_events
from models.custody.items import parse_item_id
from models.custody.scans import ScanType
from models.log.sequencer import b64
from models.log.tables import LogEntry
from models.places.sites import level_of, under

CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"

# The CBV business steps each scan becomes, in order. A receive is three: the box
# arrives, its seals are checked against those dispatched, and custody is taken over
# (CBV's `receiving` stands for arriving and accepting together, and would lose the
# seal check and the case where nothing is handed over).
BIZ_STEPS: dict[ScanType, tuple[str, ...]] = {
    ScanType.SEAL: ("packing",),
    ScanType.DISPATCH: ("departing",),
    ScanType.RECEIVE: ("arriving", "inspecting", "accepting"),
    ScanType.OPEN: ("unpacking",),
    ScanType.COUNT: ("cycle_counting",),
    ScanType.RESEAL: ("packing",),
    ScanType.INCIDENT: ("inspecting",),
    ScanType.STORE: ("storing",),
    # A correction annotates an earlier scan, which stays valid evidence: it is not
    # EPCIS's errorDeclaration (which retracts an event), and has no business step.
    ScanType.CORRECTION: (),
    # An escort's attestations: the truckload (or a box of it) leaves under guard, and
    # arrives where the escort hands it over; custody is the custodians' (no transfer).
    ScanType.PICKUP: ("transporting",),
    ScanType.DELIVERY: ("arriving",),
    # A stock-take counts what is on a site's shelves (CBV's inventory count); the box
    # is neither opened nor handed over, so its disposition is not observed.
    ScanType.STOCKTAKE: ("cycle_counting",),
}
# The state the box is in after each step; the inspections' depend on what was found.
DISPOSITION = {
    "packing": "container_closed",
    "departing": "in_transit",
    "transporting": "in_transit",
    "accepting": "container_closed",
    "unpacking": "container_open",
    "cycle_counting": "container_open",
    "storing": "container_closed",
}
INCIDENT_DISPOSITION = {
    "damaged": "damaged",
    "wet": "damaged",
    "lost": "unknown",
    "seal_broken": "non_conformant",
}
KNOWN_STEPS = sorted({step for steps in BIZ_STEPS.values() for step in steps})
UNLOCATED = (ScanType.DISPATCH.value, ScanType.PICKUP.value)  # the box leaves: no business location
_CBV_PREFIXES = ("https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:")


@dataclass(frozen=True)
class Identifiers:
    """The URIs the export names things by (docs/EPCIS.md, *Identifiers*). What moves,
    an item or a truckload, is named under its log's origin, which never changes: its
    EPC stays the same whatever the deployment's public URL. Sites, master data, are
    their public API resources."""

    public_url: str
    origin: str  # the log's (a C2SP origin: host/path, no scheme)

    @property
    def base(self) -> str:
        return self.public_url.rstrip("/")

    @property
    def namespace(self) -> str:
        """Where Jejak's extension fields (`jejak:logIndex`...) are named: served as a document."""
        return f"{self.base}{NAMESPACE_PATH}"

    def item(self, item_id: str) -> str:
        return f"https://{self.origin}/item/{item_id}"

    def site(self, code: str) -> str:
        return f"{self.base}/api/v1/sites/{code}"

    def handoff(self, handoff_id: str) -> str:
        return f"https://{self.origin}/handoff/{handoff_id}"

    def item_id(self, value: str) -> str:
        """An item named by its EPC, by the public check URL exports named it by before
        (docs/API.md, *Deprecation*), or by its id; a malformed one is a 400."""
        for prefix in (self.item(""), f"{self.base}/v/"):
            if value.startswith(prefix):
                value = value.removeprefix(prefix)
                break
        parse_item_id(value)
        return value

    def site_code(self, value: str) -> str:
        code = value.removeprefix(self.site(""))
        level_of(code)
        return code

    def parse_query(
        self,
        *,
        since: str | None,
        until: str | None,
        biz_steps: list[str] | None,
        epcs: list[str] | None,
        at: str | None,
        within: str | None,
    ) -> EpcisQuery:
        """The query EPCIS's parameters ask (GE_eventTime, LT_eventTime, EQ_bizStep,
        MATCH_epc, EQ_bizLocation, WD_bizLocation); a malformed value is a 400."""
        return EpcisQuery(
            since=_instant("GE_eventTime", since),
            until=_instant("LT_eventTime", until),
            biz_steps=frozenset(biz_step(v) for v in _split(biz_steps)),
            items=frozenset(self.item_id(v) for v in _split(epcs)),
            at=self.site_code(at) if at else None,
            within=self.site_code(within) if within else None,
        )


def _instant(name: str, value: str | None) -> datetime | None:
    """A time parameter: RFC 3339 with its zone, else a 400 (EPCIS's QueryParameterException)."""
    try:
        return parse_time(value) if value is not None else None
    except ValueError as error:
        raise InvalidRequest(f"{name}: {error}", code="time_without_zone") from None


def _split(values: list[str] | None) -> list[str]:
    """Several values, '|'-separated (as EPCIS's REST binding writes them) or repeated."""
    return [v for value in values or [] for v in value.split("|") if v]


NAMESPACE_PATH = "/ns/epcis/"


def event_id(origin: str, index: int, step: str | None) -> str:
    """A stable event id: a name-based UUID of the log entry and the step, so that the
    same scan exported twice, from any deployment serving the log, keeps its ids."""
    name = f"{origin}/{index}#{step or 'scan'}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


@dataclass(frozen=True)
class EpcisQuery:
    """The EPCIS query parameters the export understands (all optional)."""

    since: datetime | None = None  # GE_eventTime
    until: datetime | None = None  # LT_eventTime
    biz_steps: frozenset[str] = frozenset()  # EQ_bizStep
    items: frozenset[str] = frozenset()  # MATCH_epc
    at: str | None = None  # EQ_bizLocation: exactly this site
    within: str | None = None  # WD_bizLocation: this site and everything below it


def biz_step(value: str) -> str:
    """A CBV business step as the export writes it (bare), from a bare word or a CBV URI."""
    step = value
    for prefix in _CBV_PREFIXES:
        step = step.removeprefix(prefix)
    if step not in KNOWN_STEPS:
        raise InvalidRequest(f"{value!r} is not a business step Jejak exports: {', '.join(KNOWN_STEPS)}")
    return step


@dataclass(frozen=True)
class ScanRecord:
    """An event row with its log entry: the signed scan and its leaf hash."""

    event: Event
    leaf_hash: bytes
    entry: dict[str, Any]


def select_scans(
    session: Session, *, log_id: str, jurisdiction: str, query: EpcisQuery, after: int | None, limit: int
) -> list[ScanRecord]:
    """The scans the query selects, in log order, those a reader of `jurisdiction` may see."""
    select_ = visible_events(log_id, jurisdiction).add_columns(LogEntry.leaf_hash, LogEntry.data)
    select_ = select_.join(LogEntry, (LogEntry.log_id == Event.log_id) & (LogEntry.idx == Event.entry_index))
    select_ = _filtered(observed_between(select_, query.since, query.until), query)
    if after is not None:
        select_ = select_.where(Event.entry_index > after)
    rows = session.execute(select_.limit(limit)).all()
    return [ScanRecord(event, leaf, orjson.loads(data)) for event, leaf, data in rows]


def _filtered(select_: Select[Any], query: EpcisQuery) -> Select[Any]:
    if query.biz_steps:
        types = [t.value for t, steps in BIZ_STEPS.items() if query.biz_steps.intersection(steps)]
        select_ = select_.where(Event.type.in_(types))
    if query.items:
        select_ = select_.where(Event.item_id.in_(sorted(query.items)))
    # A dispatched box is in transit: a dispatch (and its truckload's pickup) has no business location.
    located = Event.type.not_in(UNLOCATED)
    if query.at is not None:
        select_ = select_.where(located, Event.site == query.at)
    if query.within is not None:
        select_ = select_.where(located, under(Event.site, query.within))
    return select_


def _events(records: Iterable[ScanRecord], ids: Identifiers, biz_steps: frozenset[str]) -> list[dict[str, Any]]:
    """The scans' ObjectEvents (only the `biz_steps` asked for, if any)."""
    return [
        event
        for record in records
        for event in object_events(record, ids)
        if not biz_steps or event.get("bizStep") in biz_steps
    ]


def _envelope(kind: str, ids: Identifiers, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": [CONTEXT, {"jejak": ids.namespace}],
        "type": kind,
        "schemaVersion": "2.0",
        "creationDate": _time(utcnow()),
        "epcisBody": body,
    }


def document(
    records: Iterable[ScanRecord], ids: Identifiers, biz_steps: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """An EPCISDocument of the scans' ObjectEvents: the export."""
    return _envelope("EPCISDocument", ids, {"eventList": _events(records, ids, biz_steps)})


def query_document(
    records: Iterable[ScanRecord], ids: Identifiers, biz_steps: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """An EPCISQueryDocument: the answer of EPCIS 2.0's query interface (SimpleEventQuery)."""
    results = {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": _events(records, ids, biz_steps)}}
    return _envelope("EPCISQueryDocument", ids, {"queryResults": results})


# Jejak's extension fields, as the `jejak:` namespace document defines them.
VOCABULARY = {
    "log": "The regency code of the transparency log whose entry the event is",
    "logIndex": "The index of that entry in the log: its inclusion proof proves the event",
    "leafHash": "The entry's RFC 9162 leaf hash, base64",
    "scanType": "The signed scan's type (docs/ENTRIES.md): seal, dispatch, receive, open, count, reseal, incident, "
    "correction, store, pickup, delivery",
    "scanEventId": "The event_id the scanning device chose",
    "role": "The role of the account that scanned (kpu, ppk, pps, kpps, escort)",
    "flags": "Custody irregularities the rules recorded with the scan",
    "seals": "The seal numbers the scan saw",
    "escorts": "The escort officers' NRPs a dispatch names",
    "vehicle": "The vehicle a dispatch names",
    "incident": "An incident's kind: damaged, wet, lost, seal_broken, other",
    "reason": "An incident's or correction's short reason",
    "ref": "The event_id a correction annotates",
    "manifest": "The digest of the truckload manifest an escort read (sha256:…)",
}


def vocabulary(ids: Identifiers) -> dict[str, Any]:
    """The `jejak:` namespace as a JSON-LD document: each term a property, explained."""
    return {
        "@context": {
            "jejak": ids.namespace,
            "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        },
        "@graph": [
            {"@id": f"jejak:{term}", "@type": "rdf:Property", "rdfs:label": term, "rdfs:comment": meaning}
            for term, meaning in VOCABULARY.items()
        ],
    }


def object_events(record: ScanRecord, ids: Identifiers) -> list[dict[str, Any]]:
    """The ObjectEvents one scan becomes (see BIZ_STEPS)."""
    event, scan = record.event, record.entry["scan"]
    kind = ScanType(event.type)
    steps: tuple[str | None, ...] = BIZ_STEPS[kind] or (None,)
    if kind is ScanType.RECEIVE and "no_dispatch" in event.flags:
        steps = ("arriving",)  # nothing was dispatched: nothing was checked or handed over
    common = _common(record, ids)
    out = []
    for step in steps:
        body: dict[str, Any] = {
            "type": "ObjectEvent",
            "eventID": event_id(ids.origin, event.entry_index, step),
            **common,
        }
        if step is not None:
            body["bizStep"] = step
        if disposition := _disposition(step, event.flags, scan):
            body["disposition"] = disposition
        body["readPoint"] = {"id": ids.site(event.site)}
        if kind.value not in UNLOCATED:
            body["bizLocation"] = {"id": ids.site(event.site)}
        if event.handoff_id:
            # The truckload, as the despatch advice the two ends share.
            body["bizTransactionList"] = [{"type": "desadv", "bizTransaction": ids.handoff(event.handoff_id)}]
        body.update(_transfer(step, event, ids))
        body.update(_extensions(record))
        out.append(body)
    return out


def _common(record: ScanRecord, ids: Identifiers) -> dict[str, Any]:
    event = record.event
    return {
        "eventTime": _time(event.observed_at),
        "eventTimeZoneOffset": _offset(record.entry["scan"]["observed_at"]),
        "recordTime": _time(event.received_at),
        # An escort's scan of a whole truckload observes the truckload itself.
        "epcList": [ids.item(event.item_id) if event.item_id else ids.handoff(event.handoff_id or "")],
        "action": "OBSERVE",
    }


def _disposition(step: str | None, flags: list[str], scan: dict[str, Any]) -> str | None:
    if scan["type"] == ScanType.STOCKTAKE.value:
        return None
    if step == "inspecting":
        if scan["type"] == ScanType.INCIDENT.value:
            return INCIDENT_DISPOSITION.get(scan.get("incident", ""))
        return "non_conformant" if "seal_mismatch" in flags else "conformant"
    return DISPOSITION.get(step or "")


def _transfer(step: str | None, event: Event, ids: Identifiers) -> dict[str, Any]:
    """Where custody goes from and to: a dispatch and the taking over at its receive.
    Custody is possession (the items stay the KPU's), so the parties are the
    possessing parties, each also named as a location."""
    if step == "departing":
        origin, destination = event.site, event.counterparty
    elif step == "accepting":
        origin, destination = event.counterparty, event.site
    else:
        return {}
    lists: dict[str, Any] = {}
    for key, name, code in (("sourceList", "source", origin), ("destinationList", "destination", destination)):
        if code is not None:
            lists[key] = [{"type": kind, name: ids.site(code)} for kind in ("possessing_party", "location")]
    return lists


def _extensions(record: ScanRecord) -> dict[str, Any]:
    """What proves the event (its log entry) and what the scan saw beyond EPCIS's fields."""
    event, scan = record.event, record.entry["scan"]
    fields: dict[str, Any] = {
        "jejak:log": event.log_id,
        "jejak:logIndex": event.entry_index,
        "jejak:leafHash": b64(record.leaf_hash),
        "jejak:scanType": event.type,
        "jejak:scanEventId": event.event_id,
        "jejak:role": event.role,
        "jejak:flags": list(event.flags),
    }
    for key in ("seals", "escorts", "vehicle", "incident", "reason", "ref", "manifest"):
        if scan.get(key):
            fields[f"jejak:{key}"] = scan[key]
    return fields


def _time(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _offset(observed_at: str) -> str:
    """The device's UTC offset, as EPCIS writes it (+08:00 for WITA)."""
    offset = datetime.fromisoformat(observed_at.replace("Z", "+00:00")).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    if abs(minutes) > 14 * 60:  # no zone is that far out: the device's clock is wrong
        minutes = 0
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
