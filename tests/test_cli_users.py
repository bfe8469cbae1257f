"""`jejak user add`: accounts made on the command line, the password never in argv."""

from __future__ import annotations

import base64
import io
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from scripts import cli
from scripts.cli import main
from tests.factories import new_nrp

PASSWORD = "a long enough secret"


def username() -> str:
    return f"cli.{uuid.uuid4().hex[:10]}"


def add(monkeypatch, stdin: str, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["user", "add", *args])


def sign_in(client, name: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": name, "password": password})


def test_a_user_added_with_password_stdin_signs_in(cli_env, client, area, monkeypatch, capsys):
    name = username()
    args = ["--username", name, "--role", "kpu", "--jurisdiction", area.kpu, "--full-name", "Operator Gudang"]
    assert add(monkeypatch, PASSWORD + "\n", *args, "--password-stdin") == 0
    assert f"created kpu {name} ({area.kpu})" in capsys.readouterr().out
    response = sign_in(client, name, PASSWORD)
    assert response.status_code == 200, response.text
    assert (response.json()["role"], response.json()["jurisdiction"]) == ("kpu", area.kpu)
    assert sign_in(client, name, PASSWORD + "x").status_code == 400
    assert add(monkeypatch, PASSWORD + "\n", *args, "--password-stdin") == 1
    assert f"user {name} exists" in capsys.readouterr().err


def test_an_integrator_with_scopes_and_an_escort_with_an_nrp(cli_env, client, area, monkeypatch):
    integrator = username()
    assert add(
        monkeypatch, PASSWORD, "--username", integrator, "--role", "integrator", "--jurisdiction", area.kpu,
        "--scopes", "items:read events:read", "--password-stdin",
    ) == 0
    token = sign_in(client, integrator, PASSWORD).json()
    assert (token["role"], token["scope"]) == ("integrator", "events:read items:read")
    escort = username()
    assert add(
        monkeypatch, PASSWORD + "\r\n", "--username", escort, "--role", "escort", "--jurisdiction", area.kpu,
        "--nrp", new_nrp(), "--password-stdin",
    ) == 0
    assert sign_in(client, escort, PASSWORD).status_code == 200  # the line ending is not part of it


def test_the_interactive_prompt_asks_twice(cli_env, client, monkeypatch, capsys):
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: next(answers))
    name = username()
    assert main(["user", "add", "--username", name, "--role", "auditor", "--jurisdiction", ""]) == 0
    assert f"created auditor {name} (national)" in capsys.readouterr().out
    assert sign_in(client, name, PASSWORD).status_code == 200

    answers = iter([PASSWORD, PASSWORD + "!"])
    assert main(["user", "add", "--username", username(), "--role", "auditor", "--jurisdiction", ""]) == 1
    assert "the two passwords differ" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("stdin", "args", "message"),
    [
        ("\n", ["--role", "admin", "--jurisdiction", ""], "no password given"),
        ("short\n", ["--role", "admin", "--jurisdiction", ""], "at least 10 characters"),
        (PASSWORD, ["--role", "bupati", "--jurisdiction", ""], "--role is one of admin, kpu, ppk"),
        (PASSWORD, ["--role", "kpu", "--jurisdiction", "79.98"], "there is no site 79.98"),
        (PASSWORD, ["--role", "kpu", "--jurisdiction", ""], "a kpu user needs a jurisdiction"),
        (PASSWORD, ["--role", "admin", "--jurisdiction", "", "--scopes", "items:read"], "only integrator accounts"),
    ],
)
def test_refusals_are_one_clear_line(cli_env, monkeypatch, capsys, stdin, args, message):
    assert add(monkeypatch, stdin, "--username", username(), *args, "--password-stdin") == 1
    err = capsys.readouterr().err
    assert message in err and err.startswith("jejak: ") and err.count("\n") == 1


def test_the_password_is_never_an_argument():
    with pytest.raises(SystemExit):
        main(["user", "add", "--username", "x.user", "--role", "admin", "--jurisdiction", "", "--password", PASSWORD])


def test_an_escort_is_added_with_their_nrp(cli_env, area, monkeypatch, capsys):
    name, nrp = username(), new_nrp()
    args = ["--username", name, "--role", "escort", "--jurisdiction", area.kpu, "--password-stdin"]
    assert add(monkeypatch, PASSWORD + "\n", *args) == 1
    assert "an escort account needs the officer's NRP" in capsys.readouterr().err
    assert add(monkeypatch, PASSWORD + "\n", *args, "--nrp", nrp) == 0
    assert f"created escort {name} ({area.kpu})" in capsys.readouterr().out
    assert add(monkeypatch, PASSWORD + "\n", *[a if a != name else username() for a in args], "--nrp", nrp) == 1
    assert f"NRP {nrp} is another account's" in capsys.readouterr().err


def test_officers_imported_on_the_command_line_get_their_sheets(cli_env, client, area, tmp_path, capsys):
    """`jejak user import FILE --sheets DIR`: accounts with codes, a PDF per village, and
    the codes on it enroll; a second run changes nothing; the end of the period disables them."""
    nik = f"53{uuid.uuid4().int % 10**14:014d}"
    file = tmp_path / "petugas.csv"
    file.write_text(
        f"name,role,jurisdiction,nik,phone\nMaria Lake,pps,{area.pps},{nik},081234567890\n", encoding="utf-8"
    )
    assert main(["user", "import", str(file), "--period", "pemilu-2029", "--sheets", str(tmp_path / "sheets")]) == 0
    assert "created 1 accounts, 0 unchanged" in capsys.readouterr().out
    (sheet,) = (tmp_path / "sheets").iterdir()
    assert sheet.name == f"pendaftaran-{area.pps}.pdf" and sheet.read_bytes().startswith(b"%PDF")
    assert sheet.stat().st_mode & 0o077 == 0
    assert main(["user", "import", str(file), "--period", "pemilu-2029"]) == 0
    assert "created 0 accounts, 1 unchanged" in capsys.readouterr().out
    assert main(["user", "sheet", area.pps, "--out", str(tmp_path / "lagi.pdf")]) == 0
    assert "1 codes issued" in capsys.readouterr().out and (tmp_path / "lagi.pdf").read_bytes().startswith(b"%PDF")
    assert main(["user", "reset", f"pps.{area.pps}.1"]) == 0
    code = capsys.readouterr().out.rsplit(" ", 1)[1].strip()
    key = base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw()).decode()
    enrolled = client.post("/api/v1/enroll", json={"code": code, "password": PASSWORD, "public_key": key})
    assert enrolled.status_code == 201, enrolled.text
    assert main(["user", "end-period", "pemilu-2029"]) == 0
    assert "would disable" in capsys.readouterr().out
    assert main(["user", "end-period", "pemilu-2029", "--apply"]) == 0
    assert sign_in(client, f"pps.{area.pps}.1", PASSWORD).json()["error"] == "invalid_grant"  # not before enrolling


def test_an_import_with_errors_lists_each_on_the_command_line(cli_env, area, tmp_path, capsys):
    file = tmp_path / "salah.csv"
    file.write_text(f"name,role,jurisdiction,nik,phone\n,pps,{area.pps},12,0812\n", encoding="utf-8")
    assert main(["user", "import", str(file)]) == 1
    err = capsys.readouterr().err
    assert "row 2, name:" in err and "row 2, nik:" in err and "row 2, phone:" in err
