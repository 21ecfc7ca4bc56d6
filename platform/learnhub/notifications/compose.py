"""What every kind of email shares when the worker writes it: the parts rendered from
`templates/email/<template>.txt` and `.html` in the recipient's language, the preference links
of an optional category, the subject cut to fit, and the programme's Reply-To address."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from sqlalchemy import select

from ..accounts.models import ProgrammeTeamMember, User
from ..database import fit_column, table_of
from ..extensions import db
from ..i18n import recipient_locale
from ..links import external_url
from .models import OutboxMessage
from .preferences import preference_token, unsubscribe_url


@dataclass(frozen=True, slots=True)
class Written:
    """One outbox row written for its recipient: what the message is made of."""

    #: In the recipient's language, cut to the outbox's 300 characters.
    subject: str
    #: The plain-text part.
    text_body: str
    #: The HTML part.
    html_body: str
    #: The calendar file its kind sends (a confirmation's, a session update's), if any.
    ics: str | None = None
    #: Set when the row's kind finds it while writing (a registration's organiser).
    reply_to: str | None = None
    #: The one-click unsubscribe address of the email's category (List-Unsubscribe), if any.
    unsubscribe_url: str | None = None


class Unwritable(Exception):  # noqa: N818  (a reason, not a fault: the row is skipped)
    """The row is not to be written: what it is about is gone (it is skipped with this
    reason); raised by a kind's writer."""


def render_parts(template: str, context: dict) -> tuple[str, str]:
    """The plain-text and HTML parts of `email/<template>`, in the locale being rendered."""
    return (
        render_template(f"email/{template}.txt", **context),
        render_template(f"email/{template}.html", **context),
    )


def render_email(
    to: User, subject: str, template: str, context: dict, category: str | None = None
) -> Written:
    """Subject and both parts of `email/<template>` in the recipient's language.

    Pass the subject as a `lazy_gettext(...)` string so that it is translated here; a plain
    string, such as an organiser's own subject, stays as written."""
    links = preference_links(to.id, category)
    with recipient_locale(to.preferred_language):
        subject = str(subject)
        context = {
            "recipient": to,
            "recipient_tz": to.timezone,
            "subject": subject,
            **links,
            **context,
        }
        text_body, html_body = render_parts(template, context)
    return Written(
        fit_subject(subject),
        text_body,
        html_body,
        unsubscribe_url=links.get("unsubscribe_url"),
    )


def fit_subject(subject: str) -> str:
    """A subject as the outbox keeps it (300 characters): one built from a title (a
    programme's or a session's may be 300 characters) is cut with "…"; the email's body
    names it in full."""
    return fit_column(subject, table_of(OutboxMessage).c.subject) or subject


def preference_links(user_id: int | None, category: str | None) -> dict[str, str]:
    """The unsubscribe and preferences addresses of an optional category's email."""
    if category is None or user_id is None:
        return {}
    token = preference_token(user_id)
    return {
        "unsubscribe_url": unsubscribe_url(user_id, category, token),
        "preferences_url": external_url("notifications.preferences", token=token),
    }


def reply_to_addresses(programme_ids: set[int]) -> dict[int, str]:
    """Each programme's organiser address for Reply-To: its first team member who manages it."""
    if not programme_ids:
        return {}
    rows = db.session.execute(
        select(ProgrammeTeamMember.programme_id, User.email)
        .join(User, User.id == ProgrammeTeamMember.user_id)
        .where(
            ProgrammeTeamMember.programme_id.in_(programme_ids),
            ProgrammeTeamMember.manage_programme.is_(True),
        )
        .order_by(ProgrammeTeamMember.id)
    )
    addresses: dict[int, str] = {}
    for programme_id, email in rows:
        addresses.setdefault(programme_id, email)
    return addresses


def programme_url(programme) -> str:
    return external_url("catalogue.programme", slug=programme.slug)
