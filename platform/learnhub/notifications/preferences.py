"""Which optional emails a person wants, and the opaque tokens that let them say so by one click."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from ..database import begin_write_transaction
from ..errors import DomainError
from ..extensions import db
from ..links import external_url
from ..types import utcnow
from .models import OPTIONAL_CATEGORIES, NotificationPreference


class PreferenceError(DomainError):
    """A preference link or choice that cannot be used; the message says why."""


def _serializer() -> URLSafeSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"])


@lru_cache(maxsize=4)
def _serializer_for(secret_key: str) -> URLSafeSerializer:
    """One per key: reminder planning signs a token per recipient."""
    return URLSafeSerializer(secret_key, salt="learnhub-email-preferences")


def preference_token(user_id: int) -> str:
    """Opaque, stable, unguessable: signs the account id; no cookie or sign-in needed."""
    return _serializer().dumps(user_id)


def user_id_from_token(token: str) -> int:
    try:
        value = _serializer().loads(token)
    except BadSignature as error:
        raise PreferenceError(
            "This link is not valid. Sign in to change your email choices."
        ) from error
    if not isinstance(value, int):
        raise PreferenceError("This link is not valid. Sign in to change your email choices.")
    return value


def unsubscribe_url(user_id: int, category: str, token: str | None = None) -> str:
    """The one-click unsubscribe address of a category (`token`: the person's, if signed)."""
    return external_url(
        "notifications.unsubscribe", token=token or preference_token(user_id), category=category
    )


def preferences_of(user_id: int) -> dict[str, bool]:
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.category, NotificationPreference.enabled).where(
                NotificationPreference.user_id == user_id
            )
        ).all()
    )
    return {category: chosen.get(category, True) for category in OPTIONAL_CATEGORIES}


def opted_out(user_ids: Iterable[int], category: str) -> set[int]:
    ids = list(set(user_ids))
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(NotificationPreference.user_id).where(
                NotificationPreference.user_id.in_(ids),
                NotificationPreference.category == category,
                NotificationPreference.enabled.is_(False),
            )
        )
    )


def set_preferences(user_id: int, choices: dict[str, bool]) -> None:
    """Save the person's choices (one use case, one transaction)."""
    unknown = set(choices) - set(OPTIONAL_CATEGORIES)
    if unknown:
        raise PreferenceError("Unknown kind of email.")
    begin_write_transaction()
    existing = {
        p.category: p
        for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id)
        )
    }
    for category, enabled in choices.items():
        preference = existing.get(category)
        if preference is None:
            preference = NotificationPreference(user_id=user_id, category=category)
            db.session.add(preference)
        preference.enabled = enabled
        preference.updated_at = utcnow()
    db.session.commit()
