"""insert_many: many rows per statement, every row and value written as the ORM would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from learnhub.attendance.models import Attendance
from learnhub.attendance.services.marks import MARK_COLUMNS as COLUMNS
from learnhub.database import MAX_PARAMETERS, insert_many
from learnhub.extensions import db
from tests import factories as f
from tests.test_query_counts import counted_statements


def test_insert_many_writes_every_row_across_several_statements(app):
    programme = f.past_programme(sessions=1)
    (session,) = programme.sessions
    registrations = [f.early_registration(programme) for _ in range(250)]
    per_statement = MAX_PARAMETERS // len(COLUMNS)
    assert len(registrations) > 2 * per_statement  # full statements and a partial last one
    recorded = datetime(2026, 11, 14, 9, 0, tzinfo=UTC)
    rows = [
        (
            session.id,
            registration.id,
            "present" if n % 3 else "late",
            n,
            recorded - timedelta(seconds=n) if n % 2 else None,
            "import",
            None,
            recorded,
            None,
        )
        for n, registration in enumerate(registrations)
    ]
    with counted_statements(app) as statements:
        insert_many(Attendance.__table__, COLUMNS, rows)
        db.session.commit()
    assert len(statements) == -(-len(rows) // per_statement)
    written = {
        a.registration_id: (a.status, a.minutes_attended, a.first_seen_at, a.recorded_at)
        for a in db.session.scalars(select(Attendance))
    }
    assert written == {row[1]: (row[2], row[3], row[4], row[7]) for row in rows}
