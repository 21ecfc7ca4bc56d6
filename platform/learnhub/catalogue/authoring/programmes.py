"""Programmes: a new draft, its details, publishing and archiving."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from ...accounts.models import ProgrammeTeamMember
from ...database import begin_write_transaction
from ...extensions import db
from ...templating import sanitise_markdown
from ...timefmt import is_valid_timezone
from .. import uploads
from ..audit import record
from ..models import (
    ORGANISATION_ROLES,
    PROGRAMME_FORMATS,
    PROGRAMME_KINDS,
    Organisation,
    Programme,
    ProgrammeOrganisation,
    Session,
    Topic,
)
from .shared import (
    AuthoringError,
    changes,
    check_version,
    locked_programme,
    slugify,
    text_or_none,
)


@dataclass(frozen=True)
class ProgrammeInput:
    kind: str
    title: str
    summary: str
    timezone: str
    edition: str | None = None
    description: str = ""
    topic_id: int | None = None
    format: str = "online"
    venue: str | None = None
    language: str = "English"
    #: Organisation ids per role ("host", "supporter", "partner", "alliance").
    organisations: dict[str, list[int]] = field(default_factory=dict)
    #: A new cover image, checked; None keeps the current one.
    cover: uploads.CheckedFile | None = None


@dataclass(frozen=True)
class RegistrationDefaults:
    capacity: int | None = None
    approval_required: bool = False
    waitlist_enabled: bool = True


def _check_programme(data: ProgrammeInput) -> None:
    if data.kind not in PROGRAMME_KINDS:
        raise AuthoringError("Choose programme or webinar.", field="kind")
    if data.format not in PROGRAMME_FORMATS:
        raise AuthoringError("Choose online, in person or hybrid.", field="format")
    if not is_valid_timezone(data.timezone):
        raise AuthoringError("Choose a time zone from the list.", field="timezone")
    if data.format != "online" and not (data.venue or "").strip():
        raise AuthoringError("An in-person or hybrid programme needs a venue.", field="venue")


def _check_topic(topic_id: int | None) -> int | None:
    """A topic of the list (an administrator may have removed it while the form was open)."""
    if topic_id is not None and db.session.get(Topic, topic_id) is None:
        raise AuthoringError(
            "That topic no longer exists. Choose one from the list.", field="topic"
        )
    return topic_id


def _programme_values(data: ProgrammeInput) -> dict:
    return {
        "kind": data.kind,
        "title": data.title.strip(),
        "edition": text_or_none(data.edition),
        "summary": data.summary.strip(),
        "description": sanitise_markdown(data.description),
        "topic_id": _check_topic(data.topic_id),
        "format": data.format,
        "venue": text_or_none(data.venue),
        "language": data.language.strip() or "English",
        "timezone": data.timezone,
    }


def unique_slug(text: str) -> str:
    """The slug of `text`, numbered (-2, -3...) past the programmes that have it already."""
    base = slugify(text)
    taken = set(
        db.session.scalars(
            select(Programme.slug).where(
                or_(Programme.slug == base, Programme.slug.like(f"{base}-%"))
            )
        )
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _set_organisations(programme: Programme, chosen: dict[str, list[int]]) -> bool:
    """Replace the programme's organisation links; True when they changed."""
    wanted = [
        (role, organisation_id)
        for role in ORGANISATION_ROLES
        for organisation_id in dict.fromkeys(chosen.get(role, []))
    ]
    known = set(
        db.session.scalars(
            select(Organisation.id).where(Organisation.id.in_([o for _, o in wanted]))
        )
    )
    if any(o not in known for _, o in wanted):
        raise AuthoringError("One of the organisations chosen no longer exists.", field="hosts")
    current = [(link.role, link.organisation_id) for link in programme.organisation_links]
    if current == wanted:
        return False
    programme.organisation_links.clear()
    db.session.flush()
    for position, (role, organisation_id) in enumerate(wanted):
        programme.organisation_links.append(
            ProgrammeOrganisation(organisation_id=organisation_id, role=role, position=position)
        )
    return True


def create_programme(
    user_id: int, data: ProgrammeInput, registration: RegistrationDefaults
) -> Programme:
    """A new draft; its author joins its team with every right (they own it)."""
    _check_programme(data)
    begin_write_transaction()
    values = _programme_values(data)
    programme = Programme(
        slug=unique_slug(f"{values['title']} {values['edition'] or ''}"),
        status="draft",
        capacity=registration.capacity,
        approval_required=registration.approval_required,
        waitlist_enabled=registration.waitlist_enabled,
        **values,
    )
    if data.cover is not None:
        programme.cover_image = uploads.store(data.cover)
    db.session.add(programme)
    db.session.flush()
    _set_organisations(programme, data.organisations)
    db.session.add(ProgrammeTeamMember(programme_id=programme.id, user_id=user_id))
    record(programme.id, user_id, "created", f"Draft “{programme.title}”")
    db.session.commit()
    return programme


def update_programme(
    programme_id: int, user_id: int, seen_version: int | None, data: ProgrammeInput
) -> Programme:
    _check_programme(data)
    programme = locked_programme(programme_id)
    check_version(programme.version, seen_version, "programme")
    changed = changes(programme, _programme_values(data))
    if _set_organisations(programme, data.organisations):
        changed.append("organisations")
    replaced = programme.cover_image
    if data.cover is not None:
        programme.cover_image = uploads.store(data.cover)
        changed.append("cover image")
    if changed:
        programme.version += 1
        record(programme.id, user_id, "edited details", ", ".join(changed))
    db.session.commit()
    if data.cover is not None:
        uploads.remove_stored(replaced)
    return programme


def publish_programme(programme_id: int, user_id: int) -> Programme:
    programme = locked_programme(programme_id)
    if programme.status == "published":
        raise AuthoringError("This programme is already published.")
    scheduled = db.session.scalar(
        select(func.count())
        .select_from(Session)
        .where(Session.programme_id == programme.id, Session.status == "scheduled")
    )
    if not scheduled:
        raise AuthoringError("Add at least one session before publishing.")
    previous = programme.status
    programme.status = "published"
    programme.version += 1
    record(programme.id, user_id, "published", f"was {previous}")
    db.session.commit()
    return programme


def archive_programme(programme_id: int, user_id: int) -> Programme:
    """An archived programme stays findable with its materials; it takes no registrations."""
    programme = locked_programme(programme_id)
    if programme.status != "published":
        raise AuthoringError("Only a published programme can be archived.")
    programme.status = "archived"
    programme.version += 1
    record(programme.id, user_id, "archived")
    db.session.commit()
    return programme
