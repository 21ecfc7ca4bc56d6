"""Outbox inserts that tolerate a concurrent writer of the same dedupe key."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..outbox_dispatch import remember_new_outbox_ids
from ..types import utcnow
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
