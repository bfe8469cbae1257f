"""Private files (issue 21, finding 9): the SQLite database holds password hashes and
webhook secrets, so it, its -wal and -shm, and its directory are the service user's
alone, whatever the umask; so is the keys directory."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from models.db import Database
from models.keys import KeyStore


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
