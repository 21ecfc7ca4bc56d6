"""Outbox delivery: claim once, skip with a reason, retry transient, record permanent failures."""

from __future__ import annotations

import email
import socket
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from sqlalchemy import bindparam, select

from learnhub.extensions import db
from learnhub.notifications import delivery
from learnhub.notifications import message as writer
from learnhub.notifications.models import DevMailboxMessage, OutboxMessage
from learnhub.notifications.services import queue_registration_email
from learnhub.types import utcnow
from tests import factories as f


def queued(**fields) -> OutboxMessage:
    return f.make_outbox_message(**{"kind": "announcement", **fields})


def test_confirmation_has_both_parts_and_a_valid_ics_in_both_zones(app):
    programme = f.make_programme(timezone="Asia/Shanghai", sessions=0)
    session = f.make_session(programme, datetime(2030, 11, 3, 8, 0, tzinfo=UTC), minutes=120)
    registration = f.make_registration(programme, f.make_user(timezone="Europe/Madrid"))
    with app.test_request_context():
        queue_registration_email(registration, "confirmed", sign_in_link="http://x/login/link/t")
        db.session.commit()
    outcome = delivery.drain()
    assert [o.status for o in outcome] == ["sent"]
    raw = db.session.scalar(select(DevMailboxMessage.raw))
    parsed = email.message_from_string(raw, policy=policy.default)
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    assert "Sun 3 Nov 2030, 16:00–18:00 CST (Asia/Shanghai)" in text
    assert "Sun 3 Nov 2030, 09:00–11:00 CET (Europe/Madrid)" in text
    assert parsed.get_body(preferencelist=("html",)) is not None
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    calendar = Calendar.from_ical(attachment.get_content())
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == session.starts_at
    assert event.decoded("dtend") == session.ends_at
    assert str(event["uid"]) == f"session-{session.id}@127.0.0.1"
    assert calendar.walk("VTIMEZONE"), "the TZID used by DTSTART must be defined"
    stored = db.session.scalar(select(OutboxMessage))
    assert stored.message_id == parsed["Message-ID"]


def test_a_row_is_claimed_once(app):
    message = queued()
    now = utcnow()
    assert delivery.claim(message.id, now) is not None
    assert delivery.claim(message.id, now) is None
    assert delivery.deliver(message.id) is None


def test_delivered_row_is_never_sent_again(app):
    message = queued()
    assert delivery.deliver(message.id).status == "sent"
    assert delivery.deliver(message.id) is None
    assert db.session.query(DevMailboxMessage).count() == 1


def test_message_past_its_expiry_is_skipped_with_a_reason(app):
    message = queued(kind="reminder", expires_at=utcnow() - timedelta(minutes=1))
    outcome = delivery.deliver(message.id)
    assert outcome.status == "skipped"
    assert "already started" in outcome.reason
    assert db.session.query(DevMailboxMessage).count() == 0


def test_reminder_for_a_cancelled_registration_is_skipped(app):
    registration = f.make_registration(f.make_programme(), status="cancelled")
    message = queued(kind="reminder", registration_id=registration.id)
    outcome = delivery.deliver(message.id)
    assert outcome.status == "skipped"
    assert "cancelled" in outcome.reason


def test_lost_claims_are_released_after_the_lease(app):
    message = queued(status="sending", claimed_at=utcnow() - timedelta(minutes=10))
    fresh = queued(status="sending", claimed_at=utcnow())
    assert delivery.release_lost_claims(utcnow()) == 1
    db.session.refresh(message)
    db.session.refresh(fresh)
    assert message.status == "queued"
    assert fresh.status == "sending"


def test_a_message_that_cannot_be_written_fails_alone_and_shows_to_the_admin(app, client):
    good = [queued(to_address=f"p{n}@example.org") for n in range(3)]
    poison = queued(to_address="poisoned@example.org", subject="Hi\r\nBcc: x@evil.example")
    outcomes = {o.outbox_id: o for o in delivery.drain()}
    assert [outcomes[m.id].status for m in good] == ["sent"] * 3
    assert outcomes[poison.id].status == "failed"
    assert "Subject contains a line break" in outcomes[poison.id].reason
    f.sign_in(client, f.make_user(role="admin"))
    page = client.get("/admin/outbox").text
    assert "poisoned@example.org" in page and "Subject contains a line break" in page


def test_a_registration_email_that_cannot_be_rendered_fails_alone(app, monkeypatch):
    from learnhub.notifications import registration_emails as services

    programme = f.make_programme()
    registrations = [f.make_registration(programme) for _ in range(2)]
    with app.test_request_context():
        rows = [queue_registration_email(r, "confirmed") for r in registrations]
    db.session.commit()
    broken = registrations[0].id
    real = services.registration_email

    def render(registration, *args, **kwargs):
        if registration.id == broken:
            raise KeyError("a template variable")
        return real(registration, *args, **kwargs)

    monkeypatch.setattr(services, "registration_email", render)
    outcomes = {o.outbox_id: o for o in delivery.drain()}
    assert outcomes[rows[0]].status == "failed"
    assert "KeyError" in outcomes[rows[0]].reason
    assert outcomes[rows[1]].status == "sent"


def test_the_message_id_is_the_same_every_time_a_row_is_written(app):
    message = queued()
    first, _ = delivery.build_message(message)
    again, _ = delivery.build_message(message)
    assert first == again and f"outbox{message.id}." in first


def test_a_batch_renews_its_claim_while_it_runs(app, monkeypatch):
    """The lease is short; a batch slower than the lease keeps its rows (no other worker can
    take them over), and gives back what it had not started once renewals stop."""
    app.config["OUTBOX_CLAIM_LEASE_SECONDS"] = 0.4
    rows = [queued(to_address=f"slow{n}@example.org") for n in range(3)]
    real_send = delivery.DevMailboxBackend.send
    released: list[int] = []

    def slow_send(self, message):
        import time

        time.sleep(0.3)
        released.append(delivery.release_lost_claims(utcnow()))
        real_send(self, message)

    monkeypatch.setattr(delivery.DevMailboxBackend, "send", slow_send)
    outcomes = delivery.drain()
    assert [o.status for o in outcomes] == ["sent"] * 3
    assert released == [0, 0, 0], "a claim under renewal was taken to be lost"
    assert db.session.query(DevMailboxMessage).count() == len(rows)


def test_backoff_grows_and_is_capped(app):
    assert 30 <= delivery.backoff_seconds(1) <= 36
    assert 60 <= delivery.backoff_seconds(2) <= 72
    assert 3600 <= delivery.backoff_seconds(30) <= 4320


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ReplyingHandler:
    """An SMTP server that answers DATA with a chosen reply."""

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.received: list = []

    async def handle_DATA(self, server, session, envelope):
        if self.reply.startswith("250"):
            self.received.append(envelope)
        return self.reply


@pytest.fixture
def smtp(app):
    controllers = []

    def start(reply: str) -> ReplyingHandler:
        handler = ReplyingHandler(reply)
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        app.config.update(MAIL_BACKEND="smtp", SMTP_URL=f"smtp://127.0.0.1:{port}")
        return handler

    yield start
    for controller in controllers:
        controller.stop()


@pytest.mark.smtp
def test_smtp_delivery(app, smtp):
    handler = smtp("250 OK")
    message = queued()
    assert delivery.deliver(message.id).status == "sent"
    assert handler.received[0].rcpt_tos == ["p@example.org"]


@pytest.mark.smtp
def test_smtp_4xx_goes_back_to_the_queue_with_backoff(app, smtp):
    smtp("421 Service not available, try later")
    message = queued()
    with pytest.raises(delivery.TransientDeliveryError):
        delivery.deliver(message.id)
    db.session.refresh(message)
    assert message.status == "queued"
    assert message.attempts == 1
    assert "421" in message.last_error
    assert message.next_attempt_at > utcnow() + timedelta(seconds=25)


@pytest.mark.smtp
def test_smtp_5xx_fails_for_good_with_the_reply(app, smtp):
    smtp("550 No such user here")
    message = queued()
    outcome = delivery.deliver(message.id)
    assert outcome.status == "failed"
    assert "550 No such user here" in outcome.reason
    assert delivery.drain() == []


def test_unreachable_server_is_transient(app):
    app.config.update(MAIL_BACKEND="smtp", SMTP_URL="smtp://127.0.0.1:1")
    message = queued()
    with pytest.raises(delivery.TransientDeliveryError):
        delivery.deliver(message.id)
    db.session.refresh(message)
    assert message.status == "queued"
    assert "could not reach the mail server" in message.last_error


def test_transient_failures_give_up_after_the_last_attempt(app):
    app.config.update(MAIL_BACKEND="smtp", SMTP_URL="smtp://127.0.0.1:1")
    message = queued(attempts=delivery.MAX_ATTEMPTS - 1)
    outcome = delivery.deliver(message.id)
    assert outcome.status == "failed"
    assert "gave up after" in outcome.reason


def test_outcome_is_recorded_even_when_someone_writes_during_the_send(app, monkeypatch):
    """A read held across the send made SQLite refuse the final write (SQLITE_BUSY_SNAPSHOT),
    leaving a sent message in `sending` to be sent again after the lease."""
    message = queued()
    other = queued(dedupe_key="other")
    real_send = delivery.DevMailboxBackend.send

    def send_while_another_connection_writes(self, claimed):
        from sqlalchemy import text

        with db.engine.begin() as connection:
            connection.execute(
                text("UPDATE outbox_message SET subject = 'changed' WHERE id = :id"),
                {"id": other.id},
            )
        real_send(self, claimed)

    monkeypatch.setattr(delivery.DevMailboxBackend, "send", send_while_another_connection_writes)
    assert delivery.deliver(message.id).status == "sent"
    db.session.rollback()
    db.session.refresh(message)
    assert message.status == "sent"
    assert message.message_id


@pytest.mark.smtp
@pytest.mark.parametrize("connections", [1, 2])
def test_a_batch_goes_through_its_few_smtp_connections(app, smtp, monkeypatch, connections):
    app.config["OUTBOX_SMTP_CONNECTIONS"] = connections
    handler = smtp("250 OK")
    for n in range(6):
        queued(dedupe_key=f"batch:{n}", to_address=f"p{n}@example.org")
    opened = []
    real_open = delivery.SMTPBackend._open

    def counting_open(self):
        opened.append(1)
        return real_open(self)

    monkeypatch.setattr(delivery.SMTPBackend, "_open", counting_open)
    outcomes = delivery.deliver_due(utcnow())
    assert [o.status for o in outcomes] == ["sent"] * 6
    assert len(opened) == connections
    assert sorted(e.rcpt_tos[0] for e in handler.received) == [
        f"p{n}@example.org" for n in range(6)
    ]


@pytest.mark.smtp
def test_with_several_connections_one_accepted_message_at_a_time_awaits_its_record(app, smtp):
    """The guarantee behind "a killed worker sends at most one message per task twice": when
    the server accepts a message, every message it accepted before is already recorded."""
    from sqlalchemy import text

    app.config["OUTBOX_SMTP_CONNECTIONS"] = 4
    engine = db.engine
    unrecorded_at_acceptance = []

    class Checking(ReplyingHandler):
        async def handle_DATA(self, server, session, envelope):
            accepted = [e.rcpt_tos[0] for e in self.received]
            if accepted:
                with engine.connect() as connection:
                    statuses = connection.execute(
                        text("SELECT status FROM outbox_message WHERE to_address IN :a").bindparams(
                            bindparam("a", expanding=True)
                        ),
                        {"a": accepted},
                    ).scalars()
                    unrecorded_at_acceptance.append(sum(s == "sending" for s in statuses))
            return await super().handle_DATA(server, session, envelope)

    handler = smtp("250 OK")
    handler.__class__ = Checking
    for n in range(30):
        queued(dedupe_key=f"side-by-side:{n}", to_address=f"p{n}@example.org")
    outcomes = delivery.deliver_due(utcnow())
    assert [o.status for o in outcomes] == ["sent"] * 30
    assert len(handler.received) == 30
    assert len(unrecorded_at_acceptance) == 29
    assert set(unrecorded_at_acceptance) == {0}


@pytest.mark.smtp
def test_one_refused_address_fails_and_the_rest_of_the_batch_goes(app, smtp):
    class OneBadAddress(ReplyingHandler):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.startswith("bad"):
                return "550 5.1.1 No such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    handler = smtp("250 OK")
    handler.__class__ = OneBadAddress
    for address in ("a@example.org", "bad@example.org", "c@example.org"):
        queued(dedupe_key=f"mixed:{address}", to_address=address)
    outcomes = {o.outbox_id: o for o in delivery.deliver_due(utcnow())}
    statuses = sorted(o.status for o in outcomes.values())
    assert statuses == ["failed", "sent", "sent"]
    failed = next(o for o in outcomes.values() if o.status == "failed")
    assert "550" in failed.reason and "No such user" in failed.reason
    assert sorted(e.rcpt_tos[0] for e in handler.received) == ["a@example.org", "c@example.org"]


def test_the_sweep_leaves_fresh_rows_to_their_delivery_task(app):
    fresh = queued(dedupe_key="fresh")
    old = queued(dedupe_key="old", created_at=utcnow() - timedelta(minutes=2))
    retry = queued(dedupe_key="retry", attempts=1)
    outcomes = delivery.deliver_due(utcnow(), grace_seconds=30)
    assert sorted(o.outbox_id for o in outcomes) == sorted([old.id, retry.id])
    db.session.refresh(fresh)
    assert fresh.status == "queued"


@pytest.mark.postgres
def test_workers_skip_rows_another_worker_has_locked(app):
    """FOR UPDATE SKIP LOCKED: a second drainer takes the other rows instead of waiting."""
    from tests import services

    services.require_postgres()
    if db.engine.dialect.name != "postgresql":
        pytest.skip("this run's test database is SQLite; the PostgreSQL run covers it")
    first = queued(dedupe_key="locked")
    second = queued(dedupe_key="free")
    with db.engine.connect() as other_worker:
        other_worker.exec_driver_sql(
            "SELECT id FROM outbox_message WHERE id = %s FOR UPDATE", (first.id,)
        )
        outcomes = delivery.deliver_due(utcnow())
        assert [o.outbox_id for o in outcomes] == [second.id]
        other_worker.rollback()
    assert [o.outbox_id for o in delivery.deliver_due(utcnow())] == [first.id]


@pytest.mark.parametrize(
    "subject",
    [
        "Hello",
        "Reminder: Resilient City, 2nd edition: Economic resilience starts in 1 hour",
        "Réunion : résilience économique",
        "x" * 60,
        "x" * 61,
        "a  b   c ",
    ],
)
@pytest.mark.parametrize(
    "unsubscribe_url",
    [None, "https://learnhub.example.org/email/unsubscribe/MTIzNDU.abcdefghijklmnop?c=reminders"],
)
def test_a_message_reads_back_as_its_row(app, monkeypatch, subject, unsubscribe_url):
    """The email package writes the row: every header and both parts read back as they are,
    lines end in CRLF within RFC 5322's limit, and the unsubscribe address stays one plain
    address that mail clients read (not encoded words)."""
    from types import SimpleNamespace

    monkeypatch.setattr(writer, "utcnow", lambda: datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))
    row = SimpleNamespace(
        id=7,
        message_id=None,
        dedupe_key="reminder:7",
        kind="reminder",
        to_address="participant.with.a.rather.long.address@city-network.example.org",
        subject=subject,
        reply_to="organiser@example.org",
        unsubscribe_url=unsubscribe_url,
        text_body="Hello Ana Lúcia,\n\nLine two <b>\n" * 20,
        html_body="<p>Hello Ana L&uacute;cia, ünïcode</p>\n" * 20,
        ics=None,
    )
    with app.app_context():
        message_id, raw = writer.build_message(row)
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == subject
    assert parsed["To"] == row.to_address and parsed["Reply-To"] == row.reply_to
    assert parsed["Message-ID"] == message_id and parsed["X-LearnHub-Kind"] == "reminder"
    assert parsed["Date"] == "Wed, 02 Jan 2030 03:04:05 +0000"
    if unsubscribe_url:
        assert f"\r\nList-Unsubscribe: <{unsubscribe_url}>\r\n".encode() in raw
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    else:
        assert "List-Unsubscribe" not in parsed
    assert parsed.get_content_type() == "multipart/alternative"
    for subtype, body in (("plain", row.text_body), ("html", row.html_body)):
        part = parsed.get_body(preferencelist=(subtype,))
        assert part.get_content().replace("\r\n", "\n") == body
