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

from collections.abc import Iterator
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..catalogue.models import Programme, Session, SessionSpeaker
from ..database import begin_write_transaction
from ..extensions import db
from ..registration.models import Registration
from .compose import reply_to_addresses
from .models import OutboxMessage, ReminderPolicy, ReminderRun, parse_offsets
from .queueing import add_rows
from .reminder_emails import reminder_row, shared_values, speaker_reminder_row

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
    reply_to = reply_to_addresses({s.programme_id for s, _ in due})
    new_ids: list[int] = []
    for session, offset in due:
        if (session.id, offset, session.ics_sequence) in closed:
            continue
        key = (session.id, offset, session.ics_sequence)
        close = now >= session.starts_at - timedelta(minutes=offset) + CLOSE_AFTER
        planned = 0
        for rows in _registrant_chunks(session, offset, now, reply_to):
            planned += len(rows)
            new_ids += _write(rows)
        speaker_rows = _speaker_rows(session, offset, now, reply_to)
        planned += len(speaker_rows)
        new_ids += _write(speaker_rows)
        if close:
            _write_closed_run(key, planned, now)
    begin_write_transaction()
    return new_ids


def _write(rows: list[dict]) -> list[int]:
    """Insert one chunk and commit it: memory stays flat and delivery starts at once; the
    write lock (SQLite) is held only for the insert."""
    if not rows:
        return []
    begin_write_transaction()
    ids = add_rows(rows)
    db.session.commit()
    return ids


def _write_closed_run(key: tuple[int, int, int], planned: int, now: datetime) -> None:
    session_id, offset, sequence = key
    begin_write_transaction()
    _close_runs(
        [
            {
                "session_id": session_id,
                "offset_minutes": offset,
                "ics_sequence": sequence,
                "planned": planned,
                "completed_at": now,
            }
        ]
    )
    db.session.commit()


def _all_policy_offsets(values) -> list[int]:
    return [offset for value in values for offset in parse_offsets(value)]


def _offsets_for(programme_id: int, policies: dict[int, str]) -> tuple[int, ...]:
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


#: Registrations written per transaction.
CHUNK = 500


def _registrant_chunks(
    session: Session, offset: int, now: datetime, reply_to: dict[int, str]
) -> Iterator[list[dict]]:
    """The registrants' reminder rows, a chunk at a time (keyset pages by registration id),
    read as plain columns; the worker writes each one's email when it claims the row."""
    instant = session.starts_at - timedelta(minutes=offset)
    session_id, programme_id = session.id, session.programme_id
    shared = shared_values(session, now, reply_to.get(programme_id))
    after = 0
    while True:
        rows = db.session.execute(
            select(Registration.id.label("registration_id"), User.id, User.email)
            .join(User, User.id == Registration.user_id)
            .where(
                Registration.programme_id == programme_id,
                Registration.status == "confirmed",
                Registration.confirmed_at <= instant,
                Registration.id > after,
            )
            .order_by(Registration.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        after = rows[-1].registration_id
        found = db.session.get(Session, session_id)
        if found is None:  # removed meanwhile: no reminders to write
            return
        session = found
        keys = {reminder_key(session, f"r{row.registration_id}", offset): row for row in rows}
        already = set(
            db.session.scalars(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.session_id == session_id,
                    OutboxMessage.dedupe_key.in_(list(keys)),
                )
            )
        )
        yield [
            reminder_row(row.registration_id, row, key=key, now=now, **shared)
            for key, row in keys.items()
            if key not in already
        ]
        if len(rows) < CHUNK:
            return  # that was the last page: no query for an empty one


def _speaker_rows(
    session: Session, offset: int, now: datetime, reply_to: dict[int, str]
) -> list[dict]:
    speakers = [link for link in session.speaker_links if link.person.email]
    if not speakers:
        return []
    already = _existing_keys(session, "speaker_reminder")
    shared = shared_values(session, now, reply_to.get(session.programme_id))
    return [
        speaker_reminder_row(session, link, key=key, now=now, **shared)
        for link in speakers
        if (key := reminder_key(session, f"p{link.person_id}", offset)) not in already
    ]
