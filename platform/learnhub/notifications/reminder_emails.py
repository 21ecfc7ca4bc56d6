"""Reminder emails: a participant's reminder and a speaker's or moderator's run-sheet, written
by the worker for each recipient from the row the planner (`reminders`) wrote."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

from babel.dates import format_timedelta
from flask_babel import LazyString, get_locale, lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..catalogue.models import Session, SessionSpeaker
from ..extensions import db
from ..i18n import N_, recipient_locale
from .compose import Unwritable, Written, fit_subject, programme_url, render_email

#: A participant's reminder's subject (a msgid, translated when the row is written).
REMINDER_SUBJECT = N_("Reminder: %(title)s starts %(when)s")


def reminder_row(registration_id: int, user, *, key: str, now: datetime, **values) -> dict:
    """The outbox row of one participant's reminder, as the planner writes it: `user` has
    the recipient's id and email; `values` are the columns the session's rows share
    (`shared_values`). Its unsubscribe address is signed when the worker writes it."""
    return {
        "kind": "reminder",
        "dedupe_key": key,
        "to_address": user.email,
        "registration_id": registration_id,
        "user_id": user.id,
        "category": "reminders",
        "render_args": {"email": "reminder", "now": now.isoformat()},
        **values,
    }


def speaker_reminder_row(
    session: Session, link: SessionSpeaker, *, key: str, now: datetime, **values
) -> dict:
    """The outbox row of a speaker's or moderator's run-sheet (see `reminder_row`)."""
    with recipient_locale(None):
        subject = str(_run_sheet_subject(link, session.programme.title, session.starts_at - now))
    return {
        **values,
        "kind": "speaker_reminder",
        "dedupe_key": key,
        "to_address": link.person.email,
        "subject": fit_subject(subject),
        "render_args": {
            "email": "speaker_reminder",
            "person_id": link.person_id,
            "now": now.isoformat(),
        },
    }


def _run_sheet_subject(link: SessionSpeaker, title: str, remaining: timedelta) -> LazyString:
    when = LazyString(describe_time_until, remaining)
    what = (
        lazy_gettext("Run-sheet: you moderate %(when)s", when=when)
        if link.role == "moderator"
        else lazy_gettext("Run-sheet: you speak %(when)s", when=when)
    )
    return lazy_gettext("%(subject)s: %(title)s", subject=what, title=title)


def shared_values(session: Session, now: datetime, reply_to: str | None) -> dict:
    """The columns every reminder row of a session shares. The subject kept in the row is
    English; the worker writes each recipient's in their language."""
    with recipient_locale(None):
        subject = REMINDER_SUBJECT % {
            "title": session.programme.title,
            "when": describe_time_until(session.starts_at - now),
        }
    return {
        "subject": fit_subject(subject),
        "session_id": session.id,
        "reply_to": reply_to,
        "expires_at": session.starts_at,
    }


def reminder_email(session: Session, user: User, now: datetime) -> Written:
    """One participant's reminder, worded from the time left at `now` (when it was planned)."""
    programme = session.programme
    when = LazyString(describe_time_until, session.starts_at - now)
    return render_email(
        user,
        lazy_gettext(REMINDER_SUBJECT, title=programme.title, when=when),
        "reminder",
        {
            "programme": programme,
            "session": session,
            "when": when,
            "programme_url": programme_url(programme),
        },
        "reminders",
    )


def speaker_reminder_email(session: Session, link: SessionSpeaker, now: datetime) -> Written:
    """A speaker's or moderator's reminder with the session's run-sheet, in their own zone and
    language (else that of the account with their address, else English)."""
    person = link.person
    programme = session.programme
    reader = User(
        email=person.email,
        full_name=person.display_name,
        timezone=person.timezone or session.timezone,
        preferred_language=person.preferred_language or _account_language(person.email),
    )
    remaining = session.starts_at - now
    return render_email(
        reader,
        _run_sheet_subject(link, programme.title, remaining),
        "speaker_reminder",
        {
            "person": person,
            "programme": programme,
            "session": session,
            "role": link.role,
            "line_up": session.speaker_links,
            "when": LazyString(describe_time_until, remaining),
            "programme_url": programme_url(programme),
        },
    )


def _account_language(email: str | None) -> str | None:
    """A speaker's language when their own is not set: that of the LearnHub account with
    their address, if any."""
    if not email:
        return None
    return db.session.scalar(
        select(User.preferred_language).where(User.email == email.strip().lower())
    )


def describe_time_until(remaining: timedelta) -> str:
    """How soon a session starts, from the moment the reminder is planned ("in 1 hour"), in
    the locale being rendered (CLDR's own words and plurals: "dentro de 1 hora").

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
def _time_until(locale: str, unit: Literal["minute", "hour", "day"], amount: int) -> str:
    # A threshold no amount reaches makes Babel word it in exactly `unit`.
    return format_timedelta(
        timedelta(**{f"{unit}s": amount}),
        granularity=unit,
        threshold=float("inf"),
        add_direction=True,
        locale=locale,
    )


@dataclass
class Loaded:
    sessions: dict[int, Session]
    users: dict[int, User]


def load(rows: list) -> Loaded:
    """The sessions (with programme and line-up) and recipients of a batch of reminders."""
    session_ids = {row.session_id for row in rows}
    user_ids = {row.user_id for row in rows if row.user_id is not None}
    sessions = db.session.scalars(
        select(Session)
        .where(Session.id.in_(session_ids))
        .options(
            joinedload(Session.programme),
            selectinload(Session.speaker_links).joinedload(SessionSpeaker.person),
        )
    )
    users: Iterable[User] = (
        db.session.scalars(select(User).where(User.id.in_(user_ids))) if user_ids else []
    )
    return Loaded({s.id: s for s in sessions}, {u.id: u for u in users})


def _session(row, loaded: Loaded) -> Session:
    session = loaded.sessions.get(row.session_id)
    if session is None:
        raise Unwritable("the session is gone; the reminder cannot be written")
    return session


def write(row, loaded: Loaded) -> Written:
    session = _session(row, loaded)
    user = loaded.users.get(row.user_id)
    if user is None:
        raise Unwritable("the recipient's account is gone; the reminder cannot be written")
    return reminder_email(session, user, datetime.fromisoformat(row.render_args["now"]))


def write_speaker(row, loaded: Loaded) -> Written:
    session = _session(row, loaded)
    person_id = row.render_args["person_id"]
    link = next((link for link in session.speaker_links if link.person_id == person_id), None)
    if link is None:
        raise Unwritable("the speaker is no longer on the session; the run-sheet is not sent")
    return speaker_reminder_email(session, link, datetime.fromisoformat(row.render_args["now"]))
