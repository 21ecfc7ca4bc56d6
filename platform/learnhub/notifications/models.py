"""The email outbox (ARCHITECTURE.md rule 3) and the development mailbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..types import UTCDateTime, one_of, utcnow

OUTBOX_STATUSES = ("queued", "sending", "sent", "failed", "skipped")


class OutboxMessage(db.Model):
    """One email, written in the transaction of the change that causes it."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        one_of("status", OUTBOX_STATUSES, "status"),
        Index(
            "ix_outbox_message_due",
            "next_attempt_at",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
    )
    #: Surrogate key; tasks receive it.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: What makes the message unique, e.g. "reminder:12:345:60"; the same key is never sent twice.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    #: confirmation, magic_link, reminder...
    kind: Mapped[str] = mapped_column(String(40))
    #: Recipient address.
    to_address: Mapped[str] = mapped_column(String(320))
    #: Subject line.
    subject: Mapped[str] = mapped_column(String(300))
    #: Plain-text part.
    text_body: Mapped[str] = mapped_column(Text)
    #: HTML part.
    html_body: Mapped[str] = mapped_column(Text)
    #: iCalendar attachment, if any.
    ics: Mapped[str | None] = mapped_column(Text)
    #: Registration the message is about; reminders are skipped when it is no longer confirmed.
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"), index=True
    )
    #: The message is skipped, never sent late, once this instant has passed (a session's start).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: queued, sending, sent, failed or skipped.
    status: Mapped[str] = mapped_column(String(20), default="queued")
    #: Delivery attempts made so far.
    attempts: Mapped[int] = mapped_column(default=0)
    #: Earliest time of the next attempt (backoff after a transient failure).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When a worker claimed it; a claim older than the lease is taken to be lost.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it failed or was skipped (server reply or rule).
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The Message-ID header it was sent with.
    message_id: Mapped[str | None] = mapped_column(String(300))
    #: When it was written.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the mail server accepted it.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DevMailboxMessage(db.Model):
    """An email "delivered" in development: kept here and shown at /dev/mailbox."""

    __tablename__ = "dev_mailbox_message"
    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The outbox row it came from.
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL")
    )
    #: Recipient.
    to_address: Mapped[str] = mapped_column(String(320), index=True)
    #: Subject line.
    subject: Mapped[str] = mapped_column(String(300))
    #: The whole MIME message as the SMTP server would have received it.
    raw: Mapped[str] = mapped_column(Text)
    #: When the worker delivered it.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkerHeartbeat(db.Model):
    """The last time beat's periodic work ran; /healthz reports its age."""

    __tablename__ = "worker_heartbeat"
    #: Which heartbeat ("beat").
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: When it last ran.
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
