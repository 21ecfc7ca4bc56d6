"""Reading registrations: a participant's, a programme's questions, what a viewer may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from ...accounts.models import ProgrammeTeamMember, User
from ...catalogue.models import Programme
from ...extensions import db
from ...pagination import page_of
from ..models import Registration, RegistrationQuestion
from .seats import waitlist_place, waitlisted_ahead


def questions_of(programme_id: int) -> list[RegistrationQuestion]:
    return list(
        db.session.scalars(
            select(RegistrationQuestion)
            .where(RegistrationQuestion.programme_id == programme_id)
            .order_by(RegistrationQuestion.position)
        )
    )


#: Registrations on one page of "My programmes".
MY_PROGRAMMES_PER_PAGE = 20


def registrations_of(user: User, page: int = 1) -> Pagination:
    """One page of the participant's registrations, newest first, with their programmes and
    sessions (4 queries, the count among them)."""
    return page_of(
        select(Registration)
        .where(Registration.user_id == user.id)
        .options(joinedload(Registration.programme).selectinload(Programme.sessions))
        .order_by(Registration.created_at.desc(), Registration.id.desc()),
        page,
        MY_PROGRAMMES_PER_PAGE,
    )


def own_registration(registration_id: int, user: User) -> Registration | None:
    registration = db.session.scalar(
        select(Registration)
        .where(Registration.id == registration_id, Registration.user_id == user.id)
        .options(selectinload(Registration.answers))
    )
    return registration


def waitlist_places(registrations: Iterable[Registration]) -> dict[int, int]:
    return {r.id: place for r in registrations if (place := waitlist_place(r)) is not None}


def viewer_can_access_registered_material(programme: Programme) -> bool:
    """Confirmed registrants, the programme's team and administrators see registered-only items."""
    if not current_user.is_authenticated:
        return False
    if current_user.role == "admin":
        return True
    in_team = exists().where(
        ProgrammeTeamMember.programme_id == programme.id,
        ProgrammeTeamMember.user_id == current_user.id,
    )
    return bool(db.session.scalar(select(in_team))) or viewer_is_confirmed(programme)


def viewer_is_confirmed(programme: Programme) -> bool:
    """Whether the signed-in viewer holds a confirmed registration in the programme."""
    if not current_user.is_authenticated:
        return False
    status = db.session.scalar(
        select(Registration.status).where(
            Registration.programme_id == programme.id, Registration.user_id == current_user.id
        )
    )
    return status == "confirmed"


@dataclass(frozen=True)
class Standing:
    """A person's active registration in a programme, as their programme page states it."""

    registration_id: int
    status: str  # "confirmed", "waitlisted" or "pending"
    place: int | None  # on the waiting list, 1-based; None otherwise


def standing_in(programme_id: int, user: User) -> Standing | None:
    """The person's pending, confirmed or waitlisted registration with their place in the
    queue (one statement), or None: never registered, cancelled or rejected."""
    if not user.is_authenticated:
        return None
    place = waitlisted_ahead(
        aliased(Registration), Registration.programme_id, Registration.waitlist_position
    ).scalar_subquery()
    row = db.session.execute(
        select(Registration.id, Registration.status, place).where(
            Registration.programme_id == programme_id,
            Registration.user_id == user.id,
            Registration.status.in_(("confirmed", "waitlisted", "pending")),
        )
    ).first()
    if row is None:
        return None
    registration_id, status, ahead_count = row
    return Standing(registration_id, status, ahead_count + 1 if status == "waitlisted" else None)
