"""The learning path: what a participant opened and completed, module discussions, and
certificates of completion."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.schema import CheckConstraint, ForeignKey, Index, UniqueConstraint
from sqlalchemy.types import String, Text

from ..accounts.models import User
from ..catalogue.models import Module, Programme
from ..extensions import Model
from ..registration.models import Registration
from ..types import NowByDefault, ProgrammeKey, RegistrationKey, SurrogateKey, UTCDateTime, one_of

COMPLETION_SOURCES = ("manual", "items")
CERTIFICATE_SOURCES = ("rule", "organiser")


class MaterialView(Model):
    """A registrant opened a material (once is enough: the first time is kept)."""

    __tablename__ = "material_view"
    __table_args__ = (UniqueConstraint("registration_id", "material_id"),)
    id: Mapped[SurrogateKey]
    #: The registration of the participant who opened it.
    registration_id: Mapped[RegistrationKey]
    #: The material opened.
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id", ondelete="CASCADE"))
    #: When it was first opened.
    opened_at: Mapped[NowByDefault]


class ModuleCompletion(Model):
    """A registrant completed a module, by saying so or by opening its required items."""

    __tablename__ = "module_completion"
    __table_args__ = (
        UniqueConstraint("registration_id", "module_id"),
        one_of("source", COMPLETION_SOURCES, "source"),
    )
    id: Mapped[SurrogateKey]
    #: The participant's registration.
    registration_id: Mapped[RegistrationKey]
    #: The module completed.
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"))
    #: "manual" (marked complete) or "items" (its required items were opened).
    source: Mapped[str] = mapped_column(String(20))
    #: When it was completed.
    completed_at: Mapped[NowByDefault]


class DiscussionPost(Model):
    """A post (or, with a parent, a reply) in a module's discussion: plain text."""

    __tablename__ = "discussion_post"
    __table_args__ = (
        CheckConstraint("length(body) BETWEEN 1 AND 5000", name="body_length"),
        Index("ix_discussion_post_module_created", "module_id", "created_at"),
    )
    #: Also the digest's high-water mark.
    id: Mapped[SurrogateKey]
    #: The module whose discussion it belongs to.
    module_id: Mapped[int] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"))
    #: The post this replies to (replies are one level deep); NULL for a top-level post.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("discussion_post.id", ondelete="CASCADE")
    )
    #: Who wrote it.
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    #: Plain text as written; shown escaped, with links made clickable.
    body: Mapped[str] = mapped_column(Text)
    #: When it was written.
    created_at: Mapped[NowByDefault]
    #: Pinned posts come first (organisers pin).
    pinned: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: When an organiser hid it; hidden posts are shown to organisers only.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship()
    module: Mapped[Module] = relationship()


class DiscussionLock(Model):
    """A module's discussion is locked (no new posts) while this row exists."""

    __tablename__ = "discussion_lock"
    #: The module whose discussion is locked.
    module_id: Mapped[int] = mapped_column(
        ForeignKey("module.id", ondelete="CASCADE"), primary_key=True
    )
    #: The organiser who locked it.
    locked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    #: When it was locked.
    locked_at: Mapped[NowByDefault]


class DigestSubscription(Model):
    """A participant asked for email digests of new posts in a programme's discussions."""

    __tablename__ = "digest_subscription"
    __table_args__ = (UniqueConstraint("user_id", "programme_id"),)
    id: Mapped[SurrogateKey]
    #: The subscriber.
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    #: The programme whose discussions they follow.
    programme_id: Mapped[ProgrammeKey]
    #: The highest post id already included in a digest (or existing when they subscribed).
    last_post_id: Mapped[int] = mapped_column(default=0)

    user: Mapped[User] = relationship()


class Certificate(Model):
    """A certificate of completion; what it says is kept as issued, so the PDF and the
    verification page never change when the programme is edited later."""

    __tablename__ = "certificate"
    __table_args__ = (
        # One valid certificate per registration; revoked ones stay, so their codes still
        # answer "revoked".
        Index(
            "uq_certificate_active_registration",
            "registration_id",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
            sqlite_where=text("revoked_at IS NULL"),
        ),
        one_of("source", CERTIFICATE_SOURCES, "source"),
        CheckConstraint("minutes >= 0", name="minutes_not_negative"),
        CheckConstraint(
            "(revoked_at IS NULL AND revoke_reason IS NULL)"
            " OR (revoked_at IS NOT NULL AND revoke_reason IS NOT NULL)",
            name="revoked_with_reason",
        ),
    )
    id: Mapped[SurrogateKey]
    #: Verification code printed on it: /certificates/<code>.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    #: The registration it certifies (one valid certificate per participant and programme).
    registration_id: Mapped[RegistrationKey]
    #: The programme, for listing.
    programme_id: Mapped[ProgrammeKey]
    #: The participant's name as printed.
    holder_name: Mapped[str] = mapped_column(String(200))
    #: The programme's title as printed.
    programme_title: Mapped[str] = mapped_column(String(300))
    #: The edition as printed, if any.
    edition: Mapped[str | None] = mapped_column(String(80))
    #: Hosts as printed, comma-separated.
    hosts: Mapped[str] = mapped_column(String(1000), default="")
    #: Live hours the holder attended, in minutes (minutes recorded where known, else the
    #: lengths of the sessions attended).
    minutes: Mapped[int] = mapped_column(default=0)
    #: "rule" (the completion rule was met) or "organiser" (issued by hand).
    source: Mapped[str] = mapped_column(String(20))
    #: The organiser's reason for issuing by hand.
    issue_reason: Mapped[str | None] = mapped_column(Text)
    #: When it was issued.
    issued_at: Mapped[NowByDefault]
    #: When it was revoked; a revoked certificate is shown as revoked, never re-issued by rule.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it was revoked.
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    registration: Mapped[Registration] = relationship()
    programme: Mapped[Programme] = relationship()

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @property
    def timezone(self) -> str:
        """The programme's zone: every date on or about the certificate is written in it
        (UTC for one not yet tied to a programme)."""
        return self.programme.timezone if self.programme is not None else "UTC"
