"""Reminder planning (rule 4): keyed rows, no duplicates, nothing late, nothing for latecomers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from learnhub.accounts.models import User
from learnhub.extensions import db
from learnhub.notifications.models import OutboxMessage
from learnhub.notifications.reminders import plan_due_reminders
from learnhub.types import utcnow
from tests import factories as f


def reminders() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")))


def programme_with_session_in(delta: timedelta, **fields):
    programme = f.make_programme(sessions=0, **fields)
    session = f.make_session(programme, utcnow().replace(microsecond=0) + delta, title="Kick-off")
    return programme, session


def test_one_hour_reminders_go_to_confirmed_registrants_only(app):
    programme, session = programme_with_session_in(timedelta(minutes=59))
    early = utcnow() - timedelta(days=2)
    confirmed = [f.make_registration(programme, confirmed_at=early) for _ in range(3)]
    f.make_registration(programme, status="cancelled")
    f.make_registration(programme, status="waitlisted")
    ids = plan_due_reminders(utcnow())
    db.session.commit()
    rows = reminders()
    assert sorted(ids) == sorted(r.id for r in rows)
    assert sorted(r.registration_id for r in rows) == sorted(r.id for r in confirmed)
    assert {r.dedupe_key.rsplit(":", 1)[1] for r in rows} == {"60"}
    assert all(r.expires_at == session.starts_at for r in rows)
    assert all("in 1 hour" in r.subject for r in rows)


def test_a_300_character_title_still_fits_the_reminders_subject(app):
    """The subjects "Reminder: <title> starts in 1 hour" and a speaker's "Run-sheet: ...:
    <title>" were longer than the outbox's 300-character subject: PostgreSQL refused the
    rows, and every reminder of that planning run with them."""
    programme, session = programme_with_session_in(
        timedelta(minutes=59), title=("Resilient city " * 20)[:300]
    )
    f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=2))
    speaker = f.make_speaker(session, "Ana Speaker", "Mayor")
    speaker.email = "ana@example.org"
    f.save(speaker)
    plan_due_reminders(utcnow())
    db.session.commit()
    subjects = db.session.scalars(
        select(OutboxMessage.subject).where(
            OutboxMessage.kind.in_(("reminder", "speaker_reminder"))
        )
    ).all()
    assert len(subjects) == 2
    assert all(len(subject) <= 300 and subject.endswith("…") for subject in subjects)


def test_planning_twice_writes_nothing_new(app):
    programme, _ = programme_with_session_in(timedelta(minutes=30))
    f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=1))
    assert len(plan_due_reminders(utcnow())) == 1
    db.session.commit()
    assert plan_due_reminders(utcnow()) == []
    db.session.commit()
    assert len(reminders()) == 1


def test_nothing_is_planned_before_the_instant(app):
    programme, _ = programme_with_session_in(timedelta(minutes=61 + 24 * 60))
    f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=3))
    assert plan_due_reminders(utcnow()) == []


def test_twenty_four_hour_reminder(app):
    programme, _ = programme_with_session_in(timedelta(hours=23))
    f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=3))
    plan_due_reminders(utcnow())
    db.session.commit()
    (row,) = reminders()
    assert row.dedupe_key.endswith(":1440")
    assert "in 23 hours" in row.subject


def test_an_unplanned_24_hour_reminder_is_superseded_by_the_1_hour_one(app):
    programme, _ = programme_with_session_in(timedelta(minutes=50))
    f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=3))
    plan_due_reminders(utcnow())
    db.session.commit()
    assert [r.dedupe_key.rsplit(":", 1)[1] for r in reminders()] == ["60"]


def test_registered_after_the_instant_gets_no_reminder_for_it(app):
    programme, session = programme_with_session_in(timedelta(minutes=40))
    f.make_registration(programme, confirmed_at=session.starts_at - timedelta(minutes=50))
    f.make_registration(programme, confirmed_at=session.starts_at - timedelta(minutes=70))
    plan_due_reminders(utcnow())
    db.session.commit()
    assert len(reminders()) == 1


def test_started_sessions_and_drafts_get_no_reminders(app):
    started, _ = programme_with_session_in(timedelta(minutes=-5))
    draft, _ = programme_with_session_in(timedelta(minutes=30), status="draft")
    for programme in (started, draft):
        f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=1))
    assert plan_due_reminders(utcnow()) == []


def test_reminder_shows_the_session_in_both_zones_and_the_join_link(app):
    programme, session = programme_with_session_in(timedelta(minutes=45), timezone="Asia/Seoul")
    user = f.make_user(timezone="America/Sao_Paulo")
    f.make_registration(programme, user, confirmed_at=utcnow() - timedelta(days=1))
    session.join_url = "https://meet.example.org/kick-off"
    db.session.commit()
    plan_due_reminders(utcnow())
    db.session.commit()
    (row,) = map(f.written, reminders())
    assert "(Asia/Seoul)" in row.text_body
    assert "(America/Sao_Paulo)" in row.text_body
    assert "https://meet.example.org/kick-off" in row.text_body


def test_each_recipient_gets_what_rendering_them_alone_gives(app):
    """Reminders are written per recipient when the worker claims them: each row must be what
    the reminder's writer gives for that recipient alone (names needing HTML escaping, several
    zones, a missing optional field)."""
    from learnhub.notifications import reminders as planner
    from learnhub.notifications.preferences import unsubscribe_url
    from learnhub.notifications.reminder_emails import reminder_email

    programme, session = programme_with_session_in(timedelta(minutes=59))
    f.make_organiser(programme, email="organiser@example.org")
    early = utcnow() - timedelta(days=2)
    people = [
        f.make_user(full_name='Ana <O\'Brien> & "Co"', timezone="Europe/Madrid"),
        f.make_user(full_name="Zhang Wei", timezone="Asia/Shanghai"),
        f.make_user(full_name="João Silva", timezone="Europe/Madrid"),
        f.make_user(full_name="Kim", timezone="Asia/Seoul"),
    ]
    people[3].city = "Seoul"
    f.save(people[3])
    registrations = [f.make_registration(programme, user, confirmed_at=early) for user in people]
    now = utcnow()
    with app.test_request_context():
        plan_due_reminders(now)
        db.session.commit()
        rows = {r.registration_id: f.written(r) for r in reminders()}
        for registration in registrations:
            user = registration.user
            written = reminder_email(session, user, now)
            expected = {
                "kind": "reminder",
                "dedupe_key": planner.reminder_key(session, f"r{registration.id}", 60),
                "to_address": user.email,
                "subject": written.subject,
                "text_body": written.text_body,
                "html_body": written.html_body,
                "registration_id": registration.id,
                "user_id": user.id,
                "session_id": session.id,
                "category": "reminders",
                "unsubscribe_url": unsubscribe_url(user.id, "reminders"),
                "reply_to": "organiser@example.org",
                "expires_at": session.starts_at,
            }
            row = rows[registration.id]
            assert {name: getattr(row, name) for name in expected} == expected
    assert "Ana &lt;O&#39;Brien&gt; &amp; &#34;Co&#34;" in rows[registrations[0].id].html_body
    assert 'Ana <O\'Brien> & "Co"' in rows[registrations[0].id].text_body


def _first_name_upper(name: str) -> str:
    return name.split()[0].upper()


def _escaped(name: str) -> str:
    from markupsafe import escape

    return str(escape(name))


@pytest.mark.parametrize(
    ("transform", "names"),
    [(_first_name_upper, ("Ana Lima", "Bo Chen")), (_escaped, ("Ana & Bo", "Cy <Dee>"))],
)
def test_a_template_that_transforms_a_personal_value_is_rendered_per_recipient(
    app, monkeypatch, transform, names
):
    """A text body showing a name transformed (upper case, HTML-escaped): each recipient's
    reminder is written for them alone, so each shows their own name so transformed."""
    import dataclasses

    from learnhub.notifications import reminder_emails

    programme, _ = programme_with_session_in(timedelta(minutes=59))
    early = utcnow() - timedelta(days=2)
    for name in names:
        f.make_registration(programme, f.make_user(full_name=name), confirmed_at=early)
    real = reminder_emails.reminder_email

    def transforming(session, user, now):
        written = real(session, user, now)
        return dataclasses.replace(written, text_body=written.text_body + transform(user.full_name))

    monkeypatch.setattr(reminder_emails, "reminder_email", transforming)
    with app.test_request_context():
        plan_due_reminders(utcnow())
        db.session.commit()
        rows = [f.written(row) for row in reminders()]
    assert len(rows) == 2
    for row in rows:
        assert row.text_body.endswith(transform(db.session.get(User, row.user_id).full_name))
