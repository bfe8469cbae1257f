"""BulkStatement writes what Core's executemany writes: every type custody and the log use
(text, integers, UUIDs, UTC datetimes, JSON lists, bytes, NULLs) reads back the same."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import JSON, Column, Float, MetaData, Numeric, SmallInteger, String, Table, insert, select
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlalchemy.exc import DBAPIError

from models.core.base import UTCDateTime
from models.core.bulk import COPY_FROM, UPDATE_BY_COPY_FROM, BulkStatement, KeyedUpdate, pipelined
from models.custody.alerts import INSERT_ALERTS, Alert, alert_row, new_alert
from models.custody.events import Event
from models.custody.work import _INSERT_EVENTS, _UPDATE_ITEMS
from models.log.sequencer import INSERT_ENTRIES
from models.log.tables import LogEntry


def _event(log_id: str, n: int, flags: list[str], counterparty: str | None, handoff: str | None = None) -> dict[str, object]:
    observed = datetime(2026, 11, 27, 7, 15, 30, 123456, tzinfo=timezone(timedelta(hours=8)))  # WITA
    return {
        "log_id": log_id, "event_id": f"ev-{n}", "entry_index": n, "item_id": "53.03.08.2001-001-BUP",
        "type": "dispatch", "site": "53.03.08", "counterparty": counterparty, "actor_id": uuid.UUID(int=7),
        "role": "ppk", "device_id": "dev-1", "device_seq": n, "handoff_id": handoff, "observed_at": observed,
        "received_at": datetime(2026, 11, 27, 0, 0, 1, tzinfo=UTC), "flags": flags,
    }  # fmt: skip


@pytest.mark.parametrize("copies", [1, COPY_FROM], ids=["a few rows", "enough rows for COPY"])
def test_bulk_rows_read_back_as_core_rows(runtime, new_log, copies):
    # Text that COPY must escape: a tab, a newline, a backslash, a literal \N (not NULL).
    cases = [(["late_sync", "far_from_site"], "53.03.08.2001", None), ([], None, "truk\t1\nB 12\\3 \\N")] * copies
    with runtime.db.session(write=True) as session:
        connection = session.connection()
        connection.execute(insert(Event.__table__), [_event(new_log.id, n, *c) for n, c in enumerate(cases)])
        _INSERT_EVENTS.execute(connection, [_event(new_log.id, 100 + n, *c) for n, c in enumerate(cases)])
    with runtime.db.reads() as session:
        stored = {e.entry_index: e for e in session.scalars(select(Event).where(Event.log_id == new_log.id))}
    assert len(stored) == 2 * len(cases)
    columns = [c.key for c in Event.__table__.columns if c.key not in ("event_id", "entry_index", "device_seq")]
    for n in range(len(cases)):
        core, bulk = stored[n], stored[100 + n]
        assert {c: getattr(bulk, c) for c in columns} == {c: getattr(core, c) for c in columns}
    assert stored[100].flags == ["late_sync", "far_from_site"] and stored[101].counterparty is None
    assert stored[101].handoff_id == "truk\t1\nB 12\\3 \\N" and stored[100].handoff_id is None
    assert stored[100].observed_at == datetime(2026, 11, 26, 23, 15, 30, 123456, tzinfo=UTC)


@pytest.mark.parametrize("count", [1, COPY_FROM], ids=["a few entries", "enough entries for COPY"])
def test_log_entries_read_back_byte_for_byte(runtime, new_log, count):
    # Every byte value in an entry's data and leaf hash, NULL item and key beside set ones.
    rows = [
        {
            "log_id": new_log.id, "idx": n, "leaf_hash": bytes(range(n, n + 32)), "data": bytes(range(256)) * (n + 1),
            "item_id": None if n % 2 else f"53.03.08.2001-{n:03d}-BUP", "seq": None if n % 2 else 1,
            "key": None if n % 2 else f"ev\t{n}\\N", "received_at": datetime(2026, 11, 27, 0, 0, n, tzinfo=UTC),
        }
        for n in range(count)
    ]  # fmt: skip
    with runtime.db.session(write=True) as session:
        INSERT_ENTRIES.execute(session.connection(), rows)
    with runtime.db.reads() as session:
        stored = session.execute(
            select(*LogEntry.__table__.columns).where(LogEntry.log_id == new_log.id).order_by(LogEntry.idx)
        ).mappings().all()
    assert [dict(row) for row in stored] == rows


_states = Table(
    "bulk_test_states",
    MetaData(),
    Column("log_id", String(16), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("seals", JSON),
    Column("seen_at", UTCDateTime),
    Column("seen_lat", Float),
)
_UPDATE_STATES = KeyedUpdate(_states, ["log_id", "id"], ["status", "seals", "seen_at", "seen_lat"])


@pytest.fixture
def states(runtime):
    _states.create(runtime.db.engine)
    yield
    _states.drop(runtime.db.engine)


def _state(n: int, status: str, seals: list[str] | None, seen: datetime | None) -> dict[str, object]:
    return {"log_id": "53.03", "id": f"53.03.08.2001-{n:03d}-BUP", "status": status, "seals": seals,
            "seen_at": seen, "seen_lat": None if seen is None else -9.46 - n / 1000}  # fmt: skip


def _stored(runtime) -> dict[str, dict[str, object]]:
    with runtime.db.reads() as session:
        return {row["id"]: dict(row) for row in session.execute(select(_states)).mappings()}


@pytest.mark.parametrize("count", [1, UPDATE_BY_COPY_FROM], ids=["a few rows", "enough rows for COPY"])
def test_keyed_update_sets_only_the_rows_named(runtime, states, count):
    before = [_state(n, "registered", [], None) for n in range(2 * count)]
    seen = datetime(2026, 11, 27, 0, 0, 1, tzinfo=UTC)
    after = [_state(n, "sealed", ["KPU-0001\t\\N", "KPU-0002"], seen if n % 2 else None) for n in range(count)]
    with runtime.db.session(write=True) as session:
        session.execute(insert(_states), before)
        _UPDATE_STATES.execute(session.connection(), after)
    assert _stored(runtime) == {row["id"]: row for row in after + before[count:]}


def test_keyed_update_twice_in_one_transaction_applies_each_once(runtime, states):
    rows = [_state(n, "registered", [], None) for n in range(2 * UPDATE_BY_COPY_FROM)]
    first, second = rows[:UPDATE_BY_COPY_FROM], rows[UPDATE_BY_COPY_FROM:]
    with runtime.db.session(write=True) as session:
        session.execute(insert(_states), rows)
        _UPDATE_STATES.execute(session.connection(), [r | {"status": "sealed"} for r in first])
        session.execute(_states.update().values(status="dispatched"))  # changed again in between
        _UPDATE_STATES.execute(session.connection(), [r | {"status": "received"} for r in second])
    stored = _stored(runtime)
    # The first call's values were not applied a second time by the second call.
    assert {stored[r["id"]]["status"] for r in first} == {"dispatched"}
    assert {stored[r["id"]]["status"] for r in second} == {"received"}


def test_custody_rows_go_by_binary_copy_on_postgresql():
    # Binary COPY spares escaping and parsing under the log's lock; a column type without
    # a binary form here would silently send the whole COPY as text.
    dialect = postgresql_psycopg.dialect()
    for statement in (_INSERT_EVENTS, _UPDATE_ITEMS._copy):
        compiled = statement._for(dialect)
        assert compiled.copy is not None and compiled.copy.endswith("FROM STDIN (FORMAT BINARY)")
        assert compiled.binary is not None and len(compiled.binary) == len(compiled.columns)
    assert INSERT_ENTRIES._for(dialect).binary is None  # text, as the ledger benchmark's baselines


_tallies = Table(
    "bulk_test_tallies",
    MetaData(),
    Column("id", String(16), primary_key=True),
    Column("votes", SmallInteger),
    Column("share", Numeric(5, 2)),
)
_INSERT_TALLIES = BulkStatement(insert(_tallies), ["id", "votes", "share"], binary=True)


def test_a_column_type_without_a_binary_form_goes_by_text(runtime):
    _tallies.create(runtime.db.engine)
    try:
        rows = [{"id": f"tps-{n:03d}", "votes": n, "share": Decimal(n) / 4} for n in range(COPY_FROM)]
        with runtime.db.session(write=True) as session:
            _INSERT_TALLIES.execute(session.connection(), rows)
        with runtime.db.reads() as session:
            stored = [dict(r) for r in session.execute(select(_tallies).order_by(_tallies.c.id)).mappings()]
        assert stored == rows
    finally:
        _tallies.drop(runtime.db.engine)


_notes = Table("bulk_test_notes", MetaData(), Column("id", String(16), primary_key=True), Column("body", JSON))


def test_json_columns_read_back_what_was_written(runtime):
    """Lists of strings go through orjson, the rest through json.dumps (models.core.db.json_text):
    either way a JSON column gives back what was stored, by Core and by COPY alike."""
    values = [
        ["B-0000001", "segel ✓ Atambua", 'a "quoted" \\ seal', "\u2028"],
        [],
        ["late_sync", 7],  # not all strings: json.dumps
        {"votes": 2**70, "share": 1.5, "note": None},  # an integer orjson refuses
        None,
    ]
    rows = [{"id": f"n-{n:02d}", "body": values[n % len(values)]} for n in range(COPY_FROM)]
    _notes.create(runtime.db.engine)
    try:
        with runtime.db.session(write=True) as session:
            session.connection().execute(insert(_notes), rows[:5])
            BulkStatement(insert(_notes), ["id", "body"], binary=True).execute(session.connection(), rows[5:])
        with runtime.db.reads() as session:
            stored = [dict(r) for r in session.execute(select(_notes).order_by(_notes.c.id)).mappings()]
        assert stored == rows
    finally:
        _notes.drop(runtime.db.engine)


def test_pipelined_statements_write_all_with_the_orm_changes_made_before(runtime, new_log):
    """A batch of single scans writes its events and alerts in one round trip on
    PostgreSQL: every row lands, beside what the ORM held (an alert a stock-take raised)."""
    rows = [_event(new_log.id, n, ["late_sync"], None) for n in range(3)]
    with runtime.db.session(write=True) as session:
        session.add(new_alert(new_log.id, "stocktake_missing", event_id="ev-orm", detail="missing", evidence=[]))
        with pipelined(session, few=True):
            _INSERT_EVENTS.execute(session.connection(), rows)
            INSERT_ALERTS.execute(session.connection(), [alert_row(new_log.id, "late_sync", event_id="ev-0", detail="late",
                                                                   evidence=[0], item_id=None, site=None)])  # fmt: skip
    with runtime.db.reads() as session:
        stored = session.scalars(select(Event.entry_index).where(Event.log_id == new_log.id)).all()
        raised = session.scalars(select(Alert.event_id).where(Alert.log_id == new_log.id)).all()
    assert sorted(stored) == [0, 1, 2]
    assert sorted(raised) == ["ev-0", "ev-orm"]


def test_rows_enough_for_copy_go_row_by_row_in_a_pipeline(runtime, new_log):
    """A pipeline cannot carry a COPY: a batch of a few scans that raises many alerts
    writes them row by row in it."""
    rows = [_event(new_log.id, n, ["late_sync"], None) for n in range(COPY_FROM + 2)]
    with runtime.db.session(write=True) as session:
        with pipelined(session, few=True):
            _INSERT_EVENTS.execute(session.connection(), rows)
    with runtime.db.reads() as session:
        stored = session.scalars(select(Event.entry_index).where(Event.log_id == new_log.id)).all()
    assert sorted(stored) == list(range(COPY_FROM + 2))


def test_a_pipelined_statement_that_fails_fails_as_sqlalchemys_error(runtime, new_log):
    """Surfaced at the pipeline's end, a database's refusal is still SQLAlchemy's error
    (the API answers a lost database 503 by it), and nothing of the block is kept."""
    row = _event(new_log.id, 1, [], None)
    with pytest.raises(DBAPIError):
        with runtime.db.session(write=True) as session:
            with pipelined(session, few=True):
                _INSERT_EVENTS.execute(session.connection(), [row])
                _INSERT_EVENTS.execute(session.connection(), [row])  # the same event again
    with runtime.db.reads() as session:
        assert session.scalars(select(Event).where(Event.log_id == new_log.id)).all() == []
