"""Registration use cases: one function per use case, one transaction each (rules 2 and 5).

Every write use case starts by locking the programme row (`lock_programme`): seats are counted
and the waiting list is served under that lock, so two transactions never decide about the same
seat at once. Every state transition raises the registration's `version` and writes the
transition's email into the outbox in the same transaction. Whenever a seat may have been freed
or added, `_fill_free_seats` promotes from the head of the waiting list before the commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from sqlalchemy import bindparam, exists, func, insert, select
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..accounts.services import (
    DELETED_EMAIL_DOMAIN,
    ParticipantDetails,
    create_participant,
    find_or_create_participant,
    issue_sign_in_link,
    new_sign_in_link,
    normalise_email,
)
from ..catalogue.audit import apply_changes, moment_in, record
from ..catalogue.models import Programme, Session
from ..database import begin_write_transaction, is_postgres
from ..errors import DomainError
from ..extensions import db
from ..notifications.services import queue_registration_email, queue_registration_email_row
from ..types import utcnow
from .links import read_cancel_token
from .models import REGISTRATION_STATUSES, Registration, RegistrationAnswer, RegistrationQuestion
from .questions import clean_answers

ACTIVE_STATUSES = ("pending", "confirmed", "waitlisted")


class RegistrationError(DomainError):
    """A registration that cannot be made or changed; the message is shown as it is, beside
    `field` (a form field's name) when it is about one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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


@dataclass(frozen=True)
class RegistrationSettings:
    capacity: int | None
    opens_at: datetime | None
    closes_at: datetime | None
    approval_required: bool
    waitlist_enabled: bool


# --- locking and counting -------------------------------------------------------------------


def lock_programme(programme_id: int) -> Programme | None:
    """Start the write transaction and lock the programme row that seats are counted against."""
    begin_write_transaction()
    query = select(Programme).where(Programme.id == programme_id)
    if is_postgres():
        query = query.with_for_update()
    return db.session.scalar(query.execution_options(populate_existing=True))


def _lock_registration(registration_id: int) -> tuple[Registration, Programme] | None:
    """Lock the programme of a registration, then read the registration under that lock."""
    programme_id = db.session.scalar(
        select(Registration.programme_id).where(Registration.id == registration_id)
    )
    if programme_id is None:
        return None
    programme = lock_programme(programme_id)
    registration = db.session.scalar(
        select(Registration)
        .where(Registration.id == registration_id)
        .execution_options(populate_existing=True)
    )
    if programme is None or registration is None:
        return None
    return registration, programme


def count_confirmed(programme_id: int) -> int:
    """The programme's confirmed registrations (its trigger-kept counter; a read after the
    session's flush, so it includes this transaction's own changes)."""
    counted = select(Programme.confirmed_count).where(Programme.id == programme_id)
    return db.session.scalar(counted) or 0


def waitlist_place(registration: Registration) -> int | None:
    """1-based place in the queue (what the participant is told), None when not waitlisted."""
    if registration.status != "waitlisted" or registration.waitlist_position is None:
        return None
    ahead = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.programme_id == registration.programme_id,
            Registration.status == "waitlisted",
            Registration.waitlist_position < registration.waitlist_position,
        )
    )
    return (ahead or 0) + 1


def _next_waitlist_position(programme_id: int) -> int:
    last = db.session.scalar(
        select(func.max(Registration.waitlist_position)).where(
            Registration.programme_id == programme_id, Registration.status == "waitlisted"
        )
    )
    return (last or 0) + 1


def _has_free_seat(programme: Programme) -> bool:
    return programme.capacity is None or count_confirmed(programme.id) < programme.capacity


# --- transitions ----------------------------------------------------------------------------


def _move(registration: Registration, status: str, now: datetime) -> None:
    """Change the state and its bookkeeping; the caller writes the email."""
    if registration.status == status:
        raise RegistrationError(f"This registration is already {status}.")
    if status == "waitlisted":
        registration.waitlist_position = _next_waitlist_position(registration.programme_id)
    else:
        registration.waitlist_position = None
    registration.status = status
    registration.version = (registration.version or 0) + 1
    registration.status_changed_at = now
    if status == "confirmed":
        registration.confirmed_at = now
        registration.cancelled_at = None
    elif status == "cancelled":
        registration.cancelled_at = now
    db.session.flush()


def _announce(registration: Registration, event: str, sign_in_link: str | None = None) -> None:
    queue_registration_email(
        registration,
        event,
        waitlist_place=waitlist_place(registration),
        sign_in_link=sign_in_link,
    )


def _seat_or_queue(programme: Programme, registration: Registration, now: datetime) -> None:
    """Give a seat when one is free, else a place at the end of the waiting list."""
    if _has_free_seat(programme):
        _move(registration, "confirmed", now)
    elif programme.waitlist_enabled:
        _move(registration, "waitlisted", now)
    else:
        raise RegistrationError("Sorry, all seats for this programme are taken.")


def _fill_free_seats(programme: Programme, now: datetime) -> list[Registration]:
    """Promote from the head of the waiting list while seats are free (first in, first out)."""
    query = (
        select(Registration)
        .where(Registration.programme_id == programme.id, Registration.status == "waitlisted")
        .order_by(Registration.waitlist_position)
    )
    if programme.capacity is not None:
        free = programme.capacity - count_confirmed(programme.id)
        if free <= 0:
            return []
        query = query.limit(free)
    promoted = list(db.session.scalars(query))
    for registration in promoted:
        _move(registration, "confirmed", now)
        _announce(registration, "promoted")
    return promoted


def _check_open(programme: Programme | None, now: datetime) -> Programme:
    if programme is None:
        raise RegistrationError("Registration for this programme is closed.")
    _refuse_if_closed(
        programme.status,
        programme.registration_opens_at,
        programme.registration_closes_at,
        bool(programme.sessions) and all(s.ends_at <= now for s in programme.sessions),
        now,
    )
    return programme


def _refuse_if_closed(
    status: str,
    opens_at: datetime | None,
    closes_at: datetime | None,
    taken_place: bool,
    now: datetime,
) -> None:
    if status != "published":
        raise RegistrationError("Registration for this programme is closed.")
    if taken_place:
        raise RegistrationError("This programme has already taken place.")
    if opens_at is not None and now < opens_at:
        raise RegistrationError("Registration for this programme has not opened yet.")
    if closes_at is not None and now >= closes_at:
        raise RegistrationError("Registration for this programme has closed.")


def registration_is_open(programme: Programme) -> bool:
    try:
        _check_open(programme, utcnow())
    except RegistrationError:
        return False
    return True


def questions_of(programme_id: int) -> list[RegistrationQuestion]:
    return list(
        db.session.scalars(
            select(RegistrationQuestion)
            .where(RegistrationQuestion.programme_id == programme_id)
            .order_by(RegistrationQuestion.position)
        )
    )


def _store_answers(
    registration: Registration, questions: list[RegistrationQuestion], cleaned: dict[int, str]
) -> None:
    """Make the registration's answers `cleaned` (from `clean_answers`)."""
    existing = {answer.question_id: answer for answer in registration.answers}
    for question in questions:
        value = cleaned.get(question.id)
        answer = existing.get(question.id)
        if value is None:
            if answer is not None:
                registration.answers.remove(answer)
        elif answer is None:
            registration.answers.append(RegistrationAnswer(question_id=question.id, value=value))
        else:
            answer.value = value


# --- participant use cases ------------------------------------------------------------------


def register(data: RegistrationInput) -> RegistrationResult:
    """Register a person: a seat while seats last, then the waiting list (or a request for
    approval), and the email that says which, in one transaction.

    A new address (the usual case) takes the short way: its account is created in one
    statement, so it can have no registration yet, and its registration, sign-in link and
    email row are written with one statement each, without the ORM. An address that has an
    account goes through the ORM, which also re-activates a cancelled registration."""
    if not data.consent:
        raise RegistrationError("Please accept the privacy notice to register.")
    if data.participant.email.strip().lower().endswith(DELETED_EMAIL_DOMAIN):
        raise RegistrationError("Enter an email address you can receive mail at.")
    now = utcnow()
    # What needs no database is made before the write lock is taken (SQLite holds it for the
    # whole transaction, so every ms spent under it is one no other registration can use).
    link = new_sign_in_link()
    next_path = url_for("registration.my_programmes")
    begin_write_transaction()
    # On PostgreSQL the account is written before the programme row is locked, so that the
    # lock is held only for the seat, and a racer with the same address waits on the email's
    # unique index, not on the programme.
    user_id = create_participant(data.participant)
    target = _locked_target(data.programme_id, data.programme_slug, now)
    questions = questions_of(target.id) if target.has_questions else []
    # Bad answers are refused before anything of the registration is written.
    answers = clean_answers(questions, data.answers)
    if user_id is None:
        return _register_known_person(data, target.id, questions, answers, now)

    connection = db.session.connection()
    place = None
    if target.approval_required:
        status = "pending"
    elif target.capacity is None or target.confirmed_count < target.capacity:
        status = "confirmed"
    elif target.waitlist_enabled:
        status, place = "waitlisted", target.waitlisted_count + 1
    else:
        raise RegistrationError("Sorry, all seats for this programme are taken.")
    registration_id = connection.execute(
        _INSERT_REGISTRATION,
        {
            "programme_id": target.id,
            "user_id": user_id,
            "status": status,
            "waitlist_position": target.waitlist_tail + 1 if status == "waitlisted" else None,
            "version": 1,
            "created_at": now,
            "confirmed_at": now if status == "confirmed" else None,
            "status_changed_at": now,
            "consent_at": now,
        },
    ).scalar_one()
    if answers:
        connection.execute(
            insert(RegistrationAnswer.__table__),
            [
                {"registration_id": registration_id, "question_id": q, "value": value}
                for q, value in answers.items()
            ],
        )
    sign_in_link = None
    if status == "confirmed":
        _token_id, sign_in_link = issue_sign_in_link(user_id, next_path, link=link)
    queue_registration_email_row(
        registration_id=registration_id,
        version=1,
        user_id=user_id,
        to_address=normalise_email(data.participant.email),
        title=target.title,
        event=status,
        waitlist_place=place,
        sign_in_link=sign_in_link,
        cancel_link=True,
    )
    db.session.commit()
    return RegistrationResult(
        registration_id, status, already_registered=False, waitlist_place=place
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
    if target is None:
        raise RegistrationError("Registration for this programme is closed.")
    _refuse_if_closed(
        target.status,
        target.registration_opens_at,
        target.registration_closes_at,
        target.sessions > 0 and target.upcoming_sessions == 0,
        now,
    )
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
    select(func.count())
    .where(Session.programme_id == Programme.id)
    .scalar_subquery()
    .label("sessions"),
    select(func.count())
    .where(Session.programme_id == Programme.id, Session.ends_at > bindparam("now"))
    .scalar_subquery()
    .label("upcoming_sessions"),
    exists().where(RegistrationQuestion.programme_id == Programme.id).label("has_questions"),
)
_TARGET = _TARGET_COLUMNS.where(Programme.id == bindparam("programme_id"))
_TARGET_BY_ITS_SLUG = _TARGET_COLUMNS.where(Programme.slug == bindparam("slug"))
#: PostgreSQL: built once (a statement built per call is compiled-cache-keyed per call).
_TARGET_LOCKED = _TARGET.with_for_update(of=Programme)
_TARGET_BY_ITS_SLUG_LOCKED = _TARGET_BY_ITS_SLUG.with_for_update(of=Programme)

_INSERT_REGISTRATION = insert(Registration.__table__).returning(Registration.__table__.c.id)


def _register_known_person(
    data: RegistrationInput,
    programme_id: int,
    questions: list[RegistrationQuestion],
    answers: dict[int, str],
    now: datetime,
) -> RegistrationResult:
    """`register` for an address that has an account (the programme is locked already)."""
    programme = db.session.scalar(
        select(Programme)
        .where(Programme.id == programme_id)
        .execution_options(populate_existing=True)
    )
    user = find_or_create_participant(data.participant)
    registration = db.session.scalar(
        select(Registration).where(
            Registration.programme_id == programme.id, Registration.user_id == user.id
        )
    )
    if registration is not None and registration.status in ACTIVE_STATUSES:
        db.session.commit()
        return RegistrationResult(
            registration.id,
            registration.status,
            already_registered=True,
            waitlist_place=waitlist_place(registration),
        )
    if registration is not None and registration.status == "rejected":
        raise RegistrationError(
            "The organisers have not accepted a registration from this address. "
            "Please contact them if you think this is a mistake."
        )
    if registration is None:
        registration = Registration(
            programme_id=programme.id, user_id=user.id, consent_at=now, status="new", version=0
        )
        registration.programme = programme
        registration.user = user
        db.session.add(registration)
    registration.consent_at = now
    with db.session.no_autoflush:  # a new row is written once its state is decided
        if programme.approval_required:
            _move(registration, "pending", now)
        else:
            _seat_or_queue(programme, registration, now)
    _store_answers(registration, questions, answers)
    db.session.flush()

    if registration.status == "confirmed":
        _token_id, link = issue_sign_in_link(user.id, url_for("registration.my_programmes"))
        _announce(registration, "confirmed", sign_in_link=link)
    else:
        _announce(registration, registration.status)
    place = waitlist_place(registration)
    registration_id, status = registration.id, registration.status
    db.session.commit()
    return RegistrationResult(
        registration_id, status, already_registered=False, waitlist_place=place
    )


def _own_active_registration(registration_id: int, user_id: int) -> tuple[Registration, Programme]:
    found = _lock_registration(registration_id)
    if found is None or found[0].user_id != user_id:
        raise RegistrationError("We could not find that registration.")
    return found


def cancel(registration_id: int, user: User) -> Registration:
    """The participant gives up their place (or their request, or their waiting-list place)."""
    registration, programme = _own_active_registration(registration_id, user.id)
    if registration.status not in ACTIVE_STATUSES:
        db.session.commit()
        return registration
    now = utcnow()
    _move(registration, "cancelled", now)
    _announce(registration, "cancelled")
    _fill_free_seats(programme, now)
    db.session.commit()
    return registration


def cancel_with_link(token: str) -> Registration:
    """The same as `cancel`, authorised by the signed link from an email instead of a login."""
    found = read_cancel_token(token)
    if found is None:
        raise RegistrationError("This cancel link is not valid.")
    registration_id, user_id = found
    user = db.session.get(User, user_id)
    if user is None:
        raise RegistrationError("This cancel link is not valid.")
    return cancel(registration_id, user)


def registration_for_link(token: str) -> Registration:
    found = read_cancel_token(token)
    registration = db.session.get(Registration, found[0]) if found else None
    if registration is None or registration.user_id != found[1]:
        raise RegistrationError("This cancel link is not valid.")
    return registration


def leave_waiting_list(registration_id: int, user: User) -> Registration:
    registration, programme = _own_active_registration(registration_id, user.id)
    if registration.status != "waitlisted":
        raise RegistrationError("You are not on the waiting list of this programme.")
    _move(registration, "cancelled", utcnow())
    _announce(registration, "waitlist_left")
    db.session.commit()
    return registration


def edit_answers(
    registration_id: int, user: User, answers: Mapping[int, str | list[str]]
) -> Registration:
    registration, programme = _own_active_registration(registration_id, user.id)
    if registration.status not in ACTIVE_STATUSES:
        raise RegistrationError("This registration is no longer active.")
    _check_open(programme, utcnow())
    questions = questions_of(programme.id)
    _store_answers(registration, questions, clean_answers(questions, answers))
    db.session.commit()
    return registration


# --- organiser use cases ----------------------------------------------------------------------


def _registrations_in(programme_id: int, ids: Iterable[int]) -> list[Registration]:
    ids = sorted(set(ids))
    if not ids:
        raise RegistrationError("Select at least one registration.")
    found = list(
        db.session.scalars(
            select(Registration)
            .where(Registration.programme_id == programme_id, Registration.id.in_(ids))
            .order_by(Registration.created_at, Registration.id)
        )
    )
    if len(found) != len(ids):
        raise RegistrationError("Some of the selected registrations are not in this programme.")
    return found


def _names(registrations: list[Registration]) -> str:
    return ", ".join(r.user.full_name for r in registrations)


def approve(
    programme_id: int, registration_ids: Iterable[int], *, user_id: int | None = None
) -> dict[str, int]:
    """Approve pending registrations in the order they came: a seat each while seats last,
    then the waiting list. All or nothing."""
    programme = lock_programme(programme_id)
    if programme is None:
        raise RegistrationError("We could not find that programme.")
    now = utcnow()
    outcome = {"confirmed": 0, "waitlisted": 0}
    for registration in _registrations_in(programme_id, registration_ids):
        if registration.status != "pending":
            raise RegistrationError(
                f"{registration.user.full_name} is {registration.status}, not awaiting approval."
            )
        try:
            _seat_or_queue(programme, registration, now)
        except RegistrationError as error:
            raise RegistrationError(
                "There are not enough seats to approve everyone selected and the waiting list "
                "is off. Raise the capacity or approve fewer people."
            ) from error
        outcome[registration.status] += 1
        _announce(registration, "approved" if registration.status == "confirmed" else "waitlisted")
        record(
            programme_id,
            user_id,
            "approved registration",
            f"{registration.user.full_name}: awaiting approval → {registration.status}",
        )
    db.session.commit()
    return outcome


def reject(
    programme_id: int, registration_ids: Iterable[int], *, user_id: int | None = None
) -> int:
    """Reject registrations (any active state); seats they held go to the waiting list."""
    programme = lock_programme(programme_id)
    if programme is None:
        raise RegistrationError("We could not find that programme.")
    now = utcnow()
    selected = _registrations_in(programme_id, registration_ids)
    for registration in selected:
        if registration.status not in ACTIVE_STATUSES:
            raise RegistrationError(
                f"{registration.user.full_name} is already {registration.status}."
            )
        previous = registration.status
        _move(registration, "rejected", now)
        _announce(registration, "rejected")
        record(
            programme_id,
            user_id,
            "rejected registration",
            f"{registration.user.full_name}: {previous} → rejected",
        )
    _fill_free_seats(programme, now)
    db.session.commit()
    return len(selected)


#: The email each organiser move sends, by (from, to); default: the target state's email.
_MOVE_EVENTS = {("pending", "confirmed"): "approved", ("waitlisted", "confirmed"): "promoted"}


def move_registration(
    programme_id: int, registration_id: int, status: str, *, user_id: int | None = None
) -> Registration:
    """An organiser moves one registration to another state, with the email that goes with it."""
    if status not in REGISTRATION_STATUSES:
        raise RegistrationError("Choose a state from the list.")
    programme = lock_programme(programme_id)
    registration = db.session.get(Registration, registration_id)
    if programme is None or registration is None or registration.programme_id != programme.id:
        raise RegistrationError("We could not find that registration.")
    previous = registration.status
    now = utcnow()
    if status == "confirmed" and not _has_free_seat(programme):
        raise RegistrationError("Every seat is taken. Raise the capacity first.")
    if status == "waitlisted":
        if previous == "confirmed":
            # The seat it frees would be offered to the head of the queue at once.
            raise RegistrationError("A confirmed registration cannot be moved to the waiting list.")
        if _has_free_seat(programme):
            raise RegistrationError("Seats are free, so no one needs to wait. Confirm instead.")
    _move(registration, status, now)
    _announce(registration, _MOVE_EVENTS.get((previous, status), status))
    record(
        programme_id,
        user_id,
        "moved registration",
        f"{registration.user.full_name}: {previous} → {status}",
    )
    _fill_free_seats(programme, now)
    db.session.commit()
    return registration


def update_registration_settings(
    programme_id: int, settings: RegistrationSettings, *, user_id: int | None = None
) -> int:
    """Change capacity, window, approval and waiting list; returns how many were promoted."""
    programme = lock_programme(programme_id)
    if programme is None:
        raise RegistrationError("We could not find that programme.")
    if settings.capacity is not None:
        if settings.capacity < 0:
            raise RegistrationError("Capacity cannot be negative.")
        confirmed = count_confirmed(programme.id)
        if settings.capacity < confirmed:
            raise RegistrationError(
                f"{confirmed} people already hold a seat: the capacity cannot be lower than that."
            )
    if settings.opens_at and settings.closes_at and settings.closes_at <= settings.opens_at:
        raise RegistrationError("Registration must close after it opens.")
    shown = moment_in(programme.timezone)
    changed = apply_changes(
        programme,
        {
            "capacity": settings.capacity,
            "registration_opens_at": settings.opens_at,
            "registration_closes_at": settings.closes_at,
            "approval_required": settings.approval_required,
            "waitlist_enabled": settings.waitlist_enabled,
        },
        shown={"registration_opens_at": shown, "registration_closes_at": shown},
        labels={
            "capacity": "seats",
            "registration_opens_at": "registration opens",
            "registration_closes_at": "registration closes",
            "approval_required": "approval required",
            "waitlist_enabled": "waiting list",
        },
    )
    if changed:
        record(programme_id, user_id, "changed registration settings", "; ".join(changed))
    db.session.flush()
    promoted = _fill_free_seats(programme, utcnow())
    db.session.commit()
    return len(promoted)


def change_capacity(programme_id: int, capacity: int | None) -> int:
    """Only the capacity; the other settings stay (a shortcut used by tests and the CLI)."""
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise RegistrationError("We could not find that programme.")
    return update_registration_settings(
        programme_id,
        RegistrationSettings(
            capacity=capacity,
            opens_at=programme.registration_opens_at,
            closes_at=programme.registration_closes_at,
            approval_required=programme.approval_required,
            waitlist_enabled=programme.waitlist_enabled,
        ),
    )


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
            _move(registration, "cancelled", now)
            _fill_free_seats(programme, now)
        registration.answers.clear()
    db.session.flush()


# --- reading ------------------------------------------------------------------------------------


def registrations_of(user: User) -> list[Registration]:
    """The participant's registrations with their programmes and sessions (3 queries)."""
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.user_id == user.id)
            .options(joinedload(Registration.programme).selectinload(Programme.sessions))
            .order_by(Registration.created_at.desc())
        ).unique()
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
    from flask_login import current_user

    from ..accounts.models import ProgrammeTeamMember

    if not current_user.is_authenticated:
        return False
    if current_user.role == "admin":
        return True
    is_team = db.session.scalar(
        select(func.count())
        .select_from(ProgrammeTeamMember)
        .where(
            ProgrammeTeamMember.programme_id == programme.id,
            ProgrammeTeamMember.user_id == current_user.id,
        )
    )
    if is_team:
        return True
    return viewer_is_confirmed(programme)


def viewer_is_confirmed(programme: Programme) -> bool:
    """Whether the signed-in viewer holds a confirmed registration in the programme."""
    from flask_login import current_user

    if not current_user.is_authenticated:
        return False
    status = db.session.scalar(
        select(Registration.status).where(
            Registration.programme_id == programme.id, Registration.user_id == current_user.id
        )
    )
    return status == "confirmed"
