"""Attendance use cases: the sheet, marks, the programme report. Check-in and report imports
live in checkin.py and imports.py; every use case is one transaction.

A registrant without an Attendance row for a session is "not yet marked". A registrant whose
seat was confirmed after a session ended is not expected at it: never counted absent, never in
a rate's denominator.
"""

from __future__ import annotations

import gc
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.orm import aliased, joinedload

from ..accounts.models import User
from ..catalogue.audit import record as log_change
from ..catalogue.models import Programme, Session
from ..database import begin_write_transaction, fetch_tuples, insert_many
from ..errors import DomainError
from ..extensions import db
from ..registration.models import Registration
from ..types import utcnow
from .models import ATTENDANCE_STATUSES, ATTENDED_STATUSES, Attendance

#: A cell of the matrix for a session the registrant was not expected at.
NOT_EXPECTED = "not_expected"

#: The columns of a new mark, in the order `write_marks` gives `insert_many` its rows.
MARK_COLUMNS = [
    "session_id",
    "registration_id",
    "status",
    "minutes_attended",
    "first_seen_at",
    "method",
    "recorded_by_id",
    "recorded_at",
    "import_id",
]


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Run bulk work that allocates tens of thousands of objects but no reference cycles.

    Each time enough of them survive a moment, Python's cyclic collector rescans the whole
    heap (140,000 objects in a running app, 20-60 ms a time, several times per 5,000-row
    report) and finds nothing: reference counting frees all of it. Pausing the collector for
    the duration halved the import's time in bench/attendance.py, and took a third off the
    programme report of 10,000 participants.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class AttendanceError(DomainError):
    """Attendance that cannot be recorded; the message is shown to the organiser."""


@dataclass
class Mark:
    status: str
    method: str
    minutes: int | None
    first_seen_at: datetime | None
    recorded_at: datetime
    recorded_by: str | None


@dataclass
class SheetRow:
    registration: Registration
    mark: Mark | None
    expected: bool

    @property
    def status(self) -> str | None:
        return self.mark.status if self.mark else None


def expected_at(registration: Registration, session: Session) -> bool:
    """Was the registrant's seat confirmed before the session ended?"""
    since = registration.confirmed_at or registration.created_at
    return since is None or since <= session.ends_at


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


def _marks_for(
    session_ids: list[int], registration_ids: list[int] | None = None
) -> dict[tuple[int, int], Mark]:
    if not session_ids or registration_ids == []:
        return {}
    recorder = aliased(User)
    rows = db.session.execute(
        select(
            Attendance.session_id,
            Attendance.registration_id,
            Attendance.status,
            Attendance.method,
            Attendance.minutes_attended,
            Attendance.first_seen_at,
            Attendance.recorded_at,
            recorder.full_name,
        )
        .outerjoin(recorder, recorder.id == Attendance.recorded_by_id)
        .where(
            Attendance.session_id.in_(session_ids),
            *([Attendance.registration_id.in_(registration_ids)] if registration_ids else []),
        )
    )
    return {(row[0], row[1]): Mark(*row[2:]) for row in rows}


def _statuses_for(
    session_ids: list[int], registration_ids: list[int] | None = None
) -> dict[tuple[int, int], str]:
    """Only the status of each mark, by (session, registration): what the report and the
    completion rule count (three plain columns as the driver gives them: the report reads
    120,000 of them)."""
    if not session_ids or registration_ids == []:
        return {}
    rows = fetch_tuples(
        select(Attendance.session_id, Attendance.registration_id, Attendance.status).where(
            Attendance.session_id.in_(session_ids),
            *([Attendance.registration_id.in_(registration_ids)] if registration_ids else []),
        )
    )
    return {(session_id, registration_id): status for session_id, registration_id, status in rows}


def minutes_by_cell(session_ids: list[int]) -> dict[tuple[int, int], int]:
    """The minutes attended recorded (from meeting reports), by (session, registration): what
    the exports add beside each status (1 query, plain values)."""
    if not session_ids:
        return {}
    rows = fetch_tuples(
        select(
            Attendance.session_id, Attendance.registration_id, Attendance.minutes_attended
        ).where(Attendance.session_id.in_(session_ids), Attendance.minutes_attended.is_not(None))
    )
    return {(session_id, registration_id): minutes for session_id, registration_id, minutes in rows}


def attendance_sheet(session: Session) -> list[SheetRow]:
    """Every confirmed registrant with their mark (2 queries)."""
    marks = _marks_for([session.id])
    return [
        SheetRow(
            registration,
            marks.get((session.id, registration.id)),
            expected_at(registration, session),
        )
        for registration in confirmed_registrations(session.programme_id)
    ]


def write_marks(
    session: Session,
    marks: dict[int, str | None],
    *,
    method: str,
    recorded_by_id: int | None,
    details: dict[int, dict] | None = None,
    import_id: int | None = None,
) -> int:
    """Set (or, with None, clear) each registration's mark with bulk statements; flushes only.

    Returns how many marks changed. `details` may give minutes_attended/first_seen_at per
    registration. Unchanged marks are left alone, so writing the same marks twice changes
    nothing.
    """
    details = details or {}
    existing = {
        row.registration_id: row
        for row in db.session.connection().execute(
            select(
                Attendance.id,
                Attendance.registration_id,
                Attendance.status,
                Attendance.minutes_attended,
            ).where(Attendance.session_id == session.id)
        )
    }
    now = utcnow()
    session_id, written_by = session.id, (method, recorded_by_id, now, import_id)
    no_details: dict = {}
    inserts: list[tuple] = []
    updates: list[dict] = []
    deletions: list[int] = []
    for registration_id, status in marks.items():
        record = existing.get(registration_id)
        extra = details.get(registration_id, no_details)
        if status is None:
            if record is not None:
                deletions.append(record.id)
            continue
        minutes, first_seen = extra.get("minutes_attended"), extra.get("first_seen_at")
        if record is None:
            inserts.append((session_id, registration_id, status, minutes, first_seen, *written_by))
        elif record.status != status or (
            "minutes_attended" in extra and record.minutes_attended != minutes
        ):
            updates.append(
                {
                    "id": record.id,
                    "status": status,
                    "method": method,
                    "recorded_by_id": recorded_by_id,
                    "recorded_at": now,
                    "import_id": import_id,
                    "minutes_attended": minutes,
                    "first_seen_at": first_seen,
                }
            )
    if inserts:  # multi-row statements: a report's thousands of rows in milliseconds
        insert_many(Attendance.__table__, MARK_COLUMNS, inserts)
    if updates:
        db.session.execute(update(Attendance), updates)
    if deletions:
        db.session.execute(delete(Attendance).where(Attendance.id.in_(deletions)))
    attended = [r for r, status in marks.items() if status in ATTENDED_STATUSES]
    if attended and (inserts or updates):
        from ..learning.services import award_due_certificates

        award_due_certificates(session.programme_id, attended)
    return len(inserts) + len(updates) + len(deletions)


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
    registrations = {r.id: r for r in confirmed_registrations(session.programme_id)}
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
    before = _statuses_for([session.id], list(marks))
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
    if programme.completion_percent != percent:
        log_change(
            programme_id,
            user_id,
            "changed completion rule",
            f"sessions attended: {programme.completion_percent}% → {percent}%",
        )
    programme.completion_percent = percent
    db.session.commit()


# --- the programme report ------------------------------------------------------------------


class Participant(NamedTuple):
    """Who a line of the report is about: plain values, read with one Core query (a report
    holds ten thousand of them; ORM entities cost several times as much to load)."""

    registration_id: int
    full_name: str
    email: str
    organisation_name: str | None


@dataclass
class ParticipantLine:
    registration_id: int
    cells: list[str | None]
    attended: int
    counted: int
    remaining: int
    rate: float | None
    needed: int
    #: Who, on the report's lines (a registration's standing alone leaves it None).
    participant: Participant | None = None

    @property
    def can_still_complete(self) -> bool:
        return self.attended + self.remaining >= self.needed


@dataclass
class SessionLine:
    session: Session
    held: bool
    attended: int
    counted: int
    counts: dict[str, int]
    #: The session's end, read once: each participant's line compares it with their seat's.
    ends_at: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.ends_at = self.session.ends_at

    @property
    def rate(self) -> float | None:
        return self.attended / self.counted if self.held and self.counted else None

    @property
    def no_rate_reason(self) -> str:
        """Why a session has no rate: still to come, or held with nobody expected at it."""
        return "held, nobody expected" if self.held else "not held yet"


@dataclass
class Report:
    programme: Programme
    sessions: list[SessionLine]
    participants: list[ParticipantLine]
    completion_percent: int

    @property
    def below_rule(self) -> list[ParticipantLine]:
        return [
            p
            for p in self.participants
            if p.rate is not None and p.rate * 100 < self.completion_percent
        ]


def programme_report(programme: Programme, now: datetime | None = None) -> Report:
    """The matrix of participants by sessions with rates: 3 queries whatever the size, each
    read as plain values (the report of 10,000 participants by 12 sessions has 120,000 cells).

    A held session counts for a participant unless they were excused or not yet registered;
    the rate is attended (present or late) over counted sessions. A cancelled session is left
    out, as in each participant's standing and the certificate rule.
    """
    now = now or utcnow()
    sessions = list(
        db.session.scalars(
            select(Session)
            .where(Session.programme_id == programme.id, Session.status != "cancelled")
            .order_by(Session.starts_at)
        )
    )
    with without_cycle_collection():
        registrants = _registrants(programme.id)
        statuses = _statuses_for([s.id for s in sessions])
        session_lines = [
            SessionLine(s, s.starts_at <= now, 0, 0, dict.fromkeys(ATTENDANCE_STATUSES, 0))
            for s in sessions
        ]
        session_ids = [s.id for s in sessions]
        get, new_participant = statuses.get, tuple.__new__
        columns = _Columns.of(session_lines)
        participants = [
            _participant_line(
                registration_id,
                registered,
                [get((session_id, registration_id)) for session_id in session_ids],
                columns,
                programme.completion_percent,
                new_participant(Participant, (registration_id, name, email, organisation)),
            )
            for registration_id, name, email, organisation, registered in registrants
        ]
        _count_sessions(session_lines, participants)
    return Report(programme, session_lines, participants, programme.completion_percent)


def _registrants(programme_id: int) -> Sequence[Row]:
    """Confirmed registrants by name: (registration id, name, email, organisation, when the
    seat was confirmed), plain values in one Core query."""
    since = func.coalesce(Registration.confirmed_at, Registration.created_at)
    return db.session.execute(
        select(Registration.id, User.full_name, User.email, User.organisation_name, since)
        .join(User, User.id == Registration.user_id)
        .where(Registration.programme_id == programme_id, Registration.status == "confirmed")
        .order_by(User.full_name, Registration.id)
    ).all()


def _count_sessions(session_lines: list[SessionLine], participants: list[ParticipantLine]) -> None:
    """Each session line's counts, from its column of the matrix (transposed and counted in C:
    the column of a 10,000-participant programme is 10,000 cells)."""
    columns = zip(*(p.cells for p in participants), strict=True) if participants else ()
    for line, column in zip(session_lines, columns, strict=False):
        counted = Counter(column)
        line.counts = {status: counted[status] for status in ATTENDANCE_STATUSES}
        if line.held:
            line.counted = len(participants) - counted[NOT_EXPECTED] - counted["excused"]
            line.attended = sum(counted[status] for status in ATTENDED_STATUSES)


class _Columns(NamedTuple):
    """The session lines of a report or a standing, in order of start (so the held ones
    come first), with what every participant's line compares against."""

    lines: list[SessionLine]
    #: How many lines, from the first, are of sessions held.
    held: int
    #: The earliest end: a seat confirmed before it is expected at every session.
    first_end: datetime | None

    @classmethod
    def of(cls, lines: list[SessionLine]) -> _Columns:
        held = sum(1 for line in lines if line.held)
        if any(line.held for line in lines[held:]):
            raise ValueError("Session lines must come in order of start.")
        return cls(lines, held, min((line.ends_at for line in lines), default=None))


def _participant_line(
    registration_id: int,
    registered: datetime | None,
    statuses: list[str | None],
    columns: _Columns,
    completion_percent: int,
    participant: Participant | None = None,
) -> ParticipantLine:
    """One participant's row of the report from their status at each session (None: not
    marked) and when their seat was confirmed (see `expected_at`): list counts over the
    sessions held and those to come, no step per cell for most participants."""
    cells = statuses
    if registered is not None and columns.first_end is not None and registered > columns.first_end:
        cells = [
            NOT_EXPECTED if registered > line.ends_at else status
            for line, status in zip(columns.lines, statuses, strict=True)
        ]
    held = columns.held
    past, to_come = cells[:held], cells[held:]
    attended = sum(past.count(status) for status in ATTENDED_STATUSES)
    counted = len(past) - past.count("excused") - past.count(NOT_EXPECTED)
    remaining = len(to_come) - to_come.count("excused") - to_come.count(NOT_EXPECTED)
    return ParticipantLine(
        registration_id=registration_id,
        cells=cells,
        attended=attended,
        counted=counted,
        remaining=remaining,
        rate=attended / counted if counted else None,
        needed=math.ceil((counted + remaining) * completion_percent / 100),
        participant=participant,
    )


def attendance_standing(
    registrations: list[Registration], now: datetime | None = None
) -> dict[int, ParticipantLine]:
    """The report's line for each of a few registrations, by registration id, counted by the
    same completion rule as the report (1 query; each registration's programme must have its
    sessions loaded). Cancelled sessions do not count: they were never held."""
    now = now or utcnow()
    sessions = {
        r.id: [s for s in r.programme.sessions if s.status != "cancelled"] for r in registrations
    }
    ids = [r.id for r in registrations]
    statuses = _statuses_for(
        list({s.id for found in sessions.values() for s in found}),
        ids if len(ids) <= 500 else None,
    )
    lines = {}
    for registration in registrations:
        ordered = sorted(sessions[registration.id], key=lambda s: s.starts_at)
        session_lines = [
            SessionLine(s, s.starts_at <= now, 0, 0, dict.fromkeys(ATTENDANCE_STATUSES, 0))
            for s in ordered
        ]
        lines[registration.id] = _participant_line(
            registration.id,
            registration.confirmed_at or registration.created_at,
            [statuses.get((s.id, registration.id)) for s in ordered],
            _Columns.of(session_lines),
            registration.programme.completion_percent,
        )
    return lines


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
    marks = _marks_for(session_ids)
    return [
        MyAttendance(
            r,
            [(s, marks.get((s.id, r.id)), expected_at(r, s)) for s in r.programme.sessions],
        )
        for r in registrations
    ]
