"""iCalendar files for a programme's sessions (RFC 5545), built with the icalendar library.

Every event names its ORGANIZER (the address the emails come from, so that Gmail and Outlook
apply an update to the event they hold); the iTIP updates (METHOD:REQUEST and CANCEL,
RFC 5546) are written for one recipient, named as ATTENDEE. Time zones are defined from
zoneinfo (`vtimezone`), and a calendar without sessions still holds one component (a VTIMEZONE),
as RFC 5545 requires."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Alarm, Calendar, Event, vCalAddress

from ..accounts.models import User
from ..catalogue.models import Programme, Session
from ..links import external_url
from ..timefmt import zone
from ..types import utcnow
from .vtimezone import vtimezone_text


def session_uid(session: Session) -> str:
    """Stable for the life of the session, so calendar updates replace rather than duplicate."""
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "learnhub"
    return f"session-{session.id}@{host}"


def build_calendar(
    name: str,
    sessions: Iterable[Session],
    *,
    method: str | None = "PUBLISH",
    alarm_minutes: tuple[int, ...] = (),
    attendee: User | None = None,
    home_zone: str = "UTC",
) -> str:
    """A VCALENDAR of sessions (each with its programme loaded), with their zones defined.

    METHOD:REQUEST with a higher SEQUENCE updates an event a calendar already holds under the
    same UID; METHOD:CANCEL (or a cancelled session) removes it. Those two name `attendee`
    (RFC 5546 requires an ATTENDEE); PUBLISH names none. Without sessions the calendar holds
    the VTIMEZONE of `home_zone`, its one component."""
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
        zones = {zone(s.timezone).key for s in sessions}
    else:
        first_year = last_year = stamp.year
        zones = {zone(home_zone).key}
    organizer = _organizer()
    invitee = _attendee(attendee) if attendee is not None and method != "PUBLISH" else None
    for session in sessions:
        event = _event(session, stamp, alarm_minutes)
        event.add("organizer", organizer)
        if invitee is not None:
            event.add("attendee", invitee)
        calendar.add_component(event)
    # The zones go first, as text kept from earlier calendars: an update is written for each
    # recipient, and writing the same VTIMEZONE out again each time was half of its cost.
    text = calendar.to_ical().decode()
    at = text.find("\r\nBEGIN:")
    at = (at if at >= 0 else text.rindex("\r\nEND:VCALENDAR")) + 2
    defined = "".join(vtimezone_text(tzid, first_year, last_year) for tzid in sorted(zones))
    return text[:at] + defined + text[at:]


def _organizer() -> vCalAddress:
    """The sender of the emails (MAIL_FROM): clients apply updates that come from the organiser."""
    name, address = parseaddr(current_app.config["MAIL_FROM"])
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = name or address
    return organizer


def _attendee(user: User) -> vCalAddress:
    """The recipient, whose seat is confirmed; replies are not read, so none is asked for."""
    attendee = vCalAddress(f"mailto:{user.email}")
    attendee.params.update(
        {
            "cn": user.full_name,
            "cutype": "INDIVIDUAL",
            "role": "REQ-PARTICIPANT",
            "partstat": "ACCEPTED",
            "rsvp": "FALSE",
        }
    )
    return attendee


def _local(instant: datetime, tzid: str) -> datetime:
    """The instant in the session's zone; in UTC when its local time comes twice (the hour after
    clocks go back), since a local time with TZID means its first occurrence (RFC 5545 3.3.5)."""
    local = instant.astimezone(zone(tzid))
    if local.fold and local.replace(fold=0).utcoffset() != local.utcoffset():
        return instant.astimezone(UTC)
    return local


def _event(session: Session, stamp, alarm_minutes: tuple[int, ...]) -> Event:
    programme = session.programme
    page = external_url("catalogue.programme", slug=programme.slug)
    event = Event()
    event.add("uid", session_uid(session))
    event.add("sequence", session.ics_sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", _local(session.starts_at, session.timezone))
    event.add("dtend", _local(session.ends_at, session.timezone))
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
        programme.title,
        [s for s in sessions if s.status == "scheduled"],
        method="PUBLISH",
        home_zone=programme.timezone,
    )


def session_change_calendar(session: Session, attendee: User) -> str:
    """The update of one session for one recipient: REQUEST with its new time, or CANCEL."""
    method = "CANCEL" if session.status == "cancelled" else "REQUEST"
    return build_calendar(session.programme.title, [session], method=method, attendee=attendee)
