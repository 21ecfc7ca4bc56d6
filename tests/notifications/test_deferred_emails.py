"""Registration emails written by the worker at delivery, and the gathered hand-over."""

from __future__ import annotations

import time

from sqlalchemy import select

from learnhub import outbox_dispatch
from learnhub.extensions import db
from learnhub.notifications import delivery
from learnhub.notifications.models import DevMailboxMessage, OutboxMessage
from learnhub.registration.models import Registration
from tests import factories as f


def test_the_worker_writes_the_confirmation_from_the_row_when_it_delivers_it(client):
    programme = f.make_programme(title="Climate-ready streets")
    client.post(f"/programmes/{programme.slug}/register", data=f.registration_form())
    row = db.session.scalar(select(OutboxMessage))
    assert (row.text_body, row.html_body, row.ics) == ("", "", None)
    assert [o.status for o in delivery.drain()] == ["sent"]
    db.session.expire_all()
    row = db.session.get(OutboxMessage, row.id)
    assert row.render_args is None
    assert "You are registered for Climate-ready streets" in row.text_body
    assert "Climate-ready streets" in row.html_body and "BEGIN:VCALENDAR" in row.ics
    raw = db.session.scalar(select(DevMailboxMessage.raw))
    assert "text/calendar" in raw and row.subject == "You are registered: Climate-ready streets"


def test_an_email_whose_registration_is_gone_is_skipped_with_a_reason(client):
    programme = f.make_programme()
    client.post(f"/programmes/{programme.slug}/register", data=f.registration_form())
    f.begin_write_transaction()
    db.session.delete(db.session.scalar(select(Registration)))
    db.session.commit()
    (outcome,) = delivery.drain()
    assert outcome.status == "skipped"
    assert "registration is gone" in outcome.reason
    assert db.session.scalar(select(DevMailboxMessage)) is None


def test_commits_close_together_are_handed_to_the_broker_together(app, monkeypatch):
    handed: list[list[int]] = []
    monkeypatch.setattr(outbox_dispatch, "dispatch", lambda ids: handed.append(list(ids)))
    monkeypatch.setitem(app.config, "OUTBOX_DISPATCH", "celery")
    with app.app_context():
        outbox_dispatch.hand_over([1])
        outbox_dispatch.hand_over([2, 3])
    deadline = time.monotonic() + 5
    while not handed and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(outbox_dispatch.LINGER_SECONDS)
    assert handed == [[1, 2, 3]], "one hand-over for both commits, after them"


def test_nothing_is_handed_over_when_dispatch_is_off(app, monkeypatch):
    handed: list = []
    monkeypatch.setattr(outbox_dispatch, "dispatch", handed.append)
    with app.app_context():
        outbox_dispatch.hand_over([1])
    time.sleep(2 * outbox_dispatch.LINGER_SECONDS)
    assert handed == [] and "outbox_hand_over" not in app.extensions
