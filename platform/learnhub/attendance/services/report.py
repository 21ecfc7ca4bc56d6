"""The programme's report: the matrix of participants by sessions with rates, and each
registration's standing by the same completion rule (what progress and certificates count)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Row, func, select

from ...accounts.models import User
from ...catalogue.models import Programme, Session
from ...extensions import db
from ...registration.models import Registration
from ...types import utcnow
from ..models import ATTENDANCE_STATUSES, ATTENDED_STATUSES
from .marks import statuses_for

#: A cell of the matrix for a session the registrant was not expected at.
NOT_EXPECTED = "not_expected"
#: Participants on one page of the report's tables.
LINES_PER_PAGE = 100


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
    registrants = _registrants(programme.id)
    statuses = statuses_for([s.id for s in sessions])
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
    statuses = statuses_for(
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


class LinesPage(Pagination):
    """A page of lines the report has already counted: Flask-SQLAlchemy's Pagination over a
    list (the report needs every line for its rates, the page shows some)."""

    def _query_items(self) -> list:
        start = self._query_offset
        return self._query_args["lines"][start : start + self.per_page]

    def _query_count(self) -> int:
        return len(self._query_args["lines"])


def lines_page(lines: list[ParticipantLine], page: int) -> Pagination:
    return LinesPage(page=page, per_page=LINES_PER_PAGE, max_per_page=LINES_PER_PAGE, lines=lines)
