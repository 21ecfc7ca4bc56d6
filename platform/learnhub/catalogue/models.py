"""Catalogue tables: what a programme is, who runs it, when its sessions are, what it teaches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.schema import CheckConstraint, ForeignKey, Index, UniqueConstraint
from sqlalchemy.types import String, Text

from ..accounts.models import User
from ..extensions import Model
from ..types import NowByDefault, ProgrammeKey, SurrogateKey, UTCDateTime, one_of

PROGRAMME_KINDS = ("programme", "webinar")
PROGRAMME_FORMATS = ("online", "in_person", "hybrid")
PROGRAMME_STATUSES = ("draft", "published", "archived")
ORGANISATION_ROLES = ("host", "supporter", "partner", "alliance")
SPEAKER_ROLES = ("speaker", "moderator")
SESSION_STATUSES = ("scheduled", "cancelled")
MATERIAL_KINDS = ("guidebook", "programme", "recording", "policy_case", "reading", "slides")
MATERIAL_VISIBILITIES = ("public", "registered")
#: How a participant completes a module: by opening its required items, or by saying so.
MODULE_COMPLETION_MODES = ("items", "manual")


class Topic(Model):
    __tablename__ = "topic"
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: URL-safe name used by the catalogue filter.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    #: Display name, e.g. "Sustainability and climate change".
    name: Mapped[str] = mapped_column(String(200))


class Organisation(Model):
    __tablename__ = "organisation"
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: Full name, unique so that organisers reuse rather than duplicate.
    name: Mapped[str] = mapped_column(String(300), unique=True)
    #: Short form or acronym, e.g. "UCLG-ASPAC".
    short_name: Mapped[str | None] = mapped_column(String(80))
    #: Public website.
    website: Mapped[str | None] = mapped_column(String(500))


class Person(Model):
    """A speaker or moderator, reused across programmes."""

    __tablename__ = "person"
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: Honorific shown before the name ("Ms.", "Mr."), empty when the source gives none.
    honorific: Mapped[str | None] = mapped_column(String(20))
    #: Full name as the person writes it.
    full_name: Mapped[str] = mapped_column(String(200))
    #: Position or title, e.g. "Secretary General".
    position: Mapped[str | None] = mapped_column(String(300))
    #: Organisation the position belongs to.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    #: Free text when the organisation is not in the organisation table.
    organisation_text: Mapped[str | None] = mapped_column(String(300))
    #: Where the speaker's own reminders and run-sheet go; none are sent without it.
    email: Mapped[str | None] = mapped_column(String(320))
    #: The speaker's IANA time zone for their run-sheet (the session's own when empty).
    timezone: Mapped[str | None] = mapped_column(String(64))
    #: Language of their emails, as a profile stores it; empty: their account's, else English.
    preferred_language: Mapped[str | None] = mapped_column(String(40))
    #: Short biography.
    bio: Mapped[str | None] = mapped_column(Text)
    #: Stored file name of the optional photo (in the upload folder).
    photo: Mapped[str | None] = mapped_column(String(300))

    organisation: Mapped[Organisation | None] = relationship()

    @property
    def display_name(self) -> str:
        return f"{self.honorific} {self.full_name}" if self.honorific else self.full_name

    @property
    def affiliation(self) -> str | None:
        return self.organisation.name if self.organisation else self.organisation_text


class Programme(Model):
    """A multi-session training programme or a single webinar."""

    __tablename__ = "programme"
    __table_args__ = (
        one_of("kind", PROGRAMME_KINDS, "kind"),
        one_of("format", PROGRAMME_FORMATS, "format"),
        one_of("status", PROGRAMME_STATUSES, "status"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("completion_percent BETWEEN 1 AND 100", name="completion_percent_range"),
        CheckConstraint(
            "registration_opens_at IS NULL OR registration_closes_at IS NULL"
            " OR registration_closes_at > registration_opens_at",
            name="registration_window_ordered",
        ),
        CheckConstraint(
            "confirmed_count >= 0 AND waitlisted_count >= 0 AND waitlist_tail >= 0",
            name="seat_counters_not_negative",
        ),
    )
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: URL name, unique: /programmes/<slug>.
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    #: "programme" (several sessions and modules) or "webinar" (one event).
    kind: Mapped[str] = mapped_column(String(20))
    #: Title as published.
    title: Mapped[str] = mapped_column(String(300))
    #: Edition label, e.g. "2nd edition"; empty for one-off events.
    edition: Mapped[str | None] = mapped_column(String(80))
    #: One or two sentences for the catalogue card and the top of the page.
    summary: Mapped[str] = mapped_column(Text)
    #: Long description in Markdown (sanitised when rendered).
    description: Mapped[str] = mapped_column(Text, default="")
    #: Subject area.
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"))
    #: "online", "in_person" or "hybrid".
    format: Mapped[str] = mapped_column(String(20), default="online")
    #: Venue for in-person and hybrid formats.
    venue: Mapped[str | None] = mapped_column(String(300))
    #: Language the programme is taught in.
    language: Mapped[str] = mapped_column(String(40), default="English")
    #: The organisers' IANA time zone; sessions are entered in it.
    timezone: Mapped[str] = mapped_column(String(64))
    #: Lifecycle: drafts are visible only to their organisers.
    status: Mapped[str] = mapped_column(String(20), default="draft")
    #: Confirmed seats available; NULL means unlimited.
    capacity: Mapped[int | None] = mapped_column()
    #: Completion rule: the share of its sessions (in %) a participant must attend.
    completion_percent: Mapped[int] = mapped_column(default=75, server_default="75")
    #: Registration opens at this instant; NULL means it is open from publication.
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Registration closes at this instant; NULL means until the last session ends.
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: True when an organiser approves each registration (it starts as "pending").
    approval_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: True when registrations beyond capacity join a first-in-first-out waiting list.
    waitlist_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: When the programme was created.
    created_at: Mapped[NowByDefault]
    #: Raised on every edit of its details; an edit based on an older version is refused.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    #: Raised by every use case that changes what its public page shows (catalogue/versions.py);
    #: the page cache's keys carry it (catalogue/page_cache.py).
    content_version: Mapped[int] = mapped_column(default=1, server_default="1")
    #: Confirmed registrations: kept by database triggers on `registration` (migration
    #: b7e2c4d5f607), never written by the app; exact once the row is locked for a seat.
    confirmed_count: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Waitlisted registrations, kept by the same triggers.
    waitlisted_count: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The highest waiting-list position ever given here (same triggers); the next is one more.
    waitlist_tail: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Stored file name of the optional cover image (in the upload folder).
    cover_image: Mapped[str | None] = mapped_column(String(300))
    #: The programme this one is a new edition of, if any.
    previous_edition_id: Mapped[int | None] = mapped_column(
        ForeignKey("programme.id", ondelete="SET NULL")
    )

    topic: Mapped[Topic | None] = relationship()
    sessions: Mapped[list[Session]] = relationship(
        back_populates="programme", order_by="Session.starts_at", cascade="all, delete-orphan"
    )
    modules: Mapped[list[Module]] = relationship(
        back_populates="programme", order_by="Module.position", cascade="all, delete-orphan"
    )
    materials: Mapped[list[Material]] = relationship(
        back_populates="programme", order_by="Material.position", cascade="all, delete-orphan"
    )
    organisation_links: Mapped[list[ProgrammeOrganisation]] = relationship(
        order_by="ProgrammeOrganisation.position", cascade="all, delete-orphan"
    )

    def organisations(self, role: str) -> list[Organisation]:
        return [link.organisation for link in self.organisation_links if link.role == role]

    @property
    def is_public(self) -> bool:
        return self.status in ("published", "archived")

    @property
    def live_sessions(self) -> list[Session]:
        """The sessions that take (or took) place: a cancelled one leaves every count."""
        return [s for s in self.sessions if s.status != "cancelled"]

    @property
    def live_minutes(self) -> int:
        return sum(s.duration_minutes for s in self.live_sessions)


class ProgrammeOrganisation(Model):
    """An organisation's part in a programme: host, supporter, partner or related alliance."""

    __tablename__ = "programme_organisation"
    __table_args__ = (
        UniqueConstraint("programme_id", "organisation_id", "role"),
        one_of("role", ORGANISATION_ROLES, "role"),
    )
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: The programme.
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    #: The organisation.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    #: "host", "supporter", "partner" or "alliance".
    role: Mapped[str] = mapped_column(String(20))
    #: Display order within the role.
    position: Mapped[int] = mapped_column(default=0)

    organisation: Mapped[Organisation] = relationship()


class Session(Model):
    """A live session of a programme (a webinar has exactly one)."""

    __tablename__ = "session"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        one_of("status", SESSION_STATUSES, "status"),
        Index("ix_session_starts_at", "starts_at"),
    )
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: The programme it belongs to.
    programme_id: Mapped[ProgrammeKey]
    #: Session title.
    title: Mapped[str] = mapped_column(String(300))
    #: What happens in the session (Markdown).
    description: Mapped[str] = mapped_column(Text, default="")
    #: Start instant (UTC).
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: End instant (UTC).
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The session's own IANA time zone (usually the programme's).
    timezone: Mapped[str] = mapped_column(String(64))
    #: Meeting link, shown to confirmed registrants only.
    join_url: Mapped[str | None] = mapped_column(String(1000))
    #: Module this session belongs to, if any.
    module_id: Mapped[int | None] = mapped_column(ForeignKey("module.id", ondelete="SET NULL"))
    #: iCalendar SEQUENCE, raised whenever the time changes or the session is cancelled.
    ics_sequence: Mapped[int] = mapped_column(default=0)
    #: "scheduled" or "cancelled" (a cancelled session keeps its row, its UID and its history).
    status: Mapped[str] = mapped_column(String(20), default="scheduled", server_default="scheduled")
    #: Whether registrants and speakers get reminders for this session.
    reminders_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: Raised on every edit; an edit based on an older version is refused.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    programme: Mapped[Programme] = relationship(back_populates="sessions")
    speaker_links: Mapped[list[SessionSpeaker]] = relationship(
        order_by="SessionSpeaker.position", cascade="all, delete-orphan"
    )
    module: Mapped[Module | None] = relationship()

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class SessionSpeaker(Model):
    """A person speaking at or moderating a session."""

    __tablename__ = "session_speaker"
    __table_args__ = (
        UniqueConstraint("session_id", "person_id"),
        one_of("role", SPEAKER_ROLES, "role"),
    )
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: The session.
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"))
    #: The person.
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    #: "speaker" or "moderator".
    role: Mapped[str] = mapped_column(String(20), default="speaker")
    #: What they present, e.g. a talk title or "pre-recorded video message".
    contribution: Mapped[str | None] = mapped_column(String(500))
    #: Display order.
    position: Mapped[int] = mapped_column(default=0)

    person: Mapped[Person] = relationship()


class Module(Model):
    """A unit of a programme's learning path, e.g. "Climate resilience"."""

    __tablename__ = "module"
    __table_args__ = (
        UniqueConstraint("programme_id", "position"),
        CheckConstraint("position >= 1", name="position_positive"),
        one_of("completion_mode", MODULE_COMPLETION_MODES, "completion_mode"),
    )
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: The programme.
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    #: 1-based order in the programme; also the module's URL.
    position: Mapped[int] = mapped_column()
    #: Module title.
    title: Mapped[str] = mapped_column(String(300))
    #: Theme, e.g. "Climate".
    theme: Mapped[str | None] = mapped_column(String(120))
    #: Short summary for lists.
    summary: Mapped[str] = mapped_column(Text, default="")
    #: Module body in Markdown (sanitised when rendered).
    body: Mapped[str] = mapped_column(Text, default="")
    #: Raised on every edit; an edit based on an older version is refused.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    #: "manual" (the participant marks it complete) or "items" (opening its required items).
    completion_mode: Mapped[str] = mapped_column(
        String(20), default="manual", server_default="manual"
    )
    #: Whether completing this module is part of the programme's certificate rule.
    required_for_certificate: Mapped[bool] = mapped_column(default=True, server_default=true())

    programme: Mapped[Programme] = relationship(back_populates="modules")
    materials: Mapped[list[Material]] = relationship(
        back_populates="module", order_by="Material.position"
    )


class Material(Model):
    """A guidebook, recording, policy case or reading: an uploaded file or a link."""

    __tablename__ = "material"
    __table_args__ = (
        one_of("kind", MATERIAL_KINDS, "kind"),
        one_of("visibility", MATERIAL_VISIBILITIES, "visibility"),
        CheckConstraint(
            "(url IS NOT NULL AND file_name IS NULL) OR (url IS NULL AND file_name IS NOT NULL)",
            name="file_or_link",
        ),
    )
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: The programme.
    programme_id: Mapped[ProgrammeKey]
    #: Module it belongs to, if any.
    module_id: Mapped[int | None] = mapped_column(ForeignKey("module.id", ondelete="SET NULL"))
    #: Session it belongs to (a recording), if any.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("session.id", ondelete="SET NULL"))
    #: guidebook, programme, recording, policy_case, reading or slides.
    kind: Mapped[str] = mapped_column(String(20))
    #: Title shown to people.
    title: Mapped[str] = mapped_column(String(300))
    #: Link, for link materials.
    url: Mapped[str | None] = mapped_column(String(1000))
    #: Stored file name under the upload folder, for file materials.
    file_name: Mapped[str | None] = mapped_column(String(300))
    #: Name offered on download.
    download_name: Mapped[str | None] = mapped_column(String(300))
    #: MIME type of the stored file.
    content_type: Mapped[str | None] = mapped_column(String(100))
    #: Size of the stored file in bytes.
    size_bytes: Mapped[int | None] = mapped_column()
    #: Language of the material.
    language: Mapped[str] = mapped_column(String(40), default="English")
    #: "public" or "registered" (confirmed registrants and organisers only).
    visibility: Mapped[str] = mapped_column(String(20), default="public")
    #: Display order.
    position: Mapped[int] = mapped_column(default=0)
    #: Whether opening it is needed to complete its module (modules in "items" mode).
    required: Mapped[bool] = mapped_column(default=False, server_default=false())

    programme: Mapped[Programme] = relationship(back_populates="materials")
    module: Mapped[Module | None] = relationship(back_populates="materials")
    session: Mapped[Session | None] = relationship()


class AuditEntry(Model):
    """One change to a programme: who did what, when (shown to its organisers)."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_programme_at", "programme_id", "created_at"),)
    #: Surrogate key.
    id: Mapped[SurrogateKey]
    #: The programme changed.
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    #: Who changed it; NULL once their account is gone.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    #: What was done, e.g. "published", "edited session".
    action: Mapped[str] = mapped_column(String(80))
    #: What it was done to and which fields changed.
    detail: Mapped[str] = mapped_column(Text, default="")
    #: When.
    created_at: Mapped[NowByDefault]

    user: Mapped[User | None] = relationship()
