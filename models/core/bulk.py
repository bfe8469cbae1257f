"""Many rows through one statement, without SQLAlchemy's work per row.

Core's executemany builds and type-processes a parameter set for every row, which
costs the wide event and item rows that custody writes under a log's lock more than
it needs to: here the statement is compiled once per dialect, its columns' bind
processors are looked up once, and the rows go to the driver. On PostgreSQL an INSERT
of many rows goes in by COPY, faster than pipelined INSERTs, while for a row or two
COPY's extra round trip costs more than it saves (hence COPY_FROM). A statement made
with `binary` sends its COPY in PostgreSQL's binary format when every column's type
has one here: text and bytes need no escaping and the server parses nothing. A
statement made with `copy_only` takes only that COPY path and otherwise runs through
Core's executemany (the log's entries: on SQLite the driver path gains them little).
The measurements behind these choices are in docs/BENCHMARKS.md."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from sqlalchemy import Column, Connection, Insert, MetaData, Table, Update, bindparam, insert, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

Process = Callable[[Any], Any]
COPY_FROM = 10  # rows
UPDATE_BY_COPY_FROM = 64  # rows: KeyedUpdate's temporary table
# A column's PostgreSQL type → the type psycopg writes its bound values as in binary COPY
# (JSON is bound as psycopg's Json). A type not listed sends the statement's COPY as text.
_BINARY_AS = {
    "VARCHAR": "text", "TEXT": "text", "JSON": "json", "BYTEA": "bytea", "BIGINT": "int8", "INTEGER": "int4",
    "TIMESTAMP WITH TIME ZONE": "timestamptz", "UUID": "uuid", "FLOAT": "float8", "BOOLEAN": "bool",
}  # fmt: skip


class _Compiled(NamedTuple):
    sql: str
    copy: str | None  # PostgreSQL's COPY for an INSERT, with the columns in `columns`
    binary: list[str] | None  # the columns' types if that COPY is in the binary format
    columns: list[tuple[str, Process | None]]
    # A positional paramstyle (SQLite's qmark): each parameter in order, with its
    # processor if it has one. None for a named one (psycopg's pyformat).
    positions: list[tuple[str, Process | None]] | None
    processors: list[tuple[str, Process]]


class BulkStatement:
    """An INSERT or UPDATE run for many rows, each a dict keyed by the statement's
    parameter names: an INSERT's are the columns named; an UPDATE's, its bindparams."""

    def __init__(
        self,
        statement: Insert | Update,
        columns: Sequence[str] | None = None,
        *,
        copy_only: bool = False,
        binary: bool = False,
    ) -> None:
        self.statement = statement
        self.columns = list(columns) if columns is not None else None
        self.copy_only = copy_only
        self.binary = binary
        self._compiled: dict[str, _Compiled] = {}

    def execute(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        compiled = self._for(connection.dialect)
        if compiled.copy is not None and len(rows) >= COPY_FROM and not _pipelining(connection):
            self._copy(connection, compiled, rows)
            return
        if self.copy_only:
            connection.execute(self.statement, rows)
            return
        params: list[Any]
        if compiled.positions is not None:
            params = [tuple(p(row[n]) if p else row[n] for n, p in compiled.positions) for row in rows]
        else:
            params = [row | {n: p(row[n]) for n, p in compiled.processors} for row in rows]
        connection.exec_driver_sql(compiled.sql, params)

    @staticmethod
    def _copy(connection: Connection, compiled: _Compiled, rows: list[dict[str, Any]]) -> None:
        assert compiled.copy is not None
        dbapi = connection.dialect.loaded_dbapi
        try:
            # The same transaction: the raw connection is the one SQLAlchemy began on.
            with connection.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                with cursor.copy(compiled.copy) as copy:
                    if compiled.binary is not None:
                        copy.set_types(compiled.binary)
                    for row in rows:
                        copy.write_row([p(row[n]) if p else row[n] for n, p in compiled.columns])
        except dbapi.Error as error:  # as SQLAlchemy's own: a lost database is a 503, not a 500
            raise DBAPIError.instance(compiled.copy, None, error, dbapi.Error, dialect=connection.dialect) from error

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            statement = self.statement.compile(dialect=dialect, column_keys=self.columns)
            process = {
                name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                for name, bind in statement.binds.items()
            }
            positions = [(n, process[n]) for n in statement.positiontup or ()] if dialect.positional else None
            processors = [(n, p) for n, p in process.items() if p is not None]
            copy, binary = None, None
            if dialect.name == "postgresql" and isinstance(self.statement, Insert) and self.columns:
                quote = dialect.identifier_preparer.quote
                names = ", ".join(quote(c) for c in self.columns)
                copy = f"COPY {dialect.identifier_preparer.format_table(self.statement.table)} ({names}) FROM STDIN"
                types = [_binary_as(self.statement.table.c[c].type, dialect) for c in self.columns]
                if self.binary and None not in types:
                    copy, binary = f"{copy} (FORMAT BINARY)", types
            columns = [(n, process.get(n)) for n in self.columns or ()]
            compiled = self._compiled[dialect.name] = _Compiled(
                str(statement), copy, binary, columns, positions, processors
            )
        return compiled


@contextmanager
def pipelined(session: Session, few: bool) -> Iterator[None]:
    """With `few` (the block writes fewer rows than COPY pays for), on PostgreSQL: the
    statements the block runs go out together and their results come back together, one
    round trip (psycopg's pipeline mode), not one each; a BulkStatement in it goes row by
    row, never by COPY. The block runs plain SQL only: the ORM's changes are flushed
    before it, since a flush inside it would check row counts that the pipeline reports
    only at its end."""
    connection = session.connection()
    if not few or connection.dialect.name != "postgresql":
        yield
        return
    session.flush()
    dbapi = connection.dialect.loaded_dbapi
    try:
        with connection.connection.driver_connection.pipeline():  # type: ignore[union-attr]
            yield
    except dbapi.Error as error:  # as SQLAlchemy's own, like COPY's above
        raise DBAPIError.instance("(pipelined statements)", None, error, dbapi.Error, dialect=connection.dialect) from error


def _pipelining(connection: Connection) -> bool:
    """Whether statements on this connection go out in a pipeline, which cannot carry a
    COPY (a pipelined batch of a few scans may still raise many alerts)."""
    driver = connection.connection.driver_connection
    return getattr(getattr(driver, "pgconn", None), "pipeline_status", 0) != 0


def _binary_as(column_type: Any, dialect: Dialect) -> str | None:
    """The type a column's values go as in binary COPY, or None if it has none here."""
    name = column_type.compile(dialect=dialect)
    if name.startswith("VARCHAR("):  # a length limit does not change the form
        name = "VARCHAR"
    return _BINARY_AS.get(name)


class KeyedUpdate:
    """New values for some columns of many rows, each row found by its key columns; rows
    are dicts keyed by column name. Row by row through BulkStatement (pipelined in one
    round trip), except on PostgreSQL from UPDATE_BY_COPY_FROM rows: the values go by
    COPY into a temporary table (one per connection, emptied at every commit) and one
    UPDATE takes them from there, the plan still one index lookup per row. That costs
    far less Python than row by row, and the Python runs under the log's lock: with
    items updated in place (migration 0010) it made the service's batches faster. For
    a few rows (a batch of single scans) the temporary table's four round trips cost
    more than they save; the two break even near UPDATE_BY_COPY_FROM rows (figures in
    docs/BENCHMARKS.md). The values go by binary COPY.
    The database role needs PostgreSQL's TEMPORARY privilege, which PUBLIC has unless
    it was revoked."""

    def __init__(self, table: Table, keys: Sequence[str], columns: Sequence[str]) -> None:
        self.keys, self.columns = list(keys), list(columns)
        self._each = BulkStatement(
            update(table)
            .where(*(table.c[k] == bindparam(f"key_{k}") for k in self.keys))
            .values({c: bindparam(c) for c in self.columns})
        )
        names = [*self.keys, *self.columns]
        pending = Table(f"pending_{table.name}", MetaData(), *(Column(n, table.c[n].type) for n in names))
        self._copy = BulkStatement(insert(pending), names, binary=True)
        quoted = {n: f'"{n}"' for n in names}  # PostgreSQL only, and plain column names
        listed = ", ".join(quoted.values())
        assigned = ", ".join(f"{quoted[c]} = n.{quoted[c]}" for c in self.columns)
        matched = " AND ".join(f"t.{quoted[k]} = n.{quoted[k]}" for k in self.keys)
        self._create = (
            f'CREATE TEMPORARY TABLE IF NOT EXISTS "{pending.name}" ON COMMIT DELETE ROWS '
            f'AS SELECT {listed} FROM "{table.name}" WITH NO DATA'
        )
        # Taking the rows out as it applies them leaves the table empty for the next
        # call in the same transaction.
        self._apply = (
            f'WITH n AS (DELETE FROM "{pending.name}" RETURNING {listed}) '
            f'UPDATE "{table.name}" AS t SET {assigned} FROM n WHERE {matched}'
        )

    def execute(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        if connection.dialect.name == "postgresql" and len(rows) >= UPDATE_BY_COPY_FROM:
            connection.exec_driver_sql(self._create)
            self._copy.execute(connection, rows)
            connection.exec_driver_sql(self._apply)
            return
        self._each.execute(connection, [row | {f"key_{k}": row[k] for k in self.keys} for row in rows])
