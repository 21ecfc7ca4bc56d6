"""Accounts: participants created on the way, sign-in links, passwords."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..links import external_url
from ..types import utcnow
from .models import LoginToken, User

#: Checked against when an address has no password, so both answers take similar time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class SignInLinkError(Exception):
    """The link cannot be used; the message says why in a participant's words."""


@dataclass(frozen=True)
class ParticipantDetails:
    full_name: str
    email: str
    organisation: str | None
    city: str | None
    country: str | None
    timezone: str


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def find_or_create_participant(details: ParticipantDetails) -> User:
    """The account behind a registration. An existing account's details are only filled in,
    never overwritten, because the registration form is open to anyone."""
    user = find_user_by_email(details.email)
    if user is None:
        user = User(
            email=normalise_email(details.email),
            full_name=details.full_name.strip(),
            organisation_name=details.organisation,
            city=details.city,
            country=details.country,
            timezone=details.timezone,
            role="participant",
        )
        db.session.add(user)
        db.session.flush()
        return user
    user.organisation_name = user.organisation_name or details.organisation
    user.city = user.city or details.city
    user.country = user.country or details.country
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_sign_in_link(user: User, next_path: str | None = None) -> tuple[LoginToken, str]:
    token = secrets.token_urlsafe(32)
    minutes = current_app.config["MAGIC_LINK_MINUTES"]
    now = utcnow()
    login_token = LoginToken(
        user_id=user.id,
        token_hash=_hash_token(token),
        next_path=next_path,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    db.session.add(login_token)
    db.session.flush()
    return login_token, external_url("accounts.sign_in_with_link", token=token)


def request_sign_in_link(email: str, next_path: str | None) -> None:
    """Email a sign-in link if the address has an account; say nothing either way."""
    from ..notifications.services import queue_sign_in_link

    user = find_user_by_email(email)
    if user is not None:
        login_token, link = issue_sign_in_link(user, next_path)
        queue_sign_in_link(user, link, login_token.id, current_app.config["MAGIC_LINK_MINUTES"])
    db.session.commit()


def peek_sign_in_link(token: str) -> LoginToken:
    """The link's state without using it (the page that asks to confirm the sign-in)."""
    login_token = db.session.scalar(
        select(LoginToken).where(LoginToken.token_hash == _hash_token(token))
    )
    _check_usable(login_token)
    return login_token


def redeem_sign_in_link(token: str) -> tuple[User, str | None]:
    """Use the link once: the conditional UPDATE makes a second use fail even in a race."""
    login_token = peek_sign_in_link(token)
    now = utcnow()
    result = db.session.execute(
        update(LoginToken)
        .where(LoginToken.id == login_token.id, LoginToken.used_at.is_(None))
        .where(LoginToken.expires_at > now)
        .values(used_at=now)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise SignInLinkError("This sign-in link has already been used.")
    user = login_token.user
    user.last_login_at = now
    next_path = login_token.next_path
    db.session.commit()
    return user, next_path


def _check_usable(login_token: LoginToken | None) -> None:
    if login_token is None:
        raise SignInLinkError("This sign-in link is not valid. Please ask for a new one.")
    if login_token.used_at is not None:
        raise SignInLinkError("This sign-in link has already been used. Please ask for a new one.")
    if login_token.expires_at <= utcnow():
        raise SignInLinkError("This sign-in link has expired. Please ask for a new one.")


def authenticate_with_password(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    valid = check_password_hash(stored, password)
    if not (user and user.password_hash and valid):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = generate_password_hash(password)


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0
