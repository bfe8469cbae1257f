"""The signed scan as the OpenAPI document publishes it: one schema per scan type, a
union discriminated on `type`. The endpoint itself takes any JSON value per scan (a
malformed one is rejected alone, with its reason); these schemas say what a valid one is."""

from __future__ import annotations

import copy
from typing import Any

from models.custody.rules import ATTESTATIONS, ScanType
from models.custody.scans import Scan

REF = "#/components/schemas/{model}"

# What a dispatch of one box looks like, signed (the signature here is a placeholder).
EXAMPLE_SCAN = {
    "event_id": "0190f5c2-7d1e-7c3a-9a41-5f0c2b1e8d11",
    "type": "dispatch",
    "item": "53.03.08.2001-003-BUP",
    "observed_at": "2026-12-07T08:15:00+08:00",
    "site": "53.03",
    "counterparty": "53.03.08",
    "handoff": "53.03-53.03.08-1",
    "vehicle": "DH 1234 AB",
    "escorts": ["87030123"],
    "seals": ["KPU-000123"],
    "device": "phone-7f3a",
    "device_seq": 12,
}
EXAMPLE_SIGNED_SCAN = {"scan": EXAMPLE_SCAN, "sig": "3q2+7w" + "A" * 80}


def _name(scan_type: ScanType) -> str:
    return f"{scan_type.value.capitalize()}Scan"


def _not_null(field: dict[str, Any]) -> None:
    """A field this type requires may not be null either."""
    if choices := field.pop("anyOf", None):
        field.update(next(c for c in choices if c.get("type") != "null"))
        field.pop("default", None)


def scan_schemas() -> dict[str, Any]:
    """The components: `SignedScan` and one `<Type>Scan` per scan type."""
    base = Scan.model_json_schema(ref_template=REF)
    schemas: dict[str, Any] = dict(base.pop("$defs", {}))
    mapping = {}
    for scan_type in ScanType:
        schema = copy.deepcopy(base)
        schema["title"] = _name(scan_type)
        schema["description"] = f"A `{scan_type.value}` scan as the phone signs it (docs/ENTRIES.md)"
        schema["properties"]["type"] = {"type": "string", "const": scan_type.value}
        names = "handoff" if scan_type in ATTESTATIONS else "item"
        required = [*schema["required"], names]
        if scan_type is ScanType.DISPATCH:
            required.append("counterparty")
        if scan_type not in ATTESTATIONS:
            del schema["properties"]["manifest"]
        schema["required"] = sorted(set(required))
        for name in schema["required"]:
            _not_null(schema["properties"][name])
        schema["additionalProperties"] = False
        schemas[_name(scan_type)] = schema
        mapping[scan_type.value] = REF.format(model=_name(scan_type))
    schemas[_name(ScanType.DISPATCH)]["examples"] = [EXAMPLE_SCAN]
    schemas["SignedScan"] = {
        "title": "SignedScan",
        "type": "object",
        "additionalProperties": False,
        "required": ["scan", "sig"],
        "properties": {
            "scan": {
                "oneOf": [{"$ref": ref} for ref in mapping.values()],
                "discriminator": {"propertyName": "type", "mapping": mapping},
            },
            "sig": {
                "type": "string",
                "description": "Standard base64 of the device's Ed25519 signature over the RFC 8785 bytes of `scan`",
            },
        },
        "examples": [EXAMPLE_SIGNED_SCAN],
    }
    return schemas
