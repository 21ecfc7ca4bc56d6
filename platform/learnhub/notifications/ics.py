"""iCalendar files for a programme's sessions (RFC 5545), built with the icalendar library."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event, Timezone

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


def programme_calendar(programme: Programme, sessions: Iterable[Session]) -> str:
    calendar = Calendar()
    calendar.add("prodid", "-//LearnHub//Programme sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", programme.title)
    page = external_url("catalogue.programme", slug=programme.slug)
    stamp = utcnow()
    sessions = list(sessions)
    if sessions:
        first_year = min(s.starts_at.year for s in sessions) - 1
        last_year = max(s.ends_at.year for s in sessions) + 1
        for tzid in sorted({s.timezone for s in sessions}):
            calendar.add_component(_vtimezone(tzid, first_year, last_year))
    for session in sessions:
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
        calendar.add_component(event)
    return calendar.to_ical().decode()
