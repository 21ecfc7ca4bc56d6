"""Who attended which session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..catalogue.models import Session
from ..extensions import db
from ..registration.models import Registration
from ..types import UTCDateTime, one_of, utcnow

ATTENDANCE_STATUSES = ("present", "absent")
ATTENDANCE_METHODS = ("manual",)


class Attendance(db.Model):
    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "registration_id"),
        one_of("status", ATTENDANCE_STATUSES, "status"),
        one_of("method", ATTENDANCE_METHODS, "method"),
    )
    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The session.
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    #: The registration attending.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    #: present or absent.
    status: Mapped[str] = mapped_column(String(20))
    #: How it was recorded.
    method: Mapped[str] = mapped_column(String(20), default="manual")
    #: Who recorded it.
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    #: When it was recorded.
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[Session] = relationship()
    registration: Mapped[Registration] = relationship()
    recorded_by: Mapped[User | None] = relationship()
