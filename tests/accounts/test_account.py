"""The account's own pages: profile, password, email change, data export, deletion."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from learnhub.accounts.models import LoginToken, User
from learnhub.attendance.models import Attendance
from learnhub.extensions import db
from learnhub.notifications.models import OutboxMessage
from learnhub.registration.models import Registration, RegistrationAnswer
from tests import factories as f

PROFILE = {
    "full_name": "Wei Zhang",
    "organisation": "Chengdu Municipal Government",
    "job_title": "Climate officer",
    "city": "Chengdu",
    "country": "China",
    "timezone": "Asia/Shanghai",
    "preferred_language": "中文",
}


def test_profile_is_saved_and_bad_input_is_explained(client):
    user = f.make_user()
    f.sign_in(client, user)
    assert client.get("/me/profile").status_code == 200
    assert client.post("/me/profile", data=PROFILE).status_code == 302
    db.session.refresh(user)
    assert (user.job_title, user.timezone, user.preferred_language) == (
        "Climate officer",
        "Asia/Shanghai",
        "中文",
    )
    bad = client.post("/me/profile", data={**PROFILE, "timezone": "Mars/Base", "full_name": ""})
    assert bad.status_code == 422
    assert "Choose a time zone" in bad.get_data(as_text=True)


def test_participant_sets_a_password_then_must_give_it_to_change_it(client):
    user = f.make_user(email="p@example.org")
    f.sign_in(client, user)
    short = client.post("/me/password", data={"new_password": "short"})
    assert short.status_code == 422
    assert (
        client.post("/me/password", data={"new_password": "a long passphrase"}).status_code == 302
    )
    db.session.refresh(user)
    assert user.password_hash.startswith(("scrypt:", "$argon2"))
    wrong = client.post(
        "/me/password", data={"current_password": "nope", "new_password": "another passphrase"}
    )
    assert "current password is not right" in wrong.get_data(as_text=True)
    client.post("/logout")
    signed = client.post(
        "/login/password", data={"email": "p@example.org", "password": "a long passphrase"}
    )
    assert signed.status_code == 302


def test_email_change_is_confirmed_on_the_new_address(client):
    user = f.make_user(email="old@example.org")
    f.make_user(email="taken@example.org")
    f.sign_in(client, user)
    taken = client.post("/me/email", data={"new_email": "taken@example.org"})
    fresh = client.post("/me/email", data={"new_email": "New@Example.org"})
    assert taken.status_code == fresh.status_code == 302
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert [m.to_address for m in messages] == ["new@example.org"], "a taken address gets nothing"
    body = f.written(messages[0]).text_body
    link = "/" + re.search(r"http://[^/\s]+/(me/email/confirm/\S+)", body).group(1)
    client.post("/logout")
    page = client.get(link)
    assert page.status_code == 200 and "new@example.org" in page.get_data(as_text=True)
    db.session.refresh(user)
    assert user.email == "old@example.org", "a GET changes nothing"
    assert client.post(link).status_code == 302
    db.session.refresh(user)
    assert user.email == "new@example.org"
    assert client.post(link).status_code == 410, "the link works once"
    assert client.get("/me/email/confirm/forged").status_code == 410


def test_data_export_holds_profile_registrations_answers_and_attendance(client):
    programme = f.make_programme(title="Resilient City")
    question = f.make_question(programme, "Your role")
    user = f.make_user(email="p@example.org")
    registration = f.make_registration(programme, user, answers={question: "Planner"})
    f.save(
        Attendance(
            session_id=programme.sessions[0].id, registration_id=registration.id, status="present"
        )
    )
    f.sign_in(client, user)
    response = client.get("/me/data.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert data["profile"]["email"] == "p@example.org"
    assert data["registrations"][0]["programme"] == "Resilient City"
    assert data["registrations"][0]["answers"] == {"Your role": "Planner"}
    assert data["attendance"][0]["status"] == "present"


def test_deleting_an_account_anonymises_it_and_gives_the_seat_away(client):
    upcoming = f.make_programme(capacity=1)
    question = f.make_question(upcoming, "Your role")
    past = f.make_programme(first_session_in=__import__("datetime").timedelta(days=-10))
    user = f.make_user(email="leaving@example.org", password="a long passphrase")
    seat = f.make_registration(upcoming, user, answers={question: "Planner"})
    waiting = f.make_registration(upcoming, status="waitlisted")
    attended = f.make_registration(past, user)
    f.save(
        Attendance(session_id=past.sessions[0].id, registration_id=attended.id, status="present")
    )
    f.sign_in(client, user)
    wrong = client.post("/me/delete", data={"email": "someone@example.org"})
    assert wrong.status_code == 422
    assert client.post("/me/delete", data={"email": "Leaving@example.org"}).status_code == 302
    db.session.expire_all()
    gone = db.session.get(User, user.id)
    assert gone.email.endswith("@deleted.invalid") and gone.deleted_at is not None
    assert gone.password_hash is None and gone.organisation_name is None
    assert db.session.get(Registration, seat.id).status == "cancelled"
    assert db.session.get(Registration, waiting.id).status == "confirmed"
    assert db.session.get(Registration, attended.id).status == "confirmed", "past figures stay"
    assert db.session.scalar(select(func.count()).select_from(Attendance)) == 1
    assert db.session.scalar(select(func.count()).select_from(RegistrationAnswer)) == 0
    assert db.session.scalar(select(func.count()).select_from(LoginToken)) == 0
    addresses = set(db.session.scalars(select(OutboxMessage.to_address)))
    assert "leaving@example.org" not in addresses
    assert client.get("/me/programmes").status_code == 302, "signed out"


def test_organisers_cannot_delete_themselves_here(client):
    organiser = f.make_organiser()
    f.sign_in(client, organiser)
    response = client.post("/me/delete", data={"email": organiser.email})
    assert response.status_code == 422
    assert "removed by an administrator" in response.get_data(as_text=True)


FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
junk = st.one_of(st.text(max_size=300), st.sampled_from(["", "UTC", "Brazil", "English", "\x00"]))


@FUZZ
@given(data=st.dictionaries(st.sampled_from(sorted(PROFILE)), junk))
def test_profile_form_never_answers_500(client, data):
    user = f.make_user()
    f.sign_in(client, user)
    assert client.post("/me/profile", data=data).status_code in (302, 422)


@FUZZ
@given(
    endpoint=st.sampled_from(["/me/password", "/me/email", "/me/delete"]),
    data=st.dictionaries(
        st.sampled_from(["current_password", "new_password", "new_email", "email"]), junk
    ),
)
def test_account_forms_never_answer_500(client, endpoint, data):
    user = f.make_user(role="organiser")
    f.sign_in(client, user)
    assert client.post(endpoint, data=data).status_code in (302, 422)
