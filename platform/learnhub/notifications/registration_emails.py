"""The email of each registration transition: queued as what the transition decided, written by
the worker (with every session as .ics when it gives a seat)."""

from __future__ import annotations

from dataclasses import replace

from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..catalogue.models import Programme
from ..extensions import db
from ..i18n import N_
from ..links import external_url
from ..registration.links import cancel_url
from ..registration.models import Registration
from .compose import Unwritable, Written, fit_subject, programme_url, render_email
from .compose import reply_to_addresses as reply_to_of
from .ics import programme_calendar
from .policy import reminder_promise
from .queueing import add_row

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
    writes subject, bodies and calendar from it when it claims the row (`write`)."""
    return add_row(
        {
            "kind": "confirmation" if event == "confirmed" else f"registration_{event}",
            "dedupe_key": f"registration:{registration_id}:v{version}",
            "to_address": to_address,
            "subject": fit_subject(REGISTRATION_SUBJECTS[event] % {"title": title}),
            "registration_id": registration_id,
            "user_id": user_id,
            "render_args": {
                "email": "registration",
                "event": event,
                "waitlist_place": waitlist_place,
                "sign_in_link": sign_in_link,
                "cancel_link": cancel_link,
            },
        }
    )


def registration_email(
    registration: Registration,
    event: str,
    *,
    waitlist_place: int | None = None,
    sign_in_link: str | None = None,
    cancel_link: bool = False,
    reply_to: str | None = None,
) -> Written:
    """One registration transition's email; those that give a seat send the confirmation,
    with every session as .ics."""
    programme = registration.programme
    sessions = list(programme.sessions)
    confirmed = event in SEAT_EVENTS
    written = render_email(
        registration.user,
        lazy_gettext(REGISTRATION_SUBJECTS[event], title=programme.title),
        "registration_confirmed" if confirmed else "registration_status",
        {
            "event": event,
            "registration": registration,
            "waitlist_place": waitlist_place,
            "programme": programme,
            "sessions": sessions,
            "programme_url": programme_url(programme),
            "my_programmes_url": external_url("registration.my_programmes"),
            "sign_in_link": sign_in_link,
            "cancel_url": cancel_url(registration) if cancel_link else None,
            "reminders": reminder_promise(programme) if confirmed else None,
        },
    )
    ics = programme_calendar(programme, sessions) if confirmed else None
    return replace(written, ics=ics, reply_to=reply_to)


def load(rows: list) -> tuple[dict[int, Registration], dict[int, str]]:
    """The rows' registrations (with person, programme and sessions) and Reply-To addresses."""
    ids = {row.registration_id for row in rows if row.registration_id is not None}
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
    return registrations, reply_to_of({r.programme_id for r in registrations.values()})


def write(row, loaded: tuple[dict[int, Registration], dict[int, str]]) -> Written:
    registrations, reply_to = loaded
    registration = registrations.get(row.registration_id)
    if registration is None:
        raise Unwritable("the registration is gone; the email cannot be written")
    args = row.render_args
    return registration_email(
        registration,
        args["event"],
        waitlist_place=args.get("waitlist_place"),
        sign_in_link=args.get("sign_in_link"),
        cancel_link=bool(args.get("cancel_link")),
        reply_to=reply_to.get(registration.programme_id),
    )
