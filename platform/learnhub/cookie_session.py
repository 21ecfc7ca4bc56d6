"""Flask's signed-cookie session, with its signing serializer built once per secret key.

Flask builds a new serializer on every request (and itsdangerous test-serialises an empty
dict to build it), even for a visitor with no session cookie: about a tenth of the CPU of a
cached public programme page (bench/README.md, pages.py). The serializer holds no per-request
state, so one per set of keys serves every request; rotating SECRET_KEY or
SECRET_KEY_FALLBACKS builds a new one.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CachedSerializerSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            self._serializers = {keys: serializer}  # the current keys only
        return serializer
