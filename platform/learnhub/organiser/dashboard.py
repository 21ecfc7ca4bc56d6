"""The organiser's figures: a programme's overview dashboard and the key figures of each
programme on the organiser home. Every figure is read in a bounded number of queries, whatever
the number of registrants or programmes (tests/organiser/test_dashboard.py counts them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, func, or_, select

from ..attendance.services.report import SessionLine, programme_report
from ..catalogue.models import Programme, Session
from ..extensions import db
from ..notifications.models import OutboxMessage
from ..registration.models import Registration
from ..types import utcnow
from .services import registration_counts

#: The chart's drawing box, in SVG user units (it scales to the width it is given).
CHART_WIDTH = 600
CHART_HEIGHT = 200
CHART_PAD = 30


@dataclass(frozen=True)
class DayCount:
    """Registrations received up to and including `day` (UTC)."""

    day: date
    new: int
    total: int


@dataclass(frozen=True)
class Chart:
    """The cumulative registrations as an SVG polyline, with its axes' labels."""

    points: str
    maximum: int
    first: date | None
    last: date | None


@dataclass(frozen=True)
class Dashboard:
    programme: Programme
    counts: dict[str, int]
    series: list[DayCount]
    chart: Chart
    next_session: Session | None
    past_sessions: list[SessionLine]
    failed_emails: int
    below_rule: int

    @property
    def seats_taken(self) -> int:
        return self.counts.get("confirmed", 0)

    @property
    def waiting(self) -> int:
        return self.counts.get("waitlisted", 0)

    @property
    def pending(self) -> int:
        return self.counts.get("pending", 0)


def programme_dashboard(programme: Programme, now: datetime | None = None) -> Dashboard:
    """The overview of one programme (7 queries: counts, the series, the next session,
    failed emails, and the attendance report's 3)."""
    now = now or utcnow()
    counts = registration_counts(programme.id)
    series = registrations_by_day(programme.id)
    report = programme_report(programme, now)
    return Dashboard(
        programme=programme,
        counts=counts,
        series=series,
        chart=chart_of(series),
        next_session=next_sessions([programme.id], now).get(programme.id),
        past_sessions=[line for line in report.sessions if line.held],
        failed_emails=failed_email_count(programme.id),
        below_rule=len(report.below_rule),
    )


def registrations_by_day(programme_id: int) -> list[DayCount]:
    """Registrations of every state received each day (UTC), with the running total."""
    created: ColumnElement = Registration.__table__.c.created_at
    if db.session.get_bind().dialect.name == "postgresql":
        # date() of a timestamptz follows the connection's zone; the day is UTC's.
        created = func.timezone("UTC", created)
    day = func.date(created)
    rows = db.session.execute(
        select(day, func.count())
        .where(Registration.programme_id == programme_id)
        .group_by(day)
        .order_by(day)
    ).all()
    series, total = [], 0
    for when, new in rows:
        total += new
        series.append(DayCount(_as_date(when), new, total))
    return series


def _as_date(value: date | datetime | str) -> date:
    """SQLite's date() answers text, PostgreSQL's a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def chart_of(series: list[DayCount]) -> Chart:
    """The cumulative line: days spread along x by their date, totals up y from zero."""
    if not series:
        return Chart("", 0, None, None)
    first, last = series[0].day, series[-1].day
    span = max((last - first).days, 1)
    top = max(series[-1].total, 1)
    width, height = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    points = [f"{CHART_PAD},{CHART_PAD + height}"]
    for point in series:
        x = CHART_PAD + width * (point.day - first).days / span
        y = CHART_PAD + height * (1 - point.total / top)
        points.append(f"{x:.1f},{y:.1f}")
    if len(series) == 1:
        points.append(f"{CHART_PAD + width},{CHART_PAD}")
    return Chart(" ".join(points), series[-1].total, first, last)


def next_sessions(programme_ids: list[int], now: datetime) -> dict[int, Session]:
    """Each programme's next session not cancelled and not over, by programme id (1 query)."""
    if not programme_ids:
        return {}
    upcoming = (Session.status != "cancelled", Session.ends_at > now)
    first = (
        select(Session.programme_id, func.min(Session.starts_at).label("starts_at"))
        .where(Session.programme_id.in_(programme_ids), *upcoming)
        .group_by(Session.programme_id)
        .subquery()
    )
    found: dict[int, Session] = {}
    for session in db.session.scalars(
        select(Session)
        .join(
            first,
            (first.c.programme_id == Session.programme_id)
            & (first.c.starts_at == Session.starts_at),
        )
        .where(*upcoming)
        .order_by(Session.id)
    ):
        found.setdefault(session.programme_id, session)
    return found


def failed_email_count(programme_id: int) -> int:
    """Emails that failed for good, about the programme's registrations or sessions."""
    registrations = select(Registration.id).where(Registration.programme_id == programme_id)
    sessions = select(Session.id).where(Session.programme_id == programme_id)
    return (
        db.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.status == "failed",
                or_(
                    OutboxMessage.registration_id.in_(registrations),
                    OutboxMessage.session_id.in_(sessions),
                ),
            )
        )
        or 0
    )


# --- the organiser home -------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeFigures:
    """A line of the organiser home."""

    programme: Programme
    next_session: Session | None
    pending: int


def home_figures(programmes: Pagination, now: datetime | None = None) -> list[ProgrammeFigures]:
    """The key figures of a page of programmes (2 queries whatever its length: pending
    approvals and next sessions; seats and the waiting list are the programme row's)."""
    now = now or utcnow()
    items: list[Programme] = list(programmes.items)
    ids = [p.id for p in items]
    pending: dict[int, int] = {}
    if ids:
        pending = dict(
            db.session.execute(
                select(Registration.programme_id, func.count())
                .where(Registration.programme_id.in_(ids), Registration.status == "pending")
                .group_by(Registration.programme_id)
            ).all()
        )
    upcoming = next_sessions(ids, now)
    return [ProgrammeFigures(p, upcoming.get(p.id), pending.get(p.id, 0)) for p in items]
