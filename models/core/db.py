"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, any_, bindparam, create_engine, event, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from models.core.private import private_directory, private_file

# Execution option asking for SQLite's write lock at BEGIN. SQLite has one writer per
# file: a transaction that reads and then writes must take the lock up front, or a
# concurrent commit makes it fail with "database is locked" instead of waiting.
# (PostgreSQL needs nothing here: writers to a log lock its row, see models.log.sequencer.)
WRITE_LOCK = "jejak_write_lock"
# Seconds a request waits for a PostgreSQL connection before it is answered 503.
CONNECT_TIMEOUT = 5
# The most a SQLite WAL file keeps once its frames are checkpointed: SQLite's own
# automatic checkpoint starts at 1,000 pages (4 MiB of 4 KiB pages), so a WAL longer
# than that held one large batch. Without a limit the file keeps its largest size for
# ever, and on a full disk the space freed was taken again by the next writes.
WAL_LIMIT = 4 * 1024 * 1024


def json_text(value: Any) -> str:
    """A JSON column's text. Most are lists of strings (seals, flags, escorts), written
    by the thousand under a log's lock: orjson writes those ten times faster than
    json.dumps, with the same meaning. Anything else keeps json.dumps's rules exactly
    (non-finite floats, integers beyond 64 bits, keys that are not strings)."""
    if value is None:  # e.g. a box's seals at dispatch while it is not in transit
        return "null"
    if type(value) is list and all(type(v) is str for v in value):
        return orjson.dumps(value).decode()
    return json.dumps(value)


def make_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("json_serializer", json_text)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    # No pre-ping: it costs a round trip per request. A dropped connection surfaces as
    # an OperationalError (answered 503) and the pool replaces it. A server that does not
    # answer must not hang requests either: connecting, or waiting for a free pooled
    # connection, gives up after CONNECT_TIMEOUT (the URL's own connect_timeout wins).
    connect_args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": CONNECT_TIMEOUT}
    return create_engine(
        url, pool_size=10, max_overflow=20, pool_timeout=CONNECT_TIMEOUT, connect_args=connect_args, **kwargs
    )


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        _private_database(Path(database))
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_LOCK) else "BEGIN")

    return engine


def _private_database(path: Path) -> None:
    """The database file made 0600 before SQLite first opens it (SQLite gives its -wal and
    -shm files the database file's mode), in a directory made 0700; the files of a
    database from before this rule tightened."""
    private_directory(path.parent)
    private_file(path, create=True)
    for companion in ("-wal", "-shm"):
        private_file(path.with_name(path.name + companion), create=False)


class Database:
    """One engine and its session factory; the app and the CLI each hold one."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        database = make_url(url).database if url.startswith("sqlite") else None
        self._wal = Path(f"{database}-wal") if database and database != ":memory:" else None
        self._read_sessions = sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session in one transaction, committed on success and rolled back on error.
        Pass write=True for a transaction that writes."""
        try:
            with self.sessions() as session, session.begin():
                if write:
                    # Procure the connection now, so BEGIN carries the option.
                    session.connection(execution_options={WRITE_LOCK: True})
                yield session
        finally:
            if write:
                self._shrink_wal()

    def _shrink_wal(self) -> None:
        """After a write that left SQLite's WAL beyond WAL_LIMIT (a large batch, or one
        refused on a full disk), checkpoint it and truncate the file: journal_size_limit
        alone truncates only at the next write. One stat per write otherwise. Its own
        connection waits for nobody: if a reader still uses the WAL, the next write tries."""
        if self._wal is None:
            return
        try:
            if self._wal.stat().st_size <= WAL_LIMIT:
                return
            connection = sqlite3.connect(self._wal.with_name(self._wal.name.removesuffix("-wal")), timeout=0)
            try:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()
        except (OSError, sqlite3.Error):
            pass

    @contextmanager
    def reads(self) -> Iterator[Session]:
        """A session for reading only, without a transaction: no BEGIN and COMMIT round
        trips. Safe for the log because what it reads is bounded by a size read first,
        and entries below that size never change."""
        with self._read_sessions() as session:
            yield session

    def ping(self) -> None:
        """Return if the database answers; raise SQLAlchemyError if not."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()

    # A single database holds every log; models.core.routing.Databases spreads them over several.
    def for_log(self, code: str) -> Database:
        return self

    @property
    def home(self) -> Database:
        return self  # one database holds everything

    def each(self) -> list[Database]:
        return [self]


def disk_full(error: DBAPIError) -> bool:
    """Whether the database refused a write for want of space: SQLite's SQLITE_FULL (the
    disk, or its max_page_count), PostgreSQL's disk_full (53100)."""
    sqlite_code = getattr(error.orig, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return bool(sqlite_code & 0xFF == sqlite3.SQLITE_FULL)
    return getattr(error.orig, "sqlstate", None) == "53100"


def one_of(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """`column IN values`, written for PostgreSQL as `= ANY(array)`: one parameter, so
    the server parses and plans the same statement however many values there are."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)
