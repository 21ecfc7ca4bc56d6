"""A participant's own marks in every programme they are confirmed in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...accounts.models import User
from ...catalogue.models import Programme, Session
from ...extensions import db
from ...registration.models import Registration
from .marks import Mark, expected_at, marks_for


@dataclass
class MyAttendance:
    registration: Registration
    sessions: list[tuple[Session, Mark | None, bool]]


def attendance_of(user: User) -> list[MyAttendance]:
    """A participant's own marks in every programme they are confirmed in (3 queries)."""
    registrations = list(
        db.session.scalars(
            select(Registration)
            .where(Registration.user_id == user.id, Registration.status == "confirmed")
            .options(joinedload(Registration.programme).selectinload(Programme.sessions))
            .order_by(Registration.created_at.desc())
        ).unique()
    )
    session_ids = [s.id for r in registrations for s in r.programme.sessions]
    marks = marks_for(session_ids)
    return [
        MyAttendance(
            r,
            [(s, marks.get((s.id, r.id)), expected_at(r, s)) for s in r.programme.sessions],
        )
        for r in registrations
    ]
