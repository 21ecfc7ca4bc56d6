"""Flask's signed-cookie session, made cheaper for every request.

Flask builds a new serializer on every request (and itsdangerous test-serialises an empty
dict to build it), even for a visitor with no session cookie, and zlib-compresses every
session; together about a tenth of the CPU of a cached public programme page and of a
registration (bench/README.md). Here the serializer is built once per set of keys (rotating
SECRET_KEY or SECRET_KEY_FALLBACKS builds a new one) and only a large session is compressed.
Cookies written by Flask's own interface still read.
"""

from __future__ import annotations

import zlib

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, want_bytes


class _SessionSerializer(URLSafeTimedSerializer):
    """Compresses only a session worth compressing: zlib's set-up alone cost more than the
    few bytes it saved on the usual session (a CSRF token and a line or two). Reads both."""

    COMPRESS_FROM = 512

    def dump_payload(self, obj: object) -> bytes:
        json = want_bytes(self.serializer.dumps(obj, **self.serializer_kwargs))
        if len(json) >= self.COMPRESS_FROM:
            compressed = zlib.compress(json)
            if len(compressed) < len(json) - 1:
                return b"." + base64_encode(compressed)
        return base64_encode(json)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, with their serializer built once per set of keys
    instead of twice per request (each build also test-serialises an empty dict)."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = _SessionSerializer(
                list(keys),
                salt=self.salt,
                serializer=self.serializer,
                signer_kwargs={
                    "key_derivation": self.key_derivation,
                    "digest_method": self.digest_method,
                },
            )
            self._serializers = {keys: serializer}  # the current keys only
        return serializer
