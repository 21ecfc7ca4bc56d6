"""Reminder planning (ARCHITECTURE.md rule 4): a periodic scan, no long ETA tasks.

Each minute, for every upcoming session whose reminder instant has passed, one outbox row per
confirmed registration (and per speaker or moderator with an email address) is written under a
key of (session, schedule version, person, offset). The unique key makes a second scan, or a
second beat started by mistake, harmless. Only the latest passed instant counts: once the 1-hour
instant has passed, a 24-hour reminder that was never planned is not sent. Registrations
confirmed after an instant get no reminder for it. Moving a session raises its ics_sequence,
which starts a new schedule version: reminders are planned again for the new time.

A (session, offset, version) whose instant is a minute past is closed with a ReminderRun row and
never scanned again, so the scan's cost follows what is due, not the number of registrations.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, select
from sqlalchemy.orm import joinedload, selectinload

from ..catalogue.models import Programme, Session, SessionSpeaker
from ..database import begin_write_transaction
from ..extensions import db
from ..registration.models import Registration
from .models import OutboxMessage, ReminderPolicy, ReminderRun
from .services import render_reminder, render_speaker_reminder, reply_to_addresses
from .sql import insert_ignoring_duplicates

#: A run is closed this long after its instant, so registrations committing at the instant count.
CLOSE_AFTER = timedelta(minutes=1)


def default_offsets() -> tuple[int, ...]:
    return tuple(sorted(current_app.config["REMINDER_OFFSETS_MINUTES"]))


def plan_due_reminders(now: datetime) -> list[int]:
    """Write the reminders that are due at `now`; returns the new outbox ids.

    Leaves the write transaction open for the caller to commit (with its heartbeat)."""
    policies = dict(
        db.session.execute(
            select(ReminderPolicy.programme_id, ReminderPolicy.offsets_minutes)
        ).all()
    )
    longest = max([*default_offsets(), *_all_policy_offsets(policies.values())], default=0)
    if not longest:
        begin_write_transaction()
        return []
    sessions = db.session.scalars(
        select(Session)
        .join(Session.programme)
        .where(
            Programme.status == "published",
            Session.status == "scheduled",
            Session.reminders_enabled.is_(True),
            Session.starts_at > now,
            Session.starts_at <= now + timedelta(minutes=longest),
        )
        .options(
            joinedload(Session.programme),
            selectinload(Session.speaker_links).joinedload(SessionSpeaker.person),
        )
        .order_by(Session.starts_at)
    ).all()
    due: list[tuple[Session, int]] = []
    for session in sessions:
        offsets = _offsets_for(session.programme_id, policies)
        passed = [o for o in offsets if session.starts_at - timedelta(minutes=o) <= now]
        if passed:
            due.append((session, passed[0]))
    closed = _closed_runs(due)
    rows: list[dict] = []
    to_close: list[dict] = []
    reply_to = reply_to_addresses({s.programme_id for s, _ in due})
    for session, offset in due:
        if (session.id, offset, session.ics_sequence) in closed:
            continue
        session_rows = _registrant_rows(session, offset, now, reply_to)
        session_rows += _speaker_rows(session, offset, now, reply_to)
        rows += session_rows
        if now >= session.starts_at - timedelta(minutes=offset) + CLOSE_AFTER:
            to_close.append(
                {
                    "session_id": session.id,
                    "offset_minutes": offset,
                    "ics_sequence": session.ics_sequence,
                    "planned": len(session_rows),
                    "completed_at": now,
                }
            )
    # Rendering is done; only now take the write lock (SQLite), and only for the inserts.
    begin_write_transaction()
    ids = insert_ignoring_duplicates(rows)
    _close_runs(to_close)
    return ids


def _all_policy_offsets(values) -> list[int]:
    from .models import parse_offsets

    return [offset for value in values for offset in parse_offsets(value)]


def _offsets_for(programme_id: int, policies: dict[int, str]) -> tuple[int, ...]:
    from .models import parse_offsets

    if programme_id in policies:
        return parse_offsets(policies[programme_id])
    return default_offsets()


def _closed_runs(due: list[tuple[Session, int]]) -> set[tuple[int, int, int]]:
    if not due:
        return set()
    session_ids = [session.id for session, _ in due]
    return set(
        db.session.execute(
            select(
                ReminderRun.session_id, ReminderRun.offset_minutes, ReminderRun.ics_sequence
            ).where(ReminderRun.session_id.in_(session_ids))
        ).all()
    )


def _close_runs(rows: list[dict]) -> None:
    if not rows:
        return
    from sqlalchemy.dialects import postgresql, sqlite

    insert = (
        postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    db.session.execute(insert(ReminderRun).values(rows).on_conflict_do_nothing())


def reminder_key(session: Session, recipient: str, offset: int) -> str:
    return f"reminder:{session.id}:{session.ics_sequence}:{recipient}:{offset}"


def _existing_keys(session: Session, kind: str) -> set[str]:
    return set(
        db.session.scalars(
            select(OutboxMessage.dedupe_key).where(
                and_(OutboxMessage.session_id == session.id, OutboxMessage.kind == kind)
            )
        )
    )


def _registrant_rows(
    session: Session, offset: int, now: datetime, reply_to: dict[int, str]
) -> list[dict]:
    instant = session.starts_at - timedelta(minutes=offset)
    registrations = db.session.scalars(
        select(Registration)
        .where(
            Registration.programme_id == session.programme_id,
            Registration.status == "confirmed",
            Registration.confirmed_at <= instant,
        )
        .options(joinedload(Registration.user))
    ).all()
    if not registrations:
        return []
    already = _existing_keys(session, "reminder")
    return [
        render_reminder(
            session,
            session.programme,
            registration,
            offset,
            now,
            key=key,
            reply_to=reply_to.get(session.programme_id),
        )
        for registration in registrations
        if (key := reminder_key(session, f"r{registration.id}", offset)) not in already
    ]


def _speaker_rows(
    session: Session, offset: int, now: datetime, reply_to: dict[int, str]
) -> list[dict]:
    speakers = [link for link in session.speaker_links if link.person.email]
    if not speakers:
        return []
    already = _existing_keys(session, "speaker_reminder")
    return [
        render_speaker_reminder(
            session,
            link,
            offset,
            now,
            key=key,
            reply_to=reply_to.get(session.programme_id),
        )
        for link in speakers
        if (key := reminder_key(session, f"p{link.person_id}", offset)) not in already
    ]
