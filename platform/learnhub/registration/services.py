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
from flask_login import current_user
from sqlalchemy import bindparam, delete, exists, func, insert, select
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import ProgrammeTeamMember, User
from ..accounts.services import (
    DELETED_EMAIL_DOMAIN,
    ParticipantDetails,
    issue_sign_in_link,
    new_sign_in_link,
    normalise_email,
    participant_account,
)
from ..catalogue.audit import apply_changes, moment_in, record
from ..catalogue.models import Programme, Session
from ..database import begin_write_transaction, is_postgres
from ..extensions import db
from ..notifications.services import queue_registration_email, queue_registration_email_row
from ..types import utcnow
from .errors import RegistrationError, RegistrationNotFound
from .links import read_cancel_token
from .models import REGISTRATION_STATUSES, Registration, RegistrationAnswer, RegistrationQuestion
from .questions import clean_answers

ACTIVE_STATUSES = ("pending", "confirmed", "waitlisted")


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


# --- the seats: the one decision -----------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Where a registration goes: its state, and its waiting-list key and place if queued."""

    status: str
    #: The queue key (lower is served first); None unless waitlisted.
    waitlist_position: int | None = None
    #: The 1-based place in the queue the person is told.
    place: int | None = None


#: What a person asking for a seat wants: registering (for the first time or again) or an
#: organiser's approval.
A_SEAT = "seat"


@dataclass(frozen=True)
class Seats:
    """A programme's seats as its row holds them (the counters the triggers keep, rule 5),
    read under the programme's lock: every decision about a seat or a place in the queue is
    made here, whichever use case asks."""

    capacity: int | None
    confirmed: int
    waitlisted: int
    #: The highest waiting-list key ever given; it never goes down.
    tail: int
    waitlist_enabled: bool

    @property
    def free(self) -> int | None:
        """Seats no one holds, to give now (also how many to promote); None when unlimited."""
        return None if self.capacity is None else max(self.capacity - self.confirmed, 0)

    def place(self, wanted: str = A_SEAT, *, approval_required: bool = False) -> Placement:
        """Where a registration goes. A person asking for a seat (`A_SEAT`) gets one while
        seats are free, else the end of the waiting list, else a refusal; with approval
        required, they wait for it. Any other state is taken as it is (an organiser's move, a
        cancellation, a promotion). The end of the queue is a key past every key given (the
        tail plus one), so the place told is the queue's length plus one."""
        if wanted == A_SEAT:
            if approval_required:
                return Placement("pending")
            if self.free != 0:
                return Placement("confirmed")
            if not self.waitlist_enabled:
                raise RegistrationError("Sorry, all seats for this programme are taken.")
            wanted = "waitlisted"
        if wanted == "waitlisted":
            return Placement("waitlisted", self.tail + 1, self.waitlisted + 1)
        return Placement(wanted)


def seats_of(programme_id: int) -> Seats:
    """The programme's seats now (after this transaction's own changes are flushed)."""
    return Seats(*db.session.execute(_SEATS, {"programme_id": programme_id}).one())


_SEATS = select(
    Programme.capacity,
    Programme.confirmed_count,
    Programme.waitlisted_count,
    Programme.waitlist_tail,
    Programme.waitlist_enabled,
).where(Programme.id == bindparam("programme_id"))


# --- locking --------------------------------------------------------------------------------


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


# --- transitions ----------------------------------------------------------------------------


def _state_columns(placement: Placement, now: datetime) -> dict:
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


def _move(registration: Registration, placement: Placement, now: datetime) -> None:
    """Change the state and its bookkeeping; the caller writes the email."""
    if registration.status == placement.status:
        raise RegistrationError(f"This registration is already {placement.status}.")
    for name, value in _state_columns(placement, now).items():
        setattr(registration, name, value)
    registration.version = (registration.version or 0) + 1
    db.session.flush()


def _announce(registration: Registration, event: str, sign_in_link: str | None = None) -> None:
    queue_registration_email(
        registration,
        event,
        waitlist_place=waitlist_place(registration),
        sign_in_link=sign_in_link,
    )


def _fill_free_seats(programme_id: int, now: datetime) -> list[Registration]:
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
        _move(registration, Placement("confirmed"), now)
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


def _store_answers(registration_id: int, cleaned: dict[int, str], *, replace: bool) -> None:
    """Make the registration's answers `cleaned` (from `clean_answers`, one per question of
    the programme that has one); `replace` drops those it had first."""
    connection = db.session.connection()
    if replace:
        connection.execute(_DELETE_ANSWERS, {"registration_id": registration_id})
    if cleaned:
        connection.execute(
            insert(RegistrationAnswer.__table__),
            [
                {"registration_id": registration_id, "question_id": q, "value": value}
                for q, value in cleaned.items()
            ],
        )


_DELETE_ANSWERS = delete(RegistrationAnswer.__table__).where(
    RegistrationAnswer.__table__.c.registration_id == bindparam("registration_id")
)


# --- participant use cases ------------------------------------------------------------------


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
    _store_answers(registration_id, answers, replace=earlier is not None)
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
        _move(earlier, placement, now)
        return earlier.id, earlier.version
    row = {
        "programme_id": programme_id,
        "user_id": user_id,
        "version": 1,
        "created_at": now,
        "consent_at": now,
        **_state_columns(placement, now),
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


def _own_active_registration(registration_id: int, user_id: int) -> tuple[Registration, Programme]:
    found = _lock_registration(registration_id)
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
    _move(registration, Placement("cancelled"), now)
    _announce(registration, "cancelled")
    _fill_free_seats(programme.id, now)
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
    _move(registration, Placement("cancelled"), utcnow())
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
    _store_answers(registration.id, clean_answers(questions, answers), replace=True)
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
        raise RegistrationNotFound("We could not find that programme.")
    now = utcnow()
    outcome = {"confirmed": 0, "waitlisted": 0}
    for registration in _registrations_in(programme_id, registration_ids):
        if registration.status != "pending":
            raise RegistrationError(
                f"{registration.user.full_name} is {registration.status}, not awaiting approval."
            )
        try:
            placement = seats_of(programme_id).place()
        except RegistrationError as error:
            raise RegistrationError(
                "There are not enough seats to approve everyone selected and the waiting list "
                "is off. Raise the capacity or approve fewer people."
            ) from error
        _move(registration, placement, now)
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
        raise RegistrationNotFound("We could not find that programme.")
    now = utcnow()
    selected = _registrations_in(programme_id, registration_ids)
    for registration in selected:
        if registration.status not in ACTIVE_STATUSES:
            raise RegistrationError(
                f"{registration.user.full_name} is already {registration.status}."
            )
        previous = registration.status
        _move(registration, Placement("rejected"), now)
        _announce(registration, "rejected")
        record(
            programme_id,
            user_id,
            "rejected registration",
            f"{registration.user.full_name}: {previous} → rejected",
        )
    _fill_free_seats(programme_id, now)
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
        raise RegistrationNotFound("We could not find that registration.")
    previous = registration.status
    now = utcnow()
    seats = seats_of(programme.id)
    if status == "confirmed" and seats.free == 0:
        raise RegistrationError("Every seat is taken. Raise the capacity first.")
    if status == "waitlisted":
        if previous == "confirmed":
            # The seat it frees would be offered to the head of the queue at once.
            raise RegistrationError("A confirmed registration cannot be moved to the waiting list.")
        if seats.free != 0:
            raise RegistrationError("Seats are free, so no one needs to wait. Confirm instead.")
    _move(registration, seats.place(status), now)
    _announce(registration, _MOVE_EVENTS.get((previous, status), status))
    record(
        programme_id,
        user_id,
        "moved registration",
        f"{registration.user.full_name}: {previous} → {status}",
    )
    _fill_free_seats(programme.id, now)
    db.session.commit()
    return registration


def update_registration_settings(
    programme_id: int, settings: RegistrationSettings, *, user_id: int | None = None
) -> int:
    """Change capacity, window, approval and waiting list; returns how many were promoted."""
    programme = lock_programme(programme_id)
    if programme is None:
        raise RegistrationNotFound("We could not find that programme.")
    if settings.capacity is not None:
        if settings.capacity < 0:
            raise RegistrationError("Capacity cannot be negative.")
        confirmed = seats_of(programme.id).confirmed
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
    promoted = _fill_free_seats(programme.id, utcnow())
    db.session.commit()
    return len(promoted)


def change_capacity(programme_id: int, capacity: int | None) -> int:
    """Only the capacity; the other settings stay (a shortcut used by tests and the CLI)."""
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise RegistrationNotFound("We could not find that programme.")
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
            _move(registration, Placement("cancelled"), now)
            _fill_free_seats(programme.id, now)
    db.session.execute(
        delete(RegistrationAnswer).where(
            RegistrationAnswer.registration_id.in_([r.id for r in registrations])
        )
    )


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
    if not current_user.is_authenticated:
        return False
    status = db.session.scalar(
        select(Registration.status).where(
            Registration.programme_id == programme.id, Registration.user_id == current_user.id
        )
    )
    return status == "confirmed"
