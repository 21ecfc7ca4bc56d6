"""Hypothesis drives register, cancel, approve, reject and capacity changes in any order.

After every step: confirmed never exceeds capacity; no one waits while a seat is free; one
active registration per person and programme; queue positions are distinct; and exactly one
email was written for each registration whose state changed in the step.
"""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.notifications.models import OutboxMessage
from learnhub.registration import services
from learnhub.registration.models import Registration
from tests import factories as f

PEOPLE = 5
people = st.integers(min_value=0, max_value=PEOPLE - 1)
capacities = st.one_of(st.none(), st.integers(min_value=0, max_value=5))


def test_registration_invariants_hold_under_any_sequence_of_use_cases(app):
    class RegistrationMachine(RuleBasedStateMachine):
        @initialize(
            capacity=capacities,
            approval=st.booleans(),
            waitlist=st.booleans(),
        )
        def setup(self, capacity, approval, waitlist):
            self.programme_id = f.make_programme(
                capacity=capacity, approval_required=approval, waitlist_enabled=waitlist
            ).id
            self.prefix = uuid.uuid4().hex[:8]
            self.statuses_before: dict[int, str] = {}
            self.emails_before = 0

        # --- helpers ------------------------------------------------------------------------

        def registration_of(self, person: int) -> Registration | None:
            db.session.rollback()
            return db.session.scalar(
                select(Registration)
                .join(Registration.user)
                .where(
                    Registration.programme_id == self.programme_id,
                    Registration.user.has(email=self.email(person)),
                )
            )

        def email(self, person: int) -> str:
            return f"{self.prefix}-{person}@example.org"

        def attempt(self, use_case, *args) -> None:
            self.snapshot()
            with app.test_request_context():
                try:
                    use_case(*args)
                except services.RegistrationError:
                    db.session.rollback()
            self.check_one_email_per_transition()

        def snapshot(self) -> None:
            db.session.rollback()
            self.statuses_before = self.statuses()
            self.emails_before = self.email_count()

        def statuses(self) -> dict[int, str]:
            return dict(
                db.session.execute(
                    select(Registration.id, Registration.status).where(
                        Registration.programme_id == self.programme_id
                    )
                ).all()
            )

        def email_count(self) -> int:
            return db.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .join(Registration, Registration.id == OutboxMessage.registration_id)
                .where(Registration.programme_id == self.programme_id)
            )

        def check_one_email_per_transition(self) -> None:
            db.session.rollback()
            after = self.statuses()
            changed = sum(1 for rid, s in after.items() if self.statuses_before.get(rid) != s)
            assert self.email_count() - self.emails_before == changed

        # --- rules ---------------------------------------------------------------------------

        @rule(person=people)
        def register(self, person):
            data = services.RegistrationInput(
                programme_id=self.programme_id,
                participant=services.ParticipantDetails(
                    f"Person {person}", self.email(person), None, None, None, "UTC"
                ),
                consent=True,
            )
            self.attempt(services.register, data)

        @rule(person=people)
        def cancel(self, person):
            registration = self.registration_of(person)
            if registration is not None:
                self.attempt(services.cancel, registration.id, registration.user)

        @rule(person=people)
        def approve(self, person):
            registration = self.registration_of(person)
            if registration is not None:
                self.attempt(services.approve, self.programme_id, [registration.id])

        @rule(person=people)
        def reject(self, person):
            registration = self.registration_of(person)
            if registration is not None:
                self.attempt(services.reject, self.programme_id, [registration.id])

        @rule(capacity=capacities)
        def change_capacity(self, capacity):
            self.attempt(services.change_capacity, self.programme_id, capacity)

        # --- invariants ----------------------------------------------------------------------

        @invariant()
        def seats_and_queue_agree(self):
            db.session.rollback()
            from learnhub.catalogue.models import Programme

            programme = db.session.get(Programme, self.programme_id)
            capacity = programme.capacity
            counts = dict(
                db.session.execute(
                    select(Registration.status, func.count())
                    .where(Registration.programme_id == self.programme_id)
                    .group_by(Registration.status)
                ).all()
            )
            confirmed = counts.get("confirmed", 0)
            waiting = counts.get("waitlisted", 0)
            if capacity is not None:
                assert confirmed <= capacity
            seat_free = capacity is None or confirmed < capacity
            assert not (seat_free and waiting), "someone waits while a seat is free"
            # The counters the triggers keep agree with the rows, and no place is ever above
            # the tail the next place is taken from.
            assert (programme.confirmed_count, programme.waitlisted_count) == (confirmed, waiting)
            places = db.session.scalars(
                select(Registration.waitlist_position).where(
                    Registration.programme_id == self.programme_id,
                    Registration.status == "waitlisted",
                )
            ).all()
            assert all(place <= programme.waitlist_tail for place in places)

        @invariant()
        def one_active_registration_per_person_and_distinct_places(self):
            rows = db.session.execute(
                select(
                    Registration.user_id, Registration.status, Registration.waitlist_position
                ).where(Registration.programme_id == self.programme_id)
            ).all()
            active = [u for u, s, _ in rows if s in services.ACTIVE_STATUSES]
            assert len(active) == len(set(active))
            places = [p for _, s, p in rows if s == "waitlisted"]
            assert len(places) == len(set(places)) and None not in places

    run = settings(
        max_examples=30,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(RegistrationMachine, settings=run)
