"""Truckload manifests (docs/LABELS.md, *Manifests*): what a truckload (a handoff)
carries, signed by the KPU's label key like a label, so that an escort or a receiver
checks it offline; and its digest, which an escort's attestation of the whole truckload
cites.

A manifest is a function of the log alone: of the dispatch entries that loaded the
truck. The same entries give the same manifest, byte for byte, whoever builds it (the
server printing it, an auditor replaying the log), so it names sites by code (place
names are not in the log, and a site may be renamed) and its times are the entries'.
The boxes themselves are listed beside the signed payload, which carries their count and
digest: 200 boxes and their seals would not fit in a QR code, a digest does.

Pure: no database, no web; the standard library and ledger/ only."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from ledger import jws
from ledger.jcs import canonicalize

from models.core.times import parse_time

MANIFEST_TYPE = "jejak-manifest+jws"
# The flag of a dispatch recorded as evidence only (by a site not holding the box): it
# loaded nothing (models/custody/rules.py).
LOADED_NOTHING = "not_custodian"


class ManifestError(ValueError):
    """A manifest that is not the KPU's, not this truckload's, or not these boxes'."""


@dataclass(frozen=True)
class Loading:
    """A box put on the truck: the dispatch entry that loaded it."""

    index: int
    item: str
    origin: str
    destination: str
    seals: tuple[str, ...]
    vehicle: str | None
    escorts: tuple[str, ...]
    observed: datetime
    received: datetime


def loads(handoff: str, record: Mapping[str, Any]) -> bool:
    """Whether a log entry's record loads a box on the truckload: a dispatch naming it
    that moved its box."""
    scan = record.get("scan") or {}
    return (
        record.get("type") == "dispatch" and scan.get("handoff") == handoff
        and LOADED_NOTHING not in record.get("flags", ())
    )  # fmt: skip


def loadings(handoff: str, entries: Iterable[tuple[int, Mapping[str, Any]]]) -> list[Loading]:
    """The boxes a truckload carries, from log entries (index and decoded record, in log
    order): for each box, the last dispatch naming the handoff that moved it. A box sent
    on elsewhere later stays on this truckload's manifest: it was loaded."""
    loaded: dict[str, Loading] = {}
    for index, record in entries:
        if not loads(handoff, record):
            continue
        scan = record["scan"]
        loaded[scan["item"]] = Loading(
            index=index,
            item=scan["item"],
            origin=scan["site"],
            destination=scan["counterparty"],
            seals=tuple(scan.get("seals") or ()),
            vehicle=scan.get("vehicle"),
            escorts=tuple(scan.get("escorts") or ()),
            observed=parse_time(scan["observed_at"]),
            received=parse_time(record["received_at"]),
        )
    return sorted(loaded.values(), key=lambda loading: loading.index)


def digest(value: Any) -> str:
    """`sha256:` and the hex SHA-256 of the value's RFC 8785 form, as scans cite digests."""
    return "sha256:" + hashlib.sha256(canonicalize(value)).hexdigest()


def manifest_digest(payload: Mapping[str, Any]) -> str:
    """What an escort's attestation of the whole truckload cites (a `pickup` or
    `delivery` scan's `manifest` field): the digest of the signed payload, which holds
    the boxes' digest, so it binds every box and seal."""
    return digest(dict(payload))


@dataclass(frozen=True)
class Manifest:
    payload: dict[str, Any]  # what the JWS signs
    boxes: list[dict[str, Any]]  # {"index", "item", "seals"} by item; `payload["boxes"]` is their digest

    @property
    def digest(self) -> str:
        return manifest_digest(self.payload)


def box_list(loaded: Sequence[Loading]) -> list[dict[str, Any]]:
    return [
        {"index": box.index, "item": box.item, "seals": sorted(box.seals)}
        for box in sorted(loaded, key=lambda box: box.item)
    ]


def digests(handoff: str, entries: Iterable[tuple[int, Mapping[str, Any]]]) -> set[str]:
    """The digests of every manifest the truckload has had, from log entries (index and
    decoded record, in log order): one after each dispatch that loaded a box, since a
    manifest may have been printed at any of them. What an escort's attestation may cite."""
    seen: list[tuple[int, Mapping[str, Any]]] = []
    found = set()
    for index, record in entries:
        seen.append((index, record))
        if loads(handoff, record):
            found.add(build(handoff, loadings(handoff, seen)).digest)
    return found


def build(handoff: str, loaded: Sequence[Loading]) -> Manifest:
    """The manifest of a truckload loaded by these dispatches (`loadings`)."""
    if not loaded:
        raise ValueError(f"handoff {handoff} has no box on it")
    first = min(loaded, key=lambda box: box.index)
    boxes = box_list(loaded)
    vehicle = next((box.vehicle for box in sorted(loaded, key=lambda box: box.index) if box.vehicle), None)
    payload = {
        "handoff": handoff,
        "from": first.origin,
        "to": first.destination,
        "vehicle": vehicle,
        "escorts": sorted({nrp for box in loaded for nrp in box.escorts}),
        "n": len(boxes),
        "boxes": digest(boxes),
        "observed": int(min(box.observed for box in loaded).timestamp()),
        "iat": int(max(box.received for box in loaded).timestamp()),
        "last": max(box.index for box in loaded),
    }
    return Manifest(payload, boxes)


def sign(manifest: Manifest, key: Ed25519PrivateKey) -> str:
    """The compact JWS (EdDSA, typ jejak-manifest+jws) a manifest's QR code carries.
    Ed25519 is deterministic: the same truckload signed by the same key is the same JWS."""
    return jws.sign(manifest.payload, key, {"typ": MANIFEST_TYPE})


def check(
    token: str, keys: dict[str, Ed25519PublicKey], handoff: str, boxes: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The payload of a manifest signed by one of the log's label keys (by kid) for this
    handoff and, when `boxes` is given, listing exactly those; else ManifestError."""
    try:
        _, payload = jws.verify(token, keys, MANIFEST_TYPE)
    except jws.JwsError as error:
        raise ManifestError(str(error)) from error
    if payload.get("handoff") != handoff:
        raise ManifestError(f"the manifest is of handoff {payload.get('handoff')!r}, not {handoff}")
    if boxes is not None and (payload.get("boxes") != digest(boxes) or payload.get("n") != len(boxes)):
        raise ManifestError("the boxes listed are not those the manifest signs")
    return payload


@dataclass(frozen=True, order=True)
class Mismatch:
    item: str
    why: Literal["not_on_manifest", "missing"]


def mismatches(on_manifest: Iterable[str], received: Iterable[str], missing: Iterable[str] = ()) -> list[Mismatch]:
    """The receiver's check of a truckload against its manifest, box by box: each box
    received that the manifest does not list, and each box it lists that the truckload's
    closing found missing."""
    listed = set(on_manifest)
    found = [Mismatch(item, "not_on_manifest") for item in set(received) - listed]
    found += [Mismatch(item, "missing") for item in set(missing) & listed]
    return sorted(found)
