"""Taking in signed scans: check each one's authenticity, then hand them to their log.

Everything that does not depend on the log's order (shape, device, signature, the
actor's rights) is checked here, outside the log's lock and in parallel across
requests; the custody rules then judge the survivors in log order."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from models.custody import CustodyWork, ScanResult, SignedScan, refusal
from models.errors import InvalidRequest, JejakError
from models.items import log_of_item
from models.runtime import Runtime
from models.scans import parse_scan, signature_ok
from models.users import Actor

MAX_SCANS_PER_REQUEST = 1000


def submit_scans(runtime: Runtime, actor: Actor, envelopes: list[Any]) -> list[ScanResult]:
    """One result per envelope ({"scan": {...}, "sig": "..."}), in the order given."""
    if len(envelopes) > MAX_SCANS_PER_REQUEST:
        raise InvalidRequest(
            f"at most {MAX_SCANS_PER_REQUEST} scans per request: send a long outbox in parts"
        )
    results: list[ScanResult | None] = [None] * len(envelopes)
    accepted: dict[str, list[tuple[int, SignedScan]]] = defaultdict(list)
    parsed = []
    for position, envelope in enumerate(envelopes):
        outcome = _parse(envelope)
        if isinstance(outcome, ScanResult):
            results[position] = outcome
        else:
            parsed.append((position, outcome))
    with runtime.db.reads() as session:
        devices = runtime.device_keys.lookup(session, {(log, s.scan.device) for _, (log, s) in parsed})
    for position, (log_id, signed) in parsed:
        scan = signed.scan
        device = devices.get((log_id, scan.device))
        reason = refusal(scan, actor)
        if reason is None:
            if device is None:
                reason = f"device {scan.device} is not registered in log {log_id}"
            elif device.user_id != actor.id:
                reason = f"device {scan.device} belongs to another user"
            elif not signature_ok(device, signed.raw, signed.sig):
                reason = "the device signature does not verify"
        if reason is not None:
            results[position] = ScanResult(scan.event_id, "rejected", reason)
        else:
            accepted[log_id].append((position, signed))
    late_after = timedelta(hours=runtime.settings.late_scan_hours)
    for log_id, batch in accepted.items():
        # Offline batches arrive late and out of order: a device's scans enter the log
        # in the order the device made them.
        batch.sort(key=lambda p: (p[1].scan.device, p[1].scan.device_seq))
        work = CustodyWork([s for _, s in batch], actor, late_after)
        outcomes = runtime.sequencer.submit(log_id, work, len(batch))
        for (position, _), outcome in zip(batch, outcomes, strict=True):
            results[position] = outcome
    return [r for r in results if r is not None]


def _parse(envelope: Any) -> tuple[str, SignedScan] | ScanResult:
    event_id = "?"
    if isinstance(envelope, dict) and isinstance(envelope.get("scan"), dict):
        event_id = str(envelope["scan"].get("event_id", "?"))[:64]
    if not isinstance(envelope, dict) or set(envelope) != {"scan", "sig"}:
        return ScanResult(event_id, "rejected", 'each scan comes as {"scan": {...}, "sig": "..."}')
    if not isinstance(envelope["sig"], str):
        return ScanResult(event_id, "rejected", "sig is the base64 Ed25519 signature")
    try:
        scan = parse_scan(envelope["scan"])
        log_id = log_of_item(scan.item)
    except ValueError as error:
        return ScanResult(event_id, "rejected", str(error))
    except JejakError as error:
        return ScanResult(event_id, "rejected", error.detail)
    return log_id, SignedScan(scan, envelope["scan"], envelope["sig"])

