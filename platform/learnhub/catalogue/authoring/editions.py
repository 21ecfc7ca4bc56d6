"""A new edition: the next run of a programme as a draft, copied from the last one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from ...accounts.models import ProgrammeTeamMember
from ...extensions import db
from ...registration.models import RegistrationQuestion
from .. import uploads
from ..audit import record
from ..models import Material, Module, Programme, ProgrammeOrganisation, Session, SessionSpeaker
from .programmes import unique_slug
from .shared import AuthoringError, locked_programme, text_or_none

#: What a new edition keeps of the programme row as it is.
_KEPT_DETAILS = (
    *("kind", "summary", "description", "topic_id", "format", "venue", "language", "timezone"),
    *("capacity", "completion_percent", "approval_required", "waitlist_enabled"),
)


@dataclass(frozen=True)
class EditionInput:
    title: str
    edition: str | None
    weeks: int


def _copied(source, *names: str) -> dict:
    return {name: getattr(source, name) for name in names}


def new_edition(programme_id: int, user_id: int, data: EditionInput) -> Programme:
    """The next edition as a draft: details, organisations, modules, materials (files copied),
    questions and team kept; sessions shifted by `weeks`; registrations not copied."""
    if not 0 <= data.weeks <= 520:
        raise AuthoringError("Shift the sessions by 0 to 520 weeks.", field="weeks")
    source = locked_programme(programme_id)
    copy = _copy_programme(source, data)
    modules = _copy_modules(source, copy)
    _copy_sessions(source, copy, modules, timedelta(weeks=data.weeks))
    _copy_materials(source, copy, modules)
    _copy_questions(source, copy)
    _copy_team(source, copy, user_id)
    detail = f"{copy.title} ({copy.edition or 'new edition'}), sessions shifted {data.weeks} weeks"
    record(source.id, user_id, "duplicated as new edition", detail)
    record(copy.id, user_id, "created as new edition", f"of {source.title} ({source.slug})")
    db.session.commit()
    return copy


def _copy_programme(source: Programme, data: EditionInput) -> Programme:
    """The new draft with the source's details, cover (a copy of the file) and organisations."""
    copy = Programme(
        slug=unique_slug(f"{data.title} {data.edition or ''}"),
        title=data.title.strip(),
        edition=text_or_none(data.edition),
        status="draft",
        previous_edition_id=source.id,
        **_copied(source, *_KEPT_DETAILS),
    )
    if source.cover_image:
        copy.cover_image = uploads.copy_stored(source.cover_image)
    db.session.add(copy)
    db.session.flush()
    for link in source.organisation_links:
        copy.organisation_links.append(
            ProgrammeOrganisation(**_copied(link, "organisation_id", "role", "position"))
        )
    return copy


def _copy_modules(source: Programme, copy: Programme) -> dict[int, Module]:
    """The source's modules in the copy, by the source module's id."""
    modules = {}
    for module in source.modules:
        modules[module.id] = Module(
            programme_id=copy.id, **_copied(module, "position", "title", "theme", "summary", "body")
        )
        db.session.add(modules[module.id])
    db.session.flush()
    return modules


def _copy_sessions(
    source: Programme, copy: Programme, modules: dict[int, Module], shift: timedelta
) -> None:
    """Every session not cancelled, `shift` later, with its speakers and moderators."""
    for session in source.sessions:
        if session.status == "cancelled":
            continue
        twin = Session(
            programme_id=copy.id,
            starts_at=session.starts_at + shift,
            ends_at=session.ends_at + shift,
            module_id=modules[session.module_id].id if session.module_id else None,
            **_copied(session, "title", "description", "timezone", "reminders_enabled"),
        )
        for link in session.speaker_links:
            twin.speaker_links.append(
                SessionSpeaker(**_copied(link, "person_id", "role", "contribution", "position"))
            )
        db.session.add(twin)


def _copy_materials(source: Programme, copy: Programme, modules: dict[int, Module]) -> None:
    """Every material but recordings (they belong to the edition they recorded); files are
    copied, and a material whose file is gone is left out rather than copied broken."""
    for material in source.materials:
        if material.kind == "recording":
            continue
        twin = Material(
            programme_id=copy.id,
            module_id=modules[material.module_id].id if material.module_id else None,
            **_copied(
                material,
                *("kind", "title", "url", "download_name", "content_type", "size_bytes"),
                *("language", "visibility", "position"),
            ),
        )
        if material.file_name:
            twin.file_name = uploads.copy_stored(material.file_name)
            if twin.file_name is None:
                continue
        db.session.add(twin)


def _copy_questions(source: Programme, copy: Programme) -> None:
    questions = db.session.scalars(
        select(RegistrationQuestion).where(RegistrationQuestion.programme_id == source.id)
    )
    for question in questions:
        db.session.add(
            RegistrationQuestion(
                programme_id=copy.id,
                **_copied(question, "position", "label", "kind", "required", "choices_text"),
            )
        )


def _copy_team(source: Programme, copy: Programme, user_id: int) -> None:
    """The same team with the same rights; the person making the edition joins it."""
    members = db.session.scalars(
        select(ProgrammeTeamMember).where(ProgrammeTeamMember.programme_id == source.id)
    )
    team = {m.user_id: m for m in members}
    for member_user_id, member in team.items():
        db.session.add(
            ProgrammeTeamMember(
                programme_id=copy.id,
                user_id=member_user_id,
                **_copied(member, "manage_programme", "manage_registrations", "manage_attendance"),
            )
        )
    if user_id not in team:
        db.session.add(ProgrammeTeamMember(programme_id=copy.id, user_id=user_id))
