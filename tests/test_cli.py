"""The `jejak` command line: migrate, keys, logs."""

from __future__ import annotations

from ledger.note import Verifier

from scripts.cli import main


def test_keys_create_then_show(own_cli_env, capsys):
    assert main(["keys", "create", "--log", "53.03"]) == 0
    created = capsys.readouterr().out.strip()
    verifier = Verifier.from_vkey(created)
    assert verifier.name == "jejak.example/log/53.03"
    assert (own_cli_env / "keys" / "log-53.03.skey").stat().st_mode & 0o777 == 0o600
    assert main(["keys", "show", "--log", "53.03"]) == 0
    assert capsys.readouterr().out.strip() == created


def test_keys_are_never_replaced(own_cli_env, capsys):
    assert main(["keys", "create", "--log", "53.03"]) == 0
    assert main(["keys", "create", "--log", "53.03"]) == 1
    assert "is never silently replaced" in capsys.readouterr().err


def test_keys_reject_a_bad_log_name(own_cli_env, capsys):
    assert main(["keys", "create", "--log", "../etc"]) == 1
    assert "not a log name" in capsys.readouterr().err
    assert not (own_cli_env / "keys").exists()


def test_migrate_then_create_a_log(own_cli_env, capsys):
    assert main(["migrate"]) == 0
    assert "database at" in capsys.readouterr().out
    assert main(["log", "create", "53.03"]) == 0
    log_id, origin, vkey = capsys.readouterr().out.strip().split("\t")
    assert (log_id, origin) == ("53.03", "jejak.example/log/53.03")
    assert Verifier.from_vkey(vkey).name == origin
    assert main(["log", "create", "53.03"]) == 1
    assert "log 53.03 exists" in capsys.readouterr().err


def test_label_and_token_keys(own_cli_env, capsys):
    import json

    assert main(["keys", "create", "--label", "53.03"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert (created["kty"], created["crv"]) == ("OKP", "Ed25519") and created["kid"]
    assert (own_cli_env / "keys" / "label-53.03.pem").stat().st_mode & 0o777 == 0o600
    assert main(["keys", "show", "--label", "53.03"]) == 0
    assert json.loads(capsys.readouterr().out) == created
    assert main(["keys", "create", "--label", "53.03"]) == 1
    assert main(["keys", "create", "--token"]) == 0
    assert json.loads(capsys.readouterr().out)["kid"] != created["kid"]
    assert main(["keys", "create", "--token"]) == 1
