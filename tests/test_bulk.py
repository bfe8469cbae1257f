"""BulkStatement writes what Core's executemany writes: every type custody and the log use
(text, integers, UUIDs, UTC datetimes, JSON lists, bytes, NULLs) reads back the same."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from models.bulk import COPY_FROM
from models.custody import _INSERT_EVENTS
from models.events import Event
from models.log import LogEntry
from models.sequencer import INSERT_ENTRIES


def _event(log_id: str, n: int, flags: list[str], counterparty: str | None, handoff: str | None = None) -> dict[str, object]:
    observed = datetime(2026, 11, 27, 7, 15, 30, 123456, tzinfo=timezone(timedelta(hours=8)))  # WITA
    return {
        "log_id": log_id, "event_id": f"ev-{n}", "entry_index": n, "item_id": "53.03.08.2001-001-BUP",
        "type": "dispatch", "site": "53.03.08", "counterparty": counterparty, "actor_id": uuid.UUID(int=7),
        "role": "ppk", "device_id": "dev-1", "handoff_id": handoff, "observed_at": observed,
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
    columns = [c.key for c in Event.__table__.columns if c.key not in ("event_id", "entry_index")]
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
