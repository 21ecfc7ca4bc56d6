"""A participant's own hands: questions on the form, the signed cancel link, My programmes."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from learnhub.accounts.models import User
from learnhub.extensions import db
from learnhub.notifications.models import OutboxMessage
from learnhub.registration.models import Registration, RegistrationAnswer
from tests import factories as f


def form(**overrides):
    data = {
        "full_name": "Siti Rahma",
        "email": "siti@example.org",
        "timezone": "Asia/Jakarta",
        "consent": "y",
    }
    data.update(overrides)
    return data


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_programmes_questions_are_asked_checked_and_stored(client):
    programme = f.make_programme()
    role = f.make_question(programme, "Your role", required=True)
    topics = f.make_question(
        programme, "Topics", kind="multiple_choice", choices=["Climate", "Economy", "Social"]
    )
    attend = f.make_question(programme, "Will you attend live?", kind="yes_no", required=True)
    country = f.make_question(programme, "Country you work in", kind="country")
    page = client.get(f"/programmes/{programme.slug}/register").get_data(as_text=True)
    assert "Your role" in page and "Will you attend live?" in page
    assert "<legend>Topics" in page and "Indonesia" in page

    missing = client.post(f"/programmes/{programme.slug}/register", data=form())
    assert missing.status_code == 422
    assert "This question needs an answer." in missing.get_data(as_text=True)
    assert count(Registration) == 0 and count(OutboxMessage) == 0

    forged = client.post(
        f"/programmes/{programme.slug}/register",
        data=form(**{f"q_{role.id}": "Planner", f"q_{attend.id}": "Maybe"}),
    )
    assert forged.status_code == 422
    assert count(Registration) == 0

    response = client.post(
        f"/programmes/{programme.slug}/register",
        data={
            **form(),
            f"q_{role.id}": " Urban planner ",
            f"q_{topics.id}": ["Social", "Climate"],
            f"q_{attend.id}": "Yes",
            f"q_{country.id}": "Indonesia",
        },
    )
    assert response.status_code == 302
    stored = dict(
        db.session.execute(select(RegistrationAnswer.question_id, RegistrationAnswer.value)).all()
    )
    assert stored == {
        role.id: "Urban planner",
        topics.id: "Climate\nSocial",
        attend.id: "Yes",
        country.id: "Indonesia",
    }


def test_a_form_the_use_case_refuses_comes_back_with_the_questions_and_what_was_sent(client):
    """The use case finds the programme and checks the answers itself; a refusal (here: no
    seat and no waiting list) shows the whole form again, questions included."""
    programme = f.make_programme(capacity=1, waitlist_enabled=False)
    role = f.make_question(programme, "Your role", required=True)
    f.make_registration(programme)
    response = client.post(
        f"/programmes/{programme.slug}/register",
        data=form(**{f"q_{role.id}": "Resilience officer"}),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "all seats for this programme are taken" in page
    assert "Your role" in page and 'value="Resilience officer"' in page
    assert 'value="siti@example.org"' in page
    assert count(Registration) == 1 and count(RegistrationAnswer) == 0


def test_a_form_sent_to_a_programme_that_is_not_published_is_not_found(client):
    programme = f.make_programme(status="draft")
    response = client.post(f"/programmes/{programme.slug}/register", data=form())
    assert response.status_code == 404
    assert count(Registration) == 0 and count(User) == 0, "the account is rolled back too"


def test_participant_edits_answers_while_registration_is_open(client):
    programme = f.make_programme()
    role = f.make_question(programme, "Your role", required=True)
    registration = f.make_registration(programme, answers={role: "Planner"})
    f.sign_in(client, registration.user)
    page = client.get(f"/me/registrations/{registration.id}/answers").get_data(as_text=True)
    assert 'value="Planner"' in page
    bad = client.post(f"/me/registrations/{registration.id}/answers", data={f"q_{role.id}": ""})
    assert bad.status_code == 422
    good = client.post(
        f"/me/registrations/{registration.id}/answers", data={f"q_{role.id}": "Mayor"}
    )
    assert good.status_code == 302
    assert db.session.scalar(select(RegistrationAnswer.value)) == "Mayor"
    other = f.make_registration(programme)
    assert client.get(f"/me/registrations/{other.id}/answers").status_code == 404


def cancel_link_of(registration_id: int) -> str:
    body = f.written(
        db.session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.registration_id == registration_id)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    ).text_body
    return "/" + re.search(r"http://[^/\s]+/(registrations/cancel/\S+)", body).group(1)


def test_the_cancel_link_in_the_email_works_without_signing_in_after_a_confirmation(client):
    programme = f.make_programme(capacity=1)
    client.post(f"/programmes/{programme.slug}/register", data=form())
    client.post(f"/programmes/{programme.slug}/register", data=form(email="next@example.org"))
    mine, waiting = db.session.scalars(select(Registration).order_by(Registration.id)).all()
    link = cancel_link_of(mine.id)
    page = client.get(link)
    assert page.status_code == 200
    assert "Yes, cancel my registration" in page.get_data(as_text=True)
    db.session.refresh(mine)
    assert mine.status == "confirmed", "a GET (a mail scanner) must not cancel"
    done = client.post(link)
    assert done.status_code == 200
    assert "is cancelled" in done.get_data(as_text=True)
    db.session.refresh(mine)
    db.session.refresh(waiting)
    assert (mine.status, waiting.status) == ("cancelled", "confirmed")
    again = client.get(link)
    assert "already cancelled" in again.get_data(as_text=True)


def test_a_tampered_cancel_link_is_refused(client):
    registration = f.make_registration(f.make_programme())
    assert client.get("/registrations/cancel/not-a-token").status_code == 404
    assert client.post("/registrations/cancel/WzEsIDJd.forged").status_code == 404
    db.session.refresh(registration)
    assert registration.status == "confirmed"


def test_my_programmes_shows_place_calendar_and_the_right_buttons(client):
    programme = f.make_programme(capacity=1, title="Net Zero")
    f.make_registration(programme)
    waiting = f.make_registration(programme, status="waitlisted")
    f.sign_in(client, waiting.user)
    html = client.get("/me/programmes").get_data(as_text=True)
    assert "Waiting list" in html and "number 1" in html
    assert f"/programmes/{programme.slug}/calendar.ics" in html
    assert "Leave the waiting list" in html and "Cancel my registration" not in html
    response = client.post(f"/me/registrations/{waiting.id}/leave-waiting-list")
    assert response.status_code == 302
    db.session.refresh(waiting)
    assert waiting.status == "cancelled" and waiting.waitlist_position is None
    ics = client.get(f"/programmes/{programme.slug}/calendar.ics")
    assert ics.mimetype == "text/calendar" and b"BEGIN:VEVENT" in ics.data
