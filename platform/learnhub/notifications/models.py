"""The email outbox (ARCHITECTURE.md rule 3) and the development mailbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.schema import CheckConstraint, ForeignKey, Index, UniqueConstraint
from sqlalchemy.types import JSON, String, Text

from ..extensions import Model
from ..types import NowByDefault, ProgrammeKey, SurrogateKey, UserKey, UTCDateTime, one_of

OUTBOX_STATUSES = ("queued", "sending", "sent", "failed", "skipped")
#: Kinds of email a person may switch off; transactional ones (confirmation, sign-in) are not.
OPTIONAL_CATEGORIES = ("reminders", "announcements")
AUDIENCES = ("confirmed", "waitlisted", "attended", "missed", "everyone")
ANNOUNCEMENT_STATUSES = ("draft", "queued", "sent")


class OutboxMessage(Model):
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
    id: Mapped[SurrogateKey]
    #: What makes the message unique, e.g. "reminder:12:345:60"; the same key is never sent twice.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    #: confirmation, magic_link, reminder...
    kind: Mapped[str] = mapped_column(String(40))
    #: Recipient address.
    to_address: Mapped[str] = mapped_column(String(320))
    #: Subject line.
    subject: Mapped[str] = mapped_column(String(300))
    #: Plain-text part; empty while `render_args` is set.
    text_body: Mapped[str] = mapped_column(Text)
    #: HTML part; empty while `render_args` is set.
    html_body: Mapped[str] = mapped_column(Text)
    #: What the worker writes the message from when it delivers it (JSON), e.g. a registration
    #: transition's event; cleared once subject, bodies and attachment are written.
    render_args: Mapped[dict | None] = mapped_column(JSON)
    #: iCalendar attachment, if any.
    ics: Mapped[str | None] = mapped_column(Text)
    #: Registration the message is about; reminders are skipped when it is no longer confirmed.
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="SET NULL"), index=True
    )
    #: The recipient's account, when they have one (preferences and unsubscribe apply to it).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    #: The session the message is about (reminders, changes), for the planner and reports.
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("session.id", ondelete="SET NULL"), index=True
    )
    #: "reminders" or "announcements" when the recipient may switch this kind off; else empty.
    category: Mapped[str | None] = mapped_column(String(40))
    #: One-click unsubscribe address (RFC 8058) for optional categories.
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    #: Reply-To address: the programme's organiser.
    reply_to: Mapped[str | None] = mapped_column(String(320))
    #: The message is skipped, never sent late, once this instant has passed (a session's start).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: queued, sending, sent, failed or skipped.
    status: Mapped[str] = mapped_column(String(20), default="queued")
    #: Delivery attempts made so far.
    attempts: Mapped[int] = mapped_column(default=0)
    #: Earliest time of the next attempt (backoff after a transient failure).
    next_attempt_at: Mapped[NowByDefault]
    #: When a worker claimed it; a claim older than the lease is taken to be lost.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it failed or was skipped (server reply or rule).
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The Message-ID header it was sent with.
    message_id: Mapped[str | None] = mapped_column(String(300))
    #: When it was written.
    created_at: Mapped[NowByDefault]
    #: When the mail server accepted it.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DevMailboxMessage(Model):
    """An email "delivered" in development: kept here and shown at /dev/mailbox."""

    __tablename__ = "dev_mailbox_message"
    #: Surrogate key.
    id: Mapped[SurrogateKey]
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
    received_at: Mapped[NowByDefault]


class WorkerHeartbeat(Model):
    """The last time beat's periodic work ran; /healthz reports its age."""

    __tablename__ = "worker_heartbeat"
    #: Which heartbeat ("beat").
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: When it last ran.
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReminderPolicy(Model):
    """A programme's own reminder offsets; programmes without one use the default."""

    __tablename__ = "reminder_policy"
    #: The programme (one policy each).
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True
    )
    #: Minutes before each session, comma-separated, e.g. "10080,1440,60"; empty means none.
    offsets_minutes: Mapped[str] = mapped_column(String(200))
    #: When organisers last changed it.
    updated_at: Mapped[NowByDefault]

    @property
    def offsets(self) -> tuple[int, ...]:
        return parse_offsets(self.offsets_minutes)


def parse_offsets(text_value: str) -> tuple[int, ...]:
    return tuple(sorted({int(part) for part in text_value.split(",") if part.strip()}))


class ReminderRun(Model):
    """A (session, offset, schedule version) whose reminders are all written: never scanned again.

    This keeps the minute-by-minute scan proportional to what is due, not to registrations."""

    __tablename__ = "reminder_run"
    #: The session.
    session_id: Mapped[int] = mapped_column(
        ForeignKey("session.id", ondelete="CASCADE"), primary_key=True
    )
    #: Minutes before the start.
    offset_minutes: Mapped[int] = mapped_column(primary_key=True)
    #: The session's ics_sequence when planned; moving a session starts a new run.
    ics_sequence: Mapped[int] = mapped_column(primary_key=True)
    #: How many reminders the run wrote.
    planned: Mapped[int] = mapped_column(default=0)
    #: When the run was closed.
    completed_at: Mapped[NowByDefault]


class NotificationPreference(Model):
    """A person's choice for one optional category of email (absent means "yes")."""

    __tablename__ = "notification_preference"
    __table_args__ = (
        UniqueConstraint("user_id", "category"),
        one_of("category", OPTIONAL_CATEGORIES, "category"),
    )
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: Whose choice.
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    #: "reminders" or "announcements".
    category: Mapped[str] = mapped_column(String(40))
    #: Whether they receive it.
    enabled: Mapped[bool] = mapped_column()
    #: When they last changed it.
    updated_at: Mapped[NowByDefault]


class CalendarFeed(Model):
    """A participant's private calendar feed; only the token's hash is kept."""

    __tablename__ = "calendar_feed"
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: Whose feed.
    user_id: Mapped[UserKey]
    #: SHA-256 of the secret token in the feed URL.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: When it was made.
    created_at: Mapped[NowByDefault]
    #: When it was revoked; a revoked feed answers 404.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Announcement(Model):
    """A message an organiser writes to an audience of a programme."""

    __tablename__ = "announcement"
    __table_args__ = (
        one_of("audience", AUDIENCES, "audience"),
        one_of("status", ANNOUNCEMENT_STATUSES, "status"),
        CheckConstraint(
            "audience NOT IN ('attended', 'missed') OR session_id IS NOT NULL",
            name="session_for_attendance_audiences",
        ),
    )
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: The programme.
    programme_id: Mapped[ProgrammeKey]
    #: Who wrote it.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    #: Subject line.
    subject: Mapped[str] = mapped_column(String(300))
    #: Body in Markdown (sanitised when rendered).
    body: Mapped[str] = mapped_column(Text)
    #: confirmed, waitlisted, attended, missed or everyone.
    audience: Mapped[str] = mapped_column(String(20))
    #: The session for the "attended" and "missed" audiences.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("session.id", ondelete="SET NULL"))
    #: draft, queued (the worker is writing the emails) or sent (all emails are in the outbox).
    status: Mapped[str] = mapped_column(String(20), default="draft")
    #: How many emails were written.
    recipients: Mapped[int] = mapped_column(default=0)
    #: When it was written.
    created_at: Mapped[NowByDefault]
    #: When the organiser sent it.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
