"""`jejak backup`: a log with real scans is backed up while the service runs, the backup
is restored the documented way (docs/OPERATIONS.md) into a fresh database and keys
folder, and the restored service verifies and serves exactly what a mirror of the
original holds."""

from __future__ import annotations

import filecmp
import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from models.core.settings import Settings, get_settings
from scripts.backup import MANIFEST, POSTGRES_FILE, SQLITE_FILE, backup
from scripts.cli import main as cli
from scripts.mirror import mirror
from scripts.verify import main as verify
from tests.factories import walk_out_and_back
from tests.helpers import serve_live, wait_for_checkpoint


@pytest.fixture
def empty_database(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """Where the backup goes back: a new SQLite file, or a new, empty PostgreSQL database."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"{url.database}_backup_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _restore(backup: Path, database_url: str, keys: Path) -> None:
    """What docs/OPERATIONS.md says to do with a backup."""
    manifest = json.loads((backup / MANIFEST).read_text())
    if manifest["database"] == "postgresql":
        libpq = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "--dbname", libpq, str(backup / POSTGRES_FILE)],
                       check=True, capture_output=True)
    else:
        shutil.copyfile(backup / SQLITE_FILE, make_url(database_url).database)
    shutil.copytree(backup / "keys", keys)


def test_a_restored_backup_verifies_and_matches_a_mirror(
    client, runtime, settings, new_log, area, crew, live_server, empty_database, tmp_path, capsys
):
    walk_out_and_back(client, runtime, area, crew)
    with runtime.db.session() as session:
        size = session.get_one(type(new_log), new_log.id).size
    wait_for_checkpoint(live_server, new_log.id, size)
    assert mirror(tmp_path / "mirror", [f"{live_server}/logs/{new_log.id}"], [new_log.verifier_key], progress=False) == 0

    manifest = backup(settings, tmp_path / "backup")  # while the service runs
    assert {"log": new_log.id, "size": size, "verifier_key": new_log.verifier_key} in manifest.logs
    assert new_log.id not in manifest.keys_missing  # (other tests' logs may lack theirs on purpose)
    assert (tmp_path / "backup" / "keys" / f"log-{new_log.id}.skey").stat().st_mode & 0o777 == 0o600

    restored = settings.model_copy(update={"database_url": empty_database, "keys_dir": tmp_path / "restored-keys"})
    _restore(tmp_path / "backup", empty_database, restored.keys_dir)
    with serve_live(restored) as base:
        url = f"{base}/logs/{new_log.id}"
        capsys.readouterr()
        assert verify([url, "--key", new_log.verifier_key, "--workers", "0", "--quiet"]) == 0
        assert f"entries     {size} checked" in capsys.readouterr().out
        assert mirror(tmp_path / "from-backup", [url], [new_log.verifier_key], progress=False) == 0
    # The same checkpoint, entries and tiles as the mirror made of the original.
    original, copy = tmp_path / "mirror" / new_log.id, tmp_path / "from-backup" / new_log.id
    files = sorted(str(p.relative_to(original)) for p in original.rglob("*") if p.is_file())
    assert files == sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file())
    assert "checkpoint" in files and any(f.startswith("tile/entries/") for f in files)
    matched, differ, errors = filecmp.cmpfiles(original, copy, files, shallow=False)
    assert (differ, errors) == ([], [])


def test_a_backup_never_overwrites_and_says_what_it_lacks(own_cli_env, monkeypatch, tmp_path, capsys):
    assert cli(["migrate"]) == 0 and cli(["log", "create", "53.03"]) == 0
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "something").write_text("kept")
    assert cli(["backup", "--out", str(taken)]) == 1
    assert "is not empty: a backup never overwrites another" in capsys.readouterr().err
    assert (taken / "something").read_text() == "kept"

    # A log whose key is not in the copy is named, and the backup exits 1.
    (tmp_path / "keys" / "log-53.03.skey").rename(tmp_path / "elsewhere.skey")
    assert cli(["backup", "--out", str(tmp_path / "b1")]) == 1
    assert "holds no key that log 53.03 signs with" in capsys.readouterr().err
    assert json.loads((tmp_path / "b1" / MANIFEST).read_text())["keys_missing"] == ["53.03"]

    monkeypatch.setenv("JEJAK_KEYS_DIR", str(tmp_path / "no-keys"))
    get_settings.cache_clear()
    assert cli(["backup", "--out", str(tmp_path / "b2")]) == 1
    assert "a backup without the keys cannot be restored" in capsys.readouterr().err

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/nothing")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    get_settings.cache_clear()
    assert cli(["backup", "--out", str(tmp_path / "b3")]) == 1
    assert "pg_dump is not on the PATH" in capsys.readouterr().err
    assert not (tmp_path / "b3").exists()
