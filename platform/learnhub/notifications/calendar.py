"""Private calendar feeds: one secret URL per participant, revocable, with alarms."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..catalogue.models import Programme, Session
from ..database import begin_write_transaction, row_count
from ..extensions import db
from ..registration.models import Registration
from ..types import utcnow
from .ics import build_calendar
from .models import CalendarFeed

#: Alarms in a feed: a day and an hour before each session.
FEED_ALARMS_MINUTES = (24 * 60, 60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(user: User) -> str:
    """A new secret feed URL token; any earlier feed of the person stops working."""
    begin_write_transaction()
    _revoke(user.id)
    token = secrets.token_urlsafe(32)
    db.session.add(CalendarFeed(user_id=user.id, token_hash=_hash(token)))
    db.session.commit()
    return token


def revoke_feeds(user: User) -> int:
    begin_write_transaction()
    count = _revoke(user.id)
    db.session.commit()
    return count


def _revoke(user_id: int) -> int:
    result = db.session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return row_count(result)


def has_active_feed(user: User) -> bool:
    return (
        db.session.scalar(
            select(CalendarFeed.id).where(
                CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None)
            )
        )
        is not None
    )


def feed_calendar(token: str) -> str | None:
    """The feed's calendar, or None for an unknown or revoked token."""
    user = db.session.scalar(
        select(User)
        .join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(CalendarFeed.token_hash == _hash(token), CalendarFeed.revoked_at.is_(None))
    )
    if user is None:
        return None
    sessions = db.session.scalars(
        select(Session)
        .join(Registration, Registration.programme_id == Session.programme_id)
        .join(Session.programme)
        .where(
            Registration.user_id == user.id,
            Registration.status == "confirmed",
            Programme.status.in_(("published", "archived")),
        )
        .options(joinedload(Session.programme))
        .order_by(Session.starts_at)
    ).all()
    return build_calendar(
        "LearnHub: my sessions",
        sessions,
        alarm_minutes=FEED_ALARMS_MINUTES,
        home_zone=user.timezone,
    )
