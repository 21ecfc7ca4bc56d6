"""Reminder planning (ARCHITECTURE.md rule 4): a periodic scan, no long ETA tasks.

Each minute, for every upcoming session whose reminder instant has passed, one outbox row per
confirmed registration is written under the key (session, registration, offset). The unique key
makes a second scan, or a second beat started by mistake, harmless. Only the latest passed
instant counts: once the 1-hour instant has passed, a 24-hour reminder that was never planned is
not sent. Registrations confirmed after an instant get no reminder for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..catalogue.models import Programme, Session
from ..database import begin_write_transaction
from ..extensions import db
from ..registration.models import Registration
from .models import OutboxMessage
from .services import render_reminder
from .sql import insert_ignoring_duplicates


def plan_due_reminders(now: datetime) -> list[int]:
    """Write the reminders that are due at `now`; returns the new outbox ids."""
    offsets = sorted(current_app.config["REMINDER_OFFSETS_MINUTES"])
    if not offsets:
        return []
    horizon = now + timedelta(minutes=offsets[-1])
    sessions = db.session.scalars(
        select(Session)
        .join(Session.programme)
        .where(Programme.status == "published", Session.starts_at > now)
        .where(Session.starts_at <= horizon)
        .options(joinedload(Session.programme))
        .order_by(Session.starts_at)
    ).all()
    rows: list[dict] = []
    for session in sessions:
        due = [o for o in offsets if session.starts_at - timedelta(minutes=o) <= now]
        if due:
            rows += _due_rows(session, due[0], now)
    # Rendering is done; only now take the write lock (SQLite), and only for the inserts.
    begin_write_transaction()
    return insert_ignoring_duplicates(rows)


def _due_rows(session: Session, offset: int, now: datetime) -> list[dict]:
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
    keys = {f"reminder:{session.id}:{r.id}:{offset}": r for r in registrations}
    already = set(
        db.session.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(list(keys)))
        )
    )
    return [
        render_reminder(session, session.programme, registration, offset, now)
        for key, registration in keys.items()
        if key not in already
    ]
