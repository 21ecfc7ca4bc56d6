"""Sessions: dated in their zone's wall-clock time, with speakers and moderators; moving one
of a public programme tells its registrants."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...templating import sanitise_markdown
from ...timefmt import is_valid_timezone, local_to_utc, zone
from ...types import utcnow
from ..audit import record
from ..models import Person, Programme, Session, SessionSpeaker
from ..services import announce_schedule_change
from .shared import AuthoringError, changes, check_module, check_version, found, locked_programme


@dataclass(frozen=True)
class SessionInput:
    title: str
    day: date
    start: time
    end: time
    timezone: str
    description: str = ""
    #: The end's date for a session that runs past midnight; None means `day`.
    end_day: date | None = None
    join_url: str | None = None
    module_id: int | None = None
    speaker_ids: list[int] = field(default_factory=list)
    moderator_ids: list[int] = field(default_factory=list)
    #: What each chosen person presents (person id -> text); people left out keep theirs.
    contributions: dict[int, str] = field(default_factory=dict)
    #: The organiser confirmed that the session is dated in the past (a record of one held).
    confirm_past: bool = False
    #: The organiser confirmed that a new time is emailed to registrants, with this note.
    confirm_move: bool = False
    move_note: str = ""


def check_not_past(starts_at: datetime, confirmed: bool) -> None:
    """A session dated in the past is kept only when the organiser says so: a mistyped year
    or month would otherwise file a programme under the past without a word."""
    if starts_at <= utcnow() and not confirmed:
        raise AuthoringError(
            "This session starts in the past. Check the date; if it did take place then, tick "
            "“Yes, this session is in the past” and save again.",
            field="confirm_past",
        )


#: Longer events are entered as one session per day.
LONGEST_SESSION = timedelta(days=7)


def session_instants(
    day: date, start: time, end: time, tz: str, end_day: date | None = None
) -> tuple[datetime, datetime]:
    """The UTC instants of a wall-clock span in zone `tz` (ending on `end_day` when it runs past
    midnight); refuses spans that do not exist."""
    if not is_valid_timezone(tz):
        raise AuthoringError("Choose a time zone from the list.", field="timezone")
    # local_to_utc answers None only for None; these are datetimes.
    starts_at = cast(datetime, local_to_utc(datetime.combine(day, start), tz))
    ends_at = cast(datetime, local_to_utc(datetime.combine(end_day or day, end), tz))
    for wall, instant in ((start, starts_at), (end, ends_at)):
        if instant.astimezone(zone(tz)).time().replace(second=0) != wall.replace(second=0):
            raise AuthoringError(
                f"{wall.strftime('%H:%M')} does not exist on that day in {tz} (the clocks "
                "change). Choose another time.",
                field="start" if wall == start else "end",
            )
    if ends_at <= starts_at:
        raise AuthoringError(
            "The session must end after it starts. A session past midnight needs its end date.",
            field="end",
        )
    if ends_at - starts_at > LONGEST_SESSION:
        raise AuthoringError(
            "A session can last at most 7 days; enter a longer event as one session per day.",
            field="end_day",
        )
    return starts_at, ends_at


def _check_join_url(url: str | None) -> str | None:
    url = (url or "").strip()
    if url and not re.match(r"^https://[^\s/]+", url, re.IGNORECASE):
        raise AuthoringError(
            "The join link must be a web address starting with https://.", field="join_url"
        )
    return url or None


def _line_up(data: SessionInput) -> list[tuple[int, str]]:
    """(person id, role) in order: the speakers, then moderators who are not also speakers;
    refused when one of them is gone."""
    wanted = [(pid, "speaker") for pid in dict.fromkeys(data.speaker_ids)]
    wanted += [
        (pid, "moderator")
        for pid in dict.fromkeys(data.moderator_ids)
        if pid not in data.speaker_ids
    ]
    ids = [pid for pid, _ in wanted]
    if len(set(db.session.scalars(select(Person.id).where(Person.id.in_(ids))))) != len(ids):
        raise AuthoringError("One of the people chosen no longer exists.", field="speakers")
    return wanted


def _contributions(data: SessionInput) -> dict[int, str | None]:
    """What the form says each person presents (one line, 500 characters at most)."""
    contributions = {}
    for person_id, text in data.contributions.items():
        text = " ".join((text or "").split())
        if len(text) > 500:
            raise AuthoringError("Describe each contribution in 500 characters or fewer.")
        contributions[person_id] = text or None
    return contributions


def _set_speakers(session: Session, data: SessionInput) -> list[str]:
    """Replace the line-up and set contributions; what changed, for the audit log."""
    wanted = _line_up(data)
    kept = {link.person_id: link.contribution for link in session.speaker_links}
    contributions = {**kept, **_contributions(data)}
    changed = []
    if [(link.person_id, link.role) for link in session.speaker_links] != wanted:
        changed.append("speakers and moderators")
        session.speaker_links.clear()
        db.session.flush()
        for position, (person_id, role) in enumerate(wanted):
            session.speaker_links.append(
                SessionSpeaker(
                    person_id=person_id,
                    role=role,
                    position=position,
                    contribution=kept.get(person_id),
                )
            )
    for link in session.speaker_links:
        if link.contribution != contributions.get(link.person_id):
            link.contribution = contributions.get(link.person_id)
            if "contributions" not in changed:
                changed.append("contributions")
    return changed


def _session_values(programme_id: int, data: SessionInput) -> dict:
    starts_at, ends_at = session_instants(
        data.day, data.start, data.end, data.timezone, data.end_day
    )
    return {
        "title": data.title.strip(),
        "description": sanitise_markdown(data.description),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "timezone": data.timezone,
        "join_url": _check_join_url(data.join_url),
        "module_id": check_module(programme_id, data.module_id),
    }


def add_session(programme_id: int, user_id: int, data: SessionInput) -> Session:
    programme = locked_programme(programme_id)
    session = Session(programme_id=programme.id, **_session_values(programme.id, data))
    check_not_past(session.starts_at, data.confirm_past)
    db.session.add(session)
    db.session.flush()
    _set_speakers(session, data)
    record(programme.id, user_id, "added session", session.title)
    db.session.commit()
    return session


def _session_of(programme: Programme, session_id: int) -> Session:
    return found(
        db.session.scalar(
            select(Session)
            .where(Session.id == session_id, Session.programme_id == programme.id)
            .options(selectinload(Session.speaker_links))
        ),
        "session",
    )


def _check_move(programme: Programme, data: SessionInput, moved: bool, starts_at) -> None:
    """A new time is checked like a new session's, and on a public programme with confirmed
    registrants it is only saved once the organiser agrees that they are emailed."""
    if not moved:
        return
    check_not_past(starts_at, data.confirm_past)
    if programme.is_public and not data.confirm_move and programme.confirmed_count:
        told = programme.confirmed_count
        raise AuthoringError(
            f"The new time is emailed to the {told} confirmed registrant"
            f"{'' if told == 1 else 's'} with a calendar update. Tick “Yes, email them the new "
            "time”, add a note for the email if you like, and save again.",
            field="confirm_move",
        )


def update_session(
    programme_id: int, session_id: int, user_id: int, seen_version: int | None, data: SessionInput
) -> Session:
    """Save a session. On a public programme a new time reaches registrants as a calendar
    update, exactly as "Move or cancel" does."""
    programme = locked_programme(programme_id)
    session = _session_of(programme, session_id)
    check_version(session.version, seen_version, "session")
    old_times = (session.starts_at, session.ends_at)
    values = _session_values(programme.id, data)
    moved = (values["starts_at"], values["ends_at"]) != old_times
    _check_move(programme, data, moved, values["starts_at"])
    changed = changes(session, values) + _set_speakers(session, data)
    if changed:
        session.version += 1
        record(programme.id, user_id, "edited session", f"{session.title}: {', '.join(changed)}")
        if programme.is_public and moved:
            announce_schedule_change(
                session,
                "the session was moved; reminders follow the new time",
                previous=old_times,
                note=data.move_note,
            )
    db.session.commit()
    return session


def delete_session(programme_id: int, session_id: int, user_id: int) -> None:
    """Remove a session of a draft. A public programme's sessions are cancelled instead
    (catalogue.services.cancel_session), which tells their registrants."""
    programme = locked_programme(programme_id)
    if programme.status != "draft":
        raise AuthoringError(
            "Sessions of a published programme are not removed: cancel the session instead "
            "(“Move or cancel”), so its registrants are told."
        )
    session = _session_of(programme, session_id)
    title = session.title
    db.session.delete(session)
    record(programme.id, user_id, "removed session", title)
    db.session.commit()
