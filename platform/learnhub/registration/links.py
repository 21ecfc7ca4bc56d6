"""Signed cancel links: they work from any email without signing in.

The token is signed with Flask's SECRET_KEY (itsdangerous) and names the registration and its
person, so it cannot be forged or pointed at someone else's registration. Following the link
only shows a confirmation page; the cancellation itself is a POST.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..links import external_url

_SALT = "learnhub.registration.cancel"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def cancel_token(registration) -> str:
    return _serializer().dumps([registration.id, registration.user_id])


def cancel_url(registration) -> str:
    return external_url("registration.cancel_with_link", token=cancel_token(registration))


def read_cancel_token(token: str) -> tuple[int, int] | None:
    """(registration id, user id) from a genuine token, None from anything else."""
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return None
    return value[0], value[1]
