"""Faults injected into the real stack: a mail server refusing, a worker killed mid-batch,
the broker down while people register, two beats at once. Every fault here is private to the
test (its own SMTP server, its own redis-server); the machine's shared services are untouched."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from learnhub.extensions import db
from learnhub.notifications.models import OutboxMessage
from learnhub.notifications.outbox import BATCH_SIZE
from learnhub.types import utcnow
from tests import factories as f
from tests.reliability.conftest import describe_outbox, outbox_rows, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.smtp]

#: Worker settings that make a fault test take seconds instead of minutes.
FAST = {
    "OUTBOX_SWEEP_GRACE_SECONDS": "0",
    "OUTBOX_BACKOFF_BASE_SECONDS": "1",
    "OUTBOX_CLAIM_LEASE_SECONDS": "5",
}


def queue_rows(count: int, *, prefix: str = "bulk", addresses=None) -> None:
    now = utcnow()
    rows = [
        {
            "kind": "announcement",
            "dedupe_key": f"{prefix}:{n}",
            "to_address": (addresses[n] if addresses else f"person{n}@example.org"),
            "subject": f"Message {n}",
            "text_body": f"Body {n}",
            "html_body": f"<p>Body {n}</p>",
            "status": "queued",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for n in range(count)
    ]
    for start in range(0, count, 500):
        db.session.execute(OutboxMessage.__table__.insert(), rows[start : start + 500])
    db.session.commit()


def outbox_id_of(message) -> int:
    return int(re.search(r"outbox(\d+)", str(message.message["Message-ID"])).group(1))


@pytest.mark.parametrize("outbox_dispatch", ["none"])
def test_mail_server_refusing_for_30_seconds_then_recovering(app, smtp_server, worker_process):
    addresses = [f"person{n}@example.org" for n in range(20)] + ["nobody@example.org"]
    smtp_server.handler.unknown_recipients = {"nobody@example.org"}
    smtp_server.handler.refuse_until = time.monotonic() + 30
    queue_rows(len(addresses), addresses=addresses)
    worker_process(**FAST)
    received = smtp_server.wait_for(20, timeout=90)
    assert smtp_server.handler.refused > 0, "the server never refused: the fault did not happen"
    assert sorted(r.recipients[0] for r in received) == sorted(addresses[:20])
    assert all(r.received_at for r in received)

    def settled():
        rows = outbox_rows()
        return all(r.status in ("sent", "failed") for r in rows) and rows

    rows = wait_until(settled, 30, describe_outbox)
    by_address = {r.to_address: r for r in rows}
    failed = by_address["nobody@example.org"]
    assert failed.status == "failed"
    assert "550" in failed.last_error and "No such user" in failed.last_error
    delivered = [r for r in rows if r.status == "sent"]
    assert len(delivered) == 20
    assert all(r.attempts >= 2 for r in delivered), "each was refused at least once first"
    smtp_server.expect_no_more(20, within=3)


@pytest.mark.parametrize("outbox_dispatch", ["none"])
def test_worker_killed_mid_drain_loses_nothing(app, smtp_server, worker_process):
    """With the default claim lease: the killed worker's claimed rows come back and are all
    delivered within 90 seconds of the kill, and a message sent twice keeps its Message-ID."""
    total = 2000
    queue_rows(total)
    settings = {k: v for k, v in FAST.items() if k != "OUTBOX_CLAIM_LEASE_SECONDS"}
    worker = worker_process(**settings)
    # Killed halfway through a batch: at a batch's end the worker holds no claim for a moment.
    smtp_server.wait_for(3 * BATCH_SIZE + BATCH_SIZE // 2, timeout=120)
    worker.kill()
    killed_at = time.monotonic()
    at_kill = len(smtp_server.messages)
    assert at_kill < total, "the worker finished before it could be killed"
    db.session.rollback()
    claimed = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sending")
    )
    assert claimed > 0, "the worker held no claim when it was killed: the fault did not happen"
    worker_process(**settings)
    smtp_server.wait_for(total, timeout=90 - (time.monotonic() - killed_at))

    def all_sent():
        return (
            db.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status != "sent")
            )
            == 0
        )

    db.session.rollback()
    wait_until(lambda: (db.session.rollback(), all_sent())[1], 60, describe_outbox)
    counts = Counter(outbox_id_of(m) for m in smtp_server.messages)
    assert len(counts) == total
    duplicates = sum(n - 1 for n in counts.values())
    assert duplicates <= 2, f"{duplicates} duplicates; the worker's concurrency is 2"
    message_ids: dict[int, set[str]] = {}
    for message in smtp_server.messages:
        message_ids.setdefault(outbox_id_of(message), set()).add(str(message.message["Message-ID"]))
    assert all(len(ids) == 1 for ids in message_ids.values()), "a resent copy changed Message-ID"


@pytest.mark.parametrize("outbox_dispatch", ["none"])
def test_a_message_that_cannot_be_written_fails_alone(app, smtp_server, worker_process):
    """A header injection that reached the outbox (a row written before subjects were cleaned)
    fails on its own with its reason; the 50 emails claimed with it are delivered."""
    queue_rows(25, prefix="before")
    now = utcnow()
    db.session.execute(
        OutboxMessage.__table__.insert(),
        [
            {
                "kind": "announcement",
                "dedupe_key": "poison",
                "to_address": "poisoned@example.org",
                "subject": "Hello\r\nBcc: x@evil.example",
                "text_body": "Body",
                "html_body": "<p>Body</p>",
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        ],
    )
    db.session.commit()
    queue_rows(25, prefix="after", addresses=[f"later{n}@example.org" for n in range(25)])
    worker_process(**FAST)
    received = smtp_server.wait_for(50, timeout=60)

    def settled():
        rows = outbox_rows()
        return all(r.status in ("sent", "failed") for r in rows) and rows

    rows = wait_until(settled, 30, describe_outbox)
    failed = [r for r in rows if r.status == "failed"]
    assert [r.to_address for r in failed] == ["poisoned@example.org"]
    assert "Subject contains a line break" in failed[0].last_error
    assert sum(r.status == "sent" for r in rows) == 50
    recipients = [address for r in received for address in r.recipients]
    assert "x@evil.example" not in recipients and "poisoned@example.org" not in recipients
    smtp_server.expect_no_more(50, within=3)


@pytest.fixture
def broker(private_redis):
    from tests.reliability.conftest import Broker

    return Broker("redis", private_redis.url)


def test_registrations_succeed_while_redis_is_down(app, private_redis, smtp_server, worker_process):
    programme = f.make_programme(title="Urban heat", capacity=100)
    private_redis.stop()
    client = app.test_client()
    started = time.monotonic()
    for n in range(50):
        response = client.post(
            f"/programmes/{programme.slug}/register",
            data=f.registration_form(email=f"city{n}@example.org", full_name=f"Official {n}"),
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    elapsed = time.monotonic() - started
    assert elapsed < 30, f"registering took {elapsed:.1f} s with the broker down"
    rows = outbox_rows(kind="confirmation")
    assert len(rows) == 50 and {r.status for r in rows} == {"queued"}
    private_redis.start()
    worker_process(OUTBOX_SWEEP_GRACE_SECONDS="1")
    received = smtp_server.wait_for(50, timeout=90)
    assert sorted(r.recipients[0] for r in received) == sorted(
        f"city{n}@example.org" for n in range(50)
    )
    smtp_server.expect_no_more(50, within=3)


@pytest.mark.parametrize("outbox_dispatch", ["none"])
def test_two_beats_at_once_send_each_reminder_once(app, smtp_server, worker_process):
    programme = f.make_programme(sessions=0, title="Two beats")
    f.make_session(programme, utcnow() + timedelta(minutes=50))
    for _ in range(5):
        f.make_registration(programme, confirmed_at=utcnow() - timedelta(days=2))
    worker_process()
    worker_process()
    received = smtp_server.wait_for(5, where=lambda m: m.kind == "reminder", timeout=60)
    assert len({r.recipients[0] for r in received}) == 5
    smtp_server.expect_no_more(5, within=6, where=lambda m: m.kind == "reminder")
