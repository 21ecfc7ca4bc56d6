"""States, the waiting list and approval: what each use case does and the email it writes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from learnhub.extensions import db
from learnhub.notifications.models import OutboxMessage
from learnhub.registration import services
from learnhub.registration.models import Registration
from learnhub.types import utcnow
from tests import factories as f


def register(app, programme, n, **fields):
    data = services.RegistrationInput(
        programme_id=programme.id,
        participant=services.ParticipantDetails(
            f"Person {n}", f"p{n}@example.org", None, None, None, "Asia/Jakarta"
        ),
        consent=True,
        answers=fields.pop("answers", {}),
    )
    with app.test_request_context():
        return services.register(data)


def emails(registration_id=None) -> list[tuple[str, str]]:
    db.session.rollback()
    query = select(OutboxMessage.kind, OutboxMessage.subject).order_by(OutboxMessage.id)
    if registration_id is not None:
        query = query.where(OutboxMessage.registration_id == registration_id)
    return [tuple(row) for row in db.session.execute(query)]


def reload(registration_id) -> Registration:
    db.session.rollback()
    return db.session.get(Registration, registration_id)


def test_full_programme_puts_people_on_the_waiting_list_with_their_place(app):
    programme = f.make_programme(capacity=1, title="Resilient City")
    first = register(app, programme, 1)
    second = register(app, programme, 2)
    third = register(app, programme, 3)
    assert (first.status, second.status, third.status) == ("confirmed", "waitlisted", "waitlisted")
    assert (second.waitlist_place, third.waitlist_place) == (1, 2)
    kind, subject = emails(third.registration_id)[0]
    assert kind == "registration_waitlisted"
    assert subject == "You are on the waiting list: Resilient City"
    body = f.written(
        db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.registration_id == third.registration_id)
        )
    ).text_body
    assert "you are number 2" in body
    assert "/registrations/cancel/" in body


def test_cancelling_a_seat_promotes_the_head_of_the_queue_in_the_same_transaction(app):
    programme = f.make_programme(capacity=1)
    holder = register(app, programme, 1)
    head = register(app, programme, 2)
    behind = register(app, programme, 3)
    user = reload(holder.registration_id).user
    services.cancel(holder.registration_id, user)
    assert reload(head.registration_id).status == "confirmed"
    assert reload(head.registration_id).waitlist_position is None
    assert services.waitlist_place(reload(behind.registration_id)) == 1
    assert [k for k, _ in emails(head.registration_id)] == [
        "registration_waitlisted",
        "registration_promoted",
    ]
    assert [k for k, _ in emails(holder.registration_id)] == [
        "confirmation",
        "registration_cancelled",
    ]
    promoted = f.written(
        db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "registration_promoted")
        )
    )
    assert "BEGIN:VCALENDAR" in promoted.ics
    assert "a seat has freed up and it is yours" in promoted.text_body


def test_raising_capacity_promotes_as_many_as_the_new_seats(app):
    programme = f.make_programme(capacity=1)
    results = [register(app, programme, n) for n in range(4)]
    assert services.change_capacity(programme.id, 3) == 2
    assert [reload(r.registration_id).status for r in results] == [
        "confirmed",
        "confirmed",
        "confirmed",
        "waitlisted",
    ]
    assert services.change_capacity(programme.id, None) == 1


def test_capacity_cannot_drop_below_the_seats_already_given(app):
    programme = f.make_programme(capacity=3)
    for n in range(2):
        register(app, programme, n)
    with pytest.raises(services.RegistrationError, match="2 people already hold a seat"):
        services.change_capacity(programme.id, 1)
    db.session.rollback()
    assert db.session.get(type(programme), programme.id).capacity == 3


def test_approval_mode_holds_registrations_until_the_organiser_decides(app):
    programme = f.make_programme(capacity=1, approval_required=True)
    a, b, c = (register(app, programme, n) for n in range(3))
    assert {a.status, b.status, c.status} == {"pending"}
    assert emails(a.registration_id)[0][0] == "registration_pending"
    outcome = services.approve(programme.id, [a.registration_id, b.registration_id])
    assert outcome == {"confirmed": 1, "waitlisted": 1}
    assert reload(a.registration_id).status == "confirmed"
    assert reload(b.registration_id).status == "waitlisted"
    assert emails(a.registration_id)[-1][0] == "registration_approved"
    # Rejecting the seat holder gives the seat to the approved person waiting.
    assert services.reject(programme.id, [a.registration_id, c.registration_id]) == 2
    assert reload(b.registration_id).status == "confirmed"
    assert emails(c.registration_id)[-1][0] == "registration_rejected"
    assert emails(b.registration_id)[-1][0] == "registration_promoted"


def test_approving_someone_not_pending_refuses_and_changes_nothing(app):
    programme = f.make_programme(approval_required=True)
    a = register(app, programme, 1)
    b = register(app, programme, 2)
    services.approve(programme.id, [a.registration_id])
    with pytest.raises(services.RegistrationError, match="not awaiting approval"):
        services.approve(programme.id, [b.registration_id, a.registration_id])
    db.session.rollback()
    assert reload(b.registration_id).status == "pending"


def test_a_registration_of_another_programme_cannot_be_approved_through_this_one(app):
    mine = f.make_programme(approval_required=True)
    theirs = f.make_programme(approval_required=True)
    other = register(app, theirs, 1)
    with pytest.raises(services.RegistrationError, match="not in this programme"):
        services.approve(mine.id, [other.registration_id])


def test_no_waiting_list_means_full_is_full(app):
    programme = f.make_programme(capacity=1, waitlist_enabled=False)
    register(app, programme, 1)
    with pytest.raises(services.RegistrationError, match="all seats"):
        register(app, programme, 2)


@pytest.mark.parametrize(
    ("opens", "closes", "message"),
    [
        (timedelta(hours=1), None, "has not opened yet"),
        (None, timedelta(hours=-1), "has closed"),
    ],
)
def test_registration_window(app, opens, closes, message):
    now = utcnow()
    programme = f.make_programme(
        registration_opens_at=now + opens if opens else None,
        registration_closes_at=now + closes if closes else None,
    )
    with pytest.raises(services.RegistrationError, match=message):
        register(app, programme, 1)


def test_registering_again_after_cancelling_reuses_the_row_and_takes_a_new_place(app):
    programme = f.make_programme(capacity=1)
    register(app, programme, 1)
    mine = register(app, programme, 2)
    user = reload(mine.registration_id).user
    services.leave_waiting_list(mine.registration_id, user)
    assert reload(mine.registration_id).status == "cancelled"
    again = register(app, programme, 2)
    assert again.registration_id == mine.registration_id
    assert again.status == "waitlisted" and again.waitlist_place == 1
    kinds = [k for k, _ in emails(mine.registration_id)]
    assert kinds == [
        "registration_waitlisted",
        "registration_waitlist_left",
        "registration_waitlisted",
    ]


def test_organiser_moves_follow_the_rules_and_send_the_matching_email(app):
    programme = f.make_programme(capacity=1)
    holder = register(app, programme, 1)
    waiting = register(app, programme, 2)
    with pytest.raises(services.RegistrationError, match="Every seat is taken"):
        services.move_registration(programme.id, waiting.registration_id, "confirmed")
    db.session.rollback()
    with pytest.raises(services.RegistrationError, match="cannot be moved to the waiting list"):
        services.move_registration(programme.id, holder.registration_id, "waitlisted")
    db.session.rollback()
    services.move_registration(programme.id, holder.registration_id, "cancelled")
    assert reload(waiting.registration_id).status == "confirmed"
    assert emails(holder.registration_id)[-1][0] == "registration_cancelled"
    with pytest.raises(services.RegistrationError, match="Choose a state"):
        services.move_registration(programme.id, holder.registration_id, "asleep")
