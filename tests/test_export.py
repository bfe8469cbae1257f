"""The auditors' export: the whole log as one .tar.gz that checks out offline."""

from __future__ import annotations

import tarfile

import pytest
from ledger import merkle
from ledger.checkpoint import open_checkpoint
from ledger.mirror import bundles_between
from ledger.note import Verifier

from models.accounts.actor import Role
from scripts.cli import main
from scripts.logsource import open_source
from tests.factories import make_area, make_person, new_regency
from tests.helpers import append, scans


@pytest.fixture
def exported_log(runtime, new_log):
    make_area(runtime, new_log.id)
    append(runtime, new_log.id, scans(700))
    runtime.checkpointer.sign_grown_logs()
    return new_log


def _stored(runtime, log_id: str) -> list[bytes]:
    from models.log.tables import LogEntry
    from sqlalchemy import select

    with runtime.db.session() as session:
        return list(session.scalars(select(LogEntry.data).where(LogEntry.log_id == log_id).order_by(LogEntry.idx)))


def test_an_export_checks_out_offline(client, runtime, exported_log, tmp_path):
    auditor = make_person(client, runtime, Role.AUDITOR, exported_log.id)
    response = auditor.get(f"/api/v1/logs/{exported_log.id}/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/gzip"
    assert f"jejak-log-{exported_log.id}-700.tar.gz" in response.headers["content-disposition"]
    append(runtime, exported_log.id, scans(5, start=700))  # after the export: not in it
    bundle = tmp_path / "export.tar.gz"
    bundle.write_bytes(response.content)
    with tarfile.open(bundle) as tar:
        assert {"checkpoint", "checkpoints/700", "log.json", "tile/0/002.p/188", "tile/entries/000"} <= set(tar.getnames())

    with open_source(str(bundle)) as source:
        verifier = Verifier.from_vkey(exported_log.verifier_key)
        checkpoint, _ = open_checkpoint(source.checkpoint_note(), verifier)
        assert checkpoint.size == 700
        assert merkle.tree_root(700, source.tile_reader(700)) == checkpoint.root
        entries = [e for n, w in bundles_between(0, 700) for e in source.entry_bundle(n, w)]
        assert entries == _stored(runtime, exported_log.id)[:700]
        info = source.log_info()
        assert (info["log"], info["origin"], info["verifier_key"]) == (
            exported_log.id, exported_log.origin, exported_log.verifier_key
        )


def test_the_export_is_for_auditors_and_the_log_s_own_kpu(client, runtime, exported_log):
    url = f"/api/v1/logs/{exported_log.id}/export"
    assert client.get(url).status_code == 401
    for role, where, status in [
        (Role.KPU, exported_log.id, 200),
        (Role.AUDITOR, "", 200),  # national
        (Role.ADMIN, "", 200),
        (Role.AUDITOR, make_area(runtime, new_regency()).kpu, 403),  # another regency's
        (Role.PPK, f"{exported_log.id}.01", 403),
        (Role.ESCORT, exported_log.id, 403),
    ]:
        assert make_person(client, runtime, role, where).get(url).status_code == status, (role, where)
    integrator = make_person(client, runtime, Role.INTEGRATOR, "")
    assert integrator.get(url).status_code == 403  # lacks logs:read
    reader = make_person(client, runtime, Role.INTEGRATOR, "", scopes=frozenset({"logs:read"}))
    assert reader.get(url).status_code == 200


def test_an_unknown_or_malformed_log_is_a_clear_4xx(client, runtime):
    auditor = make_person(client, runtime, Role.AUDITOR, "")
    assert auditor.get("/api/v1/logs/99.99/export").status_code == 404
    assert auditor.get("/api/v1/logs/nope/export").status_code == 422


def test_the_command_line_writes_a_bundle(runtime, exported_log, tmp_path, cli_env, capsys):
    out = tmp_path / "log.tar.gz"
    assert main(["export", exported_log.id, "--out", str(out)]) == 0
    written = out.read_bytes()
    assert main(["export", exported_log.id, "--out", str(out)]) == 1
    assert "exists" in capsys.readouterr().err
    assert out.read_bytes() == written  # never overwritten
    with tarfile.open(out) as tar:
        member = tar.extractfile("checkpoints/700")
        assert member is not None and member.read().startswith(exported_log.origin.encode())
