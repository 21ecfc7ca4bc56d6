"""The programme's seat counters, kept by triggers on `registration`, follow every kind of
write: the ORM, Core statements, a move between programmes, and rows deleted by a cascade;
one statement of thousands of rows costs the same per row as one of a thousand."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import bindparam, case, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from learnhub.accounts.models import User
from learnhub.catalogue.models import Programme
from learnhub.extensions import db
from learnhub.registration.models import Registration
from learnhub.types import UTCDateTime, utcnow
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


# --- bulk statements: one statement of many rows ------------------------------------------------


def _make_people(count: int) -> list[int]:
    """`count` accounts, written by one statement; their ids in order."""
    first = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    db.session.execute(
        text(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)"
            " INSERT INTO user_account (email, full_name, timezone, role, created_at)"
            " SELECT 'bulk-' || (:first + i) || '@example.org', 'Bulk', 'UTC', 'participant', :at"
            " FROM n"
        ).bindparams(bindparam("at", type_=UTCDateTime)),
        {"count": count, "first": first, "at": utcnow()},
    )
    db.session.commit()
    return list(db.session.scalars(select(User.id).where(User.id >= first).order_by(User.id)))


def _register_all(programme_id: int, people: list[int]) -> float:
    """One INSERT of a registration per person: a third confirmed, a third waitlisted (the
    person's id is their queue key), a third pending. Returns the statement's seconds."""
    statement = text(
        "INSERT INTO registration (programme_id, user_id, status, waitlist_position, version,"
        " created_at, status_changed_at, consent_at)"
        " SELECT :programme, id,"
        " CASE id % 3 WHEN 0 THEN 'confirmed' WHEN 1 THEN 'waitlisted' ELSE 'pending' END,"
        " CASE id % 3 WHEN 1 THEN id END, 1, :at, :at, :at"
        " FROM user_account WHERE id BETWEEN :low AND :high"
    ).bindparams(bindparam("at", type_=UTCDateTime))
    started = time.perf_counter()
    db.session.execute(
        statement,
        {"programme": programme_id, "low": people[0], "high": people[-1], "at": utcnow()},
    )
    return time.perf_counter() - started


def _expected(people: list[int]) -> tuple[int, int, int]:
    waiting = [p for p in people if p % 3 == 1]
    return sum(p % 3 == 0 for p in people), len(waiting), max(waiting, default=0)


def test_one_insert_of_many_registrations_costs_the_same_per_row(app):
    """8 times the rows in one INSERT take about 8 times as long, not 64 (the programme row is
    updated once per statement on PostgreSQL, in place by its key on SQLite)."""
    people = _make_people(8000)
    few = people[:1000]
    seconds = {}
    for size, who in (("few", few), ("many", people)):
        times = []
        for _ in range(3):  # the best of three: the machine may be busy with other work
            programme_id = f.make_programme().id
            times.append(_register_all(programme_id, who))
            assert _counters(programme_id) == _expected(who)
            assert _counters(programme_id)[:2] == _counted(programme_id)
        seconds[size] = min(times)
    db.session.commit()
    assert seconds["many"] < 20 * seconds["few"], seconds


def test_one_update_of_many_registrations_keeps_the_counters(app):
    """Cancelling, promoting, queueing and moving hundreds of rows in single statements."""
    first, second = f.make_programme().id, f.make_programme().id
    people = _make_people(900)
    _register_all(first, people[:600])
    _register_all(second, people[600:])
    expected_tail = _expected(people[:600])[2]

    # Every confirmed seat of the first programme given up, in one statement.
    db.session.execute(
        update(Registration)
        .where(Registration.programme_id == first, Registration.status == "confirmed")
        .values(status="cancelled")
    )
    assert _counters(first) == (0, 200, expected_tail)
    # Half its queue promoted, and every pending row queued behind the tail, in one statement.
    promoted = Registration.status == "waitlisted"
    db.session.execute(
        update(Registration)
        .where(
            Registration.programme_id == first, Registration.status.in_(["waitlisted", "pending"])
        )
        .values(
            status=case(
                (promoted & (Registration.user_id % 2 == 0), "confirmed"),
                (promoted, "waitlisted"),
                else_="waitlisted",
            ),
            waitlist_position=case(
                (promoted & (Registration.user_id % 2 == 0), None),
                (promoted, Registration.waitlist_position),
                else_=Registration.user_id + 100_000,
            ),
        )
    )
    assert _counters(first)[:2] == _counted(first)
    assert _counters(first)[2] == max(p for p in people[:600] if p % 3 == 2) + 100_000
    # The second programme's rows all moved into the first, in one statement.
    db.session.execute(
        update(Registration)
        .where(Registration.programme_id == second)
        .values(programme_id=first, waitlist_position=Registration.waitlist_position + 200_000)
    )
    assert _counters(second) == (0, 0, _expected(people[600:])[2])
    assert _counters(first)[:2] == _counted(first)
    assert _counters(first)[2] == _expected(people[600:])[2] + 200_000
    # A statement that changes nothing the counters follow leaves them as they are.
    before = _counters(first)
    db.session.execute(update(Registration).values(version=Registration.version + 1))
    assert _counters(first) == before
    db.session.commit()


def test_one_delete_of_many_registrations_keeps_the_counters(app):
    first, second = f.make_programme().id, f.make_programme().id
    people = _make_people(1200)
    _register_all(first, people[:700])
    _register_all(second, people[700:])
    tails = _expected(people[:700])[2], _expected(people[700:])[2]

    # Rows of both programmes in one statement.
    db.session.execute(delete(Registration).where(Registration.user_id % 2 == 0))
    assert _counters(first) == (*_counted(first), tails[0])
    assert _counters(second) == (*_counted(second), tails[1])
    # The accounts' deletion cascades to their registrations.
    db.session.execute(delete(User).where(User.id.in_(people[:350] + people[700:950])))
    assert _counters(first) == (*_counted(first), tails[0])
    assert _counters(second) == (*_counted(second), tails[1])
    db.session.execute(delete(Registration))
    assert _counters(first) == (0, 0, tails[0])
    assert _counters(second) == (0, 0, tails[1])
    db.session.commit()
