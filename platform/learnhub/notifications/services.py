"""Writing emails into the outbox, in the transaction of the change that causes them.

Nothing here sends anything: rows are handed to the worker after the commit
(see `outbox_dispatch`), and the worker delivers them (see `delivery`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from babel.dates import format_timedelta
from flask import render_template
from flask_babel import get_locale, gettext, lazy_gettext
from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from ..accounts.models import ProgrammeTeamMember, User
from ..catalogue.models import Material, Programme, Session, SessionSpeaker
from ..database import fit_column
from ..extensions import db
from ..i18n import N_, recipient_locale
from ..links import external_url
from ..outbox_dispatch import remember_new_outbox_ids
from ..registration.models import Registration
from .ics import programme_calendar, session_change_calendar
from .models import OutboxMessage
from .policy import reminder_promise


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
    session: Session | None = None,
    expires_at: datetime | None = None,
    category: str | None = None,
    reply_to: str | None = None,
) -> OutboxMessage:
    """Render `email/<template>.txt` and `.html` for the recipient and add the outbox row.

    Subject and parts are written in the recipient's language: pass the subject as a
    `lazy_gettext(...)` string so that it is translated here (a plain string, such as an
    organiser's own subject, stays as written).
    `category` ("reminders", "announcements") marks email the recipient may switch off: it
    then carries one-click unsubscribe headers and a link to their email preferences."""
    subject, text_body, html_body, links = _render_email(to, subject, template, context, category)
    message = OutboxMessage(
        kind=kind,
        dedupe_key=dedupe_key,
        to_address=to.email,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        ics=ics,
        registration_id=registration.id if registration else None,
        user_id=to.id,
        session_id=session.id if session else None,
        expires_at=expires_at,
        category=category,
        unsubscribe_url=links.get("unsubscribe_url"),
        reply_to=reply_to,
    )
    db.session.add(message)
    db.session.flush()
    return message


def render_parts(template: str, context: dict) -> tuple[str, str]:
    """The plain-text and HTML parts of `email/<template>`, in the locale being rendered."""
    return (
        render_template(f"email/{template}.txt", **context),
        render_template(f"email/{template}.html", **context),
    )


def _render_email(
    to: User, subject: str, template: str, context: dict, category: str | None = None
) -> tuple[str, str, str, dict[str, str]]:
    """Subject and both parts of `email/<template>` in the recipient's language, and their
    preference links."""
    links = _preference_links(to.id, category)
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
    return fit_subject(subject), text_body, html_body, links


def fit_subject(subject: str) -> str:
    """A subject as the outbox keeps it (300 characters): one built from a title (a
    programme's or a session's may be 300 characters) is cut with "…"; the email's body
    names it in full."""
    return fit_column(subject, OutboxMessage.__table__.c.subject)


def _preference_links(user_id: int, category: str | None) -> dict[str, str]:
    if category is None:
        return {}
    from .preferences import preference_token, unsubscribe_url

    return {
        "unsubscribe_url": unsubscribe_url(user_id, category),
        "preferences_url": external_url(
            "notifications.preferences", token=preference_token(user_id)
        ),
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


#: The subject of each registration transition's email (msgids, translated when written).
REGISTRATION_SUBJECTS = {
    "confirmed": N_("You are registered: %(title)s"),
    "approved": N_("Your place is confirmed: %(title)s"),
    "promoted": N_("A seat is yours: %(title)s"),
    "pending": N_("Registration received, awaiting approval: %(title)s"),
    "waitlisted": N_("You are on the waiting list: %(title)s"),
    "rejected": N_("Your registration was not accepted: %(title)s"),
    "cancelled": N_("Your registration is cancelled: %(title)s"),
    "waitlist_left": N_("You have left the waiting list: %(title)s"),
}
#: Transitions that give a seat: their email is the confirmation, with the calendar file.
SEAT_EVENTS = ("confirmed", "approved", "promoted")


def queue_registration_email(
    registration: Registration,
    event: str,
    *,
    waitlist_place: int | None = None,
    sign_in_link: str | None = None,
) -> int:
    """The email of one registration transition (see `queue_registration_email_row`)."""
    return queue_registration_email_row(
        registration_id=registration.id,
        version=registration.version,
        user_id=registration.user_id,
        to_address=registration.user.email,
        title=registration.programme.title,
        event=event,
        waitlist_place=waitlist_place,
        sign_in_link=sign_in_link,
        cancel_link=registration.status in ("pending", "confirmed", "waitlisted"),
    )


def queue_registration_email_row(
    *,
    registration_id: int,
    version: int,
    user_id: int,
    to_address: str,
    title: str,
    event: str,
    waitlist_place: int | None,
    sign_in_link: str | None,
    cancel_link: bool,
) -> int:
    """Write the outbox row of one registration transition; returns its id.

    Keyed by the registration's version, so each transition writes exactly one row and a
    retried transaction cannot write a second. The row holds what the transition decided
    (event, waiting-list place, sign-in link, whether to offer a cancel link); the worker
    writes subject, bodies and calendar from it with `registration_email` when it delivers
    the row (`render_deferred`), so the request that causes it renders nothing."""
    row = db.session.connection().execute(
        OUTBOX_INSERT,
        {
            "kind": "confirmation" if event == "confirmed" else f"registration_{event}",
            "dedupe_key": f"registration:{registration_id}:v{version}",
            "to_address": to_address,
            "subject": fit_subject(REGISTRATION_SUBJECTS[event] % {"title": title}),
            "text_body": "",
            "html_body": "",
            "registration_id": registration_id,
            "user_id": user_id,
            "render_args": {
                "email": "registration",
                "event": event,
                "waitlist_place": waitlist_place,
                "sign_in_link": sign_in_link,
                "cancel_link": cancel_link,
            },
        },
    )
    outbox_id = row.scalar_one()
    remember_new_outbox_ids(db.session(), [outbox_id])
    return outbox_id


#: Plain Core: the row needs nothing of the ORM (the after-flush hook is told by hand).
OUTBOX_INSERT = insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id)


def registration_email(
    registration: Registration,
    event: str,
    *,
    waitlist_place: int | None = None,
    sign_in_link: str | None = None,
    cancel_link: bool = False,
    reply_to: str | None = None,
) -> dict:
    """Subject, both bodies, calendar file and Reply-To of one registration transition's email.

    The transitions that give a seat send the confirmation, with every session as .ics."""
    from ..registration.links import cancel_url

    programme = registration.programme
    sessions = list(programme.sessions)
    confirmed = event in SEAT_EVENTS
    subject, text_body, html_body, _links = _render_email(
        registration.user,
        lazy_gettext(REGISTRATION_SUBJECTS[event], title=programme.title),
        "registration_confirmed" if confirmed else "registration_status",
        {
            "event": event,
            "registration": registration,
            "waitlist_place": waitlist_place,
            "programme": programme,
            "sessions": sessions,
            "programme_url": external_url("catalogue.programme", slug=programme.slug),
            "my_programmes_url": external_url("registration.my_programmes"),
            "sign_in_link": sign_in_link,
            "cancel_url": cancel_url(registration) if cancel_link else None,
            "reminders": reminder_promise(programme) if confirmed else None,
        },
    )
    return {
        "subject": subject,
        "text_body": text_body,
        "html_body": html_body,
        "ics": programme_calendar(programme, sessions) if confirmed else None,
        "reply_to": reply_to,
    }


def render_deferred(
    messages: list[OutboxMessage],
) -> tuple[dict[int, str], dict[int, Exception]]:
    """Write subject, bodies and attachment of rows queued with `render_args` (the worker
    calls this on the rows it has claimed). Returns why, by row id, a row is not to be
    written (its registration is gone: skipped) and the error of a row that could not be
    (failed on its own, so that the other rows of the batch still go)."""
    waiting = [m for m in messages if m.render_args]
    if not waiting:
        return {}, {}
    ids = {m.registration_id for m in waiting if m.registration_id is not None}
    registrations = {
        r.id: r
        for r in db.session.scalars(
            select(Registration)
            .where(Registration.id.in_(ids))
            .options(
                joinedload(Registration.user),
                joinedload(Registration.programme).selectinload(Programme.sessions),
            )
        ).unique()
    }
    reply_to = reply_to_addresses({r.programme_id for r in registrations.values()})
    unrenderable: dict[int, str] = {}
    failures: dict[int, Exception] = {}
    for message in waiting:
        registration = registrations.get(message.registration_id)
        if registration is None:
            unrenderable[message.id] = "the registration is gone; the email cannot be written"
            continue
        args = message.render_args
        try:
            values = registration_email(
                registration,
                args["event"],
                waitlist_place=args.get("waitlist_place"),
                sign_in_link=args.get("sign_in_link"),
                cancel_link=bool(args.get("cancel_link")),
                reply_to=reply_to.get(registration.programme_id),
            )
        except SQLAlchemyError:
            raise
        except Exception as error:
            failures[message.id] = error
            continue
        for name, value in values.items():
            setattr(message, name, value)
        message.render_args = None
    return unrenderable, failures


def render_sign_in_link(user: User, link: str, minutes: int) -> tuple[str, str]:
    """Both parts of the sign-in email, without an outbox row (see request_sign_in_link)."""
    _subject, text_body, html_body, _links = _render_email(
        user, SIGN_IN_SUBJECT, "sign_in_link", {"link": link, "minutes": minutes}
    )
    return text_body, html_body


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


def render_reminder(
    session: Session,
    programme: Programme,
    registration: Registration,
    offset_minutes: int,
    now: datetime,
    *,
    key: str,
    reply_to: str | None,
) -> dict:
    """The outbox row's values for one participant reminder (used by reminder planning)."""
    user = registration.user
    links = _preference_links(user.id, "reminders")
    with recipient_locale(user.preferred_language):
        when = describe_time_until(session.starts_at - now)
        subject = gettext("Reminder: %(title)s starts %(when)s", title=programme.title, when=when)
        context = {
            "recipient": user,
            "recipient_tz": user.timezone,
            "subject": subject,
            "programme": programme,
            "session": session,
            "when": when,
            "programme_url": external_url("catalogue.programme", slug=programme.slug),
            **links,
        }
        text_body, html_body = render_parts("reminder", context)
    return {
        "kind": "reminder",
        "dedupe_key": key,
        "to_address": user.email,
        "subject": fit_subject(subject),
        "text_body": text_body,
        "html_body": html_body,
        "registration_id": registration.id,
        "user_id": user.id,
        "session_id": session.id,
        "category": "reminders",
        "unsubscribe_url": links["unsubscribe_url"],
        "reply_to": reply_to,
        "expires_at": session.starts_at,
    }


def render_speaker_reminder(
    session: Session,
    link: SessionSpeaker,
    offset_minutes: int,
    now: datetime,
    *,
    key: str,
    reply_to: str | None,
) -> dict:
    """A speaker's or moderator's reminder with the session's run-sheet, in their own zone."""
    person = link.person
    programme = session.programme
    with recipient_locale(person.preferred_language or _account_language(person.email)):
        when = describe_time_until(session.starts_at - now)
        subject = (
            gettext("Run-sheet: you moderate %(when)s", when=when)
            if link.role == "moderator"
            else gettext("Run-sheet: you speak %(when)s", when=when)
        )
        context = {
            "person": person,
            "recipient_tz": person.timezone or session.timezone,
            "subject": subject,
            "programme": programme,
            "session": session,
            "role": link.role,
            "line_up": session.speaker_links,
            "when": when,
            "programme_url": external_url("catalogue.programme", slug=programme.slug),
        }
        subject = gettext("%(subject)s: %(title)s", subject=subject, title=programme.title)
        text_body, html_body = render_parts("speaker_reminder", context)
    return {
        "kind": "speaker_reminder",
        "dedupe_key": key,
        "to_address": person.email,
        "subject": fit_subject(subject),
        "text_body": text_body,
        "html_body": html_body,
        "session_id": session.id,
        "reply_to": reply_to,
        "expires_at": session.starts_at,
    }


def _account_language(email: str | None) -> str | None:
    """A speaker's language when their own is not set: that of the LearnHub account with
    their address, if any."""
    if not email:
        return None
    return db.session.scalar(
        select(User.preferred_language).where(User.email == email.strip().lower())
    )


def describe_time_until(remaining: timedelta) -> str:
    """How soon a session starts, from the moment the reminder is written ("in 1 hour"),
    in the locale being rendered (CLDR's own words and plurals: "dentro de 1 hora").

    Worded from the time actually left rather than the offset, so a reminder planned late
    never says "tomorrow" for a session that starts today."""
    minutes = max(round(remaining.total_seconds() / 60), 0)
    if minutes < 45:
        unit, amount = "minute", minutes
    elif minutes < 90:
        unit, amount = "hour", 1
    elif (hours := round(minutes / 60)) < 48:
        unit, amount = "hour", hours
    else:
        unit, amount = "day", round(hours / 24)
    return _time_until(str(get_locale() or "en"), unit, amount)


@lru_cache(maxsize=1024)
def _time_until(locale: str, unit: str, amount: int) -> str:
    # A threshold no amount reaches makes Babel word it in exactly `unit`.
    return format_timedelta(
        timedelta(**{f"{unit}s": amount}),
        granularity=unit,
        threshold=float("inf"),
        add_direction=True,
        locale=locale,
    )


def skip_pending_reminders(session: Session, reason: str) -> int:
    """Reminders written for a session's old schedule must not go out."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.session_id == session.id,
            OutboxMessage.kind.in_(("reminder", "speaker_reminder")),
            OutboxMessage.status == "queued",
        )
        .values(status="skipped", last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def queue_session_change(
    session: Session,
    registrations: list[Registration],
    *,
    previous: tuple[datetime, datetime] | None = None,
    note: str = "",
) -> int:
    """Tell registrants a session moved (METHOD:REQUEST; with its `previous` start and end)
    or was cancelled (METHOD:CANCEL), with the organiser's `note` if they wrote one."""
    programme = session.programme
    cancelled = session.status == "cancelled"
    reply_to = reply_to_addresses({programme.id}).get(programme.id)
    kind = "session_cancelled" if cancelled else "session_changed"
    subject = (
        lazy_gettext(
            "Cancelled: %(session)s (%(title)s)", session=session.title, title=programme.title
        )
        if cancelled
        else lazy_gettext(
            "New time: %(session)s (%(title)s)", session=session.title, title=programme.title
        )
    )
    for registration in registrations:
        queue_email(
            kind=kind,
            dedupe_key=f"{kind}:{session.id}:{session.ics_sequence}:{registration.id}",
            to=registration.user,
            subject=subject,
            template=kind,
            context={
                "programme": programme,
                "session": session,
                "previous": previous,
                "note": note,
                "programme_url": external_url("catalogue.programme", slug=programme.slug),
            },
            ics=session_change_calendar(session, attendee=registration.user),
            registration=registration,
            session=session,
            reply_to=reply_to,
        )
    return len(registrations)


def queue_recording_follow_up(
    session: Session,
    recording: Material,
    registrations: list[Registration],
    attended: set[int],
    *,
    note: str = "",
) -> int:
    """After a session gets its recording: attendees and those who missed it get the link,
    with the organiser's `note` if they wrote one."""
    programme = session.programme
    guidebooks = [m for m in programme.materials if m.kind == "guidebook"]
    reply_to = reply_to_addresses({programme.id}).get(programme.id)
    for registration in registrations:
        was_there = registration.id in attended
        queue_email(
            kind="recording_available",
            dedupe_key=f"recording:{recording.id}:{registration.id}",
            to=registration.user,
            subject=lazy_gettext("Recording available: %(session)s", session=session.title),
            template="recording_available",
            context={
                "programme": programme,
                "session": session,
                "recording": recording,
                "attended": was_there,
                "note": note,
                "guidebooks": [
                    (m.title, external_url("catalogue.download_material", material_id=m.id))
                    for m in guidebooks
                ],
                "programme_url": external_url("catalogue.programme", slug=programme.slug),
            },
            registration=registration,
            session=session,
            category="announcements",
            reply_to=reply_to,
        )
    return len(registrations)
