"""One-click unsubscribe, preferences, calendar feeds, announcements, follow-ups, retries."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy as email_policy

import pytest
from flask import current_app
from icalendar import Calendar
from sqlalchemy import select

from learnhub.attendance.models import Attendance
from learnhub.catalogue import services as catalogue
from learnhub.catalogue.models import Material
from learnhub.extensions import db
from learnhub.notifications import announcements, delivery
from learnhub.notifications.models import Announcement, DevMailboxMessage, OutboxMessage
from learnhub.notifications.preferences import unsubscribe_url
from learnhub.notifications.reminders import plan_due_reminders
from learnhub.types import utcnow
from tests import factories as f
from tests.factories import sign_in


def unsubscribe_path(row) -> str:
    """The path of the one-click unsubscribe address the worker writes into the row's email."""
    with current_app.test_request_context():
        url = unsubscribe_url(row.user_id, row.category)
    return "/" + url.split("/", 3)[3]


def reminder_for(app, programme_fields=None):
    programme = f.make_programme(sessions=0, **(programme_fields or {}))
    session = f.make_session(programme, utcnow().replace(microsecond=0) + timedelta(minutes=50))
    registration = f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=2))
    with app.test_request_context():
        plan_due_reminders(utcnow())
        db.session.commit()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
    return programme, session, registration, row


def test_reminders_carry_one_click_unsubscribe_headers(app):
    _, _, _, row = reminder_for(app)
    assert delivery.drain()[0].status == "sent"
    raw = db.session.scalar(select(DevMailboxMessage.raw))
    parsed = email.message_from_string(raw, policy=email_policy.default)
    db.session.refresh(row)
    assert row.unsubscribe_url.endswith(unsubscribe_path(row))
    assert parsed["List-Unsubscribe"].strip() == f"<{row.unsubscribe_url}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_one_click_post_unsubscribes_without_cookie_or_csrf(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        _, _, registration, row = reminder_for(app)
        path = unsubscribe_path(row)
        response = app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        assert "unsubscribed" in response.get_data(as_text=True)
        outcome = delivery.drain()
        assert outcome[0].status == "skipped"
        assert "switched off reminders" in outcome[0].reason


def test_unsubscribing_does_not_stop_confirmations(client, app):
    _, _, registration, row = reminder_for(app)
    path = unsubscribe_path(row)
    client.post(path)
    programme = f.make_programme()
    client.post(
        f"/programmes/{programme.slug}/register",
        data=f.registration_form(email=registration.user.email),
    )
    kinds = {o.status for o in delivery.drain() if o.status == "sent"}
    assert kinds == {"sent"}
    assert (
        db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.kind == "confirmation"))
        == "sent"
    )


def test_a_forged_unsubscribe_token_is_refused(client):
    response = client.post("/email/unsubscribe/not-a-token/reminders")
    assert response.status_code == 404
    assert "not valid" in response.get_data(as_text=True)


def test_preferences_page_by_token_and_signed_in(client, app):
    _, _, registration, row = reminder_for(app)
    with app.test_request_context():
        from learnhub.notifications.preferences import preference_token, preferences_of

        token = preference_token(registration.user_id)
    page = client.get(f"/email/preferences/{token}")
    assert page.status_code == 200 and "Which emails do you want?" in page.get_data(as_text=True)
    client.post(f"/email/preferences/{token}", data={"reminders": "y"})
    assert preferences_of(registration.user_id) == {"reminders": True, "announcements": False}
    sign_in(client, registration.user)
    client.post("/me/email-preferences", data={"announcements": "y"})
    assert preferences_of(registration.user_id) == {"reminders": False, "announcements": True}


def test_private_calendar_feed_with_alarms_can_be_revoked(client):
    programme = f.make_programme(sessions=2, timezone="Asia/Seoul")
    user = f.make_user()
    f.make_registration(programme, user)
    other = f.make_programme(title="Not mine")
    sign_in(client, user)
    page = client.post("/me/calendar").get_data(as_text=True)
    feed_path = "/calendar/" + page.split("/calendar/")[1].split('"')[0]
    feed = client.get(feed_path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    calendar = Calendar.from_ical(feed.data)
    events = calendar.walk("VEVENT")
    assert len(events) == 2
    assert all(other.title not in str(e["summary"]) for e in events)
    assert len(events[0].walk("VALARM")) == 2
    client.post("/me/calendar/revoke")
    assert client.get(feed_path).status_code == 404


def test_programme_page_offers_its_calendar(client):
    programme = f.make_programme(sessions=3)
    response = client.get(f"/programmes/{programme.slug}/calendar.ics")
    assert response.status_code == 200
    assert len(Calendar.from_ical(response.data).walk("VEVENT")) == 3
    assert client.get("/programmes/nope/calendar.ics").status_code == 404


@pytest.fixture
def attended_programme(app):
    programme = f.make_programme(sessions=0)
    past = f.make_session(programme, utcnow() - timedelta(days=1), title="Opening")
    organiser = f.make_organiser(programme)
    came = f.make_registration(programme, f.make_user(full_name="Came Along"))
    missed = f.make_registration(programme, f.make_user(full_name="Missed It"))
    waiting = f.make_registration(programme, status="waitlisted")
    f.save(
        Attendance(session_id=past.id, registration_id=came.id, status="present"),
        Attendance(session_id=past.id, registration_id=missed.id, status="absent"),
    )
    return programme, past, organiser, came, missed, waiting


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        ("confirmed", {"came", "missed"}),
        ("waitlisted", {"waiting"}),
        ("attended", {"came"}),
        ("missed", {"missed"}),
        ("everyone", {"came", "missed", "waiting"}),
    ],
)
def test_announcement_audiences(app, attended_programme, audience, expected):
    programme, past, organiser, came, missed, waiting = attended_programme
    names = {came.id: "came", missed.id: "missed", waiting.id: "waiting"}
    with app.test_request_context():
        draft = announcements.create_draft(
            announcements.AnnouncementInput(
                programme.id, organiser.id, "Hello", "**News**", audience, past.id
            )
        )
        announcements.queue_for_sending(draft.id, programme.id)
        written = announcements.write_emails(draft.id)
        assert announcements.write_emails(draft.id) == 0, "a second run writes nothing"
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "announcement"))
    assert {names[r.registration_id] for r in rows} == expected
    assert written == len(expected)
    db.session.refresh(draft)
    assert (draft.status, draft.recipients) == ("sent", len(expected))


def test_organiser_previews_then_sends_an_announcement(client, attended_programme):
    programme, past, organiser, *_ = attended_programme
    sign_in(client, organiser)
    response = client.post(
        f"/organiser/programmes/{programme.slug}/announcements",
        data={"audience": "confirmed", "session_id": "0", "subject": "Slides", "body": "See *you*"},
    )
    assert response.status_code == 302
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 people" in preview and "See *you*" in preview
    announcement = db.session.scalar(select(Announcement))
    client.post(f"{response.headers['Location']}/send")
    db.session.refresh(announcement)
    assert announcement.status == "queued"
    again = client.post(f"{response.headers['Location']}/send", follow_redirects=True)
    assert "already been sent" in again.get_data(as_text=True)
    assert "(0 so far)" in again.get_data(as_text=True)
    # The page follows the worker: emails written, then delivered, failed or skipped.
    announcements.write_emails(announcement.id)
    first, second = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "announcement").order_by(OutboxMessage.id)
    )
    first.status, second.status = "sent", "failed"
    db.session.commit()
    assert announcements.delivery_progress(announcement.id) == {
        "written": 2, "waiting": 0, "sent": 1, "failed": 1, "skipped": 0,
    }  # fmt: skip
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "All 2 emails are written" in page
    assert "<td>1</td><td>0</td><td>1</td><td>0</td>" in page


def test_announcement_for_missed_needs_a_session(client, attended_programme):
    programme, _, organiser, *_ = attended_programme
    sign_in(client, organiser)
    response = client.post(
        f"/organiser/programmes/{programme.slug}/announcements",
        data={"audience": "missed", "session_id": "0", "subject": "We missed you", "body": "x"},
    )
    assert response.status_code == 422
    assert "Choose the session" in response.get_data(as_text=True)


@pytest.mark.parametrize("odd", ["²", "99999999999999999999"])
def test_an_announcements_session_that_is_no_row_id_is_a_form_error_not_a_500(
    client, attended_programme, odd
):
    """SQLite cannot bind a session id past the largest row id (OverflowError): a 500."""
    programme, _, organiser, *_ = attended_programme
    sign_in(client, organiser)
    response = client.post(
        f"/organiser/programmes/{programme.slug}/announcements",
        data={"audience": "missed", "session_id": odd, "subject": "We missed you", "body": "x"},
    )
    assert response.status_code == 422
    assert "invalid choice" in response.text.lower()
    assert db.session.scalar(select(Announcement.id)) is None


def test_a_nul_character_in_an_announcement_is_dropped_not_a_500(client, attended_programme):
    """PostgreSQL refuses NUL in text (DataError, a 500); the subject dropped it, the body
    did not."""
    programme, _, organiser, *_ = attended_programme
    sign_in(client, organiser)
    response = client.post(
        f"/organiser/programmes/{programme.slug}/announcements",
        data={"audience": "confirmed", "subject": "Slides", "body": "Slides\x00 attached\n"},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Announcement.body)) == "Slides attached\n"


def test_recording_follow_up_speaks_to_attendees_and_absentees(app, attended_programme):
    programme, past, _, came, missed, _ = attended_programme
    with app.test_request_context():
        catalogue.add_recording(programme.id, past.id, "", "https://video.example.org/opening")
    rows = {
        r.registration_id: f.written(r)
        for r in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "recording_available")
        )
    }
    assert set(rows) == {came.id, missed.id}
    assert "Thank you for attending" in rows[came.id].text_body
    assert "You missed" in rows[missed.id].text_body
    assert "https://video.example.org/opening" in rows[missed.id].text_body


def test_a_recording_of_a_session_with_a_300_character_title_is_added(client, attended_programme):
    """Left without a title, a recording is called "Recording: <session title>": past the
    material's 300 characters, which PostgreSQL refused (a 500 for the organiser)."""
    programme, past, organiser, *_ = attended_programme
    past.title = ("Opening session " * 20)[:300]
    f.save(past)
    sign_in(client, organiser)
    response = client.post(
        f"/organiser/programmes/{programme.slug}/sessions/{past.id}/recording",
        data={"title": "", "url": "https://video.example.org/opening", "confirmed": "yes"},
    )
    assert response.status_code == 302
    recording = db.session.scalar(select(Material).where(Material.kind == "recording"))
    assert recording.title.startswith("Recording: Opening session")
    assert len(recording.title) <= 300 and recording.title.endswith("…")
    subjects = db.session.scalars(select(OutboxMessage.subject)).all()
    assert len(subjects) == 2 and all(len(subject) <= 300 for subject in subjects)


def test_recording_cannot_be_added_before_the_session(app):
    programme = f.make_programme()
    with app.test_request_context(), pytest.raises(catalogue.ScheduleError):
        catalogue.add_recording(programme.id, programme.sessions[0].id, "", "https://x.org/v")


def test_organiser_sees_each_registrants_delivery_state(client, app, attended_programme):
    programme, _, organiser, came, *_ = attended_programme
    failed = f.save(
        OutboxMessage(
            kind="announcement",
            dedupe_key="x",
            to_address=came.user.email,
            subject="Slides",
            text_body="t",
            html_body="h",
            registration_id=came.id,
            status="failed",
            last_error="550 No such user",
        )
    )
    sign_in(client, organiser)
    html = client.get(f"/organiser/programmes/{programme.slug}/deliveries").get_data(as_text=True)
    assert "Came Along" in html and "550 No such user" in html
    admin = f.make_user(role="admin")
    sign_in(client, admin)
    assert "550 No such user" in client.get("/admin/outbox").get_data(as_text=True)
    client.post("/admin/outbox/retry", data={"outbox_id": str(failed.id)})
    db.session.refresh(failed)
    assert failed.status == "queued"


@pytest.mark.parametrize("odd", ["²", "99999999999999999999"])
def test_retrying_an_outbox_id_that_is_no_row_id_is_refused_not_a_500(client, odd):
    """ "²" passes str.isdigit() but int() refuses it; SQLite cannot bind a number past the
    largest row id. Both answered 500; now the administrator is asked to choose a message."""
    sign_in(client, f.make_user(role="admin"))
    response = client.post("/admin/outbox/retry", data={"outbox_id": odd})
    assert response.status_code == 302
    assert "Choose at least one message to retry." in client.get("/admin/outbox").text


def test_a_subject_with_a_line_break_is_cleaned_where_it_is_typed(client, attended_programme):
    """A header injection typed into the subject becomes one harmless line: the email that
    goes out has no extra header and no extra recipient."""
    programme, _, organiser, *_ = attended_programme
    sign_in(client, organiser)
    response = client.post(
        f"/organiser/programmes/{programme.slug}/announcements",
        data={
            "audience": "confirmed",
            "session_id": "0",
            "subject": "Hello\r\nBcc: x@evil.example",
            "body": "See you",
        },
    )
    assert response.status_code == 302
    announcement = db.session.scalar(select(Announcement))
    assert announcement.subject == "Hello Bcc: x@evil.example"


def test_one_line_fields_turn_control_characters_into_a_space():
    from learnhub.forms import one_line

    assert one_line("  Ana\r\n\tLúcia\u2028Souza\x00 ") == "Ana Lúcia Souza"
    assert one_line(None) is None
