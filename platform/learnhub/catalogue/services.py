"""Reading the catalogue: what the public pages show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from ..attendance.models import Attendance
from ..database import begin_write_transaction, fit_column
from ..errors import DomainError
from ..extensions import db
from ..notifications.services import (
    queue_recording_follow_up,
    queue_session_change,
    skip_pending_reminders,
)
from ..registration.models import Registration
from ..types import utcnow
from .audit import moment_in, record
from .models import (
    Material,
    Module,
    Person,
    Programme,
    ProgrammeOrganisation,
    Session,
    SessionSpeaker,
    Topic,
)
from .versions import content_changed


@dataclass
class CatalogueEntry:
    programme: Programme
    #: The first session not cancelled.
    first_session: Session | None
    #: The first session not cancelled and not over: what makes the programme "upcoming".
    next_session: Session | None
    seats_left: int | None

    @property
    def is_past(self) -> bool:
        """Nothing left to attend: every session is over or cancelled (a programme without
        sessions yet is still to come)."""
        return self.next_session is None and bool(self.programme.sessions)


def list_topics() -> list[Topic]:
    return list(db.session.scalars(select(Topic).order_by(Topic.name)))


def catalogue(topic_slug: str | None = None, kind: str | None = None) -> list[CatalogueEntry]:
    """Public programmes with their first session and seats left, in a fixed number of queries."""
    query = (
        select(Programme)
        .where(Programme.status.in_(("published", "archived")))
        .options(
            joinedload(Programme.topic),
            selectinload(Programme.sessions),
            selectinload(Programme.organisation_links).joinedload(
                ProgrammeOrganisation.organisation
            ),
        )
    )
    if topic_slug:
        query = query.join(Programme.topic).where(Topic.slug == topic_slug)
    if kind:
        query = query.where(Programme.kind == kind)
    programmes = db.session.scalars(query).unique().all()
    entries = []
    for programme in programmes:
        live = programme.live_sessions
        entries.append(
            CatalogueEntry(
                programme=programme,
                first_session=live[0] if live else None,
                next_session=next_scheduled(live),
                seats_left=seats_left(programme, programme.confirmed_count),
            )
        )
    far_future = datetime.max.replace(tzinfo=utcnow().tzinfo)

    def when(entry: CatalogueEntry):
        shown = entry.next_session or entry.first_session
        return (shown.starts_at if shown else far_future, entry.programme.id)

    entries.sort(key=when)
    return entries


def seats_left(programme: Programme, confirmed: int) -> int | None:
    return None if programme.capacity is None else max(programme.capacity - confirmed, 0)


#: Read as a column of its own, so that it is fresh even when the Programme object is not.
_CONFIRMED = Programme.__table__.c.confirmed_count
_PUBLIC = (Programme.slug == bindparam("slug"), Programme.status.in_(("published", "archived")))
#: A published or archived programme's own row (its content version included) and its
#: confirmed registrations. Built once: the programme page runs it on every request.
_PUBLIC_ROW = select(Programme, _CONFIRMED).where(*_PUBLIC)


def public_programme_row(slug: str) -> tuple[Programme, int] | None:
    """The programme's row alone and its confirmed count, in one statement; None if not public."""
    row = db.session.execute(_PUBLIC_ROW, {"slug": slug}).first()
    return None if row is None else (row[0], row[1])


def public_programme(slug: str) -> Programme | None:
    """A published or archived programme with everything its page shows, loaded up front."""
    return programme_page(slug)


def programme_page(slug: str, drafts: bool = False) -> Programme | None:
    """The programme with everything its page shows; drafts only for an organiser's preview."""
    statuses = ("draft", "published", "archived") if drafts else ("published", "archived")
    return db.session.scalar(
        select(Programme)
        .where(Programme.slug == slug, Programme.status.in_(statuses))
        .options(
            joinedload(Programme.topic),
            selectinload(Programme.sessions)
            .selectinload(Session.speaker_links)
            .joinedload(SessionSpeaker.person)
            .joinedload(Person.organisation),
            selectinload(Programme.modules),
            selectinload(Programme.materials),
            selectinload(Programme.organisation_links).joinedload(
                ProgrammeOrganisation.organisation
            ),
        )
    )


def open_programme(slug: str, *, with_sessions: bool = True) -> Programme | None:
    """A published or archived programme with only its sessions: what registering needs
    (a registration form being sent needs no sessions: they load if the form comes back)."""
    query = select(Programme).where(
        Programme.slug == slug, Programme.status.in_(("published", "archived"))
    )
    if with_sessions:
        query = query.options(selectinload(Programme.sessions))
    return db.session.scalar(query)


def programme_speakers(programme: Programme) -> list[SessionSpeaker]:
    """Everyone who speaks in the programme, once each, in session order."""
    seen: set[int] = set()
    speakers = []
    for session in programme.sessions:
        for link in session.speaker_links:
            if link.person_id not in seen:
                seen.add(link.person_id)
                speakers.append(link)
    return speakers


def module_at(programme: Programme, position: int) -> Module | None:
    return db.session.scalar(
        select(Module)
        .where(Module.programme_id == programme.id, Module.position == position)
        .options(selectinload(Module.materials))
    )


def programme_by_slug(slug: str) -> Programme | None:
    return db.session.scalar(select(Programme).where(Programme.slug == slug))


def person_photo(person_id: int) -> str | None:
    return db.session.scalar(select(Person.photo).where(Person.id == person_id))


def material_for_download(material_id: int) -> Material | None:
    return db.session.scalar(
        select(Material).where(Material.id == material_id).options(joinedload(Material.programme))
    )


#: The join link appears this long before a session starts (and until it ends).
JOIN_LINK_LEAD = timedelta(minutes=30)


def joinable_sessions(sessions, is_confirmed) -> set[int]:
    """Sessions whose join link the viewer sees now: from JOIN_LINK_LEAD before the start until
    the end, and only when `is_confirmed()` (asked only then) says they hold a confirmed seat."""
    now = utcnow()
    open_now = {
        s.id
        for s in sessions
        if s.join_url
        and s.status == "scheduled"
        and s.starts_at - JOIN_LINK_LEAD <= now < s.ends_at
    }
    return open_now if open_now and is_confirmed() else set()


def upcoming_session(programme: Programme) -> Session | None:
    return next_scheduled(programme.sessions)


def next_scheduled(sessions):
    """The first session (of sessions in time order) not yet over and not cancelled."""
    now = utcnow()
    return next((s for s in sessions if s.ends_at > now and s.status == "scheduled"), None)


class ScheduleError(DomainError):
    """A session change that cannot be made; the message is shown to the organiser."""


def _session_for_change(programme_id: int, session_id: int) -> Session:
    begin_write_transaction()
    session = db.session.scalar(
        select(Session).where(Session.id == session_id).options(joinedload(Session.programme))
    )
    if session is None or session.programme_id != programme_id:
        raise ScheduleError("We could not find that session.")
    if session.status == "cancelled":
        raise ScheduleError("This session is cancelled.")
    content_changed(programme_id)  # a move, a cancellation, a recording: the page shows each
    return session


def _confirmed(programme_id: int) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.programme_id == programme_id, Registration.status == "confirmed")
            .options(joinedload(Registration.user))
        )
    )


class MoveNeedsConfirmation(Exception):
    """The move is valid and would email registrants: ask the organiser first."""


def reschedule_session(
    programme_id: int,
    session_id: int,
    starts_at: datetime,
    ends_at: datetime,
    *,
    confirm_past: bool = False,
    user_id: int | None = None,
    note: str = "",
    confirmed: bool = True,
) -> Session:
    """Move a session: registrants get a calendar update (same UID, higher SEQUENCE) that
    gives the old and the new time, with the organiser's `note`, and reminders written for
    the old time are skipped; new ones follow the new time. A time in the past needs
    `confirm_past`. Unless `confirmed`, a move that would go ahead raises MoveNeedsConfirmation
    instead (the organiser's page then asks first)."""
    if ends_at <= starts_at:
        raise ScheduleError("The session must end after it starts.")
    session = _session_for_change(programme_id, session_id)
    if (session.starts_at, session.ends_at) == (starts_at, ends_at):
        db.session.rollback()
        return session
    if starts_at <= utcnow() and not confirm_past:
        raise ScheduleError(
            "The new time is not in the future. If the session really takes place then, tick "
            "“Yes, this session is in the past” and move it again."
        )
    if not confirmed:
        db.session.rollback()
        raise MoveNeedsConfirmation()
    previous = (session.starts_at, session.ends_at)
    session.starts_at = starts_at
    session.ends_at = ends_at
    shown = moment_in(session.timezone)
    record(
        programme_id,
        user_id,
        "moved session",
        f"{session.title}: {shown(previous[0])} → {shown(starts_at)}"
        f" (ends {shown(previous[1])} → {shown(ends_at)}); registrants emailed",
    )
    _publish_change(
        session,
        "the session was moved; reminders follow the new time",
        previous=previous,
        note=note,
    )
    return session


def cancel_session(
    programme_id: int, session_id: int, *, note: str = "", user_id: int | None = None
) -> Session:
    """Cancel a session: registrants get METHOD:CANCEL with the organiser's note, if any; its
    pending reminders are skipped."""
    session = _session_for_change(programme_id, session_id)
    session.status = "cancelled"
    record(
        programme_id,
        user_id,
        "cancelled session",
        f"{session.title} ({moment_in(session.timezone)(session.starts_at)}): scheduled → "
        f"cancelled; registrants emailed"
        + (f" with the note “{note.strip()}”" if note.strip() else ""),
    )
    _publish_change(session, "the session was cancelled", note=note)
    return session


def _publish_change(
    session: Session,
    reason: str,
    *,
    previous: tuple[datetime, datetime] | None = None,
    note: str = "",
) -> None:
    session.version += 1  # an edit form opened before this change must not overwrite it
    announce_schedule_change(session, reason, previous=previous, note=note)
    db.session.commit()


def announce_schedule_change(
    session: Session,
    reason: str,
    *,
    previous: tuple[datetime, datetime] | None = None,
    note: str = "",
) -> None:
    """A new schedule version: old reminders are skipped, registrants get the update, with
    the `previous` time of a move and the organiser's `note` (in the caller's transaction;
    it commits)."""
    session.ics_sequence += 1
    db.session.flush()
    skip_pending_reminders(session, reason)
    queue_session_change(
        session, _confirmed(session.programme_id), previous=previous, note=note.strip()
    )


def add_recording(
    programme_id: int,
    session_id: int,
    title: str,
    url: str,
    user_id: int | None = None,
    *,
    note: str = "",
) -> Material:
    """Attach a recording link to a past session and send the follow-up to its registrants."""
    session = _session_for_change(programme_id, session_id)
    if session.starts_at > utcnow():
        raise ScheduleError("A recording can be added once the session has started.")
    recording = Material(
        programme_id=programme_id,
        session_id=session.id,
        module_id=session.module_id,
        kind="recording",
        # A session's title may take the whole column: the default is cut to fit it.
        title=title.strip() or fit_column(f"Recording: {session.title}", Material.title),
        url=url,
        visibility="registered",
        position=100 + session.id,
    )
    db.session.add(recording)
    db.session.flush()
    attended = set(
        db.session.scalars(
            select(Attendance.registration_id).where(
                Attendance.session_id == session.id, Attendance.status == "present"
            )
        )
    )
    db.session.refresh(session.programme, ["materials"])
    registrations = _confirmed(programme_id)
    queue_recording_follow_up(session, recording, registrations, attended, note=note.strip())
    record(
        programme_id,
        user_id,
        "added recording",
        f"{session.title}: “{recording.title}”, follow-up emailed to {len(registrations)} people",
    )
    db.session.commit()
    return recording
