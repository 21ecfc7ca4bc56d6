"""Marks: reading them (plain values where a report reads thousands) and writing them in
bulk, for the sheet, self check-in and report imports alike.

A registrant without an Attendance row for a session is "not yet marked". A registrant whose
seat was confirmed after a session ended is not expected at it: never counted absent, never in
a rate's denominator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from blinker import Namespace
from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import aliased, joinedload

from ...accounts.models import User
from ...catalogue.models import Session
from ...database import fetch_tuples, insert_many
from ...extensions import db
from ...registration.models import Registration
from ...types import utcnow
from ..models import ATTENDED_STATUSES, Attendance

signals = Namespace()

#: Sent by `write_marks` inside the use case's transaction (flushed, not committed) when it
#: wrote marks: the sender is the programme's id, `registration_ids` those marked present or
#: late. `create_app` connects the learning feature's certificate rule to it: attendance
#: knows nothing of certificates.
marks_written = signals.signal("attendance-marks-written")

#: The columns of a new mark, in the order `write_marks` gives `insert_many` its rows.
MARK_COLUMNS = [
    "session_id",
    "registration_id",
    "status",
    "minutes_attended",
    "first_seen_at",
    "method",
    "recorded_by_id",
    "recorded_at",
    "import_id",
]


@dataclass
class Mark:
    status: str
    method: str
    minutes: int | None
    first_seen_at: datetime | None
    recorded_at: datetime
    recorded_by: str | None


def expected_at(registration: Registration, session: Session) -> bool:
    """Was the registrant's seat confirmed before the session ended?"""
    since = registration.confirmed_at or registration.created_at
    return since is None or since <= session.ends_at


def confirmed(programme_id: int) -> Select:
    """The programme's confirmed registrations by name, each with its person."""
    return (
        select(Registration)
        .join(Registration.user)
        .where(Registration.programme_id == programme_id, Registration.status == "confirmed")
        .options(joinedload(Registration.user))
        .order_by(User.full_name, Registration.id)
    )


def confirmed_registrations(programme_id: int, ids: list[int] | None = None) -> list[Registration]:
    """The programme's confirmed registrations by name (only these `ids`, if given)."""
    query = confirmed(programme_id)
    if ids is not None:
        query = query.where(Registration.id.in_(ids))
    return list(db.session.scalars(query))


def marks_for(
    session_ids: list[int], registration_ids: list[int] | None = None
) -> dict[tuple[int, int], Mark]:
    if not session_ids or registration_ids == []:
        return {}
    recorder = aliased(User)
    rows = db.session.execute(
        select(
            Attendance.session_id,
            Attendance.registration_id,
            Attendance.status,
            Attendance.method,
            Attendance.minutes_attended,
            Attendance.first_seen_at,
            Attendance.recorded_at,
            recorder.full_name,
        )
        .outerjoin(recorder, recorder.id == Attendance.recorded_by_id)
        .where(
            Attendance.session_id.in_(session_ids),
            *([Attendance.registration_id.in_(registration_ids)] if registration_ids else []),
        )
    )
    return {(row[0], row[1]): Mark(*row[2:]) for row in rows}


def statuses_for(
    session_ids: list[int], registration_ids: list[int] | None = None
) -> dict[tuple[int, int], str]:
    """Only the status of each mark, by (session, registration): what the report and the
    completion rule count (three plain columns as the driver gives them: the report reads
    120,000 of them)."""
    if not session_ids or registration_ids == []:
        return {}
    rows = fetch_tuples(
        select(Attendance.session_id, Attendance.registration_id, Attendance.status).where(
            Attendance.session_id.in_(session_ids),
            *([Attendance.registration_id.in_(registration_ids)] if registration_ids else []),
        )
    )
    return {(session_id, registration_id): status for session_id, registration_id, status in rows}


def minutes_by_cell(session_ids: list[int]) -> dict[tuple[int, int], int]:
    """The minutes attended recorded (from meeting reports), by (session, registration): what
    the exports add beside each status (1 query, plain values)."""
    if not session_ids:
        return {}
    rows = fetch_tuples(
        select(
            Attendance.session_id, Attendance.registration_id, Attendance.minutes_attended
        ).where(Attendance.session_id.in_(session_ids), Attendance.minutes_attended.is_not(None))
    )
    return {(session_id, registration_id): minutes for session_id, registration_id, minutes in rows}


def write_marks(
    session: Session,
    marks: dict[int, str | None],
    *,
    method: str,
    recorded_by_id: int | None,
    details: dict[int, dict] | None = None,
    import_id: int | None = None,
) -> int:
    """Set (or, with None, clear) each registration's mark with bulk statements; flushes only.

    Returns how many marks changed. `details` may give minutes_attended/first_seen_at per
    registration. Unchanged marks are left alone, so writing the same marks twice changes
    nothing. Marks of presence that changed are announced on `marks_written`.
    """
    written_by = (method, recorded_by_id, utcnow(), import_id)
    inserts, updates, deletions = _changes(session.id, marks, details or {}, written_by)
    if inserts:  # multi-row statements: a report's thousands of rows in milliseconds
        insert_many(Attendance.__table__, MARK_COLUMNS, inserts)
    if updates:
        db.session.execute(update(Attendance), updates)
    if deletions:
        db.session.execute(delete(Attendance).where(Attendance.id.in_(deletions)))
    attended = [r for r, status in marks.items() if status in ATTENDED_STATUSES]
    if attended and (inserts or updates):
        marks_written.send(session.programme_id, registration_ids=attended)
    return len(inserts) + len(updates) + len(deletions)


def _changes(
    session_id: int, marks: dict[int, str | None], details: dict[int, dict], written_by: tuple
) -> tuple[list[tuple], list[dict], list[int]]:
    """(rows to insert, in MARK_COLUMNS order; updates by id; ids to delete): what differs
    from the session's marks as they are."""
    existing = {
        row.registration_id: row
        for row in db.session.connection().execute(
            select(
                Attendance.id,
                Attendance.registration_id,
                Attendance.status,
                Attendance.minutes_attended,
            ).where(Attendance.session_id == session_id)
        )
    }
    method, recorded_by_id, now, import_id = written_by
    no_details: dict = {}
    inserts: list[tuple] = []
    updates: list[dict] = []
    deletions: list[int] = []
    for registration_id, status in marks.items():
        record = existing.get(registration_id)
        extra = details.get(registration_id, no_details)
        if status is None:
            if record is not None:
                deletions.append(record.id)
            continue
        minutes, first_seen = extra.get("minutes_attended"), extra.get("first_seen_at")
        if record is None:
            inserts.append((session_id, registration_id, status, minutes, first_seen, *written_by))
        elif record.status != status or (
            "minutes_attended" in extra and record.minutes_attended != minutes
        ):
            updates.append(
                {
                    "id": record.id,
                    "status": status,
                    "method": method,
                    "recorded_by_id": recorded_by_id,
                    "recorded_at": now,
                    "import_id": import_id,
                    "minutes_attended": minutes,
                    "first_seen_at": first_seen,
                }
            )
    return inserts, updates, deletions
