"""Registering: a seat while seats last, then the waiting list (or a request for approval),
and the email that says which, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from sqlalchemy import and_, bindparam, exists, insert, select

from ...accounts.services import (
    DELETED_EMAIL_DOMAIN,
    ParticipantDetails,
    issue_sign_in_link,
    new_sign_in_link,
    normalise_email,
    participant_account,
)
from ...catalogue.models import Programme, Session
from ...database import begin_write_transaction, is_postgres, table_of
from ...extensions import db
from ...notifications.services import queue_registration_email_row
from ...types import utcnow
from ..errors import RegistrationError
from ..models import ACTIVE_STATUSES, Registration, RegistrationQuestion
from ..questions import clean_answers
from .reading import questions_of
from .seats import Placement, Seats, waitlist_place
from .transitions import move, state_columns, store_answers
from .window import refuse_if_closed


@dataclass(frozen=True)
class RegistrationInput:
    #: The programme: its id, or None with `programme_slug` (what a form being sent knows).
    programme_id: int | None
    participant: ParticipantDetails
    consent: bool
    #: Raw answers by question id: a string, or a list of strings (the first counts unless
    #: the question is multiple choice). Checked against the programme's questions.
    answers: Mapping[int, str | list[str]] = field(default_factory=dict)
    programme_slug: str | None = None


@dataclass(frozen=True)
class RegistrationResult:
    registration_id: int
    status: str
    already_registered: bool
    waitlist_place: int | None = None


def register(data: RegistrationInput) -> RegistrationResult:
    """Register a person: a seat while seats last, then the waiting list (or a request for
    approval), and the email that says which, in one transaction. A person registering
    again after cancelling gets their registration back the same way.

    Five statements for a new address (the usual case), the same at 10 or 10,000
    registrations: the account, the locked programme with its seats, the registration, the
    sign-in link when a seat is given, the email's outbox row."""
    _refuse_the_request(data)
    now = utcnow()
    # What needs no database is made before the write lock is taken (SQLite holds it for the
    # whole transaction, so every ms spent under it is one no other registration can use).
    link = new_sign_in_link()
    next_path = url_for("registration.my_programmes")
    begin_write_transaction()
    # On PostgreSQL the account is written before the programme row is locked, so that the
    # lock is held only for the seat, and a racer with the same address waits on the email's
    # unique index, not on the programme.
    person = participant_account(data.participant)
    target = _locked_target(data.programme_id, data.programme_slug, now)
    questions = questions_of(target.id) if target.has_questions else []
    # Bad answers are refused before anything of the registration is written.
    answers = clean_answers(questions, data.answers)
    earlier = None if person.created else _registration_of(target.id, person.id)
    if earlier is not None and earlier.status in ACTIVE_STATUSES:
        db.session.commit()  # the account's details filled in
        return RegistrationResult(
            earlier.id,
            earlier.status,
            already_registered=True,
            waitlist_place=waitlist_place(earlier),
        )
    placement = _seats(target).place(approval_required=target.approval_required)
    registration_id, version = _enter(earlier, target.id, person.id, placement, now)
    store_answers(registration_id, answers, replace=earlier is not None)
    sign_in_link = None
    if placement.status == "confirmed":
        _token_id, sign_in_link = issue_sign_in_link(person.id, next_path, link=link)
    queue_registration_email_row(
        registration_id=registration_id,
        version=version,
        user_id=person.id,
        to_address=normalise_email(data.participant.email),
        title=target.title,
        event=placement.status,
        waitlist_place=placement.place,
        sign_in_link=sign_in_link,
        cancel_link=True,
    )
    db.session.commit()
    return RegistrationResult(
        registration_id, placement.status, already_registered=False, waitlist_place=placement.place
    )


def _refuse_the_request(data: RegistrationInput) -> None:
    if not data.consent:
        raise RegistrationError("Please accept the privacy notice to register.")
    if data.participant.email.strip().lower().endswith(DELETED_EMAIL_DOMAIN):
        raise RegistrationError("Enter an email address you can receive mail at.")


def _registration_of(programme_id: int, user_id: int) -> Registration | None:
    """The person's registration in the programme, refused if the organisers rejected it."""
    registration = db.session.scalar(
        select(Registration).where(
            Registration.programme_id == programme_id, Registration.user_id == user_id
        )
    )
    if registration is not None and registration.status == "rejected":
        raise RegistrationError(
            "The organisers have not accepted a registration from this address. "
            "Please contact them if you think this is a mistake."
        )
    return registration


def _enter(
    earlier: Registration | None,
    programme_id: int,
    user_id: int,
    placement: Placement,
    now: datetime,
) -> tuple[int, int]:
    """Write the registration as `placement` says: a new row (one INSERT), or the person's
    cancelled one again. Returns (its id, its version)."""
    if earlier is not None:
        earlier.consent_at = now
        move(earlier, placement, now)
        return earlier.id, earlier.version
    row = {
        "programme_id": programme_id,
        "user_id": user_id,
        "version": 1,
        "created_at": now,
        "consent_at": now,
        **state_columns(placement, now),
    }
    return db.session.connection().execute(_INSERT_REGISTRATION, row).scalar_one(), 1


def _seats(target) -> Seats:
    return Seats(
        target.capacity,
        target.confirmed_count,
        target.waitlisted_count,
        target.waitlist_tail,
        target.waitlist_enabled,
    )


def _locked_target(programme_id: int | None, slug: str | None, now: datetime):
    """The programme row registering needs (by id, else by slug), locked (PostgreSQL; SQLite
    holds the write lock already), refused when registration is not open."""
    by_id = programme_id is not None
    if is_postgres():
        query = _TARGET_LOCKED if by_id else _TARGET_BY_ITS_SLUG_LOCKED
    else:  # the write lock is held from BEGIN IMMEDIATE on
        query = _TARGET if by_id else _TARGET_BY_ITS_SLUG
    target = (
        db.session.connection()
        .execute(query, {"programme_id": programme_id, "slug": slug, "now": now})
        .one_or_none()
    )
    refuse_if_closed(target, now, taken_place=target is not None and target.taken_place)
    return target


_TARGET_COLUMNS = select(
    Programme.id,
    Programme.title,
    Programme.status,
    Programme.capacity,
    Programme.approval_required,
    Programme.waitlist_enabled,
    Programme.registration_opens_at,
    Programme.registration_closes_at,
    # Seats: the counters kept by triggers, exact because the row is read under the lock
    # (on PostgreSQL, FOR UPDATE returns the row as the last holder of the lock left it).
    Programme.confirmed_count,
    Programme.waitlisted_count,
    Programme.waitlist_tail,
    # Every session has ended (a programme without sessions has not taken place).
    and_(
        exists().where(Session.programme_id == Programme.id),
        ~exists().where(Session.programme_id == Programme.id, Session.ends_at > bindparam("now")),
    ).label("taken_place"),
    exists().where(RegistrationQuestion.programme_id == Programme.id).label("has_questions"),
)
_TARGET = _TARGET_COLUMNS.where(Programme.id == bindparam("programme_id"))
_TARGET_BY_ITS_SLUG = _TARGET_COLUMNS.where(Programme.slug == bindparam("slug"))
#: PostgreSQL: built once (a statement built per call is compiled-cache-keyed per call).
_TARGET_LOCKED = _TARGET.with_for_update(of=Programme)
_TARGET_BY_ITS_SLUG_LOCKED = _TARGET_BY_ITS_SLUG.with_for_update(of=Programme)

#: A mapped class's table is a Table; SQLAlchemy types __table__ as any FromClause.
_REGISTRATIONS = table_of(Registration)
_INSERT_REGISTRATION = insert(_REGISTRATIONS).returning(_REGISTRATIONS.c.id)
