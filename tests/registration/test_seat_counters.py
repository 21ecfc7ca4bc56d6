"""The programme's seat counters, kept by triggers on `registration`, follow every kind of
write: the ORM, Core statements, a move between programmes, and rows deleted by a cascade."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from learnhub.accounts.models import User
from learnhub.catalogue.models import Programme
from learnhub.extensions import db
from learnhub.registration.models import Registration
from tests import factories as f


def _counters(programme_id: int) -> tuple[int, int, int]:
    return db.session.execute(
        select(
            Programme.confirmed_count, Programme.waitlisted_count, Programme.waitlist_tail
        ).where(Programme.id == programme_id)
    ).one()


def _counted(programme_id: int) -> tuple[int, int]:
    rows = dict(
        db.session.execute(
            select(Registration.status, func.count())
            .where(Registration.programme_id == programme_id)
            .group_by(Registration.status)
        ).all()
    )
    return rows.get("confirmed", 0), rows.get("waitlisted", 0)


def test_counters_follow_inserts_updates_moves_and_deletes(app):
    first, second = f.make_programme(capacity=10), f.make_programme(capacity=10)
    confirmed = [f.make_registration(first) for _ in range(3)]
    waiting = [f.make_registration(first, status="waitlisted") for _ in range(2)]
    f.make_registration(first, status="pending")
    assert _counters(first.id) == (3, 2, 2)

    # A Core UPDATE of several rows, as an organiser's bulk action writes it.
    db.session.execute(
        update(Registration)
        .where(Registration.id.in_([r.id for r in confirmed[:2]]))
        .values(status="cancelled")
    )
    assert _counters(first.id) == (1, 2, 2)

    # Promoted from the queue: one fewer waiting, one more confirmed; the tail stays.
    db.session.execute(
        update(Registration)
        .where(Registration.id == waiting[0].id)
        .values(status="confirmed", waitlist_position=None)
    )
    assert _counters(first.id) == (2, 1, 2)

    # Moved to another programme's queue at place 7: both programmes follow.
    db.session.execute(
        update(Registration)
        .where(Registration.id == waiting[1].id)
        .values(programme_id=second.id, waitlist_position=7)
    )
    assert _counters(first.id) == (2, 0, 2)
    assert _counters(second.id) == (0, 1, 7)

    # An update that changes nothing the counters follow leaves them alone.
    db.session.execute(update(Registration).values(version=Registration.version + 1))
    assert _counters(first.id) == (2, 0, 2)

    # Deleting the account deletes its registrations by cascade.
    db.session.execute(delete(User).where(User.id == confirmed[2].user_id))
    assert _counters(first.id) == (1, 0, 2)
    assert _counters(first.id)[:2] == _counted(first.id)
    assert _counters(second.id)[:2] == _counted(second.id)
    db.session.commit()


def test_a_programme_refuses_negative_counters(app):
    """The CHECK constraint catches a trigger that would count below zero."""
    programme = f.make_programme()
    with pytest.raises(IntegrityError):
        db.session.execute(
            update(Programme).where(Programme.id == programme.id).values(confirmed_count=-1)
        )
        db.session.flush()
    db.session.rollback()
