"""Taking in signed scans: check each one's authenticity, then hand them to their log.

Everything that does not depend on the log's order (shape, device, signature, the
actor's rights) is checked here, outside the log's lock and in parallel across
requests; the custody rules then judge the survivors in log order."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any, overload

import anyio.to_thread

from models.accounts.actor import Actor
from models.accounts.users import escort_jurisdictions
from models.core.errors import InvalidRequest, JejakError
from models.core.routing import LogDatabases
from models.custody.refusals import Refusal
from models.custody.alerts import Alert, new_alert, raise_once
from models.custody.devices import DeviceKey, DeviceKeys
from models.custody.handoffs import log_of_handoff
from models.custody.items import log_of_item
from models.custody.rules import ATTESTATIONS, Rules, ScanType, refusal
from models.custody.scans import Scan, parse_scan, signature_ok
from models.custody.work import CustodyWork, ScanResult, SignedScan
from models.log.sequencer import Sequencer
from models.places.sites import regency_of, within

MAX_SCANS_PER_REQUEST = 1000
_CHECKED_ON_LOOP = 4  # scans: about 100 µs each


@dataclass
class Intake:
    """A request's scans once checked: a result for each refused one, and the accepted
    ones by log, each in the order its device made them."""

    results: list[ScanResult | None]
    accepted: dict[str, list[tuple[int, SignedScan]]]
    # The escort accounts among the NRPs the dispatches name: NRP → jurisdiction.
    escorts: dict[str, str] = field(default_factory=dict)

    def works(self, actor: Actor, rules: Rules) -> list[tuple[str, CustodyWork, int]]:
        """(log, work, size) for the sequencer, one per log."""
        out = []
        for log_id, batch in self.accepted.items():
            # Offline batches arrive late and out of order: a device's scans enter the
            # log in the order the device made them.
            batch.sort(key=lambda p: (p[1].scan.device, p[1].scan.device_seq))
            out.append((log_id, CustodyWork([s for _, s in batch], actor, rules, self.escorts), len(batch)))
        return out

    def settle(self, log_id: str, outcomes: list[ScanResult]) -> None:
        for (position, _), outcome in zip(self.accepted[log_id], outcomes, strict=True):
            self.results[position] = outcome

    def answer(self) -> list[ScanResult]:
        return [r for r in self.results if r is not None]


def submit_scans(
    databases: LogDatabases, devices: DeviceKeys, sequencer: Sequencer, rules: Rules, actor: Actor, envelopes: list[Any]
) -> list[ScanResult]:
    """One result per envelope ({"scan": {...}, "sig": "..."}), in the order given,
    judged by `rules` (work.rules_of(settings))."""
    intake, works = _checked_and_read_ahead(databases, devices, rules, actor, envelopes)
    for log_id, work, size in works:
        intake.settle(log_id, sequencer.submit(log_id, work, size))
    return intake.answer()


async def submit_scans_async(
    databases: LogDatabases, devices: DeviceKeys, sequencer: Sequencer, rules: Rules, actor: Actor, envelopes: list[Any]
) -> list[ScanResult]:
    """As submit_scans, for the web app's event loop: a scan or two whose devices are
    known is checked on the loop (a thread hop would cost more than the check); a
    longer batch, or one that must read keys, is checked in a worker thread. Either
    way the request then awaits its log's commit without holding a thread."""
    intake = (
        check_scans(databases, devices, actor, envelopes, cached_only=True)
        if len(envelopes) <= _CHECKED_ON_LOOP
        else None
    )
    if intake is not None:
        works = intake.works(actor, rules)
    else:
        # anyio's pool, as for sync endpoints: 40 threads, so a slow database stalls
        # that many requests at once rather than asyncio's default handful.
        intake, works = await anyio.to_thread.run_sync(
            _checked_and_read_ahead, databases, devices, rules, actor, envelopes
        )
    for log_id, work, size in works:
        intake.settle(log_id, await sequencer.submit_async(log_id, work, size))
    return intake.answer()


def _checked_and_read_ahead(
    databases: LogDatabases, devices: DeviceKeys, rules: Rules, actor: Actor, envelopes: list[Any]
) -> tuple[Intake, list[tuple[str, CustodyWork, int]]]:
    """check_scans, then the accepted scans' boxes and sites read ahead of their log's lock."""
    intake = check_scans(databases, devices, actor, envelopes)
    works = intake.works(actor, rules)
    for log_id, work, _ in works:
        with databases.for_log(log_id).reads() as session:
            work.read_ahead(session, log_id)
    return intake, works


@overload
def check_scans(databases: LogDatabases, devices: DeviceKeys, actor: Actor, envelopes: list[Any]) -> Intake: ...
@overload
def check_scans(
    databases: LogDatabases, devices: DeviceKeys, actor: Actor, envelopes: list[Any], *, cached_only: bool
) -> Intake | None: ...
def check_scans(
    databases: LogDatabases, devices: DeviceKeys, actor: Actor, envelopes: list[Any], *, cached_only: bool = False
) -> Intake | None:
    """Check each scan's shape, device, signature and the actor's right to make it; an
    escort's pickup or delivery takes its NRP from the phone that signed it. With
    `cached_only`, None if that would need the database (an unknown device, or the
    escort accounts a dispatch names)."""
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
    # A device is registered in its user's log: a scan outside the user's jurisdiction
    # is checked against that log's key, to record the attempt.
    home = regency_of(actor.jurisdiction) if actor.jurisdiction else None
    wanted = {(home if home and straying(s.scan, actor) else log, s.scan.device) for _, (log, s) in parsed}
    if cached_only:
        keys = devices.cached(wanted)
        if len(keys) < len(wanted):
            return None
    else:
        keys = {}
        for database in {databases.for_log(log) for log, _ in wanted}:  # each log's keys live with it
            with database.reads() as session:
                keys |= devices.lookup(session, {k for k in wanted if databases.for_log(k[0]) is database})
    strays: list[Alert] = []
    for position, (log_id, signed) in parsed:
        scan = signed.scan
        reason = refusal(scan, actor.role, actor.jurisdiction)
        if reason is None:
            device = keys.get((log_id, scan.device))
            reason = _unauthentic(device, signed, actor, log_id)
            if reason is None and scan.type in ATTESTATIONS:
                assert device is not None
                if device.nrp is None:
                    reason = Refusal(
                        "device_without_nrp",
                        f"device {scan.device} was registered without an NRP: register this phone again "
                        "once your account has your NRP (a pickup or delivery names its escort by it)"
                    )
                signed = replace(signed, nrp=device.nrp)
        elif home is not None and straying(scan, actor):
            device = keys.get((home, scan.device))
            if device is not None and _unauthentic(device, signed, actor, home) is None:
                strays.append(_stray(home, device, scan, actor))
        if reason is not None:
            results[position] = ScanResult(scan.event_id, "rejected", reason)
        else:
            accepted[log_id].append((position, signed))
    if strays:  # all in the actor's own log
        if cached_only:
            return None  # recording them writes to the database
        raise_once(databases.for_log(strays[0].log_id), strays)
    dispatches = [s.scan for batch in accepted.values() for _, s in batch if s.scan.type is ScanType.DISPATCH]
    named = {nrp for scan in dispatches for nrp in scan.escorts}
    if named and cached_only:
        return None
    escorts = {}
    if named:
        with databases.home.reads() as session:  # accounts live on the home database
            escorts = escort_jurisdictions(session, named)
    return Intake(results, accepted, escorts)


def straying(scan: Scan, actor: Actor) -> bool:
    """Whether the scan was made outside the actor's jurisdiction: refused, and an alert."""
    return not within(scan.site, actor.jurisdiction)


def _unauthentic(device: DeviceKey | None, signed: SignedScan, actor: Actor, log_id: str) -> Refusal | None:
    """Why the scan is not the actor's own device's signed word, if it is not."""
    if device is None:
        return Refusal("device_not_registered", f"device {signed.scan.device} is not registered in log {log_id}")
    if device.user_id != actor.id:
        return Refusal("device_of_another_user", f"device {signed.scan.device} belongs to another user")
    try:
        message: bytes | None = signed.canonical.data
    except ValueError:  # no RFC 8785 form (parse_scan lets none through today): nothing was signed
        message = None
    if message is None or not signature_ok(device, message, signed.sig):
        return Refusal("bad_signature", "the device signature does not verify")
    return None


def _stray(log_id: str, device: DeviceKey, scan: Scan, actor: Actor) -> Alert:
    """The alert for a refused scan outside the actor's jurisdiction, in the device's log."""
    return new_alert(
        log_id,
        "outside_jurisdiction",
        item_id=scan.item,
        site=scan.site,
        event_id=scan.event_id,
        detail=f"{scan.type} of {scan.item or f'truckload {scan.handoff}'} at {scan.site} refused: device "
        f"{scan.device} belongs to a {actor.role} of {actor.jurisdiction}",
        evidence=[device.registered_index],
    )


_ENVELOPE = 'each scan comes as {"scan": {...}, "sig": "..."}'


def _parse(envelope: Any) -> tuple[str, SignedScan] | ScanResult:
    """The envelope's scan and its log, or the reason it is refused: whatever is wrong with
    one scan is its own answer, and the rest of its batch goes on."""
    event_id = "?"
    if isinstance(envelope, dict) and isinstance(envelope.get("scan"), dict):
        event_id = str(envelope["scan"].get("event_id", "?"))[:64]
    if not isinstance(envelope, dict):
        return ScanResult(event_id, "rejected", Refusal("malformed_envelope", f"not an object: {_ENVELOPE}"))
    if unknown := sorted(set(envelope) - {"scan", "sig"}):
        names = ", ".join(repr(name[:32]) for name in unknown)
        return ScanResult(event_id, "rejected", Refusal("malformed_envelope", f"unknown field {names}: {_ENVELOPE}"))
    if not isinstance(envelope.get("scan"), dict):
        return ScanResult(
            event_id, "rejected", Refusal("malformed_envelope", f"scan: missing or not an object: {_ENVELOPE}")
        )
    if not isinstance(envelope.get("sig"), str):
        return ScanResult(
            event_id, "rejected", Refusal("malformed_envelope", "sig: missing or not the base64 Ed25519 signature")
        )
    try:
        scan = parse_scan(envelope["scan"])
        # A truckload is in the log of the site that dispatched it.
        log_id = log_of_item(scan.item) if scan.item is not None else log_of_handoff(scan.handoff or "")
    except ValueError as error:
        return ScanResult(event_id, "rejected", Refusal("invalid_scan", str(error)))
    except JejakError as error:
        return ScanResult(event_id, "rejected", Refusal("unknown_log", error.detail))
    return log_id, SignedScan(scan, envelope["scan"], envelope["sig"])
