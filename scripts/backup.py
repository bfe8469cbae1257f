"""`jejak backup --out DIR`: a consistent copy of the database and of the keys, enough
to bring the service back on a new machine (docs/OPERATIONS.md says how, and how to
keep PostgreSQL's write-ahead log for point-in-time recovery besides).

- SQLite: SQLite's online backup API copies the database to DIR/jejak.db while the
  service keeps running: a snapshot of one moment, never a half-written file.
- PostgreSQL: `pg_dump -Fc` writes DIR/jejak.dump, one consistent snapshot too, for
  `pg_restore`. Without pg_dump on the PATH, nothing is written and the message says so.
- The keys directory goes to DIR/keys/ (mode 0600 files, in a 0700 folder): without
  the log keys a restored log could not sign another checkpoint its verifiers accept.
- DIR/backup.json records when, what, and every log's size and verifier key, and
  names any log whose key the copy lacks (a key rotated while the backup ran, or a
  key already missing): `jejak backup` then exits 1."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ledger.note import Signer
from sqlalchemy.engine import make_url

from models.core.db import Database
from models.core.errors import InvalidRequest, Unavailable
from models.core.settings import Settings
from models.log.reads import list_logs

SQLITE_FILE = "jejak.db"
POSTGRES_FILE = "jejak.dump"
KEYS = "keys"
MANIFEST = "backup.json"


class BackupFailed(Unavailable):
    title = "Backup failed"


@dataclass
class Manifest:
    created_at: str
    database: str  # "sqlite" or "postgresql"
    file: str
    logs: list[dict[str, object]] = field(default_factory=list)
    keys_missing: list[str] = field(default_factory=list)  # logs whose key the copy lacks


def backup(settings: Settings, out: Path) -> Manifest:
    """Back up the database and the keys of `settings` into `out` (new, or empty)."""
    url = make_url(settings.database_url)
    postgres = url.get_backend_name() == "postgresql"
    pg_dump = shutil.which("pg_dump")
    if postgres and pg_dump is None:
        raise BackupFailed(
            "pg_dump is not on the PATH: install PostgreSQL's client tools of the server's major version "
            "(e.g. apt install postgresql-client-16), or back up with pg_dump or WAL archiving yourself "
            "(docs/OPERATIONS.md)"
        )
    if not settings.keys_dir.is_dir():
        raise InvalidRequest(f"there is no keys directory at {settings.keys_dir}: a backup without the keys cannot be restored")
    if out.exists() and any(out.iterdir()):
        raise InvalidRequest(f"{out} is not empty: a backup never overwrites another")
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            logs = [{"log": log.id, "size": log.size, "verifier_key": log.verifier_key} for log in list_logs(session)]
    finally:
        db.dispose()
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    manifest = Manifest(datetime.now(UTC).isoformat(), "postgresql" if postgres else "sqlite",
                        POSTGRES_FILE if postgres else SQLITE_FILE, logs)
    if postgres:
        assert pg_dump is not None
        _pg_dump(pg_dump, settings.database_url, out / POSTGRES_FILE)
    else:
        _sqlite_backup(url.database or "", out / SQLITE_FILE)
    shutil.copytree(settings.keys_dir, out / KEYS)
    manifest.keys_missing = _keys_missing(out / KEYS, logs)
    (out / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    return manifest


def _sqlite_backup(database: str, target: Path) -> None:
    if not database or database == ":memory:" or not Path(database).exists():
        raise InvalidRequest(f"there is no SQLite database file at {database!r} to back up")
    source = sqlite3.connect(database)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # page by page, while writers go on; the copy is one moment's
    finally:
        copy.close()
        source.close()


def _pg_dump(pg_dump: str, database_url: str, target: Path) -> None:
    url = make_url(database_url)
    # libpq's own URL, and the password in its environment rather than on the command line (ps).
    libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = {**os.environ, **({"PGPASSWORD": str(url.password)} if url.password else {})}
    done = subprocess.run(
        [pg_dump, "--format=custom", "--file", str(target), libpq],
        env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise BackupFailed(f"pg_dump failed: {done.stderr.strip()}")


def _keys_missing(keys: Path, logs: list[dict[str, object]]) -> list[str]:
    """The logs whose key is not in the copy, as the current key or the next one of a
    rotation interrupted after the log recorded it."""
    missing = []
    for log in logs:
        files = [keys / f"log-{log['log']}.skey", keys / f"log-{log['log']}.next.skey"]
        if log["verifier_key"] not in {Signer.from_skey(f.read_text().strip()).vkey for f in files if f.exists()}:
            missing.append(str(log["log"]))
    return missing
