"""Emails written from one template and a context (sign-in links, invitations, certificates,
digests, address changes): `queue_email` keeps the template, the subject's message id and the
context in the row, rows of the database by reference; the worker reads them again and
renders the email for its recipient when it claims the row (`write`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import cache

from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString
from sqlalchemy import inspect

from ..accounts.models import User
from ..catalogue.models import Session
from ..extensions import Model, db
from ..registration.models import Registration
from . import handover
from .compose import Unwritable, Written, fit_subject, preference_links, render_email
from .models import OutboxMessage


def queue_email(
    *,
    kind: str,
    dedupe_key: str,
    to: User,
    subject: str,
    context: dict,
    template: str | None = None,
    ics: str | None = None,
    registration: Registration | None = None,
    session: Session | None = None,
    expires_at: datetime | None = None,
    category: str | None = None,
    reply_to: str | None = None,
) -> OutboxMessage:
    """Add the outbox row of an email written from `email/<template>.txt` and `.html`
    (`template` defaults to the kind).

    The worker renders it in the recipient's language when it claims the row: pass the
    subject as a `lazy_gettext(...)` string so that it is translated then (a plain string,
    such as an organiser's own subject, stays as written). `context` holds plain values,
    lists, dicts, datetimes and rows of the database (kept by reference and read again).
    `category` ("reminders", "announcements") marks email the recipient may switch off: it
    then carries one-click unsubscribe headers and a link to their email preferences."""
    subject_args = _subject_args(subject)
    render_args = {
        "email": "template",
        "template": template or kind,
        "subject": subject_args,
        "context": _encoded(context),
    }
    if to.id is None:  # an address with no account yet (a new address to confirm)
        render_args["recipient"] = {
            name: getattr(to, name)
            for name in ("email", "full_name", "timezone", "preferred_language")
        }
    message = OutboxMessage(
        kind=kind,
        dedupe_key=dedupe_key,
        to_address=to.email,
        subject=fit_subject(_untranslated(subject_args)),
        text_body="",
        html_body="",
        render_args=render_args,
        ics=ics,
        registration_id=registration.id if registration else None,
        user_id=to.id,
        session_id=session.id if session else None,
        expires_at=expires_at,
        category=category,
        unsubscribe_url=preference_links(to.id, category).get("unsubscribe_url"),
        reply_to=reply_to,
    )
    db.session.add(message)
    db.session.flush()
    handover.after_commit([message.id])
    return message


SIGN_IN_SUBJECT = lazy_gettext("Your LearnHub sign-in link")


def queue_sign_in_link(user: User, link: str, token_id: int, minutes: int) -> OutboxMessage:
    return queue_email(
        kind="magic_link",
        dedupe_key=f"magic_link:{token_id}",
        to=user,
        subject=SIGN_IN_SUBJECT,
        template="sign_in_link",
        context={"link": link, "minutes": minutes},
    )


def render_sign_in_link(user: User, link: str, minutes: int) -> tuple[str, str]:
    """Both parts of the sign-in email, without an outbox row (see request_sign_in_link)."""
    written = render_email(
        user, SIGN_IN_SUBJECT, "sign_in_link", {"link": link, "minutes": minutes}
    )
    return written.text_body, written.html_body


def load(rows: list) -> None:
    """Nothing to read ahead: these kinds go one at a time."""


def write(row, _loaded: None) -> Written:
    """The email of a row queued by `queue_email`, for its recipient."""
    args = row.render_args
    to = User(**args["recipient"]) if "recipient" in args else db.session.get(User, row.user_id)
    if to is None:
        raise Unwritable("the recipient's account is gone; the email cannot be written")
    written = render_email(
        to, _subject(args["subject"]), args["template"], _decoded(args["context"]), row.category
    )
    return replace(written, ics=row.ics)


def _subject_args(subject: str) -> dict:
    """A subject as the row keeps it: a message id and its values, or the text itself."""
    if isinstance(subject, LazyString):
        (msgid,) = subject._args
        return {"msgid": msgid, "params": _encoded(subject._kwargs)}
    return {"text": str(subject)}


def _untranslated(subject: dict) -> str:
    if "text" in subject:
        return subject["text"]
    return subject["msgid"] % subject["params"] if subject["params"] else subject["msgid"]


def _subject(subject: dict) -> str:
    """The subject, translated when the email is rendered in its recipient's language."""
    if "text" in subject:
        return subject["text"]
    return lazy_gettext(subject["msgid"], **_decoded(subject["params"]))


def _encoded(value):
    """A template's context as JSON: rows of the database by class and id."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_encoded(item) for item in value]
    if isinstance(value, dict):
        return {key: _encoded(item) for key, item in value.items()}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, db.Model):
        (identity,) = inspect(value).identity
        return {"$row": type(value).__name__, "id": identity}
    raise TypeError(f"an email's context cannot keep {type(value).__name__}")


def _decoded(value):
    if isinstance(value, list):
        return [_decoded(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if "$row" in value:
        found = db.session.get(_models()[value["$row"]], value["id"])
        if found is None:
            raise Unwritable("what the email is about is gone; it cannot be written")
        return found
    return {key: _decoded(item) for key, item in value.items()}


@cache
def _models() -> dict[str, type]:
    return {mapper.class_.__name__: mapper.class_ for mapper in Model.registry.mappers}
