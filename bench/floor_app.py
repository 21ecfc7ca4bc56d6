"""The app with four routes that stop a registration part of the way: the ceiling of `ratio`.

bench/registration.py serves this module (`floor_app:app`) under the same gunicorn settings
as the app and sends the same registration form to each route, in the same run as the
baseline. Each route does what the one before it does, plus one step of what every
registration does:

- `csrf`: the request through the app as it is (session cookie, CSRF check by CSRFProtect,
  its before- and after-request work) answered with the registration's redirect;
- `form`: + the registration form built and validated (WTForms, Flask-WTF);
- `session`: + what a registration keeps in the session for its answer page (a new cookie);
- `insert`: + the baseline's one row inserted through the app's database session, committed.

A registration does all of that and more (the account, the seat under the programme's lock,
the sign-in link, the email's outbox row), so its ratio cannot be above the last of them.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime

from flask import abort, redirect, session
from registration import FLOORS, SLUG  # bench/registration.py, which serves this app
from sqlalchemy import text

from learnhub import create_app
from learnhub.extensions import db
from learnhub.registration.forms import RegistrationForm

app = create_app()

ANSWER_PAGE = f"/programmes/{SLUG}/registered"
INSERT = text("INSERT INTO bench_baseline (email, created_at) VALUES (:email, :created_at)")


def _floor(steps: int):
    def view():
        if steps >= 1:
            form = RegistrationForm()
            if not form.validate_on_submit():
                abort(400)
        if steps >= 3:
            db.session.execute(
                INSERT,
                {"email": form.email.data, "created_at": datetime.now(UTC).isoformat()},
            )
            db.session.commit()
        if steps >= 2:
            session["last_registration"] = {
                "id": 1,
                "already": False,
                "email": form.email.data.lower(),
            }
        return redirect(ANSWER_PAGE)

    return view


for steps, name in enumerate(FLOORS):
    app.add_url_rule(f"/floor/{name}", f"floor_{name}", _floor(steps), methods=["POST"])

gc.freeze()  # as wsgi.py does
