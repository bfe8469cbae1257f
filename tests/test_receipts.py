"""An escort's receipt: the scan's entry, proven in a signed checkpoint, checkable
offline with ledger/ alone."""

from __future__ import annotations

import json
import time

import pytest
from ledger.cosignature import CosignatureSigner, CosignatureVerifier, cosign
from ledger.merkle import ProofError
from ledger.note import Verifier, add_signatures, parse_note
from ledger.proof_bundle import ProofBundle, ProofBundleError, verify_bundle

from models.accounts.actor import Role
from models.log.reads import latest_checkpoint
from models.log.tables import Log
from models.log.witnesses import Witness, accept_cosignatures
from tests.factories import make_area, make_person, new_regency, register


@pytest.fixture
def sealed(runtime, area, crew):
    """A box sealed at the KPU, in a signed checkpoint: (the KPU's phone, the scan)."""
    kpu = crew["kpu"]
    register(crew, (area.tps[0], "BUP"))
    scan = kpu.scan("seal", area.item(), area.kpu, seals=["TTU-1"])
    kpu.send(scan)
    runtime.checkpointer.sign_grown_logs()
    return kpu, scan


def _log_verifier(client, log_id: str) -> Verifier:
    listed = {log["log"]: log for log in client.get("/api/v1/logs").json()["logs"]}[log_id]
    return Verifier.from_vkey(listed["verifier_key"])


def test_a_scan_receipt_verifies_offline(client, runtime, area, crew):
    kpu = crew["kpu"]
    register(crew, (area.tps[0], "BUP"))
    scan = kpu.scan("seal", area.item(), area.kpu, seals=["TTU-1"])
    [result] = kpu.send(scan)
    event_id = scan["scan"]["event_id"]
    url = f"/api/v1/events/{event_id}/receipt"

    early = kpu.person.get(url)
    assert early.status_code == 409, early.text
    assert early.headers["Retry-After"] == "1"
    assert "no signed checkpoint covers yet" in early.json()["detail"]

    runtime.checkpointer.sign_grown_logs()
    response = kpu.person.get(url)
    assert response.status_code == 200, response.text
    bundle = ProofBundle.parse(response.text)
    assert bundle.index == result["index"]
    # Saved as C2SP suggests a tlog-proof be.
    assert response.headers["content-disposition"] == f'attachment; filename="receipt-{event_id}.tlog-proof"'

    # Offline: the receipt, the log's verifier key and ledger/ are all it takes.
    checkpoint = verify_bundle(bundle, bundle.extra, _log_verifier(client, area.kpu))
    assert checkpoint.size > bundle.index
    entry = json.loads(bundle.extra)
    assert (entry["event_id"], entry["scan"], entry["sig"]) == (event_id, scan["scan"], scan["sig"])

    forged = json.dumps({**entry, "flags": []} if entry["flags"] else {**entry, "flags": ["x"]})
    with pytest.raises(ProofError):
        verify_bundle(bundle, forged.encode(), _log_verifier(client, area.kpu))


def test_a_receipt_carries_the_witnesses_cosignatures(client, runtime, area, crew, sealed):
    kpu, scan = sealed
    bawaslu = CosignatureSigner.generate("saksi.bawaslu.example")
    with runtime.db.session(write=True) as session:
        log = session.get_one(Log, area.kpu)
        note = latest_checkpoint(session, log.id).note
        cosigned = add_signatures(note, [cosign(parse_note(note).text, bawaslu, int(time.time()))])
        accept_cosignatures(session, log, cosigned, [Witness("http://bawaslu", CosignatureVerifier.from_vkey(bawaslu.vkey))])

    bundle = ProofBundle.parse(kpu.person.get(f"/api/v1/events/{scan['scan']['event_id']}/receipt").text)
    witness = CosignatureVerifier.from_vkey(bawaslu.vkey)
    verify_bundle(bundle, bundle.extra, _log_verifier(client, area.kpu), [witness], quorum=1)
    other = CosignatureVerifier.from_vkey(CosignatureSigner.generate("saksi.polres.example").vkey)
    with pytest.raises(ProofBundleError, match="0 verified witness cosignatures, 1 required"):
        verify_bundle(bundle, bundle.extra, _log_verifier(client, area.kpu), [other], quorum=1)


def test_receipts_are_for_those_who_may_read_the_event(client, runtime, area, sealed):
    _, scan = sealed
    url = f"/api/v1/events/{scan['scan']['event_id']}/receipt"

    auditor = make_person(client, runtime, Role.AUDITOR, area.kpu)
    assert auditor.get(url).status_code == 200
    # The receiving village's officer sees the boxes bound for it, not others' scans.
    kpps_elsewhere = make_person(client, runtime, Role.KPPS, area.tps[1])
    assert kpps_elsewhere.get(url).status_code == 403
    other = make_area(runtime, new_regency())
    outsider = make_person(client, runtime, Role.AUDITOR, other.kpu)
    assert outsider.get(url).status_code == 404  # their own log holds no such event
    assert client.get(url).status_code == 401
    national = make_person(client, runtime, Role.AUDITOR, "")
    assert national.get(url).status_code == 422  # which log?
    assert national.get(url, params={"log": area.kpu}).status_code == 200


def test_unknown_and_malformed_events_are_clear_4xx(client, runtime, area, crew):
    kpu = crew["kpu"].person
    assert kpu.get("/api/v1/events/no-such-event/receipt").status_code == 404
    assert kpu.get("/api/v1/events/bad%20id/receipt").status_code == 422
    assert kpu.get(f"/api/v1/events/{'x' * 65}/receipt").status_code == 422
