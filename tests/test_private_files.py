"""Private files (issue 21, finding 9): the SQLite database holds password hashes and
webhook secrets, so it, its -wal and -shm, and its directory are the service user's
alone, whatever the umask; so is the keys directory."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from models.core.db import Database
from models.log.keys import KeyStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def companions(database: Path) -> list[Path]:
    return [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]


@pytest.fixture(autouse=True)
def lax_umask() -> Iterator[None]:
    """The usual umask, which leaves new files readable by every local user."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def written(url: str) -> Database:
    """The database, open, after a write: its -wal and -shm exist while it is open."""
    database = Database(url)
    with database.session(write=True) as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS secrets (hash TEXT)"))
        session.execute(text("INSERT INTO secrets VALUES ('$argon2id$...')"))
    return database


def test_a_new_database_and_its_directory_are_private(tmp_path):
    path = tmp_path / "data" / "jejak.db"
    database = written(f"sqlite:///{path}")
    try:
        assert mode(path.parent) == 0o700
        for file in companions(path):
            assert file.exists() and mode(file) == 0o600, file
    finally:
        database.dispose()


def test_the_files_of_an_existing_database_are_tightened_at_start(tmp_path):
    path = tmp_path / "jejak.db"
    before = sqlite3.connect(path)  # as an earlier version made it: 0644, WAL open
    before.execute("PRAGMA journal_mode=WAL")
    before.execute("CREATE TABLE secrets (hash TEXT)")
    before.commit()
    try:
        assert all(mode(file) == 0o644 for file in companions(path))
        database = written(f"sqlite:///{path}")
        try:
            for file in companions(path):
                assert mode(file) == 0o600, file
        finally:
            database.dispose()
    finally:
        before.close()


def test_the_keys_directory_is_private(tmp_path):
    keys = KeyStore(tmp_path / "keys", create_missing=True)
    keys.token_key()
    assert mode(tmp_path / "keys") == 0o700
    assert mode(keys.token_key_path()) == 0o600


def test_opening_a_database_again_keeps_the_locks_of_its_connections(tmp_path):
    """Closing any descriptor of a SQLite file drops this process's POSIX locks on it: a
    second Database on the same file (the CLI beside the app, tests) must not open it, or
    another process, seeing the database unused, deletes the WAL under our connections."""
    path = tmp_path / "jejak.db"
    first = written(f"sqlite:///{path}")
    try:
        Database(f"sqlite:///{path}").dispose()
        other = subprocess.run([sys.executable, "-c", OTHER_READER, str(path)], capture_output=True, text=True)
        assert other.returncode == 0, other.stderr
        assert path.with_name("jejak.db-wal").exists(), "the WAL was checkpointed and deleted while in use"
    finally:
        first.dispose()


# Another process that reads and closes: the last one out checkpoints and deletes the WAL.
OTHER_READER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("SELECT count(*) FROM secrets").fetchall()
connection.close()
"""
