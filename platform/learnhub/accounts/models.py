"""People who sign in: participants, organisers and administrators."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..types import NowByDefault, SurrogateKey, UserKey, UTCDateTime, one_of

ROLES = ("participant", "organiser", "admin")
TEAM_RIGHTS = ("manage_programme", "manage_registrations", "manage_attendance")


class User(UserMixin, Model):
    __tablename__ = "user_account"
    __table_args__ = (one_of("role", ROLES, "role"),)
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: Sign-in address, stored lower-case; unique.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    #: Name as it appears on certificates and attendance sheets.
    full_name: Mapped[str] = mapped_column(String(200))
    #: Organisation the person works for.
    organisation_name: Mapped[str | None] = mapped_column(String(300))
    #: City.
    city: Mapped[str | None] = mapped_column(String(120))
    #: Country.
    country: Mapped[str | None] = mapped_column(String(120))
    #: Job title or position.
    job_title: Mapped[str | None] = mapped_column(String(200))
    #: Language the person prefers to read LearnHub and its emails in.
    preferred_language: Mapped[str] = mapped_column(
        String(40), default="English", server_default="English"
    )
    #: IANA time zone every time is shown in.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    #: participant, organiser or admin.
    role: Mapped[str] = mapped_column(String(20), default="participant")
    #: Password hash (organisers and admins; participants use sign-in links).
    password_hash: Mapped[str | None] = mapped_column(String(300))
    #: When the account was created.
    created_at: Mapped[NowByDefault]
    #: Last successful sign-in.
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the person deleted their account; the row stays, anonymised, for the figures.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Raised by signing out and by a password change: a session signed in under an earlier
    #: generation no longer opens (Flask-Login's "alternative token": it is part of get_id).
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def is_organiser(self) -> bool:
        return self.role in ("organiser", "admin")

    def get_id(self) -> str:
        return f"{self.id}.{self.session_generation or 0}"


class LoginToken(Model):
    """A single-use sign-in link; only the token's hash is stored."""

    __tablename__ = "login_token"
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: Whose link it is.
    user_id: Mapped[UserKey]
    #: SHA-256 of the token in the link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Local path to open after signing in.
    next_path: Mapped[str | None] = mapped_column(String(500))
    #: When it was issued.
    created_at: Mapped[NowByDefault]
    #: After this instant the link no longer works.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When it was used; a used link never works again.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class ProgrammeTeamMember(Model):
    """An organiser's rights on one programme."""

    __tablename__ = "programme_team_member"
    __table_args__ = (UniqueConstraint("programme_id", "user_id"),)
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: The programme.
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    #: The organiser.
    user_id: Mapped[UserKey]
    #: May edit the programme.
    manage_programme: Mapped[bool] = mapped_column(default=True)
    #: May see and change registrations.
    manage_registrations: Mapped[bool] = mapped_column(default=True)
    #: May record attendance.
    manage_attendance: Mapped[bool] = mapped_column(default=True)

    user: Mapped[User] = relationship()
