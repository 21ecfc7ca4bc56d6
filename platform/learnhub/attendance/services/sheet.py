"""The session's sheet: every confirmed registrant with their mark, a page at a time; saving
marks by hand (one by one or in bulk) with a change-log entry; the programme's completion
rule."""

from __future__ import annotations

from dataclasses import dataclass

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select

from ...accounts.models import User
from ...catalogue.audit import record as log_change
from ...catalogue.models import Programme, Session
from ...database import begin_write_transaction
from ...errors import NotFound
from ...extensions import db
from ...registration.models import Registration
from ..errors import AttendanceError
from ..models import ATTENDANCE_STATUSES, Attendance
from .marks import (
    Mark,
    confirmed,
    confirmed_registrations,
    expected_at,
    marks_for,
    statuses_for,
    write_marks,
)

#: Registrants on one page of the sheet.
ROWS_PER_PAGE = 100


@dataclass
class SheetRow:
    registration: Registration
    mark: Mark | None
    expected: bool

    @property
    def status(self) -> str | None:
        return self.mark.status if self.mark else None


@dataclass
class Sheet:
    """A page of the session's sheet: confirmed registrants by name, with their marks."""

    registrants: Pagination
    rows: list[SheetRow]


def attendance_sheet(session: Session, page: int = 1) -> Sheet:
    """A page of the sheet (3 queries: the count, the registrants, their marks)."""
    registrants = db.paginate(
        confirmed(session.programme_id),
        page=page,
        per_page=ROWS_PER_PAGE,
        max_per_page=ROWS_PER_PAGE,
    )
    marks = marks_for([session.id], [r.id for r in registrants.items])
    rows = [
        SheetRow(r, marks.get((session.id, r.id)), expected_at(r, session))
        for r in registrants.items
    ]
    return Sheet(registrants, rows)


def _lock_session(session_id: int) -> Session:
    begin_write_transaction()
    session = db.session.get(Session, session_id)
    if session is None:
        raise AttendanceError("This session no longer exists.")
    return session


def _check_marks(session: Session, marks: dict[int, str | None]) -> dict[int, Registration]:
    for status in marks.values():
        if status is not None and status not in ATTENDANCE_STATUSES:
            raise AttendanceError("Choose present, late, excused or absent for each participant.")
    registrations = {r.id: r for r in confirmed_registrations(session.programme_id, list(marks))}
    unknown = set(marks) - set(registrations)
    if unknown:
        raise AttendanceError("Some participants are not confirmed registrants of this programme.")
    not_expected = [
        rid
        for rid, status in marks.items()
        if status == "absent" and not expected_at(registrations[rid], session)
    ]
    if not_expected:
        raise AttendanceError(
            "Someone who registered after the session took place cannot be marked absent."
        )
    return registrations


#: How many people a change-log entry of marks names before it says "and N more".
NAMED_IN_LOG = 25


def _log_marks(
    session: Session,
    before: dict[tuple[int, int], str],
    marks: dict[int, str | None],
    registrations: dict[int, Registration],
    user: User,
) -> None:
    """One change-log entry for the marks that changed: "name: old → new" each."""
    changes = [
        f"{registrations[rid].user.full_name}: {before.get((session.id, rid)) or 'not marked'}"
        f" → {status or 'not marked'}"
        for rid, status in marks.items()
        if before.get((session.id, rid)) != status
    ]
    if not changes:
        return
    more = len(changes) - NAMED_IN_LOG
    detail = "; ".join(changes[:NAMED_IN_LOG]) + (f"; and {more} more" if more > 0 else "")
    log_change(session.programme_id, user.id, "marked attendance", f"{session.title}: {detail}")


def _write_and_log(session: Session, marks: dict[int, str | None], user: User) -> int:
    registrations = _check_marks(session, marks)
    before = statuses_for([session.id], list(marks))
    changed = write_marks(session, marks, method="manual", recorded_by_id=user.id)
    _log_marks(session, before, marks, registrations, user)
    return changed


def record_attendance(session_id: int, marks: dict[int, str | None], recorded_by: User) -> int:
    """The sheet: save each registrant's mark (None clears it); returns how many changed."""
    session = _lock_session(session_id)
    changed = _write_and_log(session, marks, recorded_by)
    db.session.commit()
    return changed


def mark_in_bulk(
    session_id: int, registration_ids: list[int] | None, status: str, recorded_by: User
) -> int:
    """Mark the chosen registrants, or (ids None) everyone expected and not yet marked."""
    session = _lock_session(session_id)
    if registration_ids is None:
        marked = set(
            db.session.scalars(
                select(Attendance.registration_id).where(Attendance.session_id == session.id)
            )
        )
        registration_ids = [
            r.id
            for r in confirmed_registrations(session.programme_id)
            if r.id not in marked and expected_at(r, session)
        ]
    if not registration_ids:
        raise AttendanceError("Select at least one participant first.")
    changed = _write_and_log(session, dict.fromkeys(registration_ids, status), recorded_by)
    db.session.commit()
    return changed


def set_completion_rule(programme_id: int, percent: int, user_id: int | None = None) -> None:
    if not 1 <= percent <= 100:
        raise AttendanceError("The completion rule is a percentage between 1 and 100.")
    begin_write_transaction()
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise NotFound()
    if programme.completion_percent != percent:
        log_change(
            programme_id,
            user_id,
            "changed completion rule",
            f"sessions attended: {programme.completion_percent}% → {percent}%",
        )
    programme.completion_percent = percent
    db.session.commit()
