"""Why a scan is not recorded: a stable code a client branches on, beside the prose a
person reads, and whether the same signed scan, sent again later, can be recorded (a
phone keeps it in its outbox then; otherwise it must make a new scan, or none).
docs/API.md lists the codes."""

from __future__ import annotations


class Refusal(str):
    """The reason as prose (a `str`, as the results and the rules have always said it),
    carrying its code."""

    code: str

    def __new__(cls, code: str, reason: str) -> Refusal:
        assert code in REASONS, code
        refusal = super().__new__(cls, reason)
        refusal.code = code
        return refusal


# code → (whether sending the same scan again can succeed, what it means)
REASONS: dict[str, tuple[bool, str]] = {
    "malformed_envelope": (False, 'not {"scan": {...}, "sig": "..."}'),
    "invalid_scan": (False, "a field of the scan is missing, unknown or out of its limits"),
    "unknown_log": (False, "the item or truckload names no log on this server"),
    "not_this_role": (False, "the account's role does not make this scan, or not at this level of site"),
    "outside_jurisdiction": (False, "the site is outside the account's jurisdiction"),
    "missing_field": (False, "the scan type needs a field it lacks (counterparty, incident, ref)"),
    "device_not_registered": (True, "the device is not registered in this log yet: register it, then send again"),
    "device_of_another_user": (False, "the device belongs to another account"),
    "bad_signature": (False, "the device's signature does not verify"),
    "device_without_nrp": (False, "an escort's phone was registered before the account had an NRP"),
    "device_revoked": (False, "the device was revoked"),
    "item_unknown": (True, "no such item in this log yet"),
    "label_unknown": (True, "the label serial read was never printed"),
    "site_unknown": (True, "no such site yet"),
    "handoff_not_sites": (False, "the handoff id does not begin with the dispatching site's code"),
    "handoff_closed": (False, "the truckload was closed: a new one needs a new handoff id"),
    "handoff_other_route": (False, "the truckload goes between other sites"),
    "truckload_unknown": (True, "the truckload's dispatch is not in the log yet"),
    "truckload_outside_jurisdiction": (False, "neither end of the truckload is in the escort's jurisdiction"),
    "stocktake_not_sites": (False, "the stock-take id does not begin with the scanning site's code"),
    "stocktake_closed": (False, "the stock-take was closed: a new one needs a new id"),
    "correction_target_unknown": (True, "the event a correction annotates is not in the log yet"),
    "event_id_reused": (False, "another scan holds this event_id (status conflict)"),
    "device_seq_reused": (False, "another scan of the device holds this device_seq (status conflict)"),
}


def resendable(code: str) -> bool:
    return REASONS[code][0]
