"""The database itself refuses to change or remove anything the log has recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from tests.helpers import append, scans

CHANGES = {
    "log_entries": "UPDATE log_entries SET data = :junk WHERE log_id = :log",
    "log_tree_nodes": "UPDATE log_tree_nodes SET hash = :junk WHERE log_id = :log",
    "log_tiles": "UPDATE log_tiles SET hashes = :junk WHERE log_id = :log",
    "log_checkpoints": "UPDATE log_checkpoints SET note = 'forged' WHERE log_id = :log",
}


@pytest.fixture
def grown_log(runtime, new_log):
    append(runtime, new_log.id, scans(300))
    runtime.checkpointer.sign_grown_logs()
    return new_log


@pytest.mark.parametrize("table", sorted(CHANGES))
def test_update_is_refused_by_the_database(runtime, grown_log, table):
    with pytest.raises(DatabaseError, match=f"UPDATE on {table} refused: this table is append-only"):
        with runtime.db.engine.begin() as connection:
            connection.execute(text(CHANGES[table]), {"junk": b"x" * 32, "log": grown_log.id})
    with runtime.db.engine.connect() as connection:
        notes = connection.execute(
            text("SELECT note FROM log_checkpoints WHERE log_id = :log"), {"log": grown_log.id}
        ).scalars()
        assert not any("forged" in note for note in notes)


@pytest.mark.parametrize("table", sorted(CHANGES))
def test_delete_is_refused_by_the_database(runtime, grown_log, table):
    with pytest.raises(DatabaseError, match=f"DELETE on {table} refused: this table is append-only"):
        with runtime.db.engine.begin() as connection:
            connection.execute(text(f"DELETE FROM {table} WHERE log_id = :log"), {"log": grown_log.id})
    # checkpoints at sizes 0 and 300; 300 leaf-hash rows; one full tile; one level-8 node
    assert _counts(runtime, grown_log.id) == [2, 300, 1, 1]


@pytest.mark.postgres
@pytest.mark.parametrize("table", sorted(CHANGES))
def test_truncate_is_refused_by_postgresql(runtime, grown_log, table):
    with pytest.raises(DatabaseError, match=f"TRUNCATE on {table} refused"):
        with runtime.db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {table} CASCADE"))
    assert _counts(runtime, grown_log.id) == [2, 300, 1, 1]



def _counts(runtime, log_id):
    with runtime.db.engine.connect() as connection:
        return [
            connection.execute(
                text(f"SELECT count(*) FROM {table} WHERE log_id = :log"), {"log": log_id}
            ).scalar_one()
            for table in sorted(CHANGES)
        ]
