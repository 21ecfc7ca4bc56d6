"""Announcements: an organiser's message to an audience, written to the outbox by the worker.

Sending only marks the announcement queued (one quick request); the worker then writes the
emails in batches, each batch one transaction, keyed (announcement, person) so that a retried
or repeated run never writes an email twice. The organiser's page shows the progress."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..attendance.models import Attendance
from ..catalogue.audit import record
from ..catalogue.models import Programme, Session
from ..database import begin_write_transaction
from ..errors import DomainError
from ..extensions import db
from ..registration.models import Registration
from ..templating import render_markdown
from ..types import utcnow
from .compose import Unwritable, Written, programme_url, render_email, reply_to_addresses
from .handover import hand_over_announcement
from .models import AUDIENCES, Announcement, OutboxMessage
from .preferences import unsubscribe_url
from .queueing import add_rows

AUDIENCE_LABELS = {
    "confirmed": "Confirmed participants",
    "waitlisted": "People on the waiting list",
    "attended": "Those who attended a session",
    "missed": "Confirmed participants who missed a session",
    "everyone": "Everyone registered (confirmed, waiting list and pending)",
}
#: Emails written per transaction.
BATCH = 500


class AnnouncementError(DomainError):
    """An announcement that cannot be made or sent; the message says why."""


@dataclass(frozen=True)
class AnnouncementInput:
    programme_id: int
    author_id: int
    subject: str
    body: str
    audience: str
    session_id: int | None


def create_draft(data: AnnouncementInput) -> Announcement:
    if data.audience not in AUDIENCES:
        raise AnnouncementError("Choose who the message is for.")
    if data.audience in ("attended", "missed"):
        session = db.session.get(Session, data.session_id) if data.session_id else None
        if session is None or session.programme_id != data.programme_id:
            raise AnnouncementError("Choose the session whose attendance decides the audience.")
    announcement = Announcement(
        programme_id=data.programme_id,
        author_id=data.author_id,
        subject=data.subject.strip(),
        body=data.body,
        audience=data.audience,
        session_id=data.session_id if data.audience in ("attended", "missed") else None,
        status="draft",
    )
    db.session.add(announcement)
    db.session.commit()
    return announcement


def audience_query(announcement: Announcement):
    """Registrations (with users) the announcement goes to."""
    query = (
        select(Registration)
        .where(Registration.programme_id == announcement.programme_id)
        .options(joinedload(Registration.user))
        .order_by(Registration.id)
    )
    present = exists().where(
        Attendance.registration_id == Registration.id,
        Attendance.session_id == announcement.session_id,
        Attendance.status == "present",
    )
    if announcement.audience == "confirmed":
        return query.where(Registration.status == "confirmed")
    if announcement.audience == "waitlisted":
        return query.where(Registration.status == "waitlisted")
    if announcement.audience == "attended":
        return query.where(present)
    if announcement.audience == "missed":
        return query.where(Registration.status == "confirmed", ~present)
    return query.where(Registration.status.in_(("confirmed", "waitlisted", "pending")))


def audience_size(announcement: Announcement) -> int:
    subquery = audience_query(announcement).with_only_columns(Registration.id).subquery()
    return db.session.scalar(select(func.count()).select_from(subquery)) or 0


def preview(announcement: Announcement, programme: Programme, viewer: User) -> dict:
    """The email as a recipient would read it (shown with the organiser's own name and
    language; each recipient's copy has its frame in their own language)."""
    email = _email(announcement, programme, viewer, render_markdown(announcement.body))
    return {
        "text": email.text_body,
        "html": email.html_body,
        "recipients": audience_size(announcement),
    }


def queue_for_sending(
    announcement_id: int, programme_id: int, user_id: int | None = None
) -> Announcement:
    """The organiser's "Send": the worker writes the emails, asked after this commit."""
    begin_write_transaction()
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None or announcement.programme_id != programme_id:
        raise AnnouncementError("We could not find that announcement.")
    if announcement.status != "draft":
        raise AnnouncementError("This announcement has already been sent.")
    announcement.status = "queued"
    announcement.queued_at = utcnow()
    record(
        programme_id,
        user_id,
        "sent announcement",
        f"“{announcement.subject}” to {audience_size(announcement)} people"
        f" ({announcement.audience})",
    )
    db.session.commit()
    hand_over_announcement(announcement_id)
    return announcement


def queued_ids() -> list[int]:
    return list(db.session.scalars(select(Announcement.id).where(Announcement.status == "queued")))


def write_emails(announcement_id: int) -> int:
    """Worker: write the announcement's emails in batches; safe to run again. Returns count."""
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None or announcement.status != "queued":
        return 0
    programme_id = announcement.programme_id
    reply_to = reply_to_addresses({programme_id}).get(programme_id)
    registrations = db.session.scalars(audience_query(announcement)).all()
    written = 0
    for start in range(0, len(registrations), BATCH):
        rows = [
            _row(announcement, registration, reply_to)
            for registration in registrations[start : start + BATCH]
        ]
        begin_write_transaction()
        written += len(add_rows(rows))
        db.session.commit()
    begin_write_transaction()
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None:  # deleted meanwhile: nothing to count
        db.session.rollback()
        return written
    announcement.recipients = (
        db.session.scalar(select(func.count(OutboxMessage.id)).where(_rows_of(announcement_id)))
        or 0
    )
    announcement.status = "sent"
    db.session.commit()
    return written


def _rows_of(announcement_id: int):
    return OutboxMessage.dedupe_key.like(f"announcement:{announcement_id}:%")


def delivery_progress(announcement_id: int) -> dict[str, int]:
    """How far the announcement's emails got: the number written so far and each delivery
    state's count (queued, sending, sent, failed, skipped), in one query."""
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count())
            .where(_rows_of(announcement_id))
            .group_by(OutboxMessage.status)
        ).all()
    )
    waiting = counts.get("queued", 0) + counts.get("sending", 0)
    return {
        "written": sum(counts.values()),
        "waiting": waiting,
        "sent": counts.get("sent", 0),
        "failed": counts.get("failed", 0),
        "skipped": counts.get("skipped", 0),
    }


def _email(announcement: Announcement, programme: Programme, user: User, body_html) -> Written:
    """The organiser's body as written, in a frame in the recipient's language."""
    return render_email(
        user,
        announcement.subject,
        "announcement",
        {
            "programme": programme,
            "body_html": body_html,
            "body_text": announcement.body,
            "programme_url": programme_url(programme),
        },
        "announcements",
    )


def _row(announcement: Announcement, registration: Registration, reply_to: str | None) -> dict:
    user = registration.user
    return {
        "kind": "announcement",
        "dedupe_key": f"announcement:{announcement.id}:{user.id}",
        "to_address": user.email,
        "subject": announcement.subject,
        "registration_id": registration.id,
        "user_id": user.id,
        "category": "announcements",
        "unsubscribe_url": unsubscribe_url(user.id, "announcements"),
        "reply_to": reply_to,
        "render_args": {"email": "announcement", "announcement_id": announcement.id},
    }


@dataclass
class Loaded:
    #: Each announcement with its programme and its body as HTML (rendered once a batch).
    announcements: dict[int, tuple[Announcement, Programme | None, Markup]]
    users: dict[int, User]


def load(rows: list) -> Loaded:
    """The announcements and recipients of a batch of rows."""
    ids = {row.render_args["announcement_id"] for row in rows}
    found = db.session.scalars(select(Announcement).where(Announcement.id.in_(ids)))
    announcements = {}
    for announcement in found:
        programme = db.session.get(Programme, announcement.programme_id)
        announcements[announcement.id] = (
            announcement,
            programme,
            render_markdown(announcement.body),
        )
    user_ids = {row.user_id for row in rows if row.user_id is not None}
    users = db.session.scalars(select(User).where(User.id.in_(user_ids)))
    return Loaded(announcements, {user.id: user for user in users})


def write(row, loaded: Loaded) -> Written:
    found = loaded.announcements.get(row.render_args["announcement_id"])
    user = loaded.users.get(row.user_id)
    if found is None or found[1] is None or user is None:
        raise Unwritable("the announcement or its recipient is gone; it cannot be written")
    announcement, programme, body_html = found
    assert programme is not None
    return _email(announcement, programme, user, body_html)
