"""The signed session cookie: small sessions are not compressed, large ones are, and a
cookie written by Flask's own session interface (before this one) still reads."""

from __future__ import annotations

from flask import session
from flask.sessions import SecureCookieSessionInterface


def _cookie(client, name="session") -> str:
    return client.get_cookie(name).value


def test_a_small_session_is_signed_without_compression_and_reads_back(app):
    @app.get("/_test/remember/<int:size>")
    def remember(size):
        session["note"] = "x" * size
        return "ok"

    @app.get("/_test/recall")
    def recall():
        return str(len(session.get("note", "")))

    client = app.test_client()
    client.get("/_test/remember/40")
    assert not _cookie(client).startswith("."), "a small session is left uncompressed"
    assert client.get("/_test/recall").get_data(as_text=True) == "40"

    client.get("/_test/remember/4000")
    assert _cookie(client).startswith("."), "a large session is compressed"
    assert len(_cookie(client)) < 1000
    assert client.get("/_test/recall").get_data(as_text=True) == "4000"


def test_a_cookie_from_flasks_own_session_interface_still_reads(app):
    @app.get("/_test/recall-old")
    def recall_old():
        return session.get("note", "none")

    old = SecureCookieSessionInterface().get_signing_serializer(app).dumps({"note": "kept"})
    client = app.test_client()
    client.set_cookie("session", old)
    assert client.get("/_test/recall-old").get_data(as_text=True) == "kept"


def test_the_serializer_is_built_once_per_secret_key(app):
    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    app.secret_key = "another-secret-key-for-this-test-0123456789"
    assert interface.get_signing_serializer(app) is not first
