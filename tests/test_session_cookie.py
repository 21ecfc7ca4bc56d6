"""The session is Flask's own signed cookie: what is put in it reads back, small or large; a
cookie changed by the client reads as no session; a signed-in session lasts two weeks from
the last visit; and cookies written before (by Flask's interface or by the session interface
LearnHub had, which left small sessions uncompressed) still read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from flask import session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous.encoding import base64_encode


def _cookie(client, name="session") -> str:
    return client.get_cookie(name).value


def _routes(app) -> None:
    @app.get("/_test/remember/<int:size>")
    def remember(size):
        session["note"] = "x" * size
        return "ok"

    @app.get("/_test/recall")
    def recall():
        return str(len(session.get("note", "")))


def test_a_small_or_large_session_is_signed_and_reads_back(app):
    _routes(app)
    client = app.test_client()
    for size in (40, 4000):
        client.get(f"/_test/remember/{size}")
        assert len(_cookie(client)) < 1000  # a large session is compressed
        assert client.get("/_test/recall").get_data(as_text=True) == str(size)


def test_a_cookie_changed_by_the_client_reads_as_no_session(app):
    _routes(app)
    client = app.test_client()
    client.get("/_test/remember/40")
    value = _cookie(client)
    client.set_cookie("session", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert client.get("/_test/recall").get_data(as_text=True) == "0"


def test_cookies_written_before_still_read(app):
    """Flask's own interface compresses a payload when that makes it shorter; the interface
    LearnHub had before left small sessions uncompressed."""

    @app.get("/_test/recall-old")
    def recall_old():
        return session.get("note", "none")

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    flasks = serializer.dumps({"note": "kept"})
    former = serializer.make_signer().sign(base64_encode(b'{"note":"kept"}')).decode()
    assert not former.startswith(".")
    for old in (flasks, former):
        client = app.test_client()
        client.set_cookie("session", old)
        assert client.get("/_test/recall-old").get_data(as_text=True) == "kept"


def test_a_signed_in_session_is_httponly_lax_and_lasts_two_weeks_from_the_last_visit(app):
    @app.get("/_test/sign-in")
    def sign_in():
        session.permanent = True  # as accounts' sign-in does
        session["note"] = "signed in"
        return "ok"

    response = app.test_client().get("/_test/sign-in")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=14))) < timedelta(minutes=1)
