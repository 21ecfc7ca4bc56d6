"""State transitions of a registration: its columns, its email, the promotions that follow,
and its answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select

from ...database import table_of
from ...extensions import db
from ...notifications.services import queue_registration_email
from ..errors import RegistrationError
from ..models import Registration, RegistrationAnswer
from .seats import Placement, seats_of, waitlist_place


def state_columns(placement: Placement, now: datetime) -> dict:
    """The columns a transition to `placement` writes, besides the version."""
    columns = {
        "status": placement.status,
        "waitlist_position": placement.waitlist_position,
        "status_changed_at": now,
    }
    if placement.status == "confirmed":
        columns.update(confirmed_at=now, cancelled_at=None)
    elif placement.status == "cancelled":
        columns["cancelled_at"] = now
    return columns


def move(registration: Registration, placement: Placement, now: datetime) -> None:
    """Change the state and its bookkeeping; the caller writes the email."""
    if registration.status == placement.status:
        raise RegistrationError(f"This registration is already {placement.status}.")
    for name, value in state_columns(placement, now).items():
        setattr(registration, name, value)
    registration.version = (registration.version or 0) + 1
    db.session.flush()


def announce(registration: Registration, event: str, sign_in_link: str | None = None) -> None:
    queue_registration_email(
        registration,
        event,
        waitlist_place=waitlist_place(registration),
        sign_in_link=sign_in_link,
    )


def fill_free_seats(programme_id: int, now: datetime) -> list[Registration]:
    """Promote from the head of the waiting list while seats are free (first in, first out)."""
    free = seats_of(programme_id).free
    if free == 0:
        return []
    promoted = list(
        db.session.scalars(
            select(Registration)
            .where(Registration.programme_id == programme_id, Registration.status == "waitlisted")
            .order_by(Registration.waitlist_position)
            .limit(free)
        )
    )
    for registration in promoted:
        move(registration, Placement("confirmed"), now)
        announce(registration, "promoted")
    return promoted


def store_answers(registration_id: int, cleaned: dict[int, str], *, replace: bool) -> None:
    """Make the registration's answers `cleaned` (from `clean_answers`, one per question of
    the programme that has one); `replace` drops those it had first."""
    connection = db.session.connection()
    if replace:
        connection.execute(_DELETE_ANSWERS, {"registration_id": registration_id})
    if cleaned:
        connection.execute(
            insert(_ANSWERS),
            [
                {"registration_id": registration_id, "question_id": q, "value": value}
                for q, value in cleaned.items()
            ],
        )


#: A mapped class's table is a Table; SQLAlchemy types __table__ as any FromClause.
_ANSWERS = table_of(RegistrationAnswer)
_DELETE_ANSWERS = delete(_ANSWERS).where(_ANSWERS.c.registration_id == bindparam("registration_id"))
