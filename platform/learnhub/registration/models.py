"""Registrations: a person's place in a programme, the programme's questions and the answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.schema import CheckConstraint, ForeignKey, Index, UniqueConstraint
from sqlalchemy.types import String, Text

from ..accounts.models import User
from ..catalogue.models import Programme
from ..extensions import Model
from ..types import NowByDefault, ProgrammeKey, SurrogateKey, UserKey, UTCDateTime, one_of

REGISTRATION_STATUSES = ("pending", "confirmed", "waitlisted", "cancelled", "rejected")
#: The states that hold a seat, a place in the queue or a request: a person has at most one.
ACTIVE_STATUSES = ("pending", "confirmed", "waitlisted")
QUESTION_KINDS = (
    "short_text",
    "long_text",
    "single_choice",
    "multiple_choice",
    "country",
    "yes_no",
)


class Registration(Model):
    __tablename__ = "registration"
    __table_args__ = (
        # One registration row per person and programme: registering again reuses it, so there
        # can never be two active ones.
        UniqueConstraint("programme_id", "user_id"),
        one_of("status", REGISTRATION_STATUSES, "status"),
        # A waiting-list position exactly when waitlisted.
        CheckConstraint(
            "(status = 'waitlisted' AND waitlist_position IS NOT NULL)"
            " OR (status <> 'waitlisted' AND waitlist_position IS NULL)",
            name="waitlist_position_iff_waitlisted",
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_registration_programme_status", "programme_id", "status"),
        # Two people can never hold the same place in a programme's queue.
        Index(
            "uq_registration_waitlist_position",
            "programme_id",
            "waitlist_position",
            unique=True,
            postgresql_where=text("status = 'waitlisted'"),
            sqlite_where=text("status = 'waitlisted'"),
        ),
    )
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: The programme.
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    #: The participant.
    user_id: Mapped[UserKey]
    #: pending, confirmed, waitlisted, cancelled or rejected.
    status: Mapped[str] = mapped_column(String(20))
    #: Queue key while waitlisted (lower is served first); NULL in every other state.
    waitlist_position: Mapped[int | None] = mapped_column()
    #: Raised by every state transition; the transition's email is keyed by it.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    #: When the person registered.
    created_at: Mapped[NowByDefault]
    #: When the seat was confirmed; reminders whose instant came before it are not sent.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the registration was cancelled.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the status last changed.
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the person accepted the privacy notice.
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)

    programme: Mapped[Programme] = relationship()
    user: Mapped[User] = relationship()
    answers: Mapped[list[RegistrationAnswer]] = relationship(
        back_populates="registration", cascade="all, delete-orphan"
    )


class RegistrationQuestion(Model):
    """A question a programme asks on its registration form."""

    __tablename__ = "registration_question"
    __table_args__ = (
        UniqueConstraint("programme_id", "position"),
        one_of("kind", QUESTION_KINDS, "kind"),
        CheckConstraint("position >= 1", name="position_positive"),
    )
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: The programme that asks it.
    programme_id: Mapped[ProgrammeKey]
    #: 1-based order on the form.
    position: Mapped[int] = mapped_column()
    #: The question as shown to participants.
    label: Mapped[str] = mapped_column(String(300))
    #: short_text, long_text, single_choice, multiple_choice, country or yes_no.
    kind: Mapped[str] = mapped_column(String(20))
    #: Whether an answer is needed to register.
    required: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: The choices of single and multiple choice questions, one per line.
    choices_text: Mapped[str] = mapped_column(Text, default="", server_default="")

    @property
    def choices(self) -> list[str]:
        return [line.strip() for line in self.choices_text.splitlines() if line.strip()]


class RegistrationAnswer(Model):
    """A registrant's answer to one question."""

    __tablename__ = "registration_answer"
    __table_args__ = (UniqueConstraint("registration_id", "question_id"),)
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: The registration it belongs to.
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    #: The question answered.
    question_id: Mapped[int] = mapped_column(
        ForeignKey("registration_question.id", ondelete="CASCADE"), index=True
    )
    #: The answer; multiple choices are stored one per line.
    value: Mapped[str] = mapped_column(Text)

    registration: Mapped[Registration] = relationship(back_populates="answers")
    question: Mapped[RegistrationQuestion] = relationship()
