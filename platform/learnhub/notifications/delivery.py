"""Delivering outbox rows: claim, check, send, record (ARCHITECTURE.md rules 3 and 7).

A row is claimed with a conditional UPDATE (queued -> sending), so two workers never send the
same row through the normal path. A claim whose worker died is given back after a lease.
Transient failures (connection errors, 4xx replies) go back to the queue with exponential
backoff and jitter; permanent ones (5xx) are recorded with the server's reply.
"""

from __future__ import annotations

import random
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import or_, select, update

from ..database import begin_write_transaction
from ..extensions import db
from ..registration.models import Registration
from ..types import utcnow
from .models import DevMailboxMessage, OutboxMessage

#: Minutes a claim may last before the row is taken to be lost with its worker.
CLAIM_LEASE_MINUTES = 5
#: After this many attempts a transiently failing message is given up (about six hours).
MAX_ATTEMPTS = 12
#: Kinds that only make sense while the registration is still confirmed.
CONFIRMED_ONLY_KINDS = ("reminder",)


class TransientDeliveryError(Exception):
    """The message went back to the queue; try again after `retry_in` seconds."""

    def __init__(self, reason: str, retry_in: float) -> None:
        super().__init__(reason)
        self.retry_in = retry_in


class PermanentDeliveryError(Exception):
    """The server refused the message for good (5xx)."""


@dataclass
class DeliveryOutcome:
    outbox_id: int
    status: str
    reason: str | None = None


def backoff_seconds(attempts: int) -> float:
    """30 s, 1 min, 2 min ... capped at 1 h, each with up to 20 % jitter."""
    base = min(30 * 2 ** max(attempts - 1, 0), 3600)
    return base * (1 + random.uniform(0, 0.2))


@dataclass(frozen=True)
class ClaimedMessage:
    """What a delivery needs, read while the claim's transaction was open.

    No transaction stays open while the mail server is talked to: on SQLite a read held across
    the send would make the write that records the outcome fail (SQLITE_BUSY_SNAPSHOT) as soon
    as anyone else had written in between, and the sent message would be sent again later.
    """

    id: int
    to_address: str
    subject: str
    attempts: int
    mime: EmailMessage | None
    skip_reason: str | None


def claim(outbox_id: int, now: datetime) -> ClaimedMessage | None:
    """Take the row (queued -> sending) and read what sending it needs, in one transaction."""
    begin_write_transaction()
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outbox_id,
            OutboxMessage.status == "queued",
            OutboxMessage.next_attempt_at <= now,
        )
        .values(status="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return None
    message = db.session.get(OutboxMessage, outbox_id, populate_existing=True)
    skip_reason = _skip_reason(message, now)
    claimed = ClaimedMessage(
        id=message.id,
        to_address=message.to_address,
        subject=message.subject,
        attempts=message.attempts,
        mime=None if skip_reason else build_mime(message),
        skip_reason=skip_reason,
    )
    db.session.commit()
    return claimed


def deliver(outbox_id: int) -> DeliveryOutcome | None:
    """Deliver one row if it is due and still queued; None when another worker has it."""
    claimed = claim(outbox_id, utcnow())
    if claimed is None:
        return None
    if claimed.skip_reason:
        return _record(claimed, "skipped", reason=claimed.skip_reason)
    try:
        mail_backend().send(claimed.mime, claimed)
    except PermanentDeliveryError as error:
        return _record(claimed, "failed", reason=str(error))
    except TransientDeliveryError as error:
        if claimed.attempts >= MAX_ATTEMPTS:
            reason = f"gave up after {claimed.attempts} attempts: {error}"
            return _record(claimed, "failed", reason=reason)
        _record(
            claimed,
            "queued",
            reason=str(error),
            next_attempt_at=utcnow() + timedelta(seconds=error.retry_in),
        )
        raise
    return _record(claimed, "sent", message_id=claimed.mime["Message-ID"], sent_at=utcnow())


def _record(
    claimed: ClaimedMessage, status: str, reason: str | None = None, **values
) -> DeliveryOutcome:
    """Write the outcome in a write transaction of its own, only while the claim is ours."""
    begin_write_transaction()
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == claimed.id, OutboxMessage.status == "sending")
        .values(status=status, last_error=reason, claimed_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return DeliveryOutcome(claimed.id, status, reason)


def _skip_reason(message: OutboxMessage, now: datetime) -> str | None:
    if message.expires_at is not None and now >= message.expires_at:
        return "the session had already started; a late reminder is not sent"
    if message.kind in CONFIRMED_ONLY_KINDS and message.registration_id is not None:
        status = db.session.scalar(
            select(Registration.status).where(Registration.id == message.registration_id)
        )
        if status != "confirmed":
            return f"the registration is {status or 'gone'}, no longer confirmed"
    return None


def release_lost_claims(now: datetime) -> int:
    """Give back rows whose worker died mid-send (at-least-once: it may be sent again)."""
    begin_write_transaction()
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == "sending",
            OutboxMessage.claimed_at < now - timedelta(minutes=CLAIM_LEASE_MINUTES),
        )
        .values(status="queued", claimed_at=None)
    )
    db.session.commit()
    return result.rowcount


def overdue_ids(now: datetime, grace_seconds: float = 30, limit: int = 1000) -> list[int]:
    """Queued rows that should have gone by now: never handed over, or due for a retry."""
    return list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "queued")
            .where(
                or_(
                    OutboxMessage.next_attempt_at <= now - timedelta(seconds=grace_seconds),
                    OutboxMessage.attempts > 0,
                )
            )
            .where(OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )


def drain(limit: int = 1000) -> list[DeliveryOutcome]:
    """Deliver every due row now, in this process (CLI, tests, the sweep)."""
    outcomes = []
    now = utcnow()
    ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    for outbox_id in ids:
        try:
            outcome = deliver(outbox_id)
        except TransientDeliveryError:
            continue
        if outcome:
            outcomes.append(outcome)
    return outcomes


def build_mime(message: OutboxMessage) -> EmailMessage:
    config = current_app.config
    domain = urlsplit(config["BASE_URL"]).hostname or "learnhub.local"
    mime = EmailMessage()
    mime["From"] = config["MAIL_FROM"]
    mime["To"] = message.to_address
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(utcnow())
    mime["Message-ID"] = message.message_id or make_msgid(f"outbox{message.id}", domain=domain)
    mime["X-LearnHub-Kind"] = message.kind
    mime.set_content(message.text_body)
    mime.add_alternative(message.html_body, subtype="html")
    if message.ics:
        mime.add_attachment(
            message.ics.encode(),
            maintype="text",
            subtype="calendar",
            filename="sessions.ics",
            params={"method": "PUBLISH"},
        )
    return mime


class DevMailboxBackend:
    """Keeps the message in the database; /dev/mailbox shows it (development only)."""

    def send(self, mime: EmailMessage, message: ClaimedMessage) -> None:
        begin_write_transaction()
        db.session.add(
            DevMailboxMessage(
                outbox_id=message.id,
                to_address=message.to_address,
                subject=message.subject,
                raw=mime.as_string(),
            )
        )
        db.session.commit()


class SMTPBackend:
    def __init__(self, config) -> None:
        self.host, self.port, self.username, self.password, self.use_ssl = _smtp_settings(config)
        self.starttls = config.get("SMTP_STARTTLS", False)
        self.timeout = 30

    def send(self, mime: EmailMessage, message: ClaimedMessage) -> None:
        try:
            smtp_class = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
            with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mime)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            _raise_for_reply(code, reply, message.attempts)
        except smtplib.SMTPResponseException as error:
            _raise_for_reply(error.smtp_code, error.smtp_error, message.attempts)
        except (smtplib.SMTPException, OSError) as error:
            raise TransientDeliveryError(
                f"could not reach the mail server: {error}", backoff_seconds(message.attempts)
            ) from error


def _raise_for_reply(code: int, reply: bytes | str, attempts: int) -> None:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    if 500 <= code < 600:
        raise PermanentDeliveryError(f"{code} {text}")
    raise TransientDeliveryError(f"{code} {text}", backoff_seconds(attempts))


def _smtp_settings(config) -> tuple[str, int, str | None, str | None, bool]:
    if config.get("SMTP_URL"):
        parts = urlsplit(config["SMTP_URL"])
        use_ssl = parts.scheme == "smtps"
        return (
            parts.hostname or "localhost",
            parts.port or (465 if use_ssl else 25),
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            use_ssl,
        )
    return (
        config.get("SMTP_HOST") or "localhost",
        config.get("SMTP_PORT") or 25,
        config.get("SMTP_USERNAME"),
        config.get("SMTP_PASSWORD"),
        False,
    )


def mail_backend() -> DevMailboxBackend | SMTPBackend:
    if current_app.config["MAIL_BACKEND"] == "smtp":
        return SMTPBackend(current_app.config)
    return DevMailboxBackend()
