"""Recording who attended each session, and the programme's summary."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..catalogue.models import Programme, Session
from ..extensions import db
from ..registration.models import Registration
from ..types import utcnow
from .models import ATTENDANCE_STATUSES, Attendance


class AttendanceError(Exception):
    """Attendance that cannot be recorded; the message is shown to the organiser."""


@dataclass
class SheetRow:
    registration: Registration
    status: str | None


@dataclass
class Summary:
    sessions: list[Session]
    rows: list[tuple[Registration, list[str | None]]]
    present_per_session: list[int]


def confirmed_registrations(programme_id: int) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .join(Registration.user)
            .where(Registration.programme_id == programme_id, Registration.status == "confirmed")
            .options(joinedload(Registration.user))
            .order_by(User.full_name, Registration.id)
        )
    )


def _marks_for(session_ids: list[int]) -> dict[tuple[int, int], str]:
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(Attendance.session_id, Attendance.registration_id, Attendance.status).where(
            Attendance.session_id.in_(session_ids)
        )
    )
    return {(s, r): status for s, r, status in rows}


def attendance_sheet(session: Session) -> list[SheetRow]:
    marks = _marks_for([session.id])
    return [
        SheetRow(registration, marks.get((session.id, registration.id)))
        for registration in confirmed_registrations(session.programme_id)
    ]


def record_attendance(session: Session, marks: dict[int, str], recorded_by: User) -> int:
    """Save present/absent per registration id; returns how many marks changed."""
    for status in marks.values():
        if status not in ATTENDANCE_STATUSES:
            raise AttendanceError("Choose present or absent for each participant.")
    valid_ids = {r.id for r in confirmed_registrations(session.programme_id)}
    unknown = set(marks) - valid_ids
    if unknown:
        raise AttendanceError("Some participants are not confirmed registrants of this programme.")
    existing = {
        a.registration_id: a
        for a in db.session.scalars(select(Attendance).where(Attendance.session_id == session.id))
    }
    changed = 0
    now = utcnow()
    for registration_id, status in marks.items():
        record = existing.get(registration_id)
        if record is None:
            record = Attendance(session_id=session.id, registration_id=registration_id)
            db.session.add(record)
        elif record.status == status:
            continue
        record.status = status
        record.method = "manual"
        record.recorded_by_id = recorded_by.id
        record.recorded_at = now
        changed += 1
    db.session.commit()
    return changed


def programme_summary(programme: Programme) -> Summary:
    """Participants by sessions; a fixed number of queries whatever the size."""
    sessions = list(programme.sessions)
    registrations = confirmed_registrations(programme.id)
    marks = _marks_for([s.id for s in sessions])
    rows = [
        (registration, [marks.get((s.id, registration.id)) for s in sessions])
        for registration in registrations
    ]
    present = [
        sum(1 for r in registrations if marks.get((s.id, r.id)) == "present") for s in sessions
    ]
    return Summary(sessions=sessions, rows=rows, present_per_session=present)
