"""Authoring use cases: organisers write programmes, sessions, modules, materials and people.

Each public function is one use case: it starts the write transaction, checks, changes, writes
an audit entry and commits once. Edits carry the version the editor saw; a different version
means someone else saved first, and the edit is refused with a message instead of overwriting.
Markdown is sanitised on save (`sanitise_markdown`) and again when rendered.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import ProgrammeTeamMember
from ..database import begin_write_transaction, is_postgres, swap_positions
from ..errors import DomainError
from ..extensions import db
from ..i18n import LANGUAGE_LOCALES
from ..registration.models import RegistrationQuestion
from ..templating import sanitise_markdown
from ..timefmt import is_valid_timezone, local_to_utc, zone
from ..types import utcnow
from . import uploads
from .audit import apply_changes, moment_in, record
from .models import (
    MATERIAL_KINDS,
    MATERIAL_VISIBILITIES,
    ORGANISATION_ROLES,
    PROGRAMME_FORMATS,
    PROGRAMME_KINDS,
    Material,
    Module,
    Organisation,
    Person,
    Programme,
    ProgrammeOrganisation,
    Session,
    SessionSpeaker,
    Topic,
)
from .services import announce_schedule_change
from .versions import content_changed, organisation_changed, person_changed, topic_changed


class AuthoringError(DomainError):
    """A change that cannot be made; the message is shown beside `field` when it names one of
    the form's fields, else above the form."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StaleEdit(AuthoringError):
    """Someone saved the same thing since the editor opened it."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"Someone else saved this {what} while you were editing it. Your changes are not "
            "saved: open it again to see theirs, then make your changes once more."
        )


# --- audit log ------------------------------------------------------------------------------------


def _title_of(model, attribute: str) -> Callable[[int | None], str | None]:
    def show(row_id: int | None) -> str | None:
        row = db.session.get(model, row_id) if row_id is not None else None
        return getattr(row, attribute) if row is not None else None

    return show


def _changes(target, values: dict) -> list[str]:
    """Set each attribute; for the change log, "name: old → new" of each that changed, in
    words: a module's or topic's name for its id, times in the target's zone, long texts
    only named."""
    tz = values.get("timezone") or getattr(target, "timezone", None) or "UTC"
    return apply_changes(
        target,
        values,
        shown={
            "module_id": _title_of(Module, "title"),
            "topic_id": _title_of(Topic, "name"),
            "starts_at": moment_in(tz),
            "ends_at": moment_in(tz),
        },
        labels={
            "module_id": "module",
            "topic_id": "topic",
            "starts_at": "starts",
            "ends_at": "ends",
        },
        quiet=("description", "body", "summary"),
    )


def locked_programme(programme_id: int) -> Programme:
    """Start the write transaction with the programme row locked: whatever is numbered
    within a programme (questions, modules, materials) takes its next position under it."""
    begin_write_transaction()
    query = select(Programme).where(Programme.id == programme_id)
    if is_postgres():
        query = query.with_for_update()
    programme = db.session.scalar(query.execution_options(populate_existing=True))
    if programme is None:
        raise AuthoringError("We could not find that programme.")
    content_changed(programme_id)  # its page is rendered afresh once this commits
    return programme


def _check_version(current: int, seen: int | None, what: str) -> None:
    if seen is not None and seen != current:
        raise StaleEdit(what)


# --- programmes ---------------------------------------------------------------------------------


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
        "edition": (data.edition or "").strip() or None,
        "summary": data.summary.strip(),
        "description": sanitise_markdown(data.description),
        "topic_id": _check_topic(data.topic_id),
        "format": data.format,
        "venue": (data.venue or "").strip() or None,
        "language": data.language.strip() or "English",
        "timezone": data.timezone,
    }


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:100] or "programme"


def _unique_slug(text: str) -> str:
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
        slug=_unique_slug(f"{values['title']} {values['edition'] or ''}"),
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
    _check_version(programme.version, seen_version, "programme")
    changed = _changes(programme, _programme_values(data))
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


# --- sessions -----------------------------------------------------------------------------------


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
    starts_at = local_to_utc(datetime.combine(day, start), tz)
    ends_at = local_to_utc(datetime.combine(end_day or day, end), tz)
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


def _check_module(programme_id: int, module_id: int | None) -> int | None:
    if module_id is None:
        return None
    module = db.session.get(Module, module_id)
    if module is None or module.programme_id != programme_id:
        raise AuthoringError("Choose one of this programme's modules.", field="module")
    return module_id


def _set_speakers(session: Session, data: SessionInput) -> list[str]:
    """Replace the line-up and set contributions; what changed, for the audit log."""
    wanted = [(pid, "speaker") for pid in dict.fromkeys(data.speaker_ids)]
    wanted += [
        (pid, "moderator")
        for pid in dict.fromkeys(data.moderator_ids)
        if pid not in data.speaker_ids
    ]
    ids = [pid for pid, _ in wanted]
    if len(set(db.session.scalars(select(Person.id).where(Person.id.in_(ids))))) != len(ids):
        raise AuthoringError("One of the people chosen no longer exists.", field="speakers")
    kept = {link.person_id: link.contribution for link in session.speaker_links}
    contributions = dict(kept)
    for person_id, text in data.contributions.items():
        text = " ".join((text or "").split())
        if len(text) > 500:
            raise AuthoringError("Describe each contribution in 500 characters or fewer.")
        contributions[person_id] = text or None
    changed = []
    current = [(link.person_id, link.role) for link in session.speaker_links]
    if current != wanted:
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
        "module_id": _check_module(programme_id, data.module_id),
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


def update_session(
    programme_id: int, session_id: int, user_id: int, seen_version: int | None, data: SessionInput
) -> Session:
    """Save a session. On a public programme a new time reaches registrants as a calendar
    update, exactly as "Move or cancel" does."""
    programme = locked_programme(programme_id)
    session = db.session.scalar(
        select(Session)
        .where(Session.id == session_id, Session.programme_id == programme.id)
        .options(selectinload(Session.speaker_links))
    )
    if session is None:
        raise AuthoringError("We could not find that session.")
    _check_version(session.version, seen_version, "session")
    old_times = (session.starts_at, session.ends_at)
    values = _session_values(programme.id, data)
    moved = (values["starts_at"], values["ends_at"]) != old_times
    if moved:
        check_not_past(values["starts_at"], data.confirm_past)
    if moved and programme.is_public and not data.confirm_move and programme.confirmed_count:
        told = programme.confirmed_count
        raise AuthoringError(
            f"The new time is emailed to the {told} confirmed registrant"
            f"{'' if told == 1 else 's'} with a calendar update. Tick “Yes, email them the new "
            "time”, add a note for the email if you like, and save again.",
            field="confirm_move",
        )
    changed = _changes(session, values)
    changed += _set_speakers(session, data)
    if changed:
        session.version += 1
        record(programme.id, user_id, "edited session", f"{session.title}: {', '.join(changed)}")
        if programme.is_public and (session.starts_at, session.ends_at) != old_times:
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
    session = db.session.scalar(
        select(Session).where(Session.id == session_id, Session.programme_id == programme.id)
    )
    if session is None:
        raise AuthoringError("We could not find that session.")
    title = session.title
    db.session.delete(session)
    record(programme.id, user_id, "removed session", title)
    db.session.commit()


# --- modules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleInput:
    title: str
    theme: str | None = None
    summary: str = ""
    body: str = ""


def _module_values(data: ModuleInput) -> dict:
    return {
        "title": data.title.strip(),
        "theme": (data.theme or "").strip() or None,
        "summary": data.summary.strip(),
        "body": sanitise_markdown(data.body),
    }


def module_of(programme_id: int, module_id: int) -> Module | None:
    module = db.session.get(Module, module_id)
    return module if module is not None and module.programme_id == programme_id else None


def modules_of(programme_id: int) -> list[Module]:
    return list(
        db.session.scalars(
            select(Module)
            .where(Module.programme_id == programme_id)
            .options(selectinload(Module.materials))
            .order_by(Module.position)
        )
    )


def add_module(programme_id: int, user_id: int, data: ModuleInput) -> Module:
    programme = locked_programme(programme_id)
    last = db.session.scalar(
        select(func.max(Module.position)).where(Module.programme_id == programme.id)
    )
    module = Module(programme_id=programme.id, position=(last or 0) + 1, **_module_values(data))
    db.session.add(module)
    record(programme.id, user_id, "added module", module.title)
    db.session.commit()
    return module


def update_module(
    programme_id: int, module_id: int, user_id: int, seen_version: int | None, data: ModuleInput
) -> Module:
    locked_programme(programme_id)
    module = module_of(programme_id, module_id)
    if module is None:
        raise AuthoringError("We could not find that module.")
    _check_version(module.version, seen_version, "module")
    changed = _changes(module, _module_values(data))
    if changed:
        module.version += 1
        record(programme_id, user_id, "edited module", f"{module.title}: {', '.join(changed)}")
    db.session.commit()
    return module


def move_module(programme_id: int, module_id: int, user_id: int, offset: int) -> None:
    """Swap a module with its neighbour above (-1) or below (+1)."""
    locked_programme(programme_id)
    module = module_of(programme_id, module_id)
    if module is None:
        raise AuthoringError("We could not find that module.")
    if swap_positions(Module, Module.programme_id == programme_id, module, offset):
        record(programme_id, user_id, "moved module", f"{module.title} to place {module.position}")
    db.session.commit()


def delete_module(programme_id: int, module_id: int, user_id: int) -> None:
    """Remove a module; its sessions and materials stay, without a module; later ones move up."""
    locked_programme(programme_id)
    module = module_of(programme_id, module_id)
    if module is None:
        raise AuthoringError("We could not find that module.")
    position, title = module.position, module.title
    db.session.delete(module)
    db.session.flush()
    later = db.session.scalars(
        select(Module)
        .where(Module.programme_id == programme_id, Module.position > position)
        .order_by(Module.position)
    )
    for item in later:
        item.position -= 1
        db.session.flush()
    record(programme_id, user_id, "removed module", title)
    db.session.commit()


# --- materials ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialInput:
    title: str
    kind: str
    language: str
    visibility: str
    module_id: int | None = None
    url: str | None = None
    file: uploads.CheckedFile | None = None


def _check_material(data: MaterialInput) -> str | None:
    """Kind and visibility from the lists; the link, if any, a web address (returned clean)."""
    if data.kind not in MATERIAL_KINDS or data.visibility not in MATERIAL_VISIBILITIES:
        raise AuthoringError("Choose a kind and a visibility from the lists.")
    url = data.url.strip() if data.url else None
    if url and not re.match(r"^https?://[^\s/]+", url, re.IGNORECASE):
        raise AuthoringError("The link must be a web address starting with https://.", field="url")
    return url


def _set_material_file(material: Material, checked: uploads.CheckedFile | None) -> None:
    """Point the material at a newly stored file, or (None) at no file."""
    material.file_name = uploads.store(checked) if checked else None
    material.download_name = checked.download_name if checked else None
    material.content_type = checked.content_type if checked else None
    material.size_bytes = len(checked.data) if checked else None


def add_material(programme_id: int, user_id: int, data: MaterialInput) -> Material:
    url = _check_material(data)
    if (data.file is None) == (not url):
        raise AuthoringError("Upload a file or give a link (one of the two).", field="url")
    programme = locked_programme(programme_id)
    module_id = _check_module(programme.id, data.module_id)
    last = db.session.scalar(
        select(func.max(Material.position)).where(Material.programme_id == programme.id)
    )
    material = Material(
        programme_id=programme.id,
        module_id=module_id,
        kind=data.kind,
        title=data.title.strip(),
        url=url,
        language=data.language.strip() or "English",
        visibility=data.visibility,
        position=(last or 0) + 1,
    )
    _set_material_file(material, data.file)
    db.session.add(material)
    record(programme.id, user_id, "added material", material.title)
    db.session.commit()  # a failed commit removes the stored file (uploads)
    return material


def material_of(programme_id: int, material_id: int) -> Material | None:
    material = db.session.get(Material, material_id)
    return material if material is not None and material.programme_id == programme_id else None


def material_seen(material: Material) -> str:
    """What an editor saw of a material (it has no version column): a digest of its fields.
    An edit whose digest differs from the current one was made on an older copy."""
    return _digest(
        material,
        *("title", "kind", "language", "visibility", "url", "file_name", "module_id"),
    )


def _digest(target, *names: str) -> str:
    values = repr([getattr(target, name) for name in names]).encode()
    return hashlib.sha256(values).hexdigest()[:16]


def update_material(
    programme_id: int, material_id: int, user_id: int, seen: str | None, data: MaterialInput
) -> Material:
    """Correct a material; a new file replaces the stored one, a link replaces a file (and
    back). With neither, a file material keeps its file."""
    url = _check_material(data)
    if data.file is not None and url:
        raise AuthoringError("Upload a file or give a link (one of the two).", field="url")
    locked_programme(programme_id)
    material = material_of(programme_id, material_id)
    if material is None:
        raise AuthoringError("We could not find that material.")
    if seen and seen != material_seen(material):
        raise StaleEdit("material")
    if data.file is None and not url and material.file_name is None:
        raise AuthoringError("Upload a file or give a link (one of the two).", field="url")
    changed = _changes(
        material,
        {
            "title": data.title.strip(),
            "kind": data.kind,
            "language": data.language.strip() or "English",
            "visibility": data.visibility,
            "module_id": _check_module(programme_id, data.module_id),
        },
    )
    replaced = None
    if data.file is not None or url:
        replaced = material.file_name
        if url != material.url:
            changed.append("link")
        material.url = url
        if data.file is not None:
            changed.append("file")
        elif replaced:
            changed.append("file replaced by a link")
        _set_material_file(material, data.file)
    if changed:
        record(programme_id, user_id, "edited material", f"{material.title}: {', '.join(changed)}")
    db.session.commit()
    if replaced:
        uploads.remove_stored(replaced)
    return material


def delete_material(programme_id: int, material_id: int, user_id: int) -> None:
    locked_programme(programme_id)
    material = db.session.get(Material, material_id)
    if material is None or material.programme_id != programme_id:
        raise AuthoringError("We could not find that material.")
    file_name = material.file_name
    db.session.delete(material)
    record(programme_id, user_id, "removed material", material.title)
    db.session.commit()
    uploads.remove_stored(file_name)


def materials_of(programme_id: int) -> list[Material]:
    return list(
        db.session.scalars(
            select(Material)
            .where(Material.programme_id == programme_id)
            .options(joinedload(Material.module))
            .order_by(Material.position)
        )
    )


# --- people and organisations (shared by every programme) ---------------------------------------


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_people(query: str, limit: int = 50) -> list[Person]:
    statement = select(Person).options(joinedload(Person.organisation)).order_by(Person.full_name)
    if query.strip():
        pattern = _like(query.strip())
        statement = statement.outerjoin(Person.organisation).where(
            or_(
                func.lower(Person.full_name).like(pattern, escape="\\"),
                func.lower(Person.position).like(pattern, escape="\\"),
                func.lower(Organisation.name).like(pattern, escape="\\"),
                func.lower(Person.organisation_text).like(pattern, escape="\\"),
            )
        )
    return list(db.session.scalars(statement.limit(limit)).unique())


def all_people() -> list[Person]:
    return search_people("", limit=5000)


def search_organisations(query: str, limit: int = 50) -> list[Organisation]:
    statement = select(Organisation).order_by(Organisation.name)
    if query.strip():
        pattern = _like(query.strip())
        statement = statement.where(
            or_(
                func.lower(Organisation.name).like(pattern, escape="\\"),
                func.lower(Organisation.short_name).like(pattern, escape="\\"),
            )
        )
    return list(db.session.scalars(statement.limit(limit)))


def all_organisations() -> list[Organisation]:
    return search_organisations("", limit=5000)


@dataclass(frozen=True)
class PersonInput:
    full_name: str
    honorific: str | None = None
    position: str | None = None
    organisation_id: int | None = None
    organisation_text: str | None = None
    email: str | None = None
    timezone: str | None = None
    #: A profile language (`LANGUAGE_LOCALES`' names); None: their account's, else English.
    preferred_language: str | None = None
    bio: str | None = None
    photo: uploads.CheckedFile | None = None
    #: The organiser has seen the similar people and this one is someone else.
    confirmed_new: bool = False


def _similar_names(model, column, name: str) -> list[str]:
    words = [w for w in re.split(r"\W+", name.lower()) if len(w) > 2]
    if not words:
        return []
    matches = db.session.scalars(
        select(column).where(or_(*[func.lower(column).like(_like(w), escape="\\") for w in words]))
    )
    return sorted(set(matches))[:10]


def create_person(data: PersonInput) -> Person:
    """A speaker or moderator for every programme. Search first: a person with a similar name
    is only added once the organiser confirms it is someone else."""
    begin_write_transaction()
    name = " ".join(data.full_name.split())
    if not name:
        raise AuthoringError("Write the person's name.", field="full_name")
    similar = _similar_names(Person, Person.full_name, name)
    if similar and not data.confirmed_new:
        raise AuthoringError(
            "Already here: "
            + "; ".join(similar)
            + ". Pick them in the session form, or tick “This is someone else” to add them.",
            field="full_name",
        )
    person = Person(full_name=name)
    _fill_person(person, data)
    db.session.add(person)
    db.session.commit()
    return person


def update_person(person_id: int, data: PersonInput) -> Person:
    """Correct a shared speaker (a new position, a photo): every programme shows the change."""
    begin_write_transaction()
    person = db.session.get(Person, person_id)
    if person is None:
        raise AuthoringError("We could not find that person.")
    person.full_name = " ".join(data.full_name.split())
    if not person.full_name:
        raise AuthoringError("Write the person's name.", field="full_name")
    replaced = person.photo if data.photo else None
    _fill_person(person, data)
    person_changed(person.id)
    db.session.commit()
    uploads.remove_stored(replaced)
    return person


def _fill_person(person: Person, data: PersonInput) -> None:
    if (
        data.organisation_id is not None
        and db.session.get(Organisation, data.organisation_id) is None
    ):
        raise AuthoringError("That organisation no longer exists.", field="organisation")
    if data.timezone and not is_valid_timezone(data.timezone):
        raise AuthoringError("Choose a time zone from the list.", field="timezone")
    if data.preferred_language and data.preferred_language not in LANGUAGE_LOCALES:
        raise AuthoringError("Choose a language from the list.", field="preferred_language")
    person.honorific = (data.honorific or "").strip() or None
    person.position = (data.position or "").strip() or None
    person.organisation_id = data.organisation_id
    person.organisation_text = (data.organisation_text or "").strip() or None
    person.email = (data.email or "").strip().lower() or None
    person.timezone = data.timezone or None
    person.preferred_language = data.preferred_language or None
    person.bio = (data.bio or "").strip() or None
    if data.photo:
        person.photo = uploads.store(data.photo)


def person_of(person_id: int) -> Person | None:
    return db.session.get(Person, person_id)


@dataclass(frozen=True)
class OrganisationInput:
    name: str
    short_name: str | None = None
    website: str | None = None
    confirmed_new: bool = False


def _organisation_values(data: OrganisationInput, name: str) -> dict:
    website = (data.website or "").strip() or None
    if website and not re.match(r"^https?://[^\s/]+", website, re.IGNORECASE):
        raise AuthoringError("The website must start with https://.", field="website")
    return {"name": name, "short_name": (data.short_name or "").strip() or None, "website": website}


def _organisation_name(data: OrganisationInput, other_than: int | None = None) -> str:
    """The cleaned name; refused when another organisation has exactly it (any case)."""
    name = " ".join(data.name.split())
    if not name:
        raise AuthoringError("Write the organisation's name.", field="name")
    same = select(Organisation.id).where(func.lower(Organisation.name) == name.lower())
    if other_than is not None:
        same = same.where(Organisation.id != other_than)
    if db.session.scalar(same.limit(1)) is not None:
        raise AuthoringError(f"“{name}” is already here: choose it from the lists.", field="name")
    return name


def create_organisation(data: OrganisationInput) -> Organisation:
    begin_write_transaction()
    name = _organisation_name(data)
    similar = _similar_names(Organisation, Organisation.name, name)
    if similar and not data.confirmed_new:
        raise AuthoringError(
            "Similar organisations are already here: "
            + "; ".join(similar)
            + ". Choose one of them, or tick “This is another organisation” to add it.",
            field="name",
        )
    organisation = Organisation(**_organisation_values(data, name))
    db.session.add(organisation)
    db.session.commit()
    return organisation


def organisation_of(organisation_id: int) -> Organisation | None:
    return db.session.get(Organisation, organisation_id)


def organisation_seen(organisation: Organisation) -> str:
    """What an editor saw of an organisation (no version column): a digest of its fields."""
    return _digest(organisation, "name", "short_name", "website")


def programmes_showing(organisation_id: int) -> list[int]:
    """Programmes whose pages show the organisation: as host, partner... or a speaker's."""
    linked = select(ProgrammeOrganisation.programme_id).where(
        ProgrammeOrganisation.organisation_id == organisation_id
    )
    via_speakers = (
        select(Session.programme_id)
        .join(SessionSpeaker, SessionSpeaker.session_id == Session.id)
        .join(Person, Person.id == SessionSpeaker.person_id)
        .where(Person.organisation_id == organisation_id)
    )
    return sorted(set(db.session.scalars(linked.union(via_speakers))))


def update_organisation(
    organisation_id: int, user_id: int, seen: str | None, data: OrganisationInput
) -> Organisation:
    """Correct a shared organisation. It has no programme of its own: the change is written
    in the change log of every programme whose page shows it."""
    begin_write_transaction()
    organisation = organisation_of(organisation_id)
    if organisation is None:
        raise AuthoringError("We could not find that organisation.")
    if seen and seen != organisation_seen(organisation):
        raise StaleEdit("organisation")
    name = _organisation_name(data, other_than=organisation.id)
    before = organisation.name
    changed = _changes(organisation, _organisation_values(data, name))
    organisation_changed(organisation.id)
    if changed:
        detail = f"{before}: {', '.join(changed)}"
        if organisation.name != before:
            detail += f" (now “{organisation.name}”)"
        for programme_id in programmes_showing(organisation.id):
            record(programme_id, user_id, "edited organisation", detail)
    db.session.commit()
    return organisation


# --- topics (administrators) --------------------------------------------------------------------


def topics_in_use() -> list[tuple[Topic, int]]:
    """Every topic with the number of programmes filed under it, by name."""
    used = select(func.count(Programme.id)).where(Programme.topic_id == Topic.id).scalar_subquery()
    return [tuple(row) for row in db.session.execute(select(Topic, used).order_by(Topic.name))]


def _topic_name(name: str, other_than: int | None = None) -> tuple[str, str]:
    """The cleaned name and its catalogue slug; refuses a name another topic has (any case,
    or the same slug, which would make the two one filter)."""
    name = " ".join(name.split())
    if not name:
        raise AuthoringError("Give the topic a name.", field="name")
    slug = slugify(name)[:80].strip("-")
    if not re.search(r"[a-z0-9]", unicodedata.normalize("NFKD", name).lower()):
        # A name with no Latin letter or digit (e.g. "气候") still gets an address of its own.
        slug = "topic-" + hashlib.blake2b(name.encode(), digest_size=4).hexdigest()
    clash = db.session.scalar(
        select(Topic).where(
            or_(func.lower(Topic.name) == name.lower(), Topic.slug == slug),
            Topic.id != (other_than or 0),
        )
    )
    if clash is not None:
        raise AuthoringError(f"There is already a topic “{clash.name}”.", field="name")
    return name, slug


def add_topic(name: str) -> Topic:
    """A new topic organisers can file programmes under and the catalogue can filter by."""
    begin_write_transaction()
    name, slug = _topic_name(name)
    topic = Topic(name=name, slug=slug)
    db.session.add(topic)
    db.session.commit()
    return topic


def rename_topic(topic_id: int, user_id: int, name: str) -> Topic:
    """A new name; the catalogue filter's address (slug) stays, so shared links keep working.
    Written in the change log of every programme filed under it."""
    begin_write_transaction()
    topic = db.session.get(Topic, topic_id)
    if topic is None:
        raise AuthoringError("We could not find that topic.")
    name, _slug = _topic_name(name, other_than=topic.id)
    if name != topic.name:
        before, topic.name = topic.name, name
        topic_changed(topic.id)
        for programme_id in db.session.scalars(
            select(Programme.id).where(Programme.topic_id == topic.id)
        ):
            record(programme_id, user_id, "renamed topic", f"{before} (now “{name}”)")
    db.session.commit()
    return topic


def remove_topic(topic_id: int) -> str:
    """Removes a topic no programme is filed under; returns its name."""
    begin_write_transaction()
    topic = db.session.get(Topic, topic_id)
    if topic is None:
        raise AuthoringError("We could not find that topic.")
    used = db.session.scalar(select(func.count()).where(Programme.topic_id == topic.id))
    if used:
        raise AuthoringError(
            f"“{topic.name}” is the topic of {used} programme{'s' if used != 1 else ''}; "
            "file them under another topic first."
        )
    db.session.delete(topic)
    db.session.commit()
    return topic.name


# --- new edition --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditionInput:
    title: str
    edition: str | None
    weeks: int


def new_edition(programme_id: int, user_id: int, data: EditionInput) -> Programme:
    """The next edition as a draft: details, organisations, modules, materials (files copied),
    questions and team kept; sessions shifted by `weeks`; registrations not copied."""
    if not 0 <= data.weeks <= 520:
        raise AuthoringError("Shift the sessions by 0 to 520 weeks.", field="weeks")
    source = locked_programme(programme_id)
    shift = timedelta(weeks=data.weeks)
    copy = Programme(
        slug=_unique_slug(f"{data.title} {data.edition or ''}"),
        title=data.title.strip(),
        edition=(data.edition or "").strip() or None,
        status="draft",
        previous_edition_id=source.id,
        **{
            name: getattr(source, name)
            for name in (
                "kind",
                "summary",
                "description",
                "topic_id",
                "format",
                "venue",
                "language",
                "timezone",
                "capacity",
                "completion_percent",
                "approval_required",
                "waitlist_enabled",
            )
        },
    )
    if source.cover_image:
        copy.cover_image = uploads.copy_stored(source.cover_image)
    db.session.add(copy)
    db.session.flush()
    for link in source.organisation_links:
        copy.organisation_links.append(
            ProgrammeOrganisation(
                organisation_id=link.organisation_id, role=link.role, position=link.position
            )
        )
    modules = {}
    for module in source.modules:
        modules[module.id] = Module(
            programme_id=copy.id, **_copied(module, "position", "title", "theme", "summary", "body")
        )
        db.session.add(modules[module.id])
    db.session.flush()
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
    for material in source.materials:
        if material.kind == "recording":
            continue  # a recording belongs to the edition it recorded
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
                continue  # the file is gone: do not copy a broken download
        db.session.add(twin)
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
    detail = f"{copy.title} ({copy.edition or 'new edition'}), sessions shifted {data.weeks} weeks"
    record(source.id, user_id, "duplicated as new edition", detail)
    record(copy.id, user_id, "created as new edition", f"of {source.title} ({source.slug})")
    db.session.commit()
    return copy


def _copied(source, *names: str) -> dict:
    return {name: getattr(source, name) for name in names}
