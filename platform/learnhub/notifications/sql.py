"""Outbox inserts that tolerate a concurrent writer of the same dedupe key."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..outbox_dispatch import remember_new_outbox_ids
from ..types import UTCDateTime, utcnow
from .models import OutboxMessage

#: Rows per INSERT, well inside SQLite's limit on bound parameters.
CHUNK = 500


def insert_ignoring_duplicates(rows: list[dict]) -> list[int]:
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING; returns the ids actually written."""
    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    values = [
        {"status": "queued", "attempts": 0, "next_attempt_at": now, "created_at": now, **row}
        for row in rows
    ]
    if dialect == "postgresql" and len({frozenset(row) for row in values}) == 1:
        ids = _insert_with_psycopg(values)
        remember_new_outbox_ids(db.session(), ids)
        return ids
    statement = (
        insert(OutboxMessage)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    ids: list[int] = []
    for start in range(0, len(values), CHUNK):
        ids += db.session.scalars(statement, values[start : start + CHUNK])
    remember_new_outbox_ids(db.session(), ids)
    return ids


def _insert_with_psycopg(values: list[dict]) -> list[int]:
    """The same INSERT through psycopg's own executemany: one short prepared statement sent in
    pipeline mode, instead of a multi-row VALUES list of thousands of parameters that psycopg
    has to parse again for every chunk (a third of reminder planning's time)."""
    table = OutboxMessage.__table__
    names = list(values[0])
    for name in names:
        if isinstance(table.c[name].type, UTCDateTime):
            for row in values:
                if row[name] is not None and row[name].tzinfo is None:
                    raise ValueError(f"naive datetime given for {name}")
    statement = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"VALUES ({', '.join(f'%({name})s' for name in names)}) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
    )
    connection = db.session.connection().connection.driver_connection
    ids: list[int] = []
    with connection.cursor() as cursor:
        cursor.executemany(statement, values, returning=True)
        while True:
            ids += [row[0] for row in cursor.fetchall()]
            if not cursor.nextset():
                break
    return ids
