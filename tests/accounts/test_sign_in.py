"""Signing in: single-use expiring links for participants, passwords for organisers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from learnhub.accounts.models import LoginToken
from learnhub.extensions import db
from learnhub.notifications.models import OutboxMessage
from learnhub.safety import safe_next_path
from tests import factories as f


def request_link(client, email, next_path=""):
    return client.post("/login/link", data={"email": email, "next": next_path})


def emailed_link(to: str) -> str:
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == to)
        .order_by(OutboxMessage.id.desc())
    ).first()
    return re.search(r"http://[^\s]+/login/link/[\w-]+", f.written(message).text_body).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_link_request_answers_the_same_for_known_and_unknown_addresses(client):
    f.make_user(email="known@example.org")
    known = request_link(client, "known@example.org")
    unknown = request_link(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200

    def without_address(response) -> str:
        text = response.get_data(as_text=True)
        return text.replace("known@example.org", "X").replace("nobody@example.org", "X")

    assert without_address(known) == without_address(unknown)
    assert db.session.scalar(select(OutboxMessage.to_address)) == "known@example.org"


def test_link_signs_in_once_and_goes_to_next(client):
    user = f.make_user(email="p@example.org")
    request_link(client, "P@example.org", "/me/programmes")
    link = path_of(emailed_link("p@example.org"))
    page = client.get(link)
    assert page.status_code == 200
    assert "p@example.org" in page.get_data(as_text=True)
    assert db.session.scalar(select(LoginToken.used_at)) is None, "a GET must not spend the link"
    response = client.post(link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/me/programmes"
    with client.session_transaction() as session:
        assert session["_user_id"] == user.get_id()
    again = client.post(link)
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)


def test_a_next_page_too_long_to_keep_is_dropped_not_a_500(client):
    """The page to go to after signing in is kept with the link (500 characters): a longer
    one from the sign-in page's address was refused by PostgreSQL, so asking for a link
    answered 500 (SQLite kept it). It is dropped: the link opens the usual page."""
    f.make_user(email="p@example.org")
    response = request_link(client, "p@example.org", "/me/programmes?" + "x" * 600)
    assert response.status_code == 200
    assert db.session.scalar(select(LoginToken.next_path)) is None
    signed_in = client.post(path_of(emailed_link("p@example.org")))
    assert signed_in.headers["Location"] == "/me/programmes"


def test_expired_link_is_refused_with_a_way_forward(client):
    f.make_user(email="p@example.org")
    request_link(client, "p@example.org")
    link = path_of(emailed_link("p@example.org"))
    token = db.session.scalar(select(LoginToken))
    token.expires_at = token.created_at - timedelta(seconds=1)
    db.session.commit()
    response = client.post(link)
    assert response.status_code == 410
    body = response.get_data(as_text=True)
    assert "expired" in body and "Get a new sign-in link" in body


def test_made_up_link_is_refused(client):
    response = client.get("/login/link/made-up-token")
    assert response.status_code == 410
    assert "not valid" in response.get_data(as_text=True)


def test_links_expire_after_fifteen_minutes(client):
    f.make_user(email="p@example.org")
    request_link(client, "p@example.org")
    token = db.session.scalar(select(LoginToken))
    assert token.expires_at - token.created_at == timedelta(minutes=15)


def test_organiser_signs_in_with_password(client):
    f.make_organiser(email="o@example.org", password="correct horse")
    wrong = client.post("/login/password", data={"email": "o@example.org", "password": "nope"})
    assert wrong.status_code == 422
    assert "do not match" in wrong.get_data(as_text=True)
    right = client.post(
        "/login/password", data={"email": "o@example.org", "password": "correct horse"}
    )
    assert right.status_code == 302
    assert right.headers["Location"] == "/organiser/"


def test_password_sign_in_ignores_an_off_site_next(client):
    f.make_organiser(email="o@example.org", password="pw-12345")
    response = client.post(
        "/login/password",
        data={"email": "o@example.org", "password": "pw-12345", "next": "//evil.example/x"},
    )
    assert response.headers["Location"] == "/organiser/"


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/me/programmes", "/me/programmes"),
        ("/programmes/x?tab=1", "/programmes/x?tab=1"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("me/programmes", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_next_is_only_ever_a_local_path(candidate, expected):
    assert safe_next_path(candidate, "/") == expected


def test_sign_out_needs_a_post(client):
    user = f.make_user()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/me/programmes").status_code == 302


def _saved_cookie(client) -> str:
    return client.get_cookie("session").value


def _replayed(app, cookie: str):
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get("/organiser/")


def test_a_session_cookie_saved_before_signing_out_no_longer_opens_anything(app, client):
    f.make_organiser(email="org@example.org", password="a-long-password-1")
    signed_in = client.post(
        "/login/password", data={"email": "org@example.org", "password": "a-long-password-1"}
    )
    assert signed_in.status_code == 302
    saved = _saved_cookie(client)
    assert _replayed(app, saved).status_code == 200, "the saved cookie works while signed in"
    laptop = app.test_client()
    laptop.post(
        "/login/password", data={"email": "org@example.org", "password": "a-long-password-1"}
    )
    client.post("/logout")
    replay = _replayed(app, saved)
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]
    assert laptop.get("/organiser/").status_code == 302, "signing out ends every session"


def test_changing_the_password_ends_every_other_session(app, client):
    f.make_organiser(email="org@example.org", password="a-long-password-1")
    client.post(
        "/login/password", data={"email": "org@example.org", "password": "a-long-password-1"}
    )
    saved = _saved_cookie(client)
    changed = client.post(
        "/me/password",
        data={"current_password": "a-long-password-1", "new_password": "another-password-2"},
    )
    assert changed.status_code == 302
    assert client.get("/organiser/").status_code == 200, "this device stays signed in"
    replay = _replayed(app, saved)
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]


def test_the_profile_offers_to_sign_out_everywhere_and_sessions_expire(app, client):
    user = f.make_user(email="p@example.org")
    f.sign_in(client, user)
    page = client.get("/me/profile").get_data(as_text=True)
    assert "Sign out everywhere" in page
    assert app.permanent_session_lifetime.days == 14
