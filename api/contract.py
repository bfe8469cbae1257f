"""The published contract: what /openapi.json says beyond what FastAPI derives from the
routes. Integrators generate their clients from it, so it must validate and name
things stably: operation ids, tags, servers, the scopes each operation needs, the
headers it answers with, and the webhooks Jejak sends. Everything here is generic over
the routes; a new router adds its tag's description to TAGS, and a readable name to
OPERATION_NAMES only where `tag.function` does not read well."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from models.accounts import policy

from api.deps import public_rate
from api.events.scan_schema import scan_schemas

# What each router's tag covers; every tag an operation carries must be here.
TAGS = {
    "auth": "Signing in: OAuth 2.0 access tokens (password and client_credentials grants) and the keys that verify them",
    "sites": "The KPU's places: regencies (KPU), districts (PPK), villages (PPS) and polling stations (TPS)",
    "items": "Ballot boxes and other custody items: registration, where each is, its public history",
    "labels": "Signed QR labels on the items, and the keys that verify them",
    "devices": "The phones that sign scans, and their Ed25519 keys",
    "events": "Signed scans in; the custody events they record out; receipts that prove an entry",
    "export": "Exports: EPCIS 2.0, CSV, and PDF reports",
    "epcis": "EPCIS 2.0's query interface (SimpleEventQuery: an EPCISQueryDocument, paged by perPage and "
    "nextPageToken) and the jejak: vocabulary",
    "handoffs": "Truckloads: their manifests, papers (berita acara), receipts and public histories",
    "stocktakes": "Stock-takes (stock opname): a site's boxes counted by signed scans, closed into found, "
    "missing and unexpected",
    "completeness": "Whether each TPS has its whole kit (kelengkapan), by area, most vulnerable first",
    "convoys": "The truckloads on the road (or of a day): ends, escorts, time against the threshold",
    "returns": "After the count: the boxes back at the KPU, on their way or missing; orphans",
    "alerts": "Custody irregularities the rules raise, and their acknowledgement",
    "logs": "The transparency logs: checkpoints, entries and RFC 9162 proofs",
    "stats": "Distribution progress by area",
    "webhooks": "Subscriptions to custody events and alerts, delivered as Standard Webhooks",
    "users": "Account administration",
    "audit": "The trail of administrative actions",
    "witnesses": "Witnesses' cosignatures on checkpoints",
    "tiles": "The logs as C2SP tlog-tiles, for mirrors and verifiers",
    "operations": "Health, readiness and Prometheus metrics",
}

# `tag.function` → the published operation id, where the function's name is not the verb.
OPERATION_NAMES = {
    "auth.sign_in": "auth.token",
    "stocktakes.stocktake": "stocktakes.get",
    "completeness.area_completeness": "completeness.get",
    "convoys.convoy_picture": "convoys.list",
    "convoys.convoy_sheet": "convoys.sheet_pdf",
    "returns.returns": "returns.get",
    "returns.orphan_boxes": "returns.orphans",
    "sites.sites": "sites.list",
    "sites.site": "sites.get",
    "items.items": "items.list",
    "items.item": "items.get",
    "devices.mine": "devices.list",
    "events.events": "events.list",
    "events.event_receipt": "events.receipt",
    "export.export_epcis": "export.epcis",
    "export.export_events": "export.events_csv",
    "export.export_custody": "export.custody_csv",
    "export.item_report_pdf": "export.item_report",
    "export.area_report_pdf": "export.area_report",
    "epcis.events": "epcis.query_events",
    "handoffs.handoff": "handoffs.get",
    "alerts.alerts": "alerts.list",
    "logs.list_logs": "logs.list",
    "stats.distribution_progress": "stats.progress",
    "webhooks.subscriptions": "webhooks.list",
    "webhooks.subscription": "webhooks.get",
    "audit.list_trail": "audit.list",
    "witnesses.add_cosignatures": "witnesses.cosign",
    "operations.healthz": "operations.health",
    "operations.readyz": "operations.ready",
}

# What an integrator's token may carry (models/accounts/actor.py SCOPES).
SCOPES = {
    "logs:read": "Read the logs' exports",
    "sites:read": "Read sites",
    "items:read": "Read items, their labels and reports",
    "events:read": "Read custody events, receipts and exports; receive event webhooks",
    "alerts:read": "Read alerts; receive alert webhooks",
    "webhooks:manage": "Subscribe to and manage webhooks",
}

# A query or path parameter's meaning, by its name, where its route says nothing more.
PARAMETERS = {
    "item_id": "The item's id: its destination TPS code and its contest, e.g. 53.03.08.2001-003-BUP",
    "log_id": "The log's regency code, e.g. 53.03",
    "handoff_id": "The truckload's id, chosen by the dispatching phone",
    "stocktake_id": "The stock-take's id, chosen by the phone that began it; it begins with the site's code",
    "device_id": "The device's id, chosen when it was registered",
    "event_id": "The scan's event_id, chosen by the device",
    "subscription_id": "The webhook subscription's id",
    "alert_id": "The alert's id",
    "username": "The account's username",
    "code": "A site code, e.g. 53.03.08.2001-003",
    "number": "The delivery's number, as the deliveries list shows it",
    "size": "The log's size (tree size) the checkpoint signed",
    "tile_path": "A C2SP tlog-tiles path: <level>/<index>[.p/<width>] or entries/<index>[.p/<width>]",
    "parent": "Sites whose parent is this code",
    "under": "Sites below this code, at every level",
    "level": "Sites of this level",
    "status": "Items in this status",
    "custodian": "Items whose custodian is this site",
    "contest": "Items of this contest (BUP, GUB, PPWP...)",
    "item": "Only this item's",
    "actor": "Only this actor's (an account id)",
    "type": "Only of this scan type",
    "since": "From this time on, RFC 3339 with its zone",
    "until": "Before this time, RFC 3339 with its zone",
    "state": "Only alerts in this state",
    "rule": "Only alerts this rule raised",
    "severity": "Only alerts of this severity",
    "start": "The first entry's index",
    "end": "The index after the last entry (at most 1,000 entries)",
    "index": "The entry's index",
    "tree_size": "The tree size the proof leads to",
    "first": "The smaller tree size",
    "second": "The larger tree size",
    "action": "Only records of this action",
    "target": "Only records about this target",
    "site": "A site code",
}

RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}
LINK = {
    "description": 'RFC 8288: the next page, rel="next", when there is one',
    "schema": {"type": "string"},
}
# On the answer to a request that used a deprecated name (api/versioning.py).
DEPRECATION = {
    "Deprecation": {
        "description": "RFC 9745: the request used a deprecated name, deprecated since @<unix time>",
        "schema": {"type": "string"},
    },
    "Sunset": {"description": "RFC 8594: the earliest the deprecated name may go", "schema": {"type": "string"}},
}
SCHEME = "oauth2"
TOKEN_URL = "/api/v1/auth/token"


def operation_id(route: APIRoute) -> str:
    """`tag.function`, unless OPERATION_NAMES gives it a readable verb."""
    name = f"{route.tags[0] if route.tags else 'operations'}.{route.name}"
    return OPERATION_NAMES.get(name, name)


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if (included := getattr(route, "original_router", None)) is not None:
            yield from _api_routes(included.routes)  # FastAPI keeps an included router whole
        elif isinstance(route, APIRoute):
            yield route


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _scope(route: APIRoute) -> list[str]:
    """The scope an integrator's token needs for the route's action (Permit in api/deps.py)."""
    for call in _calls(route.dependant):
        if (action := getattr(call, "action", None)) is not None and policy.POLICY[action].scope:
            return [policy.POLICY[action].scope]
    return []


def _webhook(kind: str, data: dict[str, Any], what: str) -> dict[str, Any]:
    header = {"in": "header", "required": True, "schema": {"type": "string"}}
    return {
        "post": {
            "operationId": f"webhooks.{kind.replace('.', '_')}",
            "summary": what,
            "description": "Signed per the Standard Webhooks spec: verify webhook-signature with the "
            "subscription's secret (README, *Webhooks*). Answer 2xx; anything else is retried.",
            "parameters": [
                {
                    **header,
                    "name": "webhook-id",
                    "description": "The same for every attempt at one message: drop repeats",
                },
                {**header, "name": "webhook-timestamp", "description": "Unix seconds of this attempt"},
                {
                    **header,
                    "name": "webhook-signature",
                    "description": "v1, and the base64 HMAC-SHA256 of id.timestamp.body",
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["type", "timestamp", "data"],
                            "properties": {
                                "type": {"type": "string", "const": kind},
                                "timestamp": {"type": "string", "format": "date-time"},
                                "data": data,
                            },
                        },
                    }
                },
            },
            "responses": {"2XX": {"description": "Received; any other answer is retried with backoff"}},
        }
    }


def _webhooks() -> dict[str, Any]:
    event = {
        "allOf": [
            {"$ref": "#/components/schemas/EventOut"},
            {
                "type": "object",
                "properties": {"leaf_hash": {"type": "string", "description": "The entry's leaf hash, base64"}},
            },
        ]
    }
    return {
        "custody.event": _webhook("custody.event", event, "A custody event was recorded"),
        "custody.alert": _webhook(
            "custody.alert", {"$ref": "#/components/schemas/AlertOut"}, "An alert was raised or changed"
        ),
    }


def document(app: FastAPI, public_url: str) -> None:
    """Complete the app's OpenAPI document once it is generated."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = generate()
        routes = {
            (route.path_format, method.lower()): route for route in _api_routes(app.routes) for method in route.methods
        }
        spec["servers"] = [{"url": public_url, "description": "This deployment"}]
        spec["tags"] = [{"name": name, "description": text} for name, text in TAGS.items()]
        components = spec.setdefault("components", {})
        components.setdefault("schemas", {}).update(scan_schemas())
        scopes_flow = {"tokenUrl": TOKEN_URL, "scopes": SCOPES}
        components["securitySchemes"] = {
            SCHEME: {
                "type": "oauth2",
                "description": "Bearer access tokens (RFC 6750). People sign in with the password grant; "
                "service accounts with client_credentials. Scopes bind integrators only: other roles act by role",
                "flows": {"password": scopes_flow, "clientCredentials": scopes_flow},
            }
        }
        spec["webhooks"] = _webhooks()
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                route = routes[(path, method)]
                if operation.get("security"):
                    operation["security"] = [{SCHEME: _scope(route)}]
                for parameter in operation.get("parameters", []):
                    if not parameter.get("description") and parameter["name"] in PARAMETERS:
                        parameter["description"] = PARAMETERS[parameter["name"]]
                responses = operation["responses"]
                ok = next(r for status, r in responses.items() if status.startswith("2"))
                if any(p["name"] == "cursor" for p in operation.get("parameters", [])):
                    ok.setdefault("headers", {})["Link"] = LINK
                if any(p.get("deprecated") for p in operation.get("parameters", [])):
                    ok.setdefault("headers", {}).update(DEPRECATION)
                if public_rate in _calls(route.dependant):
                    responses.setdefault("429", {"description": "Too many public reads from this address"})
                    responses["429"].setdefault("headers", {"Retry-After": RETRY_AFTER})
                    responses["429"].setdefault("content", responses["400"]["content"])
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
