"""Engine settings per database, and the write lock that rule 5 of ARCHITECTURE.md relies on.

SQLite: WAL so the web and the worker read while one writes, a busy timeout, foreign keys on,
and write transactions started with BEGIN IMMEDIATE (SQLAlchemy's with_for_update() does
nothing on SQLite). PostgreSQL: the use case locks the row it counts against.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from itertools import chain
from typing import Any, cast

from flask import Flask
from sqlalchemy import CursorResult, Table, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .extensions import db
from .types import UTCDateTime

WRITE_LOCK_OPTION = "learnhub_write_lock"

#: The largest id (or position) a row can have: the id columns are INTEGER, 32 bits on
#: PostgreSQL. A larger number sent in a URL or a form names no row, and the database refuses
#: it (PostgreSQL: "integer out of range"; SQLite's driver, past 64 bits: OverflowError).
MAX_ID = 2**31 - 1


def fit_column(text: str | None, column) -> str | None:
    """`text` cut to what a String(n) column holds, ending in "…" when cut.

    For text the app composes from other values (an email's subject from a programme's title,
    a certificate's hosts from their names): PostgreSQL refuses a longer value ("value too
    long for type character varying(n)"), SQLite would keep it. What people type is checked
    against the column by their form instead, with a message."""
    limit = column.type.length
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def init_app(app: Flask) -> None:
    """The app's engine settings (SQLite: WAL, busy timeout, foreign keys, our BEGIN), and the
    two session events that `begin_write_transaction` checks with (on Flask-SQLAlchemy's
    session, shared by every app of the process: added once)."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)
    for name, listener in (
        ("after_flush", _remember_flush),
        ("after_transaction_end", _forget_flush),
    ):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Take over transaction control from pysqlite so BEGIN is ours to choose.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # each statement is its own transaction
        if options.get(WRITE_LOCK_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


@contextmanager
def sqlite_migration_settings(connection) -> Iterator[None]:
    """Run schema changes on SQLite the way its batch mode needs (nothing on PostgreSQL).

    Batch mode rebuilds a table by copying it, dropping the old one and renaming the copy:
    - with foreign keys on, the drop deletes every row referring to the table by ON DELETE
      CASCADE (a programme's sessions and registrations), so they are off meanwhile, and a
      check afterwards refuses a migration that left rows pointing nowhere;
    - the rename re-reads every trigger, and the seat triggers on `registration` name
      `programme`, absent at that moment, so renames are done the legacy way.
    Both pragmas go to the driver's connection (autocommit mode): `foreign_keys` does nothing
    inside a transaction. Afterwards the connection is put back as it was, or thrown away."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    driver.execute("PRAGMA legacy_alter_table=ON")
    try:
        yield
        if connection.in_transaction():
            connection.commit()
        broken = driver.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"a migration left rows that refer to missing rows: {broken[:5]}")
    finally:
        if connection.in_transaction():
            connection.rollback()
        driver.execute("PRAGMA legacy_alter_table=OFF")
        driver.execute("PRAGMA foreign_keys=ON")
        if driver.execute("PRAGMA foreign_keys").fetchone()[0] != 1:
            connection.invalidate()  # never back to the pool without its foreign keys


def begin_write_transaction() -> None:
    """Start the use case's transaction holding the database's write lock on SQLite.

    Anything read before (a view loading the programme to render it) belongs to a read
    transaction that ends here; nothing has been changed yet at this point of a use case.
    """
    session = db.session()
    if session.in_transaction():
        if session.new or session.dirty or session.deleted or session.info.get(_FLUSHED):
            # Ending the transaction here would silently drop these changes.
            raise RuntimeError("begin_write_transaction() called with uncommitted changes")
        if _continues_as_write(session):
            # PostgreSQL in READ COMMITTED: every statement reads afresh, so the read
            # transaction simply goes on as the write one (two round trips fewer); what was
            # loaded before is expired all the same, as a new transaction would.
            session.expire_all()
            return
        session.rollback()
    session.connection(execution_options={WRITE_LOCK_OPTION: True})


def _continues_as_write(session: Session) -> bool:
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return False
    level = connection.get_execution_options().get("isolation_level")
    return (level or connection.dialect.default_isolation_level) == "READ COMMITTED"


#: Set on the session by its first flush in a transaction (`init_app` adds the events).
_FLUSHED = "learnhub_flushed_in_transaction"


def _remember_flush(session: Session, _context) -> None:
    session.info[_FLUSHED] = True


def _forget_flush(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_FLUSHED, None)


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def release_read_transaction() -> None:
    """End the read transaction before slow work that needs no database (parsing a file)."""
    session = db.session()
    if session.in_transaction() and not (session.new or session.dirty or session.deleted):
        session.rollback()


#: Rows per INSERT statement in `insert_many`: each statement carries many rows, so the
#: database parses and plans one statement per few hundred rows instead of stepping one
#: execution per row; a few hundred keeps every statement's text and parameters small.
ROWS_PER_INSERT = 500
#: Bound parameters one statement may carry: SQLite's historical default (newer builds allow
#: 32,766; PostgreSQL 65,535).
MAX_PARAMETERS = 999


def insert_many(table, columns: list[str], rows: list[tuple]) -> None:
    """INSERT many rows, several hundred per statement, straight through the driver: no
    SQLAlchemy type processing per value (which costs more than the insert itself for
    thousands of rows). On SQLite a statement of many rows takes half the time of an
    executemany of one row at a time (a 4,125-row import: 15 ms against 30 ms).

    Values must be plain (str, int, bool, None); UTCDateTime columns take aware datetimes,
    written as UTCDateTime writes them (naive UTC text on SQLite, timestamptz on PostgreSQL).
    """
    if not rows:
        return
    connection = db.session.connection()
    sqlite = connection.dialect.name == "sqlite"
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    instants = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, UTCDateTime)]
    if sqlite and instants:
        # Column by column: each distinct instant (e.g. recorded_at, the same for every row)
        # is converted once, and the transposes run in C.
        columns_values = list(zip(*rows, strict=True))
        for i in instants:
            texts = {
                value: None
                if value is None
                else value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
                for value in set(columns_values[i])
            }
            columns_values[i] = tuple(map(texts.__getitem__, columns_values[i]))
        rows = list(zip(*columns_values, strict=True))
    quoted = ", ".join(connection.dialect.identifier_preparer.quote(c) for c in columns)
    one_row = f"({', '.join([marker] * len(columns))})"
    per_statement = max(1, min(ROWS_PER_INSERT, MAX_PARAMETERS // len(columns)))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({quoted}) VALUES {', '.join([one_row] * len(chunk))}",
            tuple(chain.from_iterable(chunk)),
        )


def fetch_tuples(statement) -> list[tuple[Any, ...]]:
    """All rows of a Core query as plain tuples, straight from the driver's cursor.

    For columns that need no conversion (ids, plain text, numbers): SQLAlchemy's result
    processing and row objects cost more than the query itself for thousands of rows (for the
    10,000 registrants of a programme, skipping them about halves the query's time). Columns
    of UTCDateTime come back as the driver gives them (text on SQLite).
    """
    result = db.session.connection().execute(statement)
    try:
        # DB-API says "a sequence of sequences"; sqlite3 and psycopg give a list of tuples.
        return cast("list[tuple[Any, ...]]", result.cursor.fetchall())
    finally:
        result.close()


def swap_positions(model, scope, item, offset: int) -> bool:
    """Swap `item` with its neighbour at position + offset among the rows matching `scope`,
    stepping aside first because (parent, position) is unique. False when there is none."""
    neighbour = db.session.scalar(
        select(model).where(scope, model.position == item.position + offset)
    )
    if neighbour is None:
        return False
    first, second = item.position, neighbour.position
    parked = db.session.scalar(select(func.max(model.position)).where(scope))
    if parked is None:
        raise ValueError(f"{item!r} is not among the rows of {scope}")
    item.position = parked + 1
    db.session.flush()
    neighbour.position = first
    db.session.flush()
    item.position = second
    db.session.flush()
    return True


def table_of(model: type) -> Table:
    """A model's table, typed as a Table (mypy sees `__table__` as any FromClause)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def row_count(result: object) -> int:
    """The rows an UPDATE or DELETE changed: `execute()` is typed as returning a Result, while
    those statements give a CursorResult."""
    return cast(CursorResult[Any], result).rowcount


def driver_connection() -> Any:
    """The database driver's own connection under the session's (psycopg, for its pipelined
    executemany and prepared statements)."""
    return db.session.connection().connection.driver_connection
