"""Nothing that emails people or removes data happens on one click (issue 14): a confirmation
page (a plain form, no JavaScript) says what happens and who is told, takes a note for the
email, and only its own submit acts. The moved email gives the old and the new time; a
session dated in the past needs an explicit confirmation when created or moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from learnhub.catalogue.models import Material, Module, Session
from learnhub.extensions import db
from learnhub.learning import services as learning
from learnhub.notifications.models import OutboxMessage
from learnhub.registration.models import RegistrationQuestion
from learnhub.types import utcnow
from tests import factories as f


def _emails(kind: str) -> list[OutboxMessage]:
    db.session.rollback()
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))
    return [f.written(row) for row in rows]  # as the worker writes them when it sends them


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def _programme(client, **fields):
    programme = f.make_programme(sessions=2, first_session_in=timedelta(days=3), **fields)
    organiser = f.make_organiser(programme)
    f.sign_in(client, organiser)
    return programme, organiser, f"/organiser/programmes/{programme.slug}"


def test_cancelling_a_session_asks_first_then_emails_the_note(client):
    programme, _, base = _programme(client, timezone="Asia/Seoul")
    for name in ("Ana Souza", "Budi Santoso"):
        f.make_registration(programme, f.make_user(full_name=name))
    session = programme.sessions[0]
    url = f"{base}/sessions/{session.id}/cancel"
    asked = client.post(url)
    assert asked.status_code == 200
    page = asked.text
    assert "2 confirmed registrants" in page and "A note for the email" in page
    assert 'name="confirmed" value="yes"' in page and '<form method="post">' in page
    db.session.refresh(session)
    assert session.status == "scheduled" and _emails("session_cancelled") == []
    done = client.post(
        url, data={"confirmed": "yes", "note": "Our speaker is ill; see you next week."}
    )
    assert done.status_code == 302
    emails = _emails("session_cancelled")
    assert len(emails) == 2
    for email in emails:
        assert "A note from the organisers:" in email.text_body
        assert "Our speaker is ill; see you next week." in email.text_body
        assert "Our speaker is ill; see you next week." in email.html_body


def test_a_cancellation_without_a_note_says_nothing_more(client):
    programme, _, base = _programme(client)
    f.make_registration(programme)
    session = programme.sessions[0]
    client.post(f"{base}/sessions/{session.id}/cancel", data={"confirmed": "yes"})
    (email,) = _emails("session_cancelled")
    assert "A note from the organisers" not in email.text_body


def test_the_moved_email_gives_the_old_and_the_new_time(client):
    programme, _, base = _programme(client, timezone="Europe/Madrid")
    f.make_registration(programme, f.make_user(timezone="Europe/Madrid"))
    session = programme.sessions[0]
    session.starts_at = datetime(2030, 3, 12, 9, 0, tzinfo=UTC)
    session.ends_at = datetime(2030, 3, 12, 10, 30, tzinfo=UTC)
    f.save(session)
    url = f"{base}/sessions/{session.id}/schedule"
    move = {"day": "2030-03-14", "starts": "15:00", "ends": "16:30"}
    asked = client.post(url, data=move)
    assert asked.status_code == 200 and "Move the session and email them" in asked.text
    assert "1 confirmed registrant" in asked.text
    assert 'name="end_day"' in asked.text and 'value="2030-03-14"' in asked.text
    assert _emails("session_changed") == [], "nothing is sent before the confirmation"
    db.session.refresh(session)
    assert session.starts_at == datetime(2030, 3, 12, 9, 0, tzinfo=UTC)
    response = client.post(
        url, data={**move, "confirmed": "yes", "note": "The venue changed, sorry."}
    )
    assert response.status_code == 302, response.text
    (email,) = _emails("session_changed")
    assert "The venue changed, sorry." in email.text_body
    text = email.text_body
    new_at, old_at = text.index("Thu 14 Mar 2030, 15:00"), text.index("Tue 12 Mar 2030, 10:00")
    assert "It was planned for:" in text and new_at < text.index("It was planned for:") < old_at
    assert "Tue 12 Mar 2030, 10:00" in email.html_body


def test_removing_a_module_a_material_a_question_or_a_draft_session_asks_first(client):
    programme, _, base = _programme(client, status="draft")
    module = f.make_module(programme, 1, "Climate resilience")
    material = f.make_material(programme, title="Reading A")
    question = f.save(
        RegistrationQuestion(
            programme_id=programme.id, position=1, label="City?", kind="short_text"
        )
    )
    session = programme.sessions[0]
    for url, model, wording in [
        (f"{base}/modules/{module.id}/delete", Module, "Remove the module “Climate resilience”?"),
        (f"{base}/materials/{material.id}/delete", Material, "Remove the material “Reading A”?"),
        (f"{base}/questions/{question.id}/delete", RegistrationQuestion, "every answer to it"),
        (f"{base}/sessions/{session.id}/delete", Session, "Remove the session “Session 1”?"),
    ]:
        before = _count(model)
        asked = client.post(url)
        assert asked.status_code == 200 and wording in asked.text
        assert "nobody is emailed" in asked.text
        assert _count(model) == before  # nothing removed yet
        assert client.post(url, data={"confirmed": "yes"}).status_code == 302
        assert _count(model) == before - 1


def test_revoking_a_certificate_asks_first(client, app):
    programme, organiser, base = _programme(client)
    registration = f.early_registration(programme, f.make_user(full_name="Ana Souza"))
    with app.test_request_context():
        certificate = learning.issue_by_hand(programme.id, registration.id, "In person")
    f.sign_in(client, organiser)
    url = f"{base}/certificates/{certificate.id}/revoke"
    asked = client.post(url, data={"reason": "Issued in error"})
    assert asked.status_code == 200
    assert "Revoke the certificate of Ana Souza?" in asked.text and "Issued in error" in asked.text
    db.session.refresh(certificate)
    assert certificate.revoked_at is None
    assert (
        client.post(url, data={"reason": "Issued in error", "confirmed": "yes"}).status_code == 302
    )
    db.session.refresh(certificate)
    assert certificate.revoked_at is not None and certificate.revoke_reason == "Issued in error"


def _session_form(day, **extra):
    return {
        "title": "Kick-off",
        "day": day,
        "start": "10:00",
        "end": "11:00",
        "timezone": "UTC",
        **extra,
    }


def test_a_session_dated_in_the_past_needs_a_confirmation_when_created(client):
    programme, _, base = _programme(client)
    past = (utcnow() - timedelta(days=40)).date().isoformat()
    before = _count(Session)
    refused = client.post(f"{base}/sessions/new", data=_session_form(past))
    assert refused.status_code == 422
    assert "This session starts in the past" in refused.text
    assert "Yes, this session is in the past" in refused.text
    assert _count(Session) == before
    saved = client.post(f"{base}/sessions/new", data=_session_form(past, confirm_past="y"))
    assert saved.status_code == 302
    assert _count(Session) == before + 1


def test_a_session_moved_into_the_past_needs_a_confirmation(client):
    programme, _, base = _programme(client)
    session = programme.sessions[0]
    past = (utcnow() - timedelta(days=2)).date().isoformat()
    url = f"{base}/sessions/{session.id}/schedule"
    refused = client.post(url, data={"day": past, "starts": "10:00", "ends": "11:00"})
    assert "The new time is not in the future" in refused.text
    assert "Yes, this session is in the past" in refused.text
    db.session.refresh(session)
    assert session.starts_at > utcnow()
    moved = client.post(
        url,
        data={
            "day": past,
            "starts": "10:00",
            "ends": "11:00",
            "confirm_past": "y",
            "confirmed": "yes",
        },
    )
    assert moved.status_code == 302
    db.session.refresh(session)
    assert session.starts_at < utcnow()


def test_editing_a_held_session_without_changing_its_time_needs_no_confirmation(client):
    programme, _, base = _programme(client)
    session = programme.sessions[0]
    session.starts_at = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    session.ends_at = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
    session.timezone = "UTC"
    f.save(session)
    response = client.post(
        f"{base}/sessions/{session.id}/edit", data=_session_form("2026-01-05", title="Renamed")
    )
    assert response.status_code == 302, response.text


def test_a_note_too_long_is_said_on_the_confirmation_page(client):
    programme, _, base = _programme(client)
    f.make_registration(programme)
    session = programme.sessions[0]
    response = client.post(
        f"{base}/sessions/{session.id}/cancel", data={"confirmed": "yes", "note": "x" * 2001}
    )
    assert response.status_code == 200 and "2000" in response.text
    db.session.refresh(session)
    assert session.status == "scheduled" and _emails("session_cancelled") == []


def test_adding_a_recording_asks_first_then_emails_the_note(client):
    programme = f.make_programme(sessions=1, first_session_in=-timedelta(days=2))
    f.make_registration(programme, f.make_user(full_name="Ana Souza"))
    f.sign_in(client, f.make_organiser(programme))
    session = programme.sessions[0]
    url = f"/organiser/programmes/{programme.slug}/sessions/{session.id}/recording"
    form = {"title": "Opening", "url": "https://video.example.org/opening"}
    asked = client.post(url, data=form)
    assert asked.status_code == 200 and "1 confirmed registrant," in asked.text
    assert 'value="https://video.example.org/opening"' in asked.text
    assert _count(Material) == 0 and _emails("recording_available") == []
    done = client.post(url, data={**form, "confirmed": "yes", "note": "Slides are on page 2."})
    assert done.status_code == 302
    (email,) = _emails("recording_available")
    assert "A note from the organisers:\nSlides are on page 2." in email.text_body


def test_a_new_time_in_the_session_form_asks_before_it_emails_registrants(client):
    programme, _, base = _programme(client)
    f.make_registration(programme)
    session = programme.sessions[0]
    before = session.starts_at
    later = (utcnow() + timedelta(days=20)).date().isoformat()
    form = _session_form(later, version=str(session.version))
    asked = client.post(f"{base}/sessions/{session.id}/edit", data=form)
    assert asked.status_code == 422
    assert "emailed to the 1 confirmed registrant" in asked.text
    assert "Yes, email them the new time" in asked.text
    assert _emails("session_changed") == [], "nothing is sent before the confirmation"
    db.session.refresh(session)
    assert session.starts_at == before
    saved = client.post(
        f"{base}/sessions/{session.id}/edit",
        data={**form, "confirm_move": "y", "move_note": "New room link inside."},
    )
    assert saved.status_code == 302, saved.text
    (email,) = _emails("session_changed")
    assert "New room link inside." in email.text_body
