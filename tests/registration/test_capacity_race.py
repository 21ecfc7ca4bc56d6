"""Rule 5: capacity and the waiting list hold when requests race from separate connections.

Each racer is a thread with its own test client, so its own app context, database session and
connection; a barrier releases them together. Run on SQLite by default and on PostgreSQL with
TEST_DATABASE=postgres.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import func, select

from learnhub.accounts.models import User
from learnhub.extensions import db
from learnhub.notifications.models import OutboxMessage
from learnhub.registration import services
from learnhub.registration.models import Registration
from tests import factories as f


def form(n: int | str, **overrides) -> dict:
    return {
        "full_name": f"Racer {n}",
        "email": f"racer{n}@example.org",
        "timezone": "UTC",
        "consent": "y",
        **overrides,
    }


def race(app, jobs: list[Callable]) -> list:
    """Run every job in its own thread, released together; returns their results in order."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index: int, job: Callable) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            results[index] = job(client)
        except Exception as error:  # a crash is a result the test reports
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads), "a racer never finished"
    return results


def post_registration(slug: str, data: dict) -> Callable:
    def job(client) -> int:
        return client.post(f"/programmes/{slug}/register", data=data).status_code

    return job


def registrations(programme_id: int) -> list[Registration]:
    db.session.rollback()  # end this thread's read snapshot before counting
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.programme_id == programme_id)
            .order_by(Registration.id)
        )
    )


def test_200_racers_for_50_seats_fill_the_seats_then_the_queue_in_arrival_order(app):
    programme = f.make_programme(capacity=50)
    programme_id, slug = programme.id, programme.slug
    db.session.rollback()
    statuses = race(app, [post_registration(slug, form(n)) for n in range(200)])
    assert statuses == [302] * 200, "every racer gets the answer page, none an error"

    rows = registrations(programme_id)
    assert len(rows) == 200
    assert [r.status for r in rows] == ["confirmed"] * 50 + ["waitlisted"] * 150
    # Arrival order is the order the programme lock was granted, which is the insert order.
    positions = [r.waitlist_position for r in rows[50:]]
    assert positions == sorted(positions) and len(set(positions)) == 150
    assert [services.waitlist_place(r) for r in rows[50:]] == list(range(1, 151))
    kinds = db.session.execute(
        select(OutboxMessage.kind, func.count()).group_by(OutboxMessage.kind)
    ).all()
    assert dict(kinds) == {"confirmation": 50, "registration_waitlisted": 150}


def test_20_simultaneous_submissions_with_one_address_make_one_registration(app):
    programme = f.make_programme(capacity=5)
    programme_id, slug = programme.id, programme.slug
    db.session.rollback()
    statuses = race(app, [post_registration(slug, form("same")) for _ in range(20)])
    assert statuses == [302] * 20
    assert len(registrations(programme_id)) == 1
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_cancellations_racing_registrations_hand_every_freed_seat_to_the_queue(app):
    """10 seats taken, 15 waiting. 5 seat holders cancel while 15 newcomers register.

    Every cancellation frees a seat while the queue is not empty, so exactly the first five of
    the queue are promoted, and every newcomer waits behind the ten still queued."""
    programme = f.make_programme(capacity=10)
    holders = [f.make_registration(programme) for _ in range(10)]
    queued = [
        f.make_registration(programme, status="waitlisted", waitlist_position=n)
        for n in range(1, 16)
    ]
    leaving = [(r.id, r.user_id) for r in holders[:5]]
    programme_id, slug = programme.id, programme.slug
    queued_ids = [r.id for r in queued]
    db.session.rollback()

    def cancel(registration_id: int, user_id: int) -> Callable:
        def job(client) -> int:
            with client.session_transaction() as session:
                session["_user_id"] = str(user_id)
                session["_fresh"] = True
            return client.post(f"/me/registrations/{registration_id}/cancel").status_code

        return job

    jobs = [cancel(*pair) for pair in leaving]
    jobs += [post_registration(slug, form(f"new{n}")) for n in range(15)]
    assert race(app, jobs) == [302] * 20

    rows = {r.id: r for r in registrations(programme_id)}
    by_status: dict[str, list[int]] = {}
    for row in rows.values():
        by_status.setdefault(row.status, []).append(row.id)
    assert len(by_status["confirmed"]) == 10
    assert sorted(by_status["cancelled"]) == sorted(pair[0] for pair in leaving)
    assert set(queued_ids[:5]) <= set(by_status["confirmed"]), "the head of the queue moves up"
    waiting = sorted(
        (r for r in rows.values() if r.status == "waitlisted"), key=lambda r: r.waitlist_position
    )
    assert [r.id for r in waiting[:10]] == queued_ids[5:], "old queue first, in its order"
    assert len(waiting) == 25
    promoted = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.kind == "registration_promoted")
    )
    assert promoted == 5


def test_ten_organisers_adding_questions_at_once_each_get_their_place(app):
    """Positions are given under the programme's lock: concurrent adds never collide on the
    unique (programme, position) and each question gets the next place."""
    programme = f.make_programme(title="Questions race")
    organisers = [f.make_organiser(programme) for _ in range(10)]
    slug = programme.slug

    def add(organiser_id: int, n: int) -> Callable:
        def job(client) -> int:
            with client.session_transaction() as session:
                session["_user_id"] = user_ids[organiser_id]
                session["_fresh"] = True
            return client.post(
                f"/organiser/programmes/{slug}/questions",
                data={"label": f"Question {n}", "kind": "short_text"},
            ).status_code

        return job

    user_ids = {o.id: o.get_id() for o in organisers}
    results = race(app, [add(o.id, n) for n, o in enumerate(organisers)])
    assert results == [302] * 10, results
    db.session.rollback()
    from learnhub.registration.models import RegistrationQuestion

    positions = db.session.scalars(
        select(RegistrationQuestion.position).where(
            RegistrationQuestion.programme_id == programme.id
        )
    ).all()
    assert sorted(positions) == list(range(1, 11))
