"""The published contract (/openapi.json) as an integrator's generator reads it: valid,
with stable readable operation ids, every tag, parameter and body explained, the scopes
each operation needs, and the signed scan typed in full. Every check runs over the
whole served document, so a new route must comply too."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from api.contract import SCOPES
from models.accounts import actor
from models.custody.rules import ScanType


@pytest.fixture(scope="module")
def spec(client) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_the_document_validates(spec) -> None:
    validate(spec)  # raises on a dangling $ref such as #/$defs/ItemKind


def test_operation_ids_are_readable_and_unique(spec) -> None:
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert len(ids) == len(set(ids))
    for ident in ids:
        assert re.fullmatch(r"[a-z][a-z_]*\.[a-z][a-z_]*", ident), ident
    assert {"items.list", "items.get", "events.submit", "events.list", "auth.token"} <= set(ids)


def test_every_tag_is_described_and_servers_are_named(spec) -> None:
    described = {tag["name"]: tag["description"] for tag in spec["tags"]}
    for method, path, op in operations(spec):
        for tag in op.get("tags", []):
            assert described.get(tag), (method, path, tag)
    assert spec["servers"] and spec["servers"][0]["url"].startswith("http")


def test_every_parameter_is_described(spec) -> None:
    for method, path, op in operations(spec):
        for parameter in op.get("parameters", []):
            assert parameter.get("description"), (method, path, parameter["name"])


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Validator:
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": spec["components"], **schema}
    return jsonschema.Draft202012Validator(root)


def test_every_request_body_has_an_example_that_fits_its_schema(spec) -> None:
    schemas = spec["components"]["schemas"]
    for method, path, op in operations(spec):
        for media, content in op.get("requestBody", {}).get("content", {}).items():
            schema = content.get("schema", {})
            named = schemas[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema
            examples = [content["example"]] if "example" in content else named.get("examples", [])
            assert examples, (method, path, media)
            if media == "application/json":
                for example in examples:
                    _validator(spec, schema).validate(example)


def test_scopes_are_declared_and_each_operation_names_its_own(spec) -> None:
    scheme = spec["components"]["securitySchemes"]["oauth2"]
    assert set(scheme["flows"]) == {"password", "clientCredentials"}
    for flow in scheme["flows"].values():
        assert set(flow["scopes"]) == actor.SCOPES == set(SCOPES)
    needs = {op["operationId"]: op["security"][0]["oauth2"] for _, _, op in operations(spec) if op.get("security")}
    assert needs["items.list"] == ["items:read"]
    assert needs["events.list"] == ["events:read"]
    assert needs["webhooks.subscribe"] == ["webhooks:manage"]
    assert needs["events.submit"] == []  # integrators may not submit scans: no scope lets them


def test_rate_limited_public_reads_declare_429_with_retry_after(spec) -> None:
    for path in ("/api/v1/items/{item_id}/history", "/api/v1/handoffs/{log_id}/{handoff_id}/history"):
        answer = spec["paths"][path]["get"]["responses"]["429"]
        assert "Retry-After" in answer["headers"]
    epcis = spec["paths"]["/api/v1/export/epcis"]["get"]["responses"]["200"]
    assert "Link" in epcis["headers"]


def test_webhook_payloads_are_declared(spec) -> None:
    assert set(spec["webhooks"]) == {"custody.event", "custody.alert"}
    event = spec["webhooks"]["custody.event"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert event["properties"]["type"]["const"] == "custody.event"
    assert "webhook-signature" in {p["name"] for p in spec["webhooks"]["custody.event"]["post"]["parameters"]}


def test_the_signed_scan_is_a_union_discriminated_on_its_type(spec) -> None:
    schemas = spec["components"]["schemas"]
    scans = schemas["ScansIn"]["properties"]["scans"]["items"]
    assert scans == {"$ref": "#/components/schemas/SignedScan"}
    union = schemas["SignedScan"]["properties"]["scan"]
    assert union["discriminator"]["propertyName"] == "type"
    assert set(union["discriminator"]["mapping"]) == {t.value for t in ScanType}
    dispatch = schemas["DispatchScan"]
    assert {"item", "counterparty", "device", "device_seq", "event_id", "observed_at", "site"} <= set(
        dispatch["required"]
    )
    assert "handoff" in schemas["PickupScan"]["required"] and "item" not in schemas["PickupScan"]["required"]
    wrong = {**dispatch["examples"][0], "type": "receive", "manifest": "sha256:" + "0" * 64}
    errors = list(
        _validator(spec, {"$ref": "#/components/schemas/SignedScan"}).iter_errors({"scan": wrong, "sig": "x"})
    )
    assert errors  # a receive reads no manifest


def test_every_schema_has_a_name_of_its_own(spec) -> None:
    """Two models of one name come out as `api__module__Name`, which generators refuse
    (openapi-python-client: "duplicate models"): each model's name is unique."""
    assert [name for name in spec["components"]["schemas"] if "__" in name] == []
