"""Registration throughput: the full use case against bare inserts of the same rows.

Run: .venv/bin/python bench/register_use_case.py [N]
Measures N registrations through `registration.services.register` (write lock, account,
sign-in token, outbox row that the worker renders at delivery, one commit each) and, in the same
process on the same database, a baseline that inserts the same number of user, registration and
outbox rows with one executemany per table. The last line is one JSON object.
"""

from __future__ import annotations

import json
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
from common import migrated_app  # noqa: E402  (first: sets the instance folder)
from sqlalchemy import insert  # noqa: E402

from learnhub.accounts.models import User  # noqa: E402
from learnhub.accounts.services import ParticipantDetails  # noqa: E402
from learnhub.catalogue.models import Programme  # noqa: E402
from learnhub.extensions import db  # noqa: E402
from learnhub.notifications.models import OutboxMessage  # noqa: E402
from learnhub.registration import services  # noqa: E402
from learnhub.registration.models import Registration  # noqa: E402
from learnhub.types import utcnow  # noqa: E402


def main() -> None:
    app, url = migrated_app()
    with app.app_context():
        from learnhub.demo.data import load_demo

        load_demo()
        programme = db.session.scalar(db.select(Programme).where(Programme.kind == "programme"))
        programme.capacity = None
        db.session.commit()
        programme_id = programme.id

        started = time.perf_counter()
        with app.test_request_context():
            for n in range(N):
                services.register(
                    services.RegistrationInput(
                        programme_id=programme_id,
                        participant=ParticipantDetails(
                            f"Bench {n}",
                            f"bench{n}@example.org",
                            "City",
                            "City",
                            "Country",
                            "Asia/Jakarta",
                        ),
                        consent=True,
                    )
                )
        use_case_s = time.perf_counter() - started

        sample = db.session.scalar(db.select(OutboxMessage).limit(1))
        now = utcnow()
        started = time.perf_counter()
        db.session.execute(
            insert(User),
            [
                {
                    "email": f"base{n}@example.org",
                    "full_name": f"Base {n}",
                    "timezone": "UTC",
                    "role": "participant",
                    "created_at": now,
                }
                for n in range(N)
            ],
        )
        ids = db.session.scalars(
            db.select(User.id).where(User.email.like("base%@example.org"))
        ).all()
        db.session.execute(
            insert(Registration),
            [
                {
                    "programme_id": programme_id,
                    "user_id": i,
                    "status": "confirmed",
                    "created_at": now,
                    "confirmed_at": now,
                    "consent_at": now,
                }
                for i in ids
            ],
        )
        db.session.execute(
            insert(OutboxMessage),
            [
                {
                    "dedupe_key": f"base:{i}",
                    "kind": "confirmation",
                    "to_address": "x@example.org",
                    "subject": sample.subject,
                    "text_body": sample.text_body,
                    "html_body": sample.html_body,
                    "ics": sample.ics,
                    "render_args": sample.render_args,
                    "status": "queued",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for i in ids
            ],
        )
        db.session.commit()
        baseline_s = time.perf_counter() - started

    result = {
        "registrations": N,
        "database": url.split(":", 1)[0],
        "use_case_s": round(use_case_s, 3),
        "registrations_per_s": round(N / use_case_s, 1),
        "baseline_s": round(baseline_s, 3),
        "ratio": round(baseline_s / use_case_s, 4),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
