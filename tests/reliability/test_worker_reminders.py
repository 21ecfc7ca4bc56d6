"""Reminders planned by beat's scan and delivered by the worker, against a real SMTP server.

The walking-skeleton acceptance test uses a session 61 minutes away, so its 1-hour instant
passes about a minute into the test while the worker and beat (every 2 s) are running.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from learnhub.extensions import db
from learnhub.notifications.models import OutboxMessage
from learnhub.types import utcnow
from tests import factories as f
from tests.reliability.conftest import (
    BEAT_INTERVAL_SECONDS,
    describe_outbox,
    outbox_rows,
    wait_until,
)

pytestmark = [pytest.mark.worker, pytest.mark.smtp]

SESSION_ZONE = "Asia/Seoul"
PARTICIPANT_ZONE = "America/Sao_Paulo"


def local_start(session, tz: str) -> str:
    """How the session's start reads in `tz`, e.g. "Tue 14 Nov 2026, 09:30"."""
    start = session.starts_at.astimezone(ZoneInfo(tz))
    return f"{start:%a} {start.day} {start:%b %Y, %H:%M}"


def line_starting(text: str, prefix: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith(prefix)]
    assert lines, f"no line starting with {prefix!r} in:\n{text}"
    return lines[0]


def test_each_confirmed_registrant_gets_exactly_one_one_hour_reminder(
    app, smtp_server, worker_process
):
    programme = f.make_programme(title="Heat action plans", sessions=0, timezone=SESSION_ZONE)
    session = f.make_session(
        programme,
        starts_at=utcnow() + timedelta(minutes=61),
        title="Cooling the city",
        join_url="https://meet.example.org/heat/1",
    )
    instant = session.starts_at - timedelta(minutes=60)
    ten_minutes_ago = utcnow() - timedelta(minutes=10)

    def participant():
        return f.make_user(timezone=PARTICIPANT_ZONE)

    early = [
        f.make_registration(programme, participant(), confirmed_at=ten_minutes_ago)
        for _ in range(3)
    ]
    cancelled = f.make_registration(
        programme, participant(), status="cancelled", confirmed_at=ten_minutes_ago
    )
    # Confirmed now, which is still a minute before the 1-hour instant: it is due a reminder.
    just_now = f.make_registration(programme, participant())
    assert just_now.confirmed_at < instant
    addresses = {r.id: r.user.email for r in [*early, cancelled, just_now]}

    worker_process()

    def is_reminder(message) -> bool:
        return message.kind == "reminder"

    expected = len(early) + 1
    received = smtp_server.wait_for(expected, where=is_reminder, timeout=120)
    per_address = Counter(address for m in received for address in m.recipients)

    # The main assertion: registrants confirmed well before the instant get exactly one.
    for registration in early:
        assert per_address[addresses[registration.id]] == 1, smtp_server.summary()
    assert per_address[addresses[just_now.id]] == 1, smtp_server.summary()
    assert per_address[addresses[cancelled.id]] == 0, smtp_server.summary()

    for message in received:
        assert message.received_at >= instant, "a 1-hour reminder arrived before its instant"
        assert message.subject == "Reminder: Heat action plans starts in 1 hour"
        assert len(message.recipients) == 1
        text = message.message.get_body(preferencelist=("plain",)).get_content()
        html = message.message.get_body(preferencelist=("html",)).get_content()
        assert '"Cooling the city" starts in 1 hour' in text
        assert "https://meet.example.org/heat/1" in text
        # The time in the session's own zone and in the participant's, each with its zone.
        in_session_zone = line_starting(text, local_start(session, SESSION_ZONE))
        assert in_session_zone.endswith("KST (Asia/Seoul)"), in_session_zone
        in_participant_zone = line_starting(text, local_start(session, PARTICIPANT_ZONE))
        assert in_participant_zone.endswith("UTC-03 (America/Sao_Paulo)"), in_participant_zone
        assert "KST (Asia/Seoul)" in html and "(America/Sao_Paulo)" in html

    # Someone confirmed after the instant gets no reminder for it. (The test's own session ends
    # its read transaction first: SQLite refuses to turn a stale read into a write.)
    db.session.rollback()
    late = f.make_registration(programme, participant())
    assert late.confirmed_at > instant

    # Two more scans and sweeps: no duplicate, no reminder for the late or cancelled ones,
    # and no 24-hour reminder (its instant came before every registration was confirmed).
    smtp_server.expect_no_more(expected, within=2 * BEAT_INTERVAL_SECONDS + 1)

    def all_sent():
        rows = outbox_rows(kind="reminder")
        return rows if rows and all(r.status == "sent" for r in rows) else None

    rows = wait_until(all_sent, 10, lambda: f"reminders marked sent:\n{describe_outbox()}")
    assert sorted(r.dedupe_key for r in rows) == sorted(
        f"reminder:{session.id}:{session.ics_sequence}:r{r.id}:60" for r in [*early, just_now]
    )
    assert all(r.expires_at == session.starts_at for r in rows)
    sent_ids = {str(m.message["Message-ID"]) for m in received}
    assert {r.message_id for r in rows} == sent_ids
    assert outbox_rows(kind="confirmation") == []


@pytest.mark.parametrize("outbox_dispatch", ["celery", "none"])
def test_a_reminder_whose_session_already_started_is_skipped_never_sent(
    app, smtp_server, worker_process, outbox_dispatch
):
    """Handed over after commit ("celery") or found by the sweep ("none"), it is skipped."""
    programme = f.make_programme(title="Flood resilience", sessions=0, timezone=SESSION_ZONE)
    started = f.make_session(programme, starts_at=utcnow() - timedelta(minutes=5))
    registration = f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=2))
    a_minute_ago = utcnow() - timedelta(seconds=60)

    def reminder(**fields) -> OutboxMessage:
        return OutboxMessage(
            kind="reminder",
            subject="Reminder: Flood resilience starts in 1 hour",
            text_body="Your session starts in 1 hour.",
            html_body="<p>Your session starts in 1 hour.</p>",
            status="queued",
            next_attempt_at=a_minute_ago,
            created_at=a_minute_ago,
            **fields,
        )

    late = f.save(
        reminder(
            dedupe_key=f"reminder:{started.id}:0:r{registration.id}:60",
            to_address=registration.user.email,
            registration_id=registration.id,
            expires_at=started.starts_at,
        )
    )
    # A reminder that is still in time, so that silence from the SMTP server means something.
    in_time = f.save(
        reminder(
            dedupe_key="reminder:in-time",
            to_address="on-time@example.org",
            expires_at=utcnow() + timedelta(hours=1),
        )
    )

    worker_process()

    def finished():
        rows = {r.id: r for r in outbox_rows()}
        final = ("sent", "failed", "skipped")
        done = rows[late.id].status in final and rows[in_time.id].status in final
        return rows if done else None

    rows = wait_until(finished, 30, lambda: f"both reminders to be handled:\n{describe_outbox()}")
    skipped = rows[late.id]
    assert rows[in_time.id].status == "sent"
    assert skipped.status == "skipped"
    assert "already started" in (skipped.last_error or "")
    assert skipped.attempts == 1
    assert skipped.sent_at is None and skipped.message_id is None

    smtp_server.expect_no_more(1, within=BEAT_INTERVAL_SECONDS + 1)
    (received,) = smtp_server.messages
    assert received.recipients == ("on-time@example.org",)
    assert str(received.message["Message-ID"]) == rows[in_time.id].message_id
