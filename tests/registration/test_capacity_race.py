"""Rule 5: capacity holds when registrations race from separate connections."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from learnhub.accounts.services import ParticipantDetails
from learnhub.extensions import db
from learnhub.registration import services
from learnhub.registration.models import Registration
from tests import factories as f


def test_racing_registrations_never_exceed_capacity(app):
    programme = f.make_programme(capacity=5)
    programme_id = programme.id
    db.session.rollback()
    racers = 24
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def register(n: int) -> None:
        with app.test_request_context():
            data = services.RegistrationInput(
                programme_id=programme_id,
                participant=ParticipantDetails(
                    f"R {n}", f"racer{n}@example.org", None, None, None, "UTC"
                ),
                consent=True,
            )
            barrier.wait()
            try:
                services.register(data)
                result = "confirmed"
            except services.RegistrationError as error:
                db.session.rollback()
                result = f"full: {error}"
            finally:
                db.session.remove()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=register, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == racers
    assert outcomes.count("confirmed") == 5
    assert outcomes.count("full: Sorry, all seats for this programme are taken.") == racers - 5
    db.session.rollback()  # end this thread's read snapshot before counting
    confirmed = db.session.scalar(
        select(func.count()).select_from(Registration).where(Registration.status == "confirmed")
    )
    assert confirmed == 5
