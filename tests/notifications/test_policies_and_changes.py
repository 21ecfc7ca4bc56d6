"""Reminder policies, speaker run-sheets, DST, session moves and cancellations, two beats."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from learnhub.catalogue import services as catalogue
from learnhub.catalogue.models import SessionSpeaker
from learnhub.extensions import db
from learnhub.notifications.models import OutboxMessage, ReminderPolicy, ReminderRun
from learnhub.notifications.reminders import plan_due_reminders
from learnhub.types import utcnow
from tests import factories as f


def rows(kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def plan(now=None) -> list[int]:
    ids = plan_due_reminders(now or utcnow())
    db.session.commit()
    return ids


def session_in(delta: timedelta, **programme_fields):
    programme = f.make_programme(sessions=0, **programme_fields)
    session = f.make_session(programme, utcnow().replace(microsecond=0) + delta, title="Kick-off")
    return programme, session


def test_default_policy_includes_a_seven_day_reminder(app):
    programme, _ = session_in(timedelta(days=6, hours=12))
    f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=10))
    plan()
    (row,) = rows("reminder")
    assert row.dedupe_key.endswith(":10080")
    assert "in 6 days" in row.subject or "in 7 days" in row.subject


def test_programme_policy_replaces_the_default(app):
    programme, _ = session_in(timedelta(hours=20))
    f.save(ReminderPolicy(programme_id=programme.id, offsets_minutes="60"))
    f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=3))
    assert plan() == []
    programme2, _ = session_in(timedelta(minutes=50))
    f.save(ReminderPolicy(programme_id=programme2.id, offsets_minutes="60"))
    f.make_registration(programme2, confirmed_at=utcnow() - timedelta(days=3))
    assert len(plan()) == 1


def test_sessions_with_reminders_switched_off_get_none(app):
    programme, session = session_in(timedelta(minutes=50))
    session.reminders_enabled = False
    db.session.commit()
    f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=3))
    assert plan() == []


def test_speakers_get_a_run_sheet_in_their_own_zone(app):
    programme, session = session_in(timedelta(minutes=55), timezone="Asia/Shanghai")
    speaker = f.make_speaker(session, "Lola Ortiz Sánchez", "General Director")
    speaker.email = "lola@madrid.example"
    speaker.timezone = "Europe/Madrid"
    db.session.commit()
    f.make_speaker(session, "Luke Sherlock", "Director")  # no email: no reminder
    link = db.session.scalar(select(SessionSpeaker).where(SessionSpeaker.person_id == speaker.id))
    link.contribution = "Madrid 360 Environmental Sustainability Strategy"
    db.session.commit()
    plan()
    (row,) = map(f.written, rows("speaker_reminder"))
    assert row.to_address == "lola@madrid.example"
    assert "(Europe/Madrid)" in row.text_body and "(Asia/Shanghai)" in row.text_body
    assert "Madrid 360 Environmental Sustainability Strategy" in row.text_body
    assert "Luke Sherlock" in row.text_body


def test_a_closed_run_is_not_scanned_again(app):
    programme, session = session_in(timedelta(minutes=50))
    f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=3))
    assert len(plan()) == 1
    run = db.session.scalar(select(ReminderRun))
    assert (run.session_id, run.offset_minutes, run.planned) == (session.id, 60, 1)
    f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=2))
    assert plan() == [], "the run is closed: a late-committed registration is not re-scanned"


def test_the_24_hour_reminder_is_due_at_the_right_instant_across_a_dst_change(app):
    # Europe/Madrid leaves summer time on Sun 31 Oct 2027; the session is the next morning.
    programme = f.make_programme(sessions=0, timezone="Europe/Madrid")
    starts = datetime(2027, 11, 1, 8, 0, tzinfo=UTC)  # 09:00 CET
    f.make_session(programme, starts, minutes=90)
    madrid = f.make_user(timezone="Europe/Madrid")
    f.make_registration(programme, madrid, confirmed_at=datetime(2027, 10, 1, tzinfo=UTC))
    instant = starts - timedelta(hours=24)  # Sun 31 Oct, 09:00 CET = 08:00 UTC
    plan(instant - timedelta(minutes=1))
    assert [r.dedupe_key.rsplit(":", 1)[1] for r in rows("reminder")] == ["10080"]
    plan(instant)
    (day_before,) = [f.written(r) for r in rows("reminder") if r.dedupe_key.endswith(":1440")]
    assert "Mon 1 Nov 2027, 09:00–10:30 CET (Europe/Madrid)" in day_before.text_body
    assert "in 24 hours" in day_before.subject


def test_moving_a_session_sends_a_calendar_update_and_replans_reminders(app):
    programme, session = session_in(timedelta(minutes=50), timezone="Asia/Seoul")
    registration = f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=3))
    cancelled = f.make_registration(programme, status="cancelled")
    plan()
    (old_reminder,) = rows("reminder")
    new_start = utcnow().replace(microsecond=0) + timedelta(minutes=55)
    catalogue.reschedule_session(
        programme.id, session.id, new_start, new_start + timedelta(minutes=90)
    )
    db.session.refresh(old_reminder)
    assert old_reminder.status == "skipped" and "moved" in old_reminder.last_error
    (update,) = map(f.written, rows("session_changed"))
    assert update.registration_id == registration.id != cancelled.id
    calendar = Calendar.from_ical(update.ics)
    assert str(calendar["method"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]).startswith(f"session-{session.id}@")
    assert int(event["sequence"]) == 1
    assert event.decoded("dtstart") == new_start
    db.session.commit()  # the update kept as the worker keeps it once written
    plan()
    fresh = [r for r in rows("reminder") if r.status == "queued"]
    assert len(fresh) == 1 and fresh[0].expires_at == new_start


def test_cancelling_a_session_sends_method_cancel(app):
    programme, session = session_in(timedelta(days=2))
    f.make_registration(programme)
    catalogue.cancel_session(programme.id, session.id)
    (notice,) = map(f.written, rows("session_cancelled"))
    calendar = Calendar.from_ical(notice.ics)
    assert str(calendar["method"]) == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"
    assert int(event["sequence"]) == 1


def test_a_cancellation_of_long_titles_fits_the_subject(app):
    """The subject "Cancelled: <session> (<programme>)" joins two titles of up to 300
    characters: past the outbox's subject, which PostgreSQL refused (the organiser's cancel
    answered 500)."""
    long = ("Resilient city " * 20)[:300]
    programme, session = session_in(timedelta(days=2), title=long)
    session.title = long
    f.save(session)
    f.make_registration(programme)
    catalogue.cancel_session(programme.id, session.id)
    (notice,) = map(f.written, rows("session_cancelled"))
    assert len(notice.subject) == 300 and notice.subject.startswith("Cancelled: Resilient")


def test_bad_moves_are_refused(app):
    programme, session = session_in(timedelta(days=2))
    start = utcnow() + timedelta(days=3)
    for starts_at, ends_at, message in [
        (start, start - timedelta(hours=1), "end after it starts"),
        (utcnow() - timedelta(days=1), utcnow() - timedelta(hours=20), "in the future"),
    ]:
        try:
            catalogue.reschedule_session(programme.id, session.id, starts_at, ends_at)
        except catalogue.ScheduleError as error:
            assert message in str(error)
            db.session.rollback()
        else:
            raise AssertionError("the move should have been refused")
    assert rows() == []


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_move_to_a_date_out_of_range_is_a_form_error_not_a_500(client, day):
    """The move form took any date: on 9999-12-31 the calendar update's time zone block
    overflowed (ValueError: year 10000 is out of range), a 500."""
    programme, session = session_in(timedelta(days=2), timezone="America/Los_Angeles")
    f.sign_in(client, f.make_organiser(programme))
    response = client.post(
        f"/organiser/programmes/{programme.slug}/sessions/{session.id}/schedule",
        data={"day": day, "starts": "23:00", "ends": "23:30"},
    )
    assert response.status_code == 200  # the form again, as for its other errors
    assert "Enter a date between the years 2000 and 2100." in response.text
    db.session.refresh(session)
    assert session.version == 1 and rows() == []


def test_the_move_form_shows_and_takes_the_time_in_the_sessions_own_zone(client):
    """A webinar's session in Seoul, its programme in London: the move form read and wrote the
    time in London's zone while the session form shows Seoul's, so "10:00" moved it by hours."""
    programme = f.make_programme(sessions=0, timezone="Europe/London")
    session = f.make_session(
        programme, datetime(2027, 6, 10, 1, 0, tzinfo=UTC), timezone="Asia/Seoul"
    )
    f.sign_in(client, f.make_organiser(programme))
    url = f"/organiser/programmes/{programme.slug}/sessions/{session.id}/schedule"
    page = client.get(url).text
    assert 'value="2027-06-10"' in page and 'value="10:00"' in page
    assert "Enter the time in the session's zone, Asia/Seoul." in page
    response = client.post(
        url, data={"day": "2027-06-17", "starts": "10:00", "ends": "11:30", "confirmed": "yes"}
    )
    assert response.status_code == 302
    db.session.refresh(session)
    assert session.starts_at == datetime(2027, 6, 17, 1, 0, tzinfo=UTC)
    assert session.ends_at == datetime(2027, 6, 17, 2, 30, tzinfo=UTC)


def test_a_move_to_a_time_the_clocks_skip_is_refused_beside_the_field(client):
    """02:30 on 28 March 2027 does not exist in Berlin (the clocks go from 02:00 to 03:00): the
    move form took it and silently moved the session to another time."""
    programme, session = session_in(timedelta(days=2), timezone="Europe/Berlin")
    f.sign_in(client, f.make_organiser(programme))
    response = client.post(
        f"/organiser/programmes/{programme.slug}/sessions/{session.id}/schedule",
        data={"day": "2027-03-28", "starts": "02:30", "ends": "04:00"},
    )
    assert response.status_code == 200  # the form again, as for its other errors
    assert "02:30 does not exist on that day in Europe/Berlin" in response.text
    db.session.refresh(session)
    assert session.version == 1 and rows() == []


def test_a_session_that_crosses_midnight_can_be_moved(client):
    """23:53-00:53 the next day: the move form had no end date and refused it ("The session
    must end after it starts"). It shows the end date it has, and takes a new one."""
    programme = f.make_programme(sessions=0, timezone="America/Sao_Paulo")
    session = f.make_session(
        programme,
        datetime(2027, 6, 11, 2, 53, tzinfo=UTC),  # 23:53 on 10 June in São Paulo
        minutes=60,
        timezone="America/Sao_Paulo",
    )
    f.sign_in(client, f.make_organiser(programme))
    url = f"/organiser/programmes/{programme.slug}/sessions/{session.id}/schedule"
    page = client.get(url).text
    assert 'value="2027-06-10"' in page and 'value="2027-06-11"' in page
    refused = client.post(url, data={"day": "2027-06-17", "starts": "23:53", "ends": "00:53"})
    assert refused.status_code == 200
    assert "A session past midnight needs its end date." in refused.text
    moved = client.post(
        url,
        data={
            "day": "2027-06-17",
            "starts": "23:53",
            "ends": "00:53",
            "end_day": "2027-06-18",
            "confirmed": "yes",
        },
    )
    assert moved.status_code == 302
    db.session.refresh(session)
    assert session.starts_at == datetime(2027, 6, 18, 2, 53, tzinfo=UTC)
    assert session.ends_at == datetime(2027, 6, 18, 3, 53, tzinfo=UTC)


def test_two_beats_planning_the_same_minute_write_each_reminder_once(app):
    programme, _ = session_in(timedelta(minutes=45))
    for _ in range(5):
        f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=3))
    barrier = threading.Barrier(2)
    now = utcnow()

    def beat():
        with app.app_context():
            barrier.wait()
            plan_due_reminders(now)
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    db.session.rollback()
    count = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "reminder")
    )
    assert count == 5
