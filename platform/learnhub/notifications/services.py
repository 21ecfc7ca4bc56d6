"""Writing emails into the outbox, in the transaction of the change that causes them.

Nothing here sends anything: rows are handed to the worker after the commit
(see `outbox_dispatch`), and the worker delivers them (see `delivery`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import render_template

from ..accounts.models import User
from ..catalogue.models import Programme, Session
from ..extensions import db
from ..links import external_url
from ..registration.models import Registration
from .ics import programme_calendar
from .models import OutboxMessage


def queue_email(
    *,
    kind: str,
    dedupe_key: str,
    to: User,
    subject: str,
    template: str,
    context: dict,
    ics: str | None = None,
    registration: Registration | None = None,
    expires_at: datetime | None = None,
) -> OutboxMessage:
    """Render `email/<template>.txt` and `.html` for the recipient and add the outbox row."""
    context = {"recipient": to, "recipient_tz": to.timezone, "subject": subject, **context}
    message = OutboxMessage(
        kind=kind,
        dedupe_key=dedupe_key,
        to_address=to.email,
        subject=subject,
        text_body=render_template(f"email/{template}.txt", **context),
        html_body=render_template(f"email/{template}.html", **context),
        ics=ics,
        registration_id=registration.id if registration else None,
        expires_at=expires_at,
    )
    db.session.add(message)
    db.session.flush()
    return message


#: The subject of each registration transition's email.
REGISTRATION_SUBJECTS = {
    "confirmed": "You are registered: {title}",
    "approved": "Your place is confirmed: {title}",
    "promoted": "A seat is yours: {title}",
    "pending": "Registration received, awaiting approval: {title}",
    "waitlisted": "You are on the waiting list: {title}",
    "rejected": "Your registration was not accepted: {title}",
    "cancelled": "Your registration is cancelled: {title}",
    "waitlist_left": "You have left the waiting list: {title}",
}
#: Transitions that give a seat: their email is the confirmation, with the calendar file.
SEAT_EVENTS = ("confirmed", "approved", "promoted")


def queue_registration_email(
    registration: Registration,
    event: str,
    *,
    waitlist_place: int | None = None,
    sign_in_link: str | None = None,
) -> OutboxMessage:
    """The email of one registration transition, keyed by the registration's version so that
    each transition writes exactly one row and a retried transaction cannot write a second."""
    from ..registration.links import cancel_url

    programme = registration.programme
    sessions = list(programme.sessions)
    confirmed = event in SEAT_EVENTS
    return queue_email(
        kind="confirmation" if event == "confirmed" else f"registration_{event}",
        dedupe_key=f"registration:{registration.id}:v{registration.version}",
        to=registration.user,
        subject=REGISTRATION_SUBJECTS[event].format(title=programme.title),
        template="registration_confirmed" if confirmed else "registration_status",
        context={
            "event": event,
            "registration": registration,
            "waitlist_place": waitlist_place,
            "programme": programme,
            "sessions": sessions,
            "programme_url": external_url("catalogue.programme", slug=programme.slug),
            "my_programmes_url": external_url("registration.my_programmes"),
            "sign_in_link": sign_in_link,
            "cancel_url": cancel_url(registration)
            if registration.status in ("pending", "confirmed", "waitlisted")
            else None,
        },
        ics=programme_calendar(programme, sessions) if confirmed else None,
        registration=registration,
    )


def render_sign_in_link(user: User, link: str, minutes: int) -> tuple[str, str]:
    """Both parts of the sign-in email, without an outbox row (see request_sign_in_link)."""
    context = {
        "recipient": user,
        "recipient_tz": user.timezone,
        "subject": "Your LearnHub sign-in link",
        "link": link,
        "minutes": minutes,
    }
    return (
        render_template("email/sign_in_link.txt", **context),
        render_template("email/sign_in_link.html", **context),
    )


def queue_sign_in_link(user: User, link: str, token_id: int, minutes: int) -> OutboxMessage:
    return queue_email(
        kind="magic_link",
        dedupe_key=f"magic_link:{token_id}",
        to=user,
        subject="Your LearnHub sign-in link",
        template="sign_in_link",
        context={"link": link, "minutes": minutes},
    )


def render_reminder(
    session: Session,
    programme: Programme,
    registration: Registration,
    offset_minutes: int,
    now: datetime,
) -> dict:
    """The outbox row's values for one reminder (used by reminder planning)."""
    user = registration.user
    when = describe_time_until(session.starts_at - now)
    subject = f"Reminder: {programme.title} starts {when}"
    context = {
        "recipient": user,
        "recipient_tz": user.timezone,
        "subject": subject,
        "programme": programme,
        "session": session,
        "when": when,
        "programme_url": external_url("catalogue.programme", slug=programme.slug),
    }
    return {
        "kind": "reminder",
        "dedupe_key": f"reminder:{session.id}:{registration.id}:{offset_minutes}",
        "to_address": user.email,
        "subject": subject,
        "text_body": render_template("email/reminder.txt", **context),
        "html_body": render_template("email/reminder.html", **context),
        "registration_id": registration.id,
        "expires_at": session.starts_at,
    }


def describe_time_until(remaining: timedelta) -> str:
    """How soon a session starts, from the moment the reminder is written ("in 1 hour").

    Worded from the time actually left rather than the offset, so a reminder planned late
    never says "tomorrow" for a session that starts today."""
    minutes = max(round(remaining.total_seconds() / 60), 0)
    if minutes < 45:
        return f"in {minutes} minutes"
    if minutes < 90:
        return "in 1 hour"
    hours = round(minutes / 60)
    if hours < 48:
        return f"in {hours} hours"
    return f"in {round(hours / 24)} days"
