"""A participant's own registrations: cancelling (signed in or by the emailed link), leaving
the waiting list, editing answers, and the places given back when an account is deleted."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select

from ...accounts.models import User
from ...catalogue.models import Programme
from ...database import is_postgres
from ...extensions import db
from ...types import utcnow
from ..errors import RegistrationError, RegistrationNotFound
from ..links import read_cancel_token
from ..models import ACTIVE_STATUSES, Registration, RegistrationAnswer
from ..questions import clean_answers
from .reading import questions_of
from .seats import Placement, lock_registration
from .transitions import announce, fill_free_seats, move, store_answers
from .window import check_open


def _own_active_registration(registration_id: int, user_id: int) -> tuple[Registration, Programme]:
    found = lock_registration(registration_id)
    if found is None or found[0].user_id != user_id:
        raise RegistrationNotFound("We could not find that registration.")
    return found


def cancel(registration_id: int, user: User) -> Registration:
    """The participant gives up their place (or their request, or their waiting-list place)."""
    registration, programme = _own_active_registration(registration_id, user.id)
    if registration.status not in ACTIVE_STATUSES:
        db.session.commit()
        return registration
    now = utcnow()
    move(registration, Placement("cancelled"), now)
    announce(registration, "cancelled")
    fill_free_seats(programme.id, now)
    db.session.commit()
    return registration


def cancel_with_link(token: str) -> Registration:
    """The same as `cancel`, authorised by the signed link from an email instead of a login."""
    registration_id, user_id = _cancel_link_ids(token)
    user = db.session.get(User, user_id)
    if user is None:
        raise RegistrationError("This cancel link is not valid.")
    return cancel(registration_id, user)


def _cancel_link_ids(token: str) -> tuple[int, int]:
    """The registration and person a cancel link names; a link that does not read is refused."""
    found = read_cancel_token(token)
    if found is None:
        raise RegistrationError("This cancel link is not valid.")
    return found


def registration_for_link(token: str) -> Registration:
    registration_id, user_id = _cancel_link_ids(token)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.user_id != user_id:
        raise RegistrationError("This cancel link is not valid.")
    return registration


def leave_waiting_list(registration_id: int, user: User) -> Registration:
    registration, programme = _own_active_registration(registration_id, user.id)
    if registration.status != "waitlisted":
        raise RegistrationError("You are not on the waiting list of this programme.")
    move(registration, Placement("cancelled"), utcnow())
    announce(registration, "waitlist_left")
    db.session.commit()
    return registration


def edit_answers(
    registration_id: int, user: User, answers: Mapping[int, str | list[str]]
) -> Registration:
    registration, programme = _own_active_registration(registration_id, user.id)
    if registration.status not in ACTIVE_STATUSES:
        raise RegistrationError("This registration is no longer active.")
    check_open(programme, utcnow())
    questions = questions_of(programme.id)
    store_answers(registration.id, clean_answers(questions, answers), replace=True)
    db.session.commit()
    return registration


def release_places_of_deleted_account(user: User) -> None:
    """Part of deleting an account (the caller holds the write transaction): cancel the
    person's active registrations in programmes still to come, without emailing the address
    being erased, give the freed seats to the waiting lists, and drop their answers."""
    registrations = list(
        db.session.scalars(select(Registration).where(Registration.user_id == user.id))
    )
    programme_ids = sorted({r.programme_id for r in registrations})
    query = select(Programme).where(Programme.id.in_(programme_ids)).order_by(Programme.id)
    if is_postgres():
        query = query.with_for_update()
    programmes = {p.id: p for p in db.session.scalars(query)}  # locked in id order
    now = utcnow()
    for registration in registrations:
        programme = programmes[registration.programme_id]
        upcoming = not programme.sessions or any(s.ends_at > now for s in programme.sessions)
        if registration.status in ACTIVE_STATUSES and upcoming:
            move(registration, Placement("cancelled"), now)
            fill_free_seats(programme.id, now)
    db.session.execute(
        delete(RegistrationAnswer).where(
            RegistrationAnswer.registration_id.in_([r.id for r in registrations])
        )
    )
