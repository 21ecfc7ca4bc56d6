"""Sanity checks on a read report against its session, and what the preview says about the
file; they raise ReportError with a message naming the report's times and the session's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from operator import itemgetter

from ..catalogue.models import Session
from ..timefmt import format_moment, format_range
from .report_base import ParsedReport, ReportError


def about_report(report: ParsedReport) -> dict:
    """What the preview says about the file itself."""
    return {
        "label": report.label,
        "columns": sorted(report.columns, key=lambda column: column[2]),
        "ignored": report.ignored,
        "day_first": report.day_first,
        "join_times": report.join_times,
    }


#: A report may start or end this long before or after the session and still be its report.
REPORT_MARGIN = timedelta(hours=2)


def _report_range(report: ParsedReport) -> tuple[datetime, datetime]:
    first, last = report.span or (  # map and itemgetter: no Python frame per connection
        min(map(itemgetter(3), report.connections)),
        max(map(itemgetter(4), report.connections)),
    )
    return datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(last, UTC)


def refuse_other_times(report: ParsedReport, session: Session) -> None:
    """A report whose times do not come near the session's is another meeting's (or read in
    the wrong zone): refused, naming both ranges."""
    if not report.join_times and report.span is None:
        return  # minutes only: nothing to compare
    first, last = _report_range(report)
    if last < session.starts_at - REPORT_MARGIN or first > session.ends_at + REPORT_MARGIN:
        raise ReportError(
            f"This report's times do not overlap the session: the report runs "
            f"{_range(first, last, session.timezone)}, the session "
            f"{_range(session.starts_at, session.ends_at, session.timezone)}. Check that this is "
            "the session's report and the time zone its times are written in."
        )


def _range(first: datetime, last: datetime, zone: str) -> str:
    if (last - first) < timedelta(days=1):
        return format_range(first, last, zone)
    return f"{format_moment(first, zone)} to {format_moment(last, zone)}"


def refuse_no_overlap(report: ParsedReport, session: Session) -> None:
    """Nobody connected during the session: the wrong report, session or time zone."""
    first, last = _report_range(report)
    raise ReportError(
        "No one in this report was connected during the session: the report runs "
        f"{_range(first, last, session.timezone)}, the session "
        f"{_range(session.starts_at, session.ends_at, session.timezone)}. Check that this "
        "is the session's report and the time zone its times are written in."
    )
