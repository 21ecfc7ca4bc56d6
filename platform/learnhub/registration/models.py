"""Registrations: a person's place in a programme."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..catalogue.models import Programme
from ..extensions import db
from ..types import UTCDateTime, one_of, utcnow

REGISTRATION_STATUSES = ("pending", "confirmed", "waitlisted", "cancelled", "rejected")


class Registration(db.Model):
    __tablename__ = "registration"
    __table_args__ = (
        UniqueConstraint("programme_id", "user_id"),
        one_of("status", REGISTRATION_STATUSES, "status"),
        Index("ix_registration_programme_status", "programme_id", "status"),
    )
    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The programme.
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    #: The participant.
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    #: pending, confirmed, waitlisted, cancelled or rejected.
    status: Mapped[str] = mapped_column(String(20))
    #: When the person registered.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the seat was confirmed; reminders whose instant came before it are not sent.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the registration was cancelled.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the person accepted the privacy notice.
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)

    programme: Mapped[Programme] = relationship()
    user: Mapped[User] = relationship()
