"""Writing outbox rows, in the transaction of the change that causes them.

A row holds what its email is to say (`render_args`: the event, the ids, the link) and is
written into a message by the worker when it claims the row (`rendering`), so the use case
that causes an email renders nothing. Every row written here is handed to the worker after
the commit (`handover.after_commit`)."""

from __future__ import annotations

from psycopg.types.json import Jsonb
from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite

from ..database import driver_connection, table_of
from ..extensions import db
from ..types import UTCDateTime, utcnow
from . import handover
from .models import OutboxMessage

#: Rows per INSERT, well inside SQLite's limit on bound parameters.
CHUNK = 500
#: Plain Core: the row needs nothing of the ORM.
_INSERT = insert(table_of(OutboxMessage)).returning(table_of(OutboxMessage).c.id)


def add_row(values: dict) -> int:
    """Insert one outbox row (text and HTML parts empty until the worker writes them);
    returns its id."""
    outbox_id = (
        db.session.connection()
        .execute(_INSERT, {"text_body": "", "html_body": "", **values})
        .scalar_one()
    )
    handover.after_commit([outbox_id])
    return outbox_id


def add_rows(rows: list[dict]) -> list[int]:
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING, for rows a second run may write again
    (reminders, announcements); returns the ids actually written."""
    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    now = utcnow()
    values = [
        {
            "status": "queued",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "text_body": "",
            "html_body": "",
            **row,
        }
        for row in rows
    ]
    if dialect == "postgresql" and len({frozenset(row) for row in values}) == 1:
        ids = _insert_with_psycopg(values)
    else:
        statement = (
            (postgresql.insert if dialect == "postgresql" else sqlite.insert)(OutboxMessage)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(OutboxMessage.id)
        )
        ids = []
        for start in range(0, len(values), CHUNK):
            ids += db.session.scalars(statement, values[start : start + CHUNK])
    handover.after_commit(ids)
    return ids


def _insert_with_psycopg(values: list[dict]) -> list[int]:
    """The same INSERT through psycopg's own executemany: one short prepared statement sent in
    pipeline mode, instead of a multi-row VALUES list of thousands of parameters that psycopg
    has to parse again for every chunk (a third of reminder planning's time)."""
    table = table_of(OutboxMessage)
    names = list(values[0])
    for name in names:
        if isinstance(table.c[name].type, UTCDateTime):
            for row in values:
                if row[name] is not None and row[name].tzinfo is None:
                    raise ValueError(f"naive datetime given for {name}")
    if "render_args" in names:
        values = [{**row, "render_args": Jsonb(row["render_args"])} for row in values]
    statement = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"VALUES ({', '.join(f'%({name})s' for name in names)}) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
    )
    connection = driver_connection()
    ids: list[int] = []
    with connection.cursor() as cursor:
        cursor.executemany(statement, values, returning=True)
        while True:
            ids += [row[0] for row in cursor.fetchall()]
            if not cursor.nextset():
                break
    return ids
