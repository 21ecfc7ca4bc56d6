"""iCalendar files for a programme's sessions (RFC 5545), built with the icalendar library."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Alarm, Calendar, Event, Timezone

from ..catalogue.models import Programme, Session
from ..links import external_url
from ..timefmt import zone
from ..types import utcnow


def session_uid(session: Session) -> str:
    """Stable for the life of the session, so calendar updates replace rather than duplicate."""
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "learnhub"
    return f"session-{session.id}@{host}"


@lru_cache(maxsize=128)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """VTIMEZONE for the years the sessions span; computing it costs ~25 ms, so it is kept."""
    return Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31)
    )


def build_calendar(
    name: str,
    sessions: Iterable[Session],
    *,
    method: str | None = "PUBLISH",
    alarm_minutes: tuple[int, ...] = (),
) -> str:
    """A VCALENDAR of sessions (each with its programme loaded), with their zones defined.

    METHOD:REQUEST with a higher SEQUENCE updates an event a calendar already holds under the
    same UID; METHOD:CANCEL (or a cancelled session) removes it."""
    calendar = Calendar()
    calendar.add("prodid", "-//LearnHub//Programme sessions//EN")
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    calendar.add("x-wr-calname", name)
    stamp = utcnow()
    sessions = list(sessions)
    if sessions:
        first_year = min(s.starts_at.year for s in sessions) - 1
        last_year = max(s.ends_at.year for s in sessions) + 1
        for tzid in sorted({s.timezone for s in sessions}):
            calendar.add_component(_vtimezone(tzid, first_year, last_year))
    for session in sessions:
        calendar.add_component(_event(session, stamp, alarm_minutes))
    return calendar.to_ical().decode()


def _event(session: Session, stamp, alarm_minutes: tuple[int, ...]) -> Event:
    programme = session.programme
    page = external_url("catalogue.programme", slug=programme.slug)
    event = Event()
    event.add("uid", session_uid(session))
    event.add("sequence", session.ics_sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", session.starts_at.astimezone(zone(session.timezone)))
    event.add("dtend", session.ends_at.astimezone(zone(session.timezone)))
    event.add("summary", f"{programme.title}: {session.title}")
    event.add("description", f"{programme.summary}\n\nProgramme page: {page}")
    event.add("url", page)
    event.add("location", "Online" if programme.format == "online" else programme.venue or "")
    if session.status == "cancelled":
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
        for minutes in alarm_minutes:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"{programme.title}: {session.title}")
            alarm.add("trigger", timedelta(minutes=-minutes))
            event.add_component(alarm)
    return event


def programme_calendar(programme: Programme, sessions: Iterable[Session]) -> str:
    return build_calendar(
        programme.title, [s for s in sessions if s.status == "scheduled"], method="PUBLISH"
    )


def session_change_calendar(session: Session) -> str:
    """The update for one session: REQUEST with its new time, or CANCEL."""
    method = "CANCEL" if session.status == "cancelled" else "REQUEST"
    return build_calendar(session.programme.title, [session], method=method)
