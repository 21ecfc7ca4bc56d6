"""Self check-in: the organiser opens it and shows a code; registrants type or scan it.

Window: from CHECK_IN_OPENS_BEFORE before the start to the session's end, while open. Present
until `grace_minutes` after the start, late after. Wrong codes are rate-limited per person in
the database (so every web process and machine shares the count): after MAX_WRONG_CODES
within WRONG_CODE_WINDOW further attempts are refused until the window passes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..catalogue.audit import record as log_change
from ..catalogue.models import Session
from ..database import begin_write_transaction
from ..errors import NotFound
from ..extensions import db
from ..registration.models import Registration
from ..timefmt import format_moment
from ..types import utcnow
from .errors import AttendanceError
from .models import ATTENDED_STATUSES, Attendance, CheckIn, CheckInAttempt
from .services.marks import write_marks

#: No 0/O, 1/I/L: easy to read off a projector and type on a phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
CHECK_IN_OPENS_BEFORE = timedelta(minutes=15)
MAX_WRONG_CODES = 5
WRONG_CODE_WINDOW = timedelta(minutes=10)


class CheckInError(AttendanceError):
    """A check-in that cannot be made; the message is shown to the participant, beside the
    code they typed."""

    status = 422

    def __init__(self, message: str, field: str | None = "code") -> None:
        super().__init__(message, field)


class TooManyAttempts(CheckInError):
    """Too many wrong codes recently."""

    status = 429


@dataclass
class CheckInResult:
    session: Session
    status: str
    already: bool


#: Arrivals on one page of the check-in screen.
ARRIVALS_PER_PAGE = 100


@dataclass
class CheckInPage:
    check_in: CheckIn | None
    #: Marks made by self check-in, the latest arrival first.
    arrivals: Pagination
    #: Confirmed registrants of the programme.
    registrants: int
    opens_at: datetime
    closes_at: datetime


def normalise_code(code: str | None) -> str:
    return "".join((code or "").split()).upper()


def window(session: Session) -> tuple[datetime, datetime]:
    return session.starts_at - CHECK_IN_OPENS_BEFORE, session.ends_at


def check_in_page(session: Session, page: int = 1) -> CheckInPage:
    """The code, a page of arrivals and how many are registered (4 queries)."""
    check_in = db.session.scalar(select(CheckIn).where(CheckIn.session_id == session.id))
    arrived = func.coalesce(Attendance.first_seen_at, Attendance.recorded_at)
    arrivals = db.paginate(
        select(Attendance)
        .where(Attendance.session_id == session.id, Attendance.method == "self_check_in")
        .options(joinedload(Attendance.registration).joinedload(Registration.user))
        .order_by(arrived.desc(), Attendance.id.desc()),
        page=page,
        per_page=ARRIVALS_PER_PAGE,
        max_per_page=ARRIVALS_PER_PAGE,
    )
    registrants = db.session.execute(
        select(func.count()).where(
            Registration.programme_id == session.programme_id, Registration.status == "confirmed"
        )
    ).scalar_one()
    opens_at, closes_at = window(session)
    return CheckInPage(check_in, arrivals, registrants, opens_at, closes_at)


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def open_check_in(session_id: int, grace_minutes: int, opened_by: User) -> CheckIn:
    """Open (or reopen with a fresh code) the session's check-in."""
    if not 0 <= grace_minutes <= 240:
        raise CheckInError("The grace period is between 0 and 240 minutes.")
    for _attempt in range(5):
        begin_write_transaction()
        session = db.session.get(Session, session_id)
        if session is None or session.ends_at <= utcnow():
            raise CheckInError("This session has ended; check-in can no longer be opened.")
        check_in = db.session.scalar(select(CheckIn).where(CheckIn.session_id == session_id))
        if check_in is None:
            check_in = CheckIn(session_id=session_id)
            db.session.add(check_in)
        check_in.code = _new_code()
        check_in.grace_minutes = grace_minutes
        check_in.opened_at = utcnow()
        check_in.opened_by_id = opened_by.id
        log_change(
            session.programme_id,
            opened_by.id,
            "opened check-in",
            f"{session.title}: closed → open, {grace_minutes} minutes' grace",
        )
        try:
            db.session.commit()
        except IntegrityError:  # the code is taken by another session: draw again
            db.session.rollback()
            continue
        return check_in
    raise CheckInError("Could not draw a free code; please try again.")


def close_check_in(session_id: int, user_id: int | None = None) -> None:
    begin_write_transaction()
    check_in = db.session.scalar(select(CheckIn).where(CheckIn.session_id == session_id))
    if check_in is not None and check_in.opened_at is not None:
        check_in.opened_at = None
        session = db.session.get(Session, session_id)
        if session is None:  # the check-in's own session
            raise NotFound()
        log_change(
            session.programme_id, user_id, "closed check-in", f"{session.title}: open → closed"
        )
    db.session.commit()


def check_in(user: User, code: str, now: datetime | None = None) -> CheckInResult:
    """A registrant checks in with the code on screen; one transaction."""
    now = now or utcnow()
    begin_write_transaction()
    found = _check_in_of_code(user, normalise_code(code), now)
    session = found.session
    _refuse_outside_window(found, user, now)
    registration = _confirmed_registration(session, user)
    existing = db.session.scalar(
        select(Attendance).where(
            Attendance.session_id == session.id, Attendance.registration_id == registration.id
        )
    )
    if existing is not None and existing.status in ATTENDED_STATUSES:
        db.session.rollback()
        return CheckInResult(session, existing.status, already=True)
    status = (
        "late" if now > session.starts_at + timedelta(minutes=found.grace_minutes) else "present"
    )
    write_marks(
        session,
        {registration.id: status},
        method="self_check_in",
        recorded_by_id=user.id,
        details={registration.id: {"first_seen_at": now}},
    )
    db.session.commit()
    return CheckInResult(session, status, already=False)


def _check_in_of_code(user: User, code: str, now: datetime) -> CheckIn:
    """The check-in the code opens; a wrong code is counted (committed: the refusal that
    follows rolls nothing back) and, after too many, refused for a while."""
    wrong = db.session.execute(
        select(func.count())
        .select_from(CheckInAttempt)
        .where(
            CheckInAttempt.user_id == user.id,
            CheckInAttempt.attempted_at > now - WRONG_CODE_WINDOW,
        )
    ).scalar_one()
    if wrong >= MAX_WRONG_CODES:
        db.session.rollback()
        minutes = int(WRONG_CODE_WINDOW.total_seconds() // 60)
        raise TooManyAttempts(
            f"Too many wrong codes. Please wait {minutes} minutes, then type the code shown "
            "on screen again."
        )
    found = db.session.scalar(select(CheckIn).where(CheckIn.code == code)) if code else None
    if found is None:
        db.session.execute(  # older attempts no longer count: keep the table small
            delete(CheckInAttempt).where(
                CheckInAttempt.user_id == user.id,
                CheckInAttempt.attempted_at <= now - WRONG_CODE_WINDOW,
            )
        )
        db.session.add(CheckInAttempt(user_id=user.id, attempted_at=now))
        db.session.commit()
        left = MAX_WRONG_CODES - wrong - 1
        raise CheckInError(
            "That code is not right. Check the code on screen and try again"
            + (f" ({left} attempt{'s' if left != 1 else ''} left)." if left else ".")
        )
    return found


def _refuse_outside_window(found: CheckIn, user: User, now: datetime) -> None:
    session = found.session
    opens_at, closes_at = window(session)
    tz = user.timezone or session.timezone

    def when(moment: datetime) -> str:
        text = format_moment(moment, session.timezone)
        return text if tz == session.timezone else f"{text}, {format_moment(moment, tz)}"

    if now < opens_at:
        db.session.rollback()
        raise CheckInError(f"Check-in for {session.title} opens at {when(opens_at)}.")
    if now >= closes_at:
        db.session.rollback()
        raise CheckInError(f"Check-in for {session.title} closed at {when(closes_at)}.")
    if found.opened_at is None:
        db.session.rollback()
        raise CheckInError(
            f"Check-in for {session.title} is closed at the moment. Ask the organiser to open it."
        )


def _confirmed_registration(session: Session, user: User) -> Registration:
    registration = db.session.scalar(
        select(Registration).where(
            Registration.programme_id == session.programme_id,
            Registration.user_id == user.id,
            Registration.status == "confirmed",
        )
    )
    if registration is None:
        db.session.rollback()
        raise CheckInError(
            f"You are not a confirmed participant of {session.programme.title}, so you cannot "
            "check in to it. Sign in with the address you registered with."
        )
    return registration
