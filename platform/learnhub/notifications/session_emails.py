"""Emails about a session: it moved or was cancelled (with a calendar update for each
recipient), or its recording is ready. Queued by the organiser's use case, one row per
registrant, written by the worker."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..catalogue.models import Material, Session
from ..database import row_count
from ..extensions import db
from ..links import external_url
from ..registration.models import Registration
from .compose import (
    Unwritable,
    Written,
    fit_subject,
    preference_links,
    programme_url,
    render_email,
    reply_to_addresses,
)
from .ics import session_change_calendar
from .models import OutboxMessage
from .queueing import add_rows


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
    return row_count(result)


def _change_subject(session: Session):
    title = session.programme.title
    if session.status == "cancelled":
        return lazy_gettext(
            "Cancelled: %(session)s (%(title)s)", session=session.title, title=title
        )
    return lazy_gettext("New time: %(session)s (%(title)s)", session=session.title, title=title)


def queue_session_change(
    session: Session,
    registrations: list[Registration],
    *,
    previous: tuple[datetime, datetime] | None = None,
    note: str = "",
) -> int:
    """Tell registrants a session moved (METHOD:REQUEST; with its `previous` start and end)
    or was cancelled (METHOD:CANCEL), with the organiser's `note` if they wrote one."""
    kind = "session_cancelled" if session.status == "cancelled" else "session_changed"
    render_args = {
        "email": "session_change",
        "previous": [moment.isoformat() for moment in previous] if previous else None,
        "note": note,
    }
    shared = _shared_values(session, str(_change_subject(session)))
    rows = [
        {
            "kind": kind,
            "dedupe_key": f"{kind}:{session.id}:{session.ics_sequence}:{registration.id}",
            "render_args": render_args,
            **_recipient_values(registration),
            **shared,
        }
        for registration in registrations
    ]
    add_rows(rows)
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
    shared = _shared_values(
        session, str(lazy_gettext("Recording available: %(session)s", session=session.title))
    )
    rows = [
        {
            "kind": "recording_available",
            "dedupe_key": f"recording:{recording.id}:{registration.id}",
            "render_args": {
                "email": "recording",
                "recording_id": recording.id,
                "attended": registration.id in attended,
                "note": note,
            },
            "category": "announcements",
            "unsubscribe_url": preference_links(registration.user_id, "announcements").get(
                "unsubscribe_url"
            ),
            **_recipient_values(registration),
            **shared,
        }
        for registration in registrations
    ]
    add_rows(rows)
    return len(registrations)


def _shared_values(session: Session, subject: str) -> dict:
    """The columns every row about the session shares; the subject kept in the row is the
    sender's language, the worker writes each recipient's in theirs."""
    programme_id = session.programme_id
    return {
        "subject": fit_subject(subject),
        "session_id": session.id,
        "reply_to": reply_to_addresses({programme_id}).get(programme_id),
    }


def _recipient_values(registration: Registration) -> dict:
    return {
        "to_address": registration.user.email,
        "registration_id": registration.id,
        "user_id": registration.user_id,
    }


@dataclass
class Loaded:
    sessions: dict[int, Session]
    registrations: dict[int, Registration]


def load(rows: list) -> Loaded:
    """The sessions (with programme) and registrations (with person) of a batch of rows."""
    sessions = db.session.scalars(
        select(Session)
        .where(Session.id.in_({row.session_id for row in rows}))
        .options(joinedload(Session.programme))
    )
    registrations = db.session.scalars(
        select(Registration)
        .where(Registration.id.in_({row.registration_id for row in rows}))
        .options(joinedload(Registration.user))
    )
    return Loaded({s.id: s for s in sessions}, {r.id: r for r in registrations})


def _about(row, loaded: Loaded) -> tuple[Session, Registration]:
    session = loaded.sessions.get(row.session_id)
    registration = loaded.registrations.get(row.registration_id)
    if session is None or registration is None:
        raise Unwritable("the session or the registration is gone; the email cannot be written")
    return session, registration


def write_change(row, loaded: Loaded) -> Written:
    """A move or a cancellation, with the calendar update for this recipient."""
    session, registration = _about(row, loaded)
    args = row.render_args
    previous = args["previous"]
    programme = session.programme
    written = render_email(
        registration.user,
        _change_subject(session),
        row.kind,
        {
            "programme": programme,
            "session": session,
            "previous": [datetime.fromisoformat(moment) for moment in previous]
            if previous
            else None,
            "note": args["note"],
            "programme_url": programme_url(programme),
        },
    )
    return replace(written, ics=session_change_calendar(session, attendee=registration.user))


def write_recording(row, loaded: Loaded) -> Written:
    """The recording's link, for someone who attended or who missed the session."""
    session, registration = _about(row, loaded)
    args = row.render_args
    recording = db.session.get(Material, args["recording_id"])
    if recording is None:
        raise Unwritable("the recording is gone; the email cannot be written")
    programme = session.programme
    guidebooks = [m for m in programme.materials if m.kind == "guidebook"]
    return render_email(
        registration.user,
        lazy_gettext("Recording available: %(session)s", session=session.title),
        "recording_available",
        {
            "programme": programme,
            "session": session,
            "recording": recording,
            "attended": args["attended"],
            "note": args["note"],
            "guidebooks": [
                (m.title, external_url("catalogue.download_material", material_id=m.id))
                for m in guidebooks
            ],
            "programme_url": programme_url(programme),
        },
        "announcements",
    )
