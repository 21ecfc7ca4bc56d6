"""Registering: the account made on the way, the outbox row in the same transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learnhub.accounts.models import User
from learnhub.extensions import db
from learnhub.notifications.models import OutboxMessage
from learnhub.registration import services
from learnhub.registration.models import Registration
from learnhub.registration.services import registering
from tests import factories as f

form = f.registration_form


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_register_creates_account_registration_and_confirmation(client):
    programme = f.make_programme(capacity=5)
    response = client.post(f"/programmes/{programme.slug}/register", data=form())
    assert response.status_code == 302
    assert response.headers["Location"] == f"/programmes/{programme.slug}/registered"
    user = db.session.scalar(select(User).where(User.email == "joana@example.org"))
    assert user.full_name == "Joana Conceição"
    assert user.timezone == "America/Sao_Paulo"
    registration = db.session.scalar(select(Registration))
    assert registration.status == "confirmed"
    assert registration.confirmed_at is not None
    message = db.session.scalar(select(OutboxMessage))
    assert message.kind == "confirmation"
    assert message.to_address == "joana@example.org"
    assert message.status == "queued"
    assert message.registration_id == registration.id
    # The request renders nothing: the worker writes the email from the row when it sends it.
    assert (message.text_body, message.ics) == ("", None)
    assert message.render_args["event"] == "confirmed"
    f.written(message)
    assert message.subject == f"You are registered: {programme.title}"
    assert "BEGIN:VCALENDAR" in message.ics
    assert "You are registered for" in message.text_body
    assert "/login/link/" in message.text_body and "/registrations/cancel/" in message.text_body
    assert message.render_args is None
    answer = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are registered" in answer
    assert "confirmation email is on its way" in answer


def test_the_answer_page_promises_the_reminders_the_programme_sends(client):
    """The reminder times on the answer page are the programme's, not a fixed text."""
    from learnhub.notifications.policy import set_reminder_policy

    def answer_for(programme, email: str) -> str:
        response = client.post(f"/programmes/{programme.slug}/register", data=form(email=email))
        return client.get(response.headers["Location"]).get_data(as_text=True)

    default = f.make_programme(sessions=2)
    assert "remind you 7 days, 24 hours, and 1 hour before each session" in answer_for(
        default, "a@example.org"
    )

    chosen = f.make_programme(sessions=2)
    first_session = chosen.sessions[0]
    set_reminder_policy(chosen.id, [3 * 24 * 60, 15], {first_session.id: False})
    answer = answer_for(chosen, "b@example.org")
    assert "remind you 3 days and 15 minutes before the sessions the organisers" in answer

    silent = f.make_programme(sessions=1)
    set_reminder_policy(silent.id, [], {})
    answer = answer_for(silent, "c@example.org")
    assert "You are registered" in answer and "remind you" not in answer


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Enter an email address"),
        ("full_name", "", "This field is required"),
        ("timezone", "Mars/Olympus", "Choose a time zone"),
        ("consent", "", "accept the privacy notice"),
    ],
)
def test_invalid_input_is_shown_beside_the_field_and_nothing_is_saved(
    client, field, value, message
):
    programme = f.make_programme()
    data = form(**{field: value})
    if not value:
        data.pop(field)
    response = client.post(f"/programmes/{programme.slug}/register", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(Registration) == 0
    assert count(User) == 0
    assert count(OutboxMessage) == 0


@pytest.mark.parametrize("value", ["   ", "\x00"])
def test_a_blank_required_answer_is_refused_beside_its_question(client, value):
    programme = f.make_programme()
    role = f.make_question(programme, "Your role", required=True)
    response = client.post(
        f"/programmes/{programme.slug}/register", data=form(**{f"q_{role.id}": value})
    )
    assert response.status_code == 422
    beside = response.get_data(as_text=True).split(f'id="q_{role.id}-error"', 1)
    assert len(beside) == 2 and "needs an answer" in beside[1][:300]
    assert count(Registration) == 0 and count(User) == 0


def test_a_question_answered_under_another_spelling_of_its_key_is_ignored(client):
    """q_05 or q_\u0665 are not question 5: each question has one answer, the one checked."""
    programme = f.make_programme()
    role = f.make_question(programme, "Your role", required=True)
    data = form(**{f"q_{role.id}": "Planner", f"q_0{role.id}": "", f"q_{role.id}0": "x"})
    response = client.post(f"/programmes/{programme.slug}/register", data=data)
    assert response.status_code == 302
    registration = db.session.scalar(select(Registration))
    assert [a.value for a in registration.answers] == ["Planner"]


def test_registering_twice_says_so_and_sends_nothing_new(client):
    programme = f.make_programme()
    client.post(f"/programmes/{programme.slug}/register", data=form())
    response = client.post(f"/programmes/{programme.slug}/register", data=form())
    assert response.status_code == 302
    answer = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already registered" in answer
    assert count(Registration) == 1
    assert count(OutboxMessage) == 1


def test_existing_account_details_are_not_overwritten_by_the_open_form(client):
    user = f.make_user(email="joana@example.org", full_name="Joana Original")
    programme = f.make_programme()
    client.post(f"/programmes/{programme.slug}/register", data=form(full_name="Impostor"))
    db.session.refresh(user)
    assert user.full_name == "Joana Original"
    assert count(User) == 1


def test_full_programme_without_waiting_list_refuses_with_a_clear_message(client):
    programme = f.make_programme(capacity=1, waitlist_enabled=False)
    f.make_registration(programme)
    response = client.post(f"/programmes/{programme.slug}/register", data=form())
    assert response.status_code == 422
    assert "all seats for this programme are taken" in response.get_data(as_text=True)
    assert count(Registration) == 1


def test_past_programme_refuses_registration(client):
    programme = f.make_programme(first_session_in=timedelta(days=-3))
    response = client.post(f"/programmes/{programme.slug}/register", data=form())
    assert response.status_code == 422
    assert "already taken place" in response.get_data(as_text=True)


def test_a_failure_after_the_outbox_row_rolls_back_everything(app, monkeypatch):
    """Rule 2: the registration and its email are one transaction."""
    programme = f.make_programme()

    def broken_sign_in_link(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(registering, "issue_sign_in_link", broken_sign_in_link)
    data = services.RegistrationInput(
        programme_id=programme.id,
        participant=services.ParticipantDetails("A", "a@example.org", None, None, None, "UTC"),
        consent=True,
    )
    with app.test_request_context(), pytest.raises(RuntimeError):
        services.register(data)
    db.session.rollback()
    assert count(Registration) == 0
    assert count(User) == 0
    assert count(OutboxMessage) == 0


def test_registration_succeeds_when_the_broker_is_down(app_factory):
    """Rule 3: the row is written; handing it to an unreachable broker fails quietly."""
    app = app_factory(OUTBOX_DISPATCH="celery")
    app.extensions["celery"].conf.broker_url = "redis://127.0.0.1:1/0"
    programme_slug = None
    with app.app_context():
        programme_slug = f.make_programme().slug
    response = app.test_client().post(f"/programmes/{programme_slug}/register", data=form())
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.status)) == "queued"


def test_my_programmes_lists_registrations_with_next_session_in_my_zone(client):
    programme = f.make_programme(title="Resilient City", timezone="Asia/Seoul", sessions=2)
    user = f.make_user(timezone="America/Sao_Paulo")
    f.make_registration(programme, user)
    f.sign_in(client, user)
    html = client.get("/me/programmes").get_data(as_text=True)
    assert "Resilient City" in html
    assert "Session 1" in html
    assert "(America/Sao_Paulo)" in html
    assert "(Asia/Seoul)" in html


def test_my_programmes_comes_in_pages_of_twenty_newest_first(client):
    """Pages are plain links (no script); a page past the last one shows the last."""
    user = f.make_user()
    for n in range(23):
        f.make_registration(f.make_programme(title=f"Programme {n:02}"), user)
    f.sign_in(client, user)
    first = client.get("/me/programmes").get_data(as_text=True)
    assert first.count('<li class="card">') == 20
    assert "Programme 22" in first and "Programme 02" not in first
    assert 'href="/me/programmes?page=2"' in first and 'aria-current="page"' in first
    second = client.get("/me/programmes?page=2").get_data(as_text=True)
    assert second.count('<li class="card">') == 3
    assert "Programme 00" in second and 'href="/me/programmes?page=1"' in second
    past_the_end = client.get("/me/programmes?page=3").get_data(as_text=True)
    assert "Programme 00" in past_the_end  # the last page, not an empty one


def test_my_programmes_needs_sign_in(client):
    response = client.get("/me/programmes")
    assert response.status_code == 302
    assert "/login?next=%2Fme%2Fprogrammes" in response.headers["Location"]


def test_participant_cancels_own_registration_only(client):
    programme = f.make_programme()
    mine = f.make_registration(programme)
    other = f.make_registration(programme)
    f.sign_in(client, mine.user)
    response = client.post(f"/me/registrations/{other.id}/cancel")
    assert response.status_code == 404
    response = client.post(f"/me/registrations/{mine.id}/cancel")
    assert response.status_code == 302
    db.session.refresh(mine)
    db.session.refresh(other)
    assert mine.status == "cancelled" and mine.cancelled_at is not None
    assert other.status == "confirmed"


def test_a_300_character_title_still_fits_the_confirmations_subject(client):
    """The subject is "You are registered: " and the title, past the outbox's 300 characters:
    PostgreSQL refused the row, so registering answered 500 (SQLite kept the longer text)."""
    programme = f.make_programme(title=("Resilient city " * 20)[:300])
    response = client.post(f"/programmes/{programme.slug}/register", data=form())
    assert response.status_code == 302
    message = db.session.scalar(select(OutboxMessage))
    assert len(message.subject) == 300 and message.subject.endswith("…")
    f.written(message)  # the worker writes the subject again, translated
    db.session.commit()
    assert len(message.subject) <= 300 and message.subject.startswith("You are registered: ")
    assert programme.title in message.text_body  # the body names it in full
