"""Who attended which session, how we know, self check-in and imported meeting reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..catalogue.models import Session
from ..extensions import Model
from ..registration.models import Registration
from ..types import NowByDefault, RegistrationKey, SurrogateKey, UTCDateTime, one_of

#: A registrant without a row for a session is "not yet marked".
ATTENDANCE_STATUSES = ("present", "late", "excused", "absent")
#: Statuses that count as having attended.
ATTENDED_STATUSES = ("present", "late")
ATTENDANCE_METHODS = ("manual", "self_check_in", "import")
REPORT_SOURCES = ("zoom", "teams", "generic")
IMPORT_STATES = ("preview", "applied", "discarded")


class Attendance(Model):
    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "registration_id"),
        one_of("status", ATTENDANCE_STATUSES, "status"),
        one_of("method", ATTENDANCE_METHODS, "method"),
        CheckConstraint(
            "minutes_attended IS NULL OR minutes_attended >= 0", name="minutes_not_negative"
        ),
    )
    id: Mapped[SurrogateKey]
    #: The session.
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    #: The registration attending.
    registration_id: Mapped[RegistrationKey]
    #: present, late, excused or absent.
    status: Mapped[str] = mapped_column(String(20))
    #: How it was recorded: manual, self_check_in or import.
    method: Mapped[str] = mapped_column(String(20), default="manual")
    #: Minutes attended within the session's time, where a meeting report told us.
    minutes_attended: Mapped[int | None] = mapped_column()
    #: First join (or check-in) instant, where known.
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The meeting report that set this mark, for imported marks.
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("attendance_import.id", ondelete="SET NULL")
    )
    #: Who recorded it (the participant themselves for a self check-in).
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    #: When it was recorded.
    recorded_at: Mapped[NowByDefault]

    session: Mapped[Session] = relationship()
    registration: Mapped[Registration] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class CheckIn(Model):
    """Self check-in opened by an organiser for one session: a short code shown on screen."""

    __tablename__ = "check_in"
    __table_args__ = (
        CheckConstraint("grace_minutes >= 0 AND grace_minutes <= 240", name="grace_in_range"),
    )
    id: Mapped[SurrogateKey]
    #: The session; one check-in per session (reopening reuses the row).
    session_id: Mapped[int] = mapped_column(
        ForeignKey("session.id", ondelete="CASCADE"), unique=True
    )
    #: The code participants type or scan; unique so a code names one session.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    #: Minutes after the start during which a check-in still counts as present, not late.
    grace_minutes: Mapped[int] = mapped_column(default=10)
    #: When the organiser opened it; check-in is refused while NULL (closed).
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The organiser who opened it.
    opened_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    session: Mapped[Session] = relationship()


class CheckInAttempt(Model):
    """A wrong code typed by a participant; recent ones rate-limit further attempts."""

    __tablename__ = "check_in_attempt"
    __table_args__ = (Index("ix_check_in_attempt_user_at", "user_id", "attempted_at"),)
    id: Mapped[SurrogateKey]
    #: Who typed it.
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    #: When.
    attempted_at: Mapped[NowByDefault]


class AttendanceImport(Model):
    """An uploaded Zoom, Teams or generic meeting report: previewed, then applied or discarded."""

    __tablename__ = "attendance_import"
    __table_args__ = (
        # Set only once applied: the same file is never applied twice to a session.
        UniqueConstraint("session_id", "applied_sha256"),
        one_of("source", REPORT_SOURCES, "source"),
        one_of("state", IMPORT_STATES, "state"),
        CheckConstraint("present_percent BETWEEN 1 AND 100", name="present_percent_range"),
        CheckConstraint("late_minutes >= 0", name="late_minutes_not_negative"),
    )
    id: Mapped[SurrogateKey]
    #: The session the report is for.
    session_id: Mapped[int] = mapped_column(
        ForeignKey("session.id", ondelete="CASCADE"), index=True
    )
    #: zoom, teams or generic.
    source: Mapped[str] = mapped_column(String(20))
    #: Name of the uploaded file, as sent.
    file_name: Mapped[str] = mapped_column(String(300))
    #: SHA-256 of the file's bytes.
    sha256: Mapped[str] = mapped_column(String(64))
    #: The report's people merged across reconnects (JSON), kept until applied or discarded.
    people: Mapped[str | None] = mapped_column(Text)
    #: IANA zone the report's times are written in (the exports carry none).
    times_timezone: Mapped[str] = mapped_column(String(64))
    #: Present when at least this percentage of the session was attended.
    present_percent: Mapped[int] = mapped_column(default=75)
    #: Late when the first join is more than this many minutes after the start.
    late_minutes: Mapped[int] = mapped_column(default=10)
    #: Mark confirmed registrants missing from the report (and not yet marked) absent.
    absent_if_missing: Mapped[bool] = mapped_column(default=True)
    #: preview, applied or discarded.
    state: Mapped[str] = mapped_column(String(20), default="preview")
    #: The file's hash once applied (NULL before): guards against applying it twice.
    applied_sha256: Mapped[str | None] = mapped_column(String(64))
    #: Who uploaded it.
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    #: When it was uploaded.
    uploaded_at: Mapped[NowByDefault]
    #: When it was applied.
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Marks written or changed when applied.
    changed_count: Mapped[int | None] = mapped_column()

    session: Mapped[Session] = relationship()
