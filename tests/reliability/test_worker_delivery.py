"""A registration's confirmation travels web -> outbox -> broker -> worker -> SMTP, for real.

And when the broker was never handed the row, beat's outbox sweep delivers it instead.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from learnhub.extensions import db
from learnhub.notifications.models import OutboxMessage
from learnhub.registration.models import Registration
from learnhub.types import utcnow
from tests import factories as f
from tests.reliability.conftest import (
    BEAT_INTERVAL_SECONDS,
    describe_outbox,
    outbox_rows,
    wait_until,
)

pytestmark = [pytest.mark.worker, pytest.mark.smtp]

EMAIL = "joana@example.org"


form = f.registration_form


def wait_for_outcome(timeout: float = 10) -> OutboxMessage:
    """The single outbox row once the worker has finished with it (sent, failed or skipped).

    The SMTP server has the message a moment before the worker records the outcome."""

    def finished():
        (row,) = outbox_rows()
        return row if row.status in ("sent", "failed", "skipped") else None

    return wait_until(finished, timeout, lambda: f"the outbox row to finish:\n{describe_outbox()}")


def register(client, programme) -> Registration:
    response = client.post(f"/programmes/{programme.slug}/register", data=form())
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.rollback()
    return db.session.scalar(select(Registration).where(Registration.programme_id == programme.id))


def assert_is_the_confirmation(received, programme, session) -> None:
    mime = received.message
    assert received.recipients == (EMAIL,)
    assert str(mime["To"]) == EMAIL
    assert received.subject == f"You are registered: {programme.title}"
    assert received.kind == "confirmation"
    text_part = mime.get_body(preferencelist=("plain",))
    html_part = mime.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    assert f"You are registered for {programme.title}" in text_part.get_content()
    assert programme.title in html_part.get_content()
    attachments = list(mime.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["text/calendar"]
    calendar = Calendar.from_ical(attachments[0].get_content())
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == session.starts_at
    assert event.decoded("dtend") == session.ends_at
    assert str(event["uid"]) == f"session-{session.id}@127.0.0.1"


def test_registration_confirmation_is_delivered_by_the_worker_over_smtp(
    client, smtp_server, worker_process
):
    programme = f.make_programme(title="Climate-ready streets", timezone="Asia/Seoul")
    (session,) = programme.sessions
    worker = worker_process()

    registration = register(client, programme)

    (received,) = smtp_server.wait_for(1, timeout=30)
    assert_is_the_confirmation(received, programme, session)
    # Handed over after commit as a `deliver` task, not found later by the sweep.
    assert re.search(r"Task notifications\.deliver\[[^\]]+\] received", worker.log())

    row = wait_for_outcome()
    assert row.kind == "confirmation"
    assert row.registration_id == registration.id
    assert row.status == "sent"
    assert row.attempts == 1
    assert row.sent_at is not None
    assert row.last_error is None
    assert row.message_id == str(received.message["Message-ID"])

    # Exactly one: neither a second task nor a later sweep sends it again.
    smtp_server.expect_no_more(1, within=2 * BEAT_INTERVAL_SECONDS + 1)


@pytest.mark.parametrize("outbox_dispatch", ["none"])
def test_sweep_delivers_a_confirmation_the_broker_was_never_handed(
    client, broker, smtp_server, worker_process
):
    programme = f.make_programme(title="Nature-based solutions", timezone="Asia/Seoul")
    (session,) = programme.sessions
    register(client, programme)
    (row,) = outbox_rows()
    assert (row.status, row.attempts) == ("queued", 0)
    assert broker.pending() == 0, "the broker must have been handed nothing"
    # The sweep leaves fresh rows to the hand-over; this one has waited past that grace.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id)
        .values(
            created_at=utcnow() - timedelta(seconds=60),
            next_attempt_at=utcnow() - timedelta(seconds=60),
        )
    )
    db.session.commit()

    worker = worker_process()

    (received,) = smtp_server.wait_for(1, timeout=30)
    assert_is_the_confirmation(received, programme, session)
    row = wait_for_outcome()
    assert row.status == "sent"
    assert row.attempts == 1
    assert row.message_id == str(received.message["Message-ID"])
    swept = r"Task notifications\.sweep_outbox\[[^\]]+\] succeeded in [\d.]+s: 1"
    # The worker logs the task's end just after the SMTP server has the message.
    wait_until(lambda: re.search(swept, worker.log()), 10, "the sweep's log line")
    log = worker.log()
    assert "notifications.deliver[" not in log
