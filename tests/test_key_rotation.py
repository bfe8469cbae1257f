"""Rotating keys without breaking what they signed: a log's checkpoint key (verifiers,
mirrors and bundles pinned to the old key follow the log to the new one), a KPU's
label key (old labels still verify, none is signed with it again) and the access-token
key (old tokens work until they expire). Each rotation is in the audit trail."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from ledger import jws, merkle
from ledger.checkpoint import open_checkpoint
from ledger.note import Signer, Verifier
from ledger.proof_bundle import ProofBundle, verify_bundle
from sqlalchemy import select

from api.app import create_app
from api.auth.tokens import AUDIENCE
from models.accounts.actor import Actor, Role
from models.accounts.trail import AuditRecord
from models.custody.items import LABEL_TYPE, Item, LabelReprint
from models.custody.labels import LabelKey, LabelKeyRetired
from models import rotation
from models.log.export import write_export
from models.log.keys import KeyStore
from models.log.reads import add_checkpoint, latest_checkpoint
from models.log.sequencer import NewEntry
from models.log.tables import Log, LogCheckpoint, RetiredLogKey
from models.runtime import Runtime
from scripts.cli import main as cli
from scripts.mirror import mirror
from scripts.restore import log_copies, restore_copy
from scripts.verify import main as verify
from tests.factories import accepted, make_area, make_person, register, walk_out_and_back
from tests.helpers import append, b64decode, scans, wait_for_checkpoint


def _entry(client, log_id: str, index: int) -> dict:
    page = client.get(f"/api/v1/logs/{log_id}/entries", params={"start": index, "end": index + 1}).json()
    return json.loads(b64decode(page["entries"][0]["entry"]))


def _labels(runtime: Runtime, log_id: str) -> dict[str, str]:
    with runtime.db.session() as session:
        return {item.id: item.label_jws for item in session.scalars(select(Item).where(Item.log_id == log_id))}


def _listed(client, log_id: str) -> dict:
    return {log["log"]: log for log in client.get("/api/v1/logs").json()["logs"]}[log_id]


def _size(runtime: Runtime, log_id: str) -> int:
    with runtime.db.session() as session:
        return session.get_one(Log, log_id).size


def _latest(runtime: Runtime, log_id: str) -> LogCheckpoint:
    with runtime.db.session() as session:
        return latest_checkpoint(session, log_id)


def _audited(runtime: Runtime, target: str) -> list[AuditRecord]:
    with runtime.db.session() as session:
        query = select(AuditRecord).where(AuditRecord.action == "key.rotate", AuditRecord.target == target)
        return list(session.scalars(query))


def _bundle(runtime: Runtime, log_id: str, path) -> str:
    with runtime.db.session() as session, path.open("xb") as out:
        write_export(session, log_id, out)
    return str(path)


def test_a_verifier_pinning_the_old_log_key_follows_the_rotation(
    client, runtime, new_log, area, crew, live_server, tmp_path, capsys
):
    walk_out_and_back(client, runtime, area, crew)
    old = new_log.verifier_key
    url = f"{live_server}/logs/{new_log.id}"
    wait_for_checkpoint(live_server, new_log.id, _size(runtime, new_log.id))
    assert mirror(tmp_path / "mirror", [url], [old], progress=False) == 0
    saved = tmp_path / "saved.checkpoint"
    assert verify([url, "--key", old, "--save-checkpoint", str(saved), "--workers", "0", "--quiet"]) == 0
    kpu = crew["kpu"]
    register(crew, (area.tps[1], "BUP"))
    sealed = kpu.scan("seal", area.item(1), area.kpu, seals=["S-1"])
    accepted(kpu.send(sealed))
    runtime.checkpointer.sign_grown_logs()
    receipt = kpu.person.get(f"/api/v1/events/{sealed['scan']['event_id']}/receipt").text

    rotated = rotation.rotate_log_key(runtime.sequencer, runtime.keys, runtime.tiles, new_log.id)
    new = rotated.current
    assert (rotated.retired, rotated.index) == (old, _size(runtime, new_log.id) - 1) and new != old
    assert Verifier.from_vkey(new).name == new_log.origin  # same origin, another key id
    # The log keeps growing under the new key.
    accepted(kpu.send(kpu.scan("dispatch", area.item(1), area.kpu, counterparty=area.ppk, seals=["S-1"])))
    latest = wait_for_checkpoint(live_server, new_log.id, _size(runtime, new_log.id))
    capsys.readouterr()

    # The log's entry names the new key and the one it retires; the handover just past it
    # is signed by both keys, later checkpoints by the new key alone.
    assert _entry(client, new_log.id, rotated.index) | {"received_at": None} == {
        "type": "log_key", "key": new, "retires": old, "v": 1, "log": new_log.origin,
        "item": None, "seq": None, "prev": None, "received_at": None,
    }
    handover = httpx.get(f"{url}/checkpoints/{rotated.index + 1}").text
    for key in (old, new):
        assert open_checkpoint(handover, Verifier.from_vkey(key))[0].size == rotated.index + 1
    assert open_checkpoint(latest, Verifier.from_vkey(new))[0].size > rotated.index + 1
    with pytest.raises(ValueError):
        open_checkpoint(latest, Verifier.from_vkey(old))
    assert _listed(client, new_log.id)["verifier_key"] == new
    assert _listed(client, new_log.id)["retired_keys"] == [{"verifier_key": old, "retired_index": rotated.index}]
    assert httpx.get(f"{url}/checkpoints/{10**9}").status_code == 404

    # The auditor who pinned the old key follows the log over HTTP, from the checkpoint saved before.
    assert verify([url, "--key", old, "--since", str(saved), "--workers", "0", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"the log key was rotated at entry {rotated.index}: followed from {old} to {new}" in out
    assert "consistent with the checkpoint saved" in out and "OK: everything verifies" in out
    assert verify([url, "--key", new, "--workers", "0", "--quiet"]) == 0
    # The same with an export bundle, and with the mirror, which follows the rotation too.
    assert verify([_bundle(runtime, new_log.id, tmp_path / "log.tar.gz"), "--key", old, "--quiet"]) == 0
    assert mirror(tmp_path / "mirror", [url], [], progress=False) == 0  # pinned to the old key
    copy = tmp_path / "mirror" / new_log.id
    info = json.loads((copy / "log.json").read_text())
    assert info["verifier_key"] == new
    assert info["retired_keys"] == [{"verifier_key": old, "retired_index": rotated.index}]
    assert (copy / "checkpoints" / str(rotated.index + 1)).read_text() == handover
    assert verify([str(copy), "--key", old, "--quiet"]) == 0
    assert mirror(tmp_path / "mirror", [url], [old], progress=False) == 0  # and again, nothing new

    # What the old key signed still verifies with it: an escort's receipt, offline.
    bundle = ProofBundle.parse(receipt)
    assert verify_bundle(bundle, bundle.extra, Verifier.from_vkey(old)).size <= rotated.index
    [record] = _audited(runtime, f"log {new_log.id}")
    assert (record.actor_id, record.jurisdiction) == (None, new_log.id)
    assert record.details == {"retired": old, "current": new, "index": rotated.index}


def test_a_log_restored_from_its_mirror_across_rotations_is_the_same_log(
    runtime, settings, new_log, area, crew, live_server, fresh_settings, tmp_path, capsys
):
    register(crew, (area.tps[0], "BUP"))  # its label signed by the first label key
    label = rotation.rotate_label_key(runtime.sequencer, runtime.keys, new_log.id)
    log_key = rotation.rotate_log_key(runtime.sequencer, runtime.keys, runtime.tiles, new_log.id)
    register(crew, (area.tps[1], "BUP"))
    size = _size(runtime, new_log.id)
    wait_for_checkpoint(live_server, new_log.id, size)
    assert mirror(tmp_path / "mirror", [f"{live_server}/logs/{new_log.id}"], [new_log.verifier_key], progress=False) == 0

    # The office burns; the keys come back from their backup, retired ones included.
    shutil.copytree(settings.keys_dir, fresh_settings.keys_dir)
    restored = Runtime(fresh_settings)
    try:
        make_area(restored, new_log.id)
        restored.ensure_log(new_log.id)
        [copy] = log_copies(str(tmp_path / "mirror"))
        with copy:
            report = restore_copy(restored, copy)
        assert report.size == size and report.labels_to_reprint == []  # both keys' labels signed again
        assert _labels(restored, new_log.id) == _labels(runtime, new_log.id)
        with restored.db.session() as session:
            assert session.get_one(Log, new_log.id).verifier_key == log_key.current
            retired = session.scalars(select(RetiredLogKey).where(RetiredLogKey.log_id == new_log.id))
            assert [(k.retired_index, k.verifier_key) for k in retired] == [(log_key.index, new_log.verifier_key)]
            label_keys = session.scalars(select(LabelKey).where(LabelKey.log_id == new_log.id).order_by(LabelKey.published_index))
            assert [(k.kid, k.retired_index) for k in label_keys][-2:] == [(label.retired, label.index), (label.current, None)]
        capsys.readouterr()
        assert verify([_bundle(restored, new_log.id, tmp_path / "restored.tar.gz"), "--key", new_log.verifier_key]) == 0
        assert f"rotated at entry {log_key.index}" in capsys.readouterr().out
    finally:
        restored.close()


def _rogue_rotation(runtime: Runtime, log: Log) -> Signer:
    """What an operator without the log's key could do: a log_key entry naming a key of
    its own, and a "handover" signed by that key alone."""
    rogue = Signer.generate(log.origin)
    [entry] = append(runtime, log.id, [NewEntry({"type": "log_key", "key": rogue.vkey, "retires": log.verifier_key})])
    with runtime.db.session(write=True) as session:
        row = session.get_one(Log, log.id)
        reader = runtime.tiles.reader(session, log.id, entry.index + 1)
        add_checkpoint(session, row, merkle.tree_root(entry.index + 1, reader), rogue, size=entry.index + 1)
        session.add(RetiredLogKey(log_id=log.id, retired_index=entry.index, verifier_key=log.verifier_key))
        row.verifier_key = rogue.vkey
    runtime.keys.log_key_path(log.id).write_text(rogue.skey + "\n")
    return rogue


def test_a_rotation_the_old_key_did_not_sign_is_not_followed(runtime, new_log, tmp_path, capsys):
    append(runtime, new_log.id, scans(5))
    runtime.checkpointer.sign_grown_logs()
    rogue = _rogue_rotation(runtime, new_log)
    bundle = _bundle(runtime, new_log.id, tmp_path / "log.tar.gz")
    capsys.readouterr()

    assert verify([bundle, "--key", new_log.verifier_key, "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "the checkpoint does not verify with the log key" in out
    assert f"no key rotation of the log leads from {new_log.verifier_key}" in out
    assert "the handover checkpoint of entry 5 does not verify" in out
    # A mirror pinned to the old key refuses the log.
    assert mirror(tmp_path / "mirror", [bundle], [new_log.verifier_key], progress=False) == 1
    assert "no key rotation of the log leads from" in capsys.readouterr().err
    assert verify([bundle, "--key", rogue.vkey, "--quiet"]) == 0  # only who pins the rogue key trusts it


def test_an_interrupted_log_key_rotation_is_finished_by_running_it_again(runtime, new_log, monkeypatch):
    append(runtime, new_log.id, scans(3))
    fail = RuntimeError("the machine lost power")

    def lose_power(*args, **kwargs):
        raise fail

    # Before the log records it (the handover was being signed): nothing is in the log,
    # and running it again uses the key it had written down.
    with monkeypatch.context() as patch:
        patch.setattr(rotation, "add_checkpoint", lose_power)
        with pytest.raises(RuntimeError):
            rotation.rotate_log_key(runtime.sequencer, runtime.keys, runtime.tiles, new_log.id)
    assert _size(runtime, new_log.id) == 3
    pending = Signer.from_skey((runtime.keys.directory / f"log-{new_log.id}.next.skey").read_text().strip())
    # After the log recorded it, before the files moved: the log cannot be signed meanwhile.
    with monkeypatch.context() as patch:
        patch.setattr(KeyStore, "put_in_place", lose_power)
        with pytest.raises(RuntimeError):
            rotation.rotate_log_key(runtime.sequencer, runtime.keys, runtime.tiles, new_log.id)
    append(runtime, new_log.id, scans(2))
    runtime.checkpointer.sign_grown_logs()
    assert _latest(runtime, new_log.id).tree_size == 4  # the handover; nobody can sign size 6

    finished = rotation.rotate_log_key(runtime.sequencer, runtime.keys, runtime.tiles, new_log.id)
    assert (finished.current, finished.index) == (pending.vkey, None)
    runtime.checkpointer.sign_grown_logs()  # (or a live server's checkpointer, first)
    assert open_checkpoint(_latest(runtime, new_log.id).note, Verifier.from_vkey(pending.vkey))[0].size == 6
    with runtime.db.session() as session:
        assert [k.retired_index for k in session.scalars(select(RetiredLogKey).where(RetiredLogKey.log_id == new_log.id))] == [3]
    assert len(_audited(runtime, f"log {new_log.id}")) == 1
    assert len(list(runtime.keys.retired_directory.glob(f"log-{new_log.id}-*.skey"))) == 1


def test_labels_signed_before_a_label_key_rotation_still_verify(client, runtime, new_log, area, crew, tmp_path, capsys):
    kpu = crew["kpu"].person
    register(crew, (area.tps[0], "BUP"))
    old_key = runtime.keys.label_key(new_log.id)
    old_kid = jws.thumbprint(old_key.public_key())
    old_label = _labels(runtime, new_log.id)[area.item(0)]

    rotated = rotation.rotate_label_key(runtime.sequencer, runtime.keys, new_log.id)
    assert rotated.retired == old_kid and rotated.current != old_kid
    assert _entry(client, new_log.id, rotated.index)["retires"] == old_kid
    # The app (another KeyStore on the same folder) signs with the new key from now on.
    register(crew, (area.tps[1], "BUP"))
    assert kpu.post(f"/api/v1/items/{area.item(0)}/labels").status_code == 201
    types = [_entry(client, new_log.id, i)["type"] for i in range(rotated.index + 1, _size(runtime, new_log.id))]
    assert "label_key" not in types  # published once, by the rotation

    listed = client.get(f"/api/v1/logs/{new_log.id}/label-keys").json()["keys"]
    assert [(k["kid"], k["status"], k["retired_index"]) for k in listed] == [
        (old_kid, "retired", rotated.index), (rotated.current, "active", None)
    ]
    assert listed[1]["published_index"] == rotated.index
    # A scanner with these keys checks the old label and the new ones alike.
    keys = {k["kid"]: Ed25519PublicKey.from_public_bytes(jws.b64url_decode(k["x"])) for k in listed}
    assert jws.verify(old_label, keys, LABEL_TYPE)[0]["kid"] == old_kid
    for token in _labels(runtime, new_log.id).values():  # item 0's reprint and item 1's first
        assert jws.verify(token, keys, LABEL_TYPE)[0]["kid"] == rotated.current
    # A request that still held the old key signs nothing with it.
    actor = Actor(crew["kpu"].person.id, Role.KPU, area.kpu)
    with pytest.raises(LabelKeyRetired):
        runtime.sequencer.submit(new_log.id, LabelReprint(area.item(1), actor, old_key), 2)
    runtime.checkpointer.sign_grown_logs()
    assert verify([_bundle(runtime, new_log.id, tmp_path / "log.tar.gz"), "--key", new_log.verifier_key, "--quiet"]) == 0
    assert len(_audited(runtime, f"label {new_log.id}")) == 1


@pytest.fixture
def own_keys(settings, tmp_path):
    """An app with a keys folder of its own: rotating the token key must not touch the
    tokens of the rest of the suite."""
    isolated = settings.model_copy(update={"keys_dir": tmp_path / "keys"})
    app = create_app(isolated, start_background=False)
    yield isolated, TestClient(app)  # no lifespan: the suite's app holds the metrics registry
    app.state.runtime.close()


def test_tokens_signed_by_a_rotated_key_work_until_they_expire(own_keys, runtime, area):
    isolated, app_client = own_keys
    person = make_person(app_client, runtime, Role.KPU, area.kpu)
    operator = Runtime(isolated)
    try:
        old_key = operator.keys.token_key()
        rotated = rotation.rotate_token_key(operator.keys, operator.db)
    finally:
        operator.close()
    old_kid = jws.thumbprint(old_key.public_key())
    assert rotated.retired == old_kid

    def forged_by_old_key() -> str:
        now = datetime.now(UTC)
        claims = {"iss": isolated.host, "aud": AUDIENCE, "sub": str(person.id), "role": "kpu", "jur": area.kpu,
                  "iat": now, "exp": now + timedelta(minutes=5), "jti": uuid.uuid4().hex}
        return jwt.encode(claims, old_key, algorithm="EdDSA", headers={"kid": old_kid})

    def items(token: str) -> int:
        return app_client.get("/api/v1/items", headers={"Authorization": f"Bearer {token}"}).status_code

    assert items(person.token) == 200  # issued before the rotation
    assert items(forged_by_old_key()) == 200
    assert [k["kid"] for k in app_client.get("/.well-known/jwks.json").json()["keys"]] == [rotated.current, old_kid]
    fresh = app_client.post("/api/v1/auth/token", data={"username": person.username, "password": "correct horse battery"})
    assert jwt.get_unverified_header(fresh.json()["access_token"])["kid"] == rotated.current
    assert items(fresh.json()["access_token"]) == 200

    # Once every token it signed has expired, the old key is gone from the JWKS and refused.
    [retired] = (isolated.keys_dir / "retired").glob("token-*.pub")
    long_ago = time.time() - 60 * isolated.token_minutes - 1
    os.utime(retired, (long_ago, long_ago))
    assert [k["kid"] for k in app_client.get("/.well-known/jwks.json").json()["keys"]] == [rotated.current]
    assert items(forged_by_old_key()) == 401
    assert not (isolated.keys_dir / "token.next.pem").exists()
    [record] = _audited(runtime, "token")
    assert record.details == {"retired": old_kid, "current": rotated.current}


def test_keys_rotate_on_the_command_line(own_cli_env, capsys):
    assert cli(["migrate"]) == 0
    assert cli(["log", "create", "53.03"]) == 0
    old = capsys.readouterr().out.split("\t")[2].strip()
    assert cli(["keys", "rotate", "--log", "53.03"]) == 0
    new = capsys.readouterr().out.strip()
    assert cli(["keys", "show", "--log", "53.03"]) == 0
    assert capsys.readouterr().out.strip() == new != old
    assert cli(["keys", "rotate", "--label", "53.03"]) == 0
    assert json.loads(capsys.readouterr().out)["kty"] == "OKP"
    assert cli(["keys", "rotate", "--token"]) == 0
    assert cli(["keys", "rotate", "--log", "99.99"]) == 1
    assert "there is no log 99.99" in capsys.readouterr().err
