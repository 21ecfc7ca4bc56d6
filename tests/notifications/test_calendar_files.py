"""Calendar files as other software reads them (issue 20, items 8-10).

Every file the app writes (programme download, private feed, confirmation, move and cancel
emails) is read here by a second parser, vobject, which resolves times through the file's own
VTIMEZONE blocks, and compared with zoneinfo: the events' instants, and the zones' offsets
around every transition of the years the sessions span."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar
from sqlalchemy import select

from learnhub.catalogue import services as catalogue
from learnhub.extensions import db
from learnhub.notifications import delivery
from learnhub.notifications.models import DevMailboxMessage, OutboxMessage
from learnhub.notifications.services import queue_registration_email
from learnhub.notifications.vtimezone import vtimezone_text
from tests import factories as f

#: Two hemispheres' summer time, a zone whose summer starts at 01:00 UTC, and one without.
ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "Asia/Seoul")
YEAR = 2027


def zoneinfo_transitions(tzid: str, year: int) -> list[datetime]:
    """The UTC instants at which zoneinfo changes the zone's offset in a year (to the second)."""
    zone = ZoneInfo(tzid)
    found, at, end = [], datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    while at < end:
        later = at + timedelta(hours=6)
        if at.astimezone(zone).utcoffset() != later.astimezone(zone).utcoffset():
            low, high = at, later
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = middle
                else:
                    high = middle
            found.append(high.replace(microsecond=0))
        at = later
    return found


def sessions_around_transitions(programme, tzid: str) -> list:
    """Half-hour sessions starting 30 minutes before and after each change of the zone's
    offset (after a change back, that local time comes twice); two plain days where there is
    no change."""
    moments = zoneinfo_transitions(tzid, YEAR) or [
        datetime(YEAR, 3, 14, 7, tzinfo=UTC),
        datetime(YEAR, 11, 7, 6, tzinfo=UTC),
    ]
    return [
        f.make_session(programme, moment + shift, minutes=30, timezone=tzid, title=f"{tzid} {n}")
        for moment in moments
        for n, shift in enumerate((timedelta(minutes=-30), timedelta(minutes=30)))
    ]


def read_with_vobject(ics: str | bytes) -> dict[str, tuple[datetime, datetime]]:
    """Each event's (start, end) in UTC as vobject reads the file, each local time resolved
    through the file's own VTIMEZONE (vobject attaches the first zone it knows under a TZID,
    pytz's or another file's, so its own answer would not test this file).
    Also checks each zone against zoneinfo for the years its events span."""
    text = ics.decode() if isinstance(ics, bytes) else ics
    calendar = vobject.readOne(text)
    zones = {str(vtz.tzid.value): vtz.gettzinfo() for vtz in calendar.contents.get("vtimezone", [])}
    events = {}
    for event in calendar.contents.get("vevent", []):
        times = []
        for prop in (event.dtstart, event.dtend):
            # vobject moves TZID here once it has attached its own idea of the zone.
            tzid = prop.params.get("X-VOBJ-ORIGINAL-TZID", prop.params.get("TZID", [None]))[0]
            value = prop.value
            if tzid is not None:
                assert tzid in zones, f"TZID {tzid} is used but not defined"
                value = value.replace(tzinfo=zones[tzid])
            times.append(value.astimezone(UTC))
        events[str(event.uid.value)] = tuple(times)
    years = {moment.year for span in events.values() for moment in span}
    for tzid, tzinfo in zones.items():
        for year in sorted(years):
            assert_zone_agrees_with_zoneinfo(tzid, tzinfo, year)
    return events


def assert_zone_agrees_with_zoneinfo(tzid: str, parsed, year: int) -> None:
    """Offsets of the parsed zone and zoneinfo: at each transition and the second before it,
    twice a day all year, and for local times every 30 minutes around each transition."""
    zone = ZoneInfo(tzid)
    instants = [datetime(year, 1, 1, tzinfo=UTC) + timedelta(hours=12 * n) for n in range(731)]
    transitions = zoneinfo_transitions(tzid, year)
    for moment in transitions:
        instants += [moment - timedelta(seconds=1), moment]
    for instant in instants:
        assert instant.astimezone(parsed).utcoffset() == instant.astimezone(zone).utcoffset(), (
            f"{tzid}: {instant:%Y-%m-%d %H:%M:%S}Z"
        )
    for moment in transitions:
        start = moment.astimezone(zone).replace(tzinfo=None, minute=0, second=0)
        for step in range(-6, 7):
            local = start + timedelta(minutes=30 * step)
            expected = local.replace(tzinfo=zone).astimezone(UTC)
            if expected.astimezone(zone).replace(tzinfo=None) != local:
                continue  # a local time the change skips: no instant to compare
            assert local.replace(tzinfo=parsed).astimezone(UTC) == expected, f"{tzid}: {local}"


def assert_instants(events: dict, sessions: list) -> None:
    expected = {f"session-{s.id}@127.0.0.1": (s.starts_at, s.ends_at) for s in sessions}
    assert events == expected


def mailbox() -> list[email.message.EmailMessage]:
    raws = db.session.scalars(select(DevMailboxMessage.raw).order_by(DevMailboxMessage.id))
    return [email.message_from_string(raw, policy=policy.default) for raw in raws]


def private_feed(client, user) -> bytes:
    """The person's private feed, as a calendar application fetches it."""
    f.sign_in(client, user)
    page = client.post("/me/calendar").get_data(as_text=True)
    return client.get("/calendar/" + page.split("/calendar/")[1].split('"')[0]).data


def delivered_confirmation(app, registration) -> email.message.EmailMessage:
    with app.test_request_context():
        queue_registration_email(registration, "confirmed")
        db.session.commit()
    assert [o.status for o in delivery.drain()] == ["sent"]
    return mailbox()[-1]


def calendar_parts(message) -> tuple:
    """(the text/calendar part of multipart/alternative, the attached file)."""
    assert message.get_content_type() == "multipart/mixed"
    body, attachment = message.get_payload()
    assert body.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in body.get_payload()]
    assert types == ["text/plain", "text/html", "text/calendar"]
    assert attachment.get_content_disposition() == "attachment"
    return body.get_payload()[2], attachment


# --- item 9: time zone definitions ------------------------------------------------------------


@pytest.mark.parametrize("tzid", ZONES)
def test_programme_calendar_reads_the_same_in_vobject_around_each_transition(client, tzid):
    """icalendar's VTIMEZONE put each spring-forward onset an hour late (New York
    DTSTART:20250309T030000 with TZOFFSETFROM:-0500): vobject read those hours wrongly."""
    programme = f.make_programme(sessions=0, timezone=tzid)
    sessions = sessions_around_transitions(programme, tzid)
    response = client.get(f"/programmes/{programme.slug}/calendar.ics")
    assert_instants(read_with_vobject(response.data), sessions)


def test_the_issues_example_new_york_spring_2026(client):
    """2026-03-08 07:30 UTC is 03:30 EDT; vobject read the old block's zone as 02:30 EST."""
    programme = f.make_programme(sessions=0, timezone="America/New_York")
    session = f.make_session(programme, datetime(2026, 3, 8, 7, 30, tzinfo=UTC), minutes=60)
    ics = client.get(f"/programmes/{programme.slug}/calendar.ics").get_data(as_text=True)
    assert "DTSTART;TZID=America/New_York:20260308T033000" in ics
    calendar = vobject.readOne(ics)
    zone = calendar.vtimezone.gettzinfo()
    local = session.starts_at.astimezone(zone)
    assert (local.hour, local.minute, local.tzname()) == (3, 30, "EDT")
    assert_instants(read_with_vobject(ics), [session])


# --- every file the app writes, in four zones ----------------------------------------------------


@pytest.fixture
def world_programme(app):
    """One programme whose sessions are in four zones, around each zone's transitions."""
    programme = f.make_programme(sessions=0, timezone="Europe/London")
    sessions = [s for tzid in ZONES for s in sessions_around_transitions(programme, tzid)]
    user = f.make_user(timezone="Australia/Sydney", email="ana@example.org", full_name="Ana Lima")
    registration = f.make_registration(programme, user)
    return programme, sessions, registration


def test_every_calendar_file_reads_the_same_in_vobject(client, world_programme):
    programme, sessions, registration = world_programme
    download = client.get(f"/programmes/{programme.slug}/calendar.ics").data
    assert_instants(read_with_vobject(download), sessions)

    feed = private_feed(client, registration.user)
    assert_instants(read_with_vobject(feed), sessions)

    confirmation = delivered_confirmation(client.application, registration)
    for part in calendar_parts(confirmation):
        assert_instants(read_with_vobject(part.get_content()), sessions)

    new_york = [s for s in sessions if s.timezone == "America/New_York"]
    moved, cancelled = new_york[0], new_york[1]
    # Into the hour New York's clocks go back: 01:30 EDT, then 01:30 EST.
    fall_back = zoneinfo_transitions("America/New_York", YEAR)[1]
    catalogue.reschedule_session(
        programme.id, moved.id, fall_back + timedelta(minutes=30), fall_back + timedelta(hours=1)
    )
    catalogue.cancel_session(programme.id, cancelled.id)
    assert len(delivery.drain()) == 2
    _, move_email, cancel_email = mailbox()
    for message, session in ((move_email, moved), (cancel_email, cancelled)):
        db.session.refresh(session)
        for part in calendar_parts(message):
            assert_instants(read_with_vobject(part.get_content()), [session])


def test_a_time_that_comes_twice_is_written_in_utc(client):
    """01:30 on New York's fall-back night happens twice; a TZID time means the first, so the
    second (06:30 UTC) is written as UTC and the first keeps its zone."""
    programme = f.make_programme(sessions=0, timezone="America/New_York")
    first = f.make_session(programme, datetime(2027, 11, 7, 5, 30, tzinfo=UTC), minutes=30)
    second = f.make_session(programme, datetime(2027, 11, 7, 6, 30, tzinfo=UTC), minutes=30)
    ics = client.get(f"/programmes/{programme.slug}/calendar.ics").get_data(as_text=True)
    assert "DTSTART;TZID=America/New_York:20271107T013000" in ics
    assert "DTSTART:20271107T063000Z" in ics
    assert_instants(read_with_vobject(ics), [first, second])


# --- item 8: organiser, attendee, and the MIME structure ----------------------------------------


def test_updates_name_the_organiser_and_each_recipient_as_attendee(app):
    programme = f.make_programme(sessions=0, timezone="Asia/Seoul")
    session = f.make_session(programme, datetime(YEAR, 6, 1, 1, tzinfo=UTC))
    people = [
        f.make_registration(programme, f.make_user(email=address, full_name=name)).user
        for address, name in (("ana@example.org", "Ana Lima"), ("bo@example.org", "Bo Kim"))
    ]
    catalogue.reschedule_session(
        programme.id,
        session.id,
        session.starts_at + timedelta(hours=2),
        session.ends_at + timedelta(hours=2),
    )
    catalogue.cancel_session(programme.id, session.id)
    rows = [
        f.written(r) for r in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    ]
    assert [(r.kind, r.to_address) for r in rows] == [
        ("session_changed", "ana@example.org"),
        ("session_changed", "bo@example.org"),
        ("session_cancelled", "ana@example.org"),
        ("session_cancelled", "bo@example.org"),
    ]
    for row, person in zip(rows, people * 2, strict=True):
        (event,) = Calendar.from_ical(row.ics).walk("VEVENT")
        organizer = event["organizer"]
        assert str(organizer) == "mailto:no-reply@learnhub.local"
        assert organizer.params["CN"] == "LearnHub"
        attendee = event["attendee"]
        assert str(attendee) == f"mailto:{person.email}"
        assert attendee.params["CN"] == person.full_name
        assert (attendee.params["PARTSTAT"], attendee.params["RSVP"]) == ("ACCEPTED", "FALSE")
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"


def test_published_calendars_name_the_organiser_and_no_attendee(client):
    """RFC 5546: PUBLISH has an ORGANIZER and no ATTENDEE."""
    programme = f.make_programme(sessions=2)
    calendar = Calendar.from_ical(client.get(f"/programmes/{programme.slug}/calendar.ics").data)
    assert str(calendar["method"]) == "PUBLISH"
    for event in calendar.walk("VEVENT"):
        assert str(event["organizer"]) == "mailto:no-reply@learnhub.local"
        assert "attendee" not in event


@pytest.mark.parametrize("change", ["move", "cancel"])
def test_update_emails_carry_the_calendar_as_an_alternative_part_and_a_file(app, change):
    programme = f.make_programme(sessions=0)
    session = f.make_session(programme, datetime(YEAR, 6, 1, 1, tzinfo=UTC))
    f.make_registration(programme)
    if change == "move":
        catalogue.reschedule_session(
            programme.id, session.id, session.starts_at + timedelta(hours=1), session.ends_at
        )
    else:
        catalogue.cancel_session(programme.id, session.id)
    delivery.drain()
    (message,) = mailbox()
    invitation, attachment = calendar_parts(message)
    method = "REQUEST" if change == "move" else "CANCEL"
    assert invitation.get_param("method") == method
    assert invitation.get_content_disposition() is None
    assert f"METHOD:{method}" in invitation.get_content()
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") is None  # a file, not a second iTIP message
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content() == invitation.get_content()


def test_the_confirmation_carries_its_calendar_both_ways_as_publish(app):
    programme = f.make_programme(sessions=2)
    registration = f.make_registration(programme)
    invitation, attachment = calendar_parts(delivered_confirmation(app, registration))
    assert invitation.get_param("method") == "PUBLISH"
    assert attachment.get_filename() == "sessions.ics"
    assert len(Calendar.from_ical(attachment.get_content()).walk("VEVENT")) == 2


# --- item 10: a calendar always holds a component ---------------------------------------------


def test_a_programme_without_sessions_serves_a_calendar_with_its_zone(client):
    """RFC 5545 requires at least one component; the old file was an empty VCALENDAR."""
    programme = f.make_programme(sessions=0, timezone="Australia/Sydney")
    cancelled = f.make_session(programme, datetime(YEAR, 6, 1, 1, tzinfo=UTC), status="cancelled")
    assert cancelled.status == "cancelled"
    response = client.get(f"/programmes/{programme.slug}/calendar.ics")
    calendar = Calendar.from_ical(response.data)
    assert [c.name for c in calendar.subcomponents] == ["VTIMEZONE"]
    assert str(calendar.subcomponents[0]["tzid"]) == "Australia/Sydney"
    assert read_with_vobject(response.data) == {}


def test_an_empty_feed_and_confirmation_hold_a_component(client):
    programme = f.make_programme(sessions=0, timezone="Asia/Seoul")
    user = f.make_user(timezone="Europe/London")
    registration = f.make_registration(programme, user)
    feed = Calendar.from_ical(private_feed(client, user))
    assert [str(c["tzid"]) for c in feed.subcomponents] == ["Europe/London"]
    for part in calendar_parts(delivered_confirmation(client.application, registration)):
        calendar = Calendar.from_ical(part.get_content())
        assert [str(c["tzid"]) for c in calendar.subcomponents] == ["Asia/Seoul"]


@pytest.mark.parametrize(
    "tzid",
    [
        "Africa/Casablanca",  # moves with Ramadan: no yearly rule, its onsets listed (RDATE)
        "Europe/Dublin",  # "negative" summer time: zoneinfo marks winter as the daylight part
        "Australia/Lord_Howe",  # a half-hour change
        "Pacific/Chatham",  # +12:45 / +13:45
        "America/Sao_Paulo",  # no change since 2019
    ],
)
def test_vtimezone_of_unusual_zones_agrees_with_zoneinfo(tzid):
    block = vtimezone_text(tzid, 2025, 2028)
    ics = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{block}END:VCALENDAR\r\n"
    parsed = vobject.readOne(ics).vtimezone.gettzinfo()
    for year in range(2025, 2029):
        assert_zone_agrees_with_zoneinfo(tzid, parsed, year)


def test_yearly_changes_are_written_as_rules_outlook_reads():
    """Outlook takes a zone's changes from a yearly RRULE with one BYDAY (RDATE it may ignore)."""
    block = vtimezone_text("America/New_York", 2026, 2028)
    assert "RDATE" not in block
    assert "DTSTART:20260308T020000\r\nRRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r\n" in block
    assert "DTSTART:20251102T020000\r\nRRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\n" in block
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in vtimezone_text("Europe/London", 2026, 2028)
