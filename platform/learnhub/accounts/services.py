"""Accounts: participants created on the way, sign-in links, passwords."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from flask import current_app
from flask_babel import lazy_gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import String, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import begin_write_transaction, table_of
from ..errors import DomainError
from ..extensions import db
from ..i18n import LANGUAGE_LOCALES
from ..links import external_url
from ..notifications.services import queue_email, queue_sign_in_link, render_sign_in_link
from ..timefmt import is_valid_timezone
from ..types import utcnow
from .models import LoginToken, User

if TYPE_CHECKING:
    from sqlalchemy import CursorResult

#: A mapped class's table is a Table; SQLAlchemy types __table__ as any FromClause.
_USERS = table_of(User)
_LOGIN_TOKENS = table_of(LoginToken)

#: Checked against when an address has no password, so both answers take similar time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class SignInError(DomainError):
    """Signing in is refused; the message says why in a participant's words."""


class SignInLinkError(SignInError):
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


@dataclass(frozen=True)
class Participant:
    """The account a registration is made for, and whether this registration created it."""

    id: int
    created: bool


def participant_account(details: ParticipantDetails) -> Participant:
    """The account behind a registration, the one way it is found or made: a new address gets
    its account in one INSERT (the unique email decides a race between two registrations of
    one address: the second finds the first's account). An existing account's blank details
    are filled in, never overwritten, because the registration form is open to anyone."""
    connection = db.session.connection()
    values = {
        "email": normalise_email(details.email),
        "full_name": details.full_name.strip(),
        "organisation_name": details.organisation,
        "city": details.city,
        "country": details.country,
        "timezone": details.timezone,
        "role": "participant",
    }
    created = connection.execute(_create_participant(connection.dialect.name), values)
    user_id = created.scalar_one_or_none()
    if user_id is not None:
        return Participant(user_id, created=True)
    found = connection.execute(
        _FILL_IN_DETAILS,
        {
            "address": values["email"],
            "new_organisation": details.organisation,
            "new_city": details.city,
            "new_country": details.country,
        },
    )
    return Participant(found.scalar_one(), created=False)


@cache
def _create_participant(dialect: str):
    """INSERT ... ON CONFLICT (email) DO NOTHING RETURNING id, built once per database."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(_USERS).on_conflict_do_nothing(index_elements=["email"]).returning(_USERS.c.id)


_users = _USERS.c
_FILL_IN_DETAILS = (
    update(_USERS)
    .where(_users.email == bindparam("address"))
    .values(
        organisation_name=func.coalesce(
            func.nullif(_users.organisation_name, ""), bindparam("new_organisation")
        ),
        city=func.coalesce(func.nullif(_users.city, ""), bindparam("new_city")),
        country=func.coalesce(func.nullif(_users.country, ""), bindparam("new_country")),
    )
    .returning(_users.id)
)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewSignInLink:
    """A sign-in link not yet stored: its address and the hash its token row keeps."""

    url: str
    token_hash: str


def new_sign_in_link() -> NewSignInLink:
    """Made before the transaction that stores it, so that a use case holding the database's
    write lock does not spend it on the token and the address."""
    token = secrets.token_urlsafe(32)
    return NewSignInLink(
        external_url("accounts.sign_in_with_link", token=token), _hash_token(token)
    )


def issue_sign_in_link(
    user_id: int,
    next_path: str | None = None,
    minutes: int | None = None,
    *,
    link: NewSignInLink | None = None,
) -> tuple[int, str]:
    """A new single-use sign-in link for the account: (the token row's id, the link). It
    expires after `minutes` (the configured magic-link lifetime unless given). `link` is one
    made beforehand by `new_sign_in_link`."""
    link = link or new_sign_in_link()
    minutes = minutes or current_app.config["MAGIC_LINK_MINUTES"]
    if next_path and len(next_path) > NEXT_PATH_LENGTH:
        # The page to go to after signing in comes from the address the sign-in page was
        # opened with; one longer than the token keeps is dropped (the link then opens the
        # account's usual page), as an unsafe one is, instead of the database refusing it.
        next_path = None
    now = utcnow()
    token_id = (
        db.session.connection()
        .execute(
            _INSERT_LOGIN_TOKEN,
            {
                "user_id": user_id,
                "token_hash": link.token_hash,
                "next_path": next_path,
                "created_at": now,
                "expires_at": now + timedelta(minutes=minutes),
            },
        )
        .scalar_one()
    )
    return token_id, link.url


_INSERT_LOGIN_TOKEN = insert(_LOGIN_TOKENS).returning(_LOGIN_TOKENS.c.id)
_next_path_type = _LOGIN_TOKENS.c.next_path.type
if not isinstance(_next_path_type, String) or _next_path_type.length is None:
    raise TypeError("login_token.next_path must be a String of limited length")
#: The longest page address a sign-in link goes to afterwards (login_token.next_path).
NEXT_PATH_LENGTH = _next_path_type.length


def request_sign_in_link(email: str, next_path: str | None) -> None:
    """Email a sign-in link if the address has an account; say nothing either way.

    The answer takes at least SIGN_IN_LINK_MIN_SECONDS whichever way it goes, so its timing
    does not tell whether the address has an account (writing the link and its email costs
    a few milliseconds that a look-up alone does not)."""
    started = time.monotonic()
    try:
        _request_sign_in_link(email, next_path)
    finally:
        floor = current_app.config.get("SIGN_IN_LINK_MIN_SECONDS", 0.0)
        remaining = floor - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)


def _request_sign_in_link(email: str, next_path: str | None) -> None:
    user = find_user_by_email(email)
    minutes = current_app.config["MAGIC_LINK_MINUTES"]
    if user is not None:
        token_id, link = issue_sign_in_link(user.id, next_path)
        queue_sign_in_link(user, link, token_id, minutes)
    else:
        # The same work as for a real account (token, hash, both email parts), thrown away,
        # so the answer's timing does not tell whether the address has an account.
        _hash_token(secrets.token_urlsafe(32))
        decoy = User(email=normalise_email(email), full_name="", timezone="UTC")
        link = external_url("accounts.sign_in_with_link", token=secrets.token_urlsafe(32))
        render_sign_in_link(decoy, link, minutes)
    db.session.commit()


def peek_sign_in_link(token: str) -> LoginToken:
    """The link's state without using it (the page that asks to confirm the sign-in)."""
    login_token = db.session.scalar(
        select(LoginToken).where(LoginToken.token_hash == _hash_token(token))
    )
    return _check_usable(login_token)


def redeem_sign_in_link(token: str) -> tuple[User, str | None]:
    """Use the link once: the conditional UPDATE makes a second use fail even in a race."""
    login_token = peek_sign_in_link(token)
    now = utcnow()
    # An UPDATE answers a CursorResult (it has the row count); execute() is typed as Result.
    result = cast(
        "CursorResult[Any]",
        db.session.execute(
            update(LoginToken)
            .where(LoginToken.id == login_token.id, LoginToken.used_at.is_(None))
            .where(LoginToken.expires_at > now)
            .values(used_at=now)
        ),
    )
    if result.rowcount != 1:
        raise SignInLinkError("This sign-in link has already been used.")
    user = login_token.user
    user.last_login_at = now
    next_path = login_token.next_path
    db.session.commit()
    return user, next_path


def _check_usable(login_token: LoginToken | None) -> LoginToken:
    """The link's token, when it can still sign in; else the refusal that says why not."""
    if login_token is None:
        raise SignInLinkError("This sign-in link is not valid. Please ask for a new one.")
    if login_token.used_at is not None:
        raise SignInLinkError("This sign-in link has already been used. Please ask for a new one.")
    if login_token.expires_at <= utcnow():
        raise SignInLinkError("This sign-in link has expired. Please ask for a new one.")
    return login_token


def authenticate_with_password(email: str, password: str) -> User:
    """The account the address and password sign in to; the same refusal (and about the same
    time) whether the address is unknown, has no password or the password is wrong."""
    user = find_user_by_email(email)
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    valid = check_password_hash(stored, password)
    if not (user and user.password_hash and valid):
        raise SignInError("That email address and password do not match.")
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = generate_password_hash(password)


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


# --- profile, password, email change, data export, deletion -------------------------------------

#: The languages a profile offers, as stored; emails are written in them (see i18n).
LANGUAGES = tuple(LANGUAGE_LOCALES)
MIN_PASSWORD_LENGTH = 10
#: Deleted accounts keep their row under an address in this reserved domain (RFC 2606).
DELETED_EMAIL_DOMAIN = "@deleted.invalid"
EMAIL_CHANGE_HOURS = 24


class AccountError(DomainError):
    """An account change that cannot be made; the message is shown as it is."""


@dataclass(frozen=True)
class ProfileInput:
    full_name: str
    organisation: str | None
    job_title: str | None
    city: str | None
    country: str | None
    timezone: str
    preferred_language: str


def profile_of(user: User) -> dict:
    """The editable profile, as the profile form and the data export name it."""
    return {
        "full_name": user.full_name,
        "organisation": user.organisation_name,
        "job_title": user.job_title,
        "city": user.city,
        "country": user.country,
        "timezone": user.timezone,
        "preferred_language": user.preferred_language,
    }


def locked_user(user_id: int) -> User:
    """Start the write transaction with the person's account, refused once it is deleted."""
    begin_write_transaction()
    user = db.session.get(User, user_id, populate_existing=True)
    if user is None or user.deleted_at is not None:
        raise AccountError("We could not find your account.")
    return user


def update_profile(user_id: int, data: ProfileInput) -> User:
    if not data.full_name.strip():
        raise AccountError("Enter your name.")
    if not is_valid_timezone(data.timezone):
        raise AccountError("Choose a time zone from the list.")
    if data.preferred_language not in LANGUAGES:
        raise AccountError("Choose a language from the list.")
    user = locked_user(user_id)
    user.full_name = data.full_name.strip()
    user.organisation_name = data.organisation
    user.job_title = data.job_title
    user.city = data.city
    user.country = data.country
    user.timezone = data.timezone
    user.preferred_language = data.preferred_language
    db.session.commit()
    return user


def change_password(user_id: int, current: str | None, new: str) -> None:
    """Participants may add a password; anyone who has one must give it to change it."""
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    user = locked_user(user_id)
    if user.password_hash and not check_password_hash(user.password_hash, current or ""):
        raise AccountError("Your current password is not right.")
    set_password(user, new)
    user.session_generation += 1
    db.session.commit()


def end_every_session(user_id: int) -> None:
    """Sign the person out everywhere: every session cookie issued so far stops opening."""
    begin_write_transaction()
    db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(session_generation=User.session_generation + 1)
    )
    db.session.commit()


def _email_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="learnhub.email-change")


def request_email_change(user_id: int, new_email: str) -> None:
    """Email a confirmation link to the new address; the change happens when it is followed.

    The answer is the same whether or not the address is taken: a taken address simply gets
    no link (and the confirmation checks again)."""
    new_email = normalise_email(new_email)
    user = locked_user(user_id)
    if new_email == user.email:
        raise AccountError("That is already your email address.")
    if find_user_by_email(new_email) is None:
        token = _email_serializer().dumps([user.id, user.email, new_email])
        recipient = User(
            email=new_email,
            full_name=user.full_name,
            timezone=user.timezone,
            preferred_language=user.preferred_language,
        )
        queue_email(
            kind="email_change",
            dedupe_key=f"email_change:{user.id}:{hashlib.sha256(token.encode()).hexdigest()[:32]}",
            to=recipient,
            subject=lazy_gettext("Confirm your new LearnHub email address"),
            context={
                "link": external_url("accounts.confirm_email_change", token=token),
                "hours": EMAIL_CHANGE_HOURS,
                "old_email": user.email,
            },
        )
    db.session.commit()


def read_email_change(token: str) -> tuple[User, str]:
    try:
        user_id, old_email, new_email = _email_serializer().loads(
            token, max_age=EMAIL_CHANGE_HOURS * 3600
        )
    except (BadSignature, ValueError, TypeError) as error:
        raise AccountError("This confirmation link is not valid or has expired.") from error
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.deleted_at is not None or user.email != old_email:
        raise AccountError("This confirmation link has already been used or is out of date.")
    return user, new_email


def confirm_email_change(token: str) -> User:
    user, new_email = read_email_change(token)
    user = locked_user(user.id)
    if find_user_by_email(new_email) is not None:
        raise AccountError("That address now belongs to another account.")
    user.email = new_email
    db.session.commit()
    return user
