"""Learning-path use cases: who may follow a programme's modules, what they opened and
completed, their progress, module discussions, digests and certificates.

Progress and certificates count sessions with the attendance feature's own completion rule
(`attendance.services.attendance_standing`, the same lines as the organiser's report), plus
the modules an organiser marked as required for the certificate.
"""

from __future__ import annotations

import math
import secrets
from bisect import bisect_left
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..accounts.models import ProgrammeTeamMember, User
from ..attendance.models import ATTENDED_STATUSES, Attendance
from ..attendance.services import ParticipantLine, attendance_standing
from ..catalogue.audit import apply_changes, record
from ..catalogue.models import Material, Module, Programme, ProgrammeOrganisation, Session
from ..database import begin_write_transaction, fit_column
from ..errors import DomainError
from ..extensions import db
from ..registration.models import Registration
from ..types import utcnow
from .emails import queue_certificate_email, queue_discussion_digest
from .models import (
    Certificate,
    DigestSubscription,
    DiscussionLock,
    DiscussionPost,
    MaterialView,
    ModuleCompletion,
)

#: Verification codes: no look-alike characters (0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MAX_POST_LENGTH = 5000


class LearningError(DomainError):
    """Something the participant or organiser cannot do; the message is shown to them."""


# --- who is looking ------------------------------------------------------------------------


@dataclass
class Viewer:
    """The signed-in person's standing in one programme."""

    user: User | None
    registration: Registration | None = None
    is_team: bool = False

    @property
    def is_participant(self) -> bool:
        return self.registration is not None

    @property
    def can_see_registered(self) -> bool:
        """Confirmed registrants, the programme's team and administrators."""
        return self.is_participant or self.is_team


def viewer_of(programme: Programme, user) -> Viewer:
    """1 query for a signed-in person (registration and team membership together), 0 else."""
    if user is None or not user.is_authenticated:
        return Viewer(None)
    team = (
        select(func.count())
        .select_from(ProgrammeTeamMember)
        .where(
            ProgrammeTeamMember.programme_id == programme.id,
            ProgrammeTeamMember.user_id == user.id,
        )
        .scalar_subquery()
    )
    row = db.session.execute(
        select(Registration, team)
        .select_from(User)
        .outerjoin(
            Registration,
            (Registration.user_id == User.id)
            & (Registration.programme_id == programme.id)
            & (Registration.status == "confirmed"),
        )
        .where(User.id == user.id)
    ).first()
    registration, in_team = row if row else (None, 0)
    if registration is not None:
        set_committed_value(registration, "programme", programme)
    return Viewer(user, registration, bool(in_team) or user.role == "admin")


def recordings_by_session(programme: Programme) -> dict[int, list[Material]]:
    """The programme's recordings under the session they record (materials already loaded)."""
    found: dict[int, list[Material]] = {}
    for material in programme.materials:
        if material.kind == "recording" and material.session_id is not None:
            found.setdefault(material.session_id, []).append(material)
    return found


# --- progress ------------------------------------------------------------------------------


@dataclass
class Progress:
    """A participant's way through one programme."""

    registration: Registration
    attendance: ParticipantLine
    sessions_total: int
    modules: list[Module]
    completed_module_ids: set[int]
    certificate: Certificate | None
    next_session: Session | None

    @property
    def sessions_attended(self) -> int:
        return self.attendance.attended

    @property
    def modules_completed(self) -> int:
        return sum(1 for m in self.modules if m.id in self.completed_module_ids)

    @property
    def value(self) -> int:
        return self.sessions_attended + self.modules_completed

    @property
    def maximum(self) -> int:
        return self.sessions_total + len(self.modules)

    @property
    def percent(self) -> int:
        return round(100 * self.value / self.maximum) if self.maximum else 0

    @property
    def next_module(self) -> Module | None:
        return next((m for m in self.modules if m.id not in self.completed_module_ids), None)

    @property
    def sessions_needed(self) -> int:
        """Sessions the completion rule asks for."""
        return self.attendance.needed

    @property
    def required_modules(self) -> list[Module]:
        return [m for m in self.modules if m.required_for_certificate]


def progress_of(registrations: list[Registration]) -> dict[int, Progress]:
    """Progress of confirmed registrations by registration id, whatever their number:
    marks, modules, completions and certificates in 4 queries. Each registration's programme
    must have its sessions loaded."""
    confirmed = [r for r in registrations if r.status == "confirmed"]
    if not confirmed:
        return {}
    programme_ids = {r.programme_id for r in confirmed}
    modules: dict[int, list[Module]] = {pid: [] for pid in programme_ids}
    for module in db.session.scalars(
        select(Module).where(Module.programme_id.in_(programme_ids)).order_by(Module.position)
    ):
        modules[module.programme_id].append(module)
    return _progress(confirmed, modules)


def _progress(
    registrations: list[Registration], modules: dict[int, list[Module]]
) -> dict[int, Progress]:
    ids = [r.id for r in registrations]
    lines = attendance_standing(registrations)
    completed: dict[int, set[int]] = {rid: set() for rid in ids}
    for registration_id, module_id in db.session.execute(
        select(ModuleCompletion.registration_id, ModuleCompletion.module_id).where(
            ModuleCompletion.registration_id.in_(ids)
        )
    ):
        completed[registration_id].add(module_id)
    certificates: dict[int, Certificate] = {}
    for certificate in db.session.scalars(
        select(Certificate)
        .where(Certificate.registration_id.in_(ids))
        .order_by(Certificate.revoked_at.is_(None), Certificate.id)
    ):
        certificates[certificate.registration_id] = certificate  # the active one wins
    now = utcnow()
    result = {}
    for registration in registrations:
        sessions = [s for s in registration.programme.sessions if s.status != "cancelled"]
        result[registration.id] = Progress(
            registration=registration,
            attendance=lines[registration.id],
            sessions_total=len(sessions),
            modules=modules.get(registration.programme_id, []),
            completed_module_ids=completed[registration.id],
            certificate=certificates.get(registration.id),
            next_session=next((s for s in sessions if s.ends_at > now), None),
        )
    return result


def progress_in(programme: Programme, viewer: Viewer) -> Progress | None:
    """The viewer's progress in a programme loaded with its sessions and modules (3 queries)."""
    if viewer.registration is None:
        return None
    return _progress([viewer.registration], {programme.id: list(programme.modules)})[
        viewer.registration.id
    ]


# --- the module page -----------------------------------------------------------------------


@dataclass
class ModulePage:
    """What a module page shows beyond the catalogue's public view."""

    viewer: Viewer
    opened_ids: set[int] = field(default_factory=set)
    completed: ModuleCompletion | None = None
    posts: list[DiscussionPost] = field(default_factory=list)
    replies: dict[int, list[DiscussionPost]] = field(default_factory=dict)
    locked: bool = False
    subscribed: bool = False


def module_page(programme: Programme, module: Module, viewer: Viewer) -> ModulePage:
    """Opened materials, completion, the discussion and its lock, the digest choice: a fixed
    number of queries (at most 5) whatever the number of materials and posts."""
    page = ModulePage(viewer)
    if not viewer.can_see_registered:
        return page
    registration = viewer.registration
    if registration is not None:
        material_ids = [m.id for m in module.materials]
        if material_ids:
            page.opened_ids = set(
                db.session.scalars(
                    select(MaterialView.material_id).where(
                        MaterialView.registration_id == registration.id,
                        MaterialView.material_id.in_(material_ids),
                    )
                )
            )
        page.completed = db.session.scalar(
            select(ModuleCompletion).where(
                ModuleCompletion.registration_id == registration.id,
                ModuleCompletion.module_id == module.id,
            )
        )
        page.subscribed = (
            db.session.scalar(
                select(DigestSubscription.id).where(
                    DigestSubscription.user_id == viewer.user.id,
                    DigestSubscription.programme_id == programme.id,
                )
            )
            is not None
        )
    query = (
        select(DiscussionPost)
        .where(DiscussionPost.module_id == module.id)
        .options(joinedload(DiscussionPost.author))
        .order_by(DiscussionPost.created_at, DiscussionPost.id)
    )
    if not viewer.is_team:
        query = query.where(DiscussionPost.hidden_at.is_(None))
    everything = list(db.session.scalars(query))
    for post in everything:
        if post.parent_id is None:
            page.posts.append(post)
        else:
            page.replies.setdefault(post.parent_id, []).append(post)
    page.posts.sort(key=lambda p: not p.pinned)  # stable: pinned first, then in order
    page.locked = db.session.get(DiscussionLock, module.id) is not None
    return page


def required_items(module: Module) -> list[Material]:
    """What opening completes an "items" module: its required materials, or all of them
    when none is marked required."""
    marked = [m for m in module.materials if m.required]
    return marked or list(module.materials)


# --- participants' use cases ---------------------------------------------------------------


def _own_registration(programme_id: int, user: User) -> Registration | None:
    return db.session.scalar(
        select(Registration).where(
            Registration.programme_id == programme_id,
            Registration.user_id == user.id,
            Registration.status == "confirmed",
        )
    )


def _module_with_materials(module_id: int) -> Module:
    return db.session.scalar(
        select(Module).where(Module.id == module_id).options(selectinload(Module.materials))
    )


def open_material(programme: Programme, material_id: int, viewer: Viewer) -> Material:
    """A viewer opens a material: for a registered participant the first opening is recorded
    and may complete an "items" module (and so earn the certificate). Refused to those who
    may not see it."""
    material = db.session.get(Material, material_id)
    if material is None or material.programme_id != programme.id:
        raise LookupError(material_id)
    if material.visibility == "registered" and not viewer.can_see_registered:
        raise PermissionError(material_id)
    if viewer.registration is None:
        return material
    begin_write_transaction()
    registration_id = viewer.registration.id
    seen = db.session.scalar(
        select(MaterialView.id).where(
            MaterialView.registration_id == registration_id,
            MaterialView.material_id == material_id,
        )
    )
    if seen is None:
        db.session.add(MaterialView(registration_id=registration_id, material_id=material_id))
        db.session.flush()
        if material.module_id is not None:
            _complete_by_items(programme.id, material.module_id, registration_id)
    db.session.commit()
    return material


def _complete_by_items(programme_id: int, module_id: int, registration_id: int) -> None:
    module = _module_with_materials(module_id)
    if module.completion_mode != "items" or _completion(registration_id, module_id):
        return
    needed = {m.id for m in required_items(module)}
    opened = set(
        db.session.scalars(
            select(MaterialView.material_id).where(
                MaterialView.registration_id == registration_id,
                MaterialView.material_id.in_(needed),
            )
        )
    )
    if needed and needed <= opened:
        db.session.add(
            ModuleCompletion(registration_id=registration_id, module_id=module_id, source="items")
        )
        db.session.flush()
        award_due_certificates(programme_id, [registration_id])


def _completion(registration_id: int, module_id: int) -> ModuleCompletion | None:
    return db.session.scalar(
        select(ModuleCompletion).where(
            ModuleCompletion.registration_id == registration_id,
            ModuleCompletion.module_id == module_id,
        )
    )


def mark_module_complete(programme: Programme, position: int, user: User) -> Module:
    """The participant says they completed a module the organiser lets them mark."""
    begin_write_transaction()
    registration = _own_registration(programme.id, user)
    if registration is None:
        raise PermissionError("Only registered participants track their progress.")
    module = db.session.scalar(
        select(Module).where(Module.programme_id == programme.id, Module.position == position)
    )
    if module is None:
        raise LookupError(position)
    if module.completion_mode != "manual":
        raise LearningError(
            "This module is completed by opening its required materials; it cannot be marked."
        )
    if _completion(registration.id, module.id) is None:
        db.session.add(
            ModuleCompletion(registration_id=registration.id, module_id=module.id, source="manual")
        )
        db.session.flush()
        award_due_certificates(programme.id, [registration.id])
    db.session.commit()
    return module


def set_digest(programme: Programme, user: User, wanted: bool) -> bool:
    """Opt in to (or out of) email digests of new posts in the programme's discussions;
    a new subscription starts after the posts that already exist."""
    begin_write_transaction()
    if _own_registration(programme.id, user) is None:
        raise PermissionError("Only registered participants can follow the discussions.")
    subscription = db.session.scalar(
        select(DigestSubscription).where(
            DigestSubscription.user_id == user.id, DigestSubscription.programme_id == programme.id
        )
    )
    if wanted and subscription is None:
        latest = db.session.scalar(
            select(func.max(DiscussionPost.id))
            .join(Module, Module.id == DiscussionPost.module_id)
            .where(Module.programme_id == programme.id)
        )
        db.session.add(
            DigestSubscription(user_id=user.id, programme_id=programme.id, last_post_id=latest or 0)
        )
    elif not wanted and subscription is not None:
        db.session.delete(subscription)
    db.session.commit()
    return wanted


# --- discussions ---------------------------------------------------------------------------


@dataclass
class PostInput:
    body: str
    parent_id: int | None = None


def write_post(programme: Programme, position: int, viewer: Viewer, data: PostInput):
    """A registered participant (or the team) posts or replies in a module's discussion."""
    if not viewer.can_see_registered:
        raise PermissionError("Only registered participants can take part in the discussion.")
    body = data.body.replace("\x00", "").strip()
    if not body:
        raise LearningError("Write something before posting.")
    if len(body) > MAX_POST_LENGTH:
        raise LearningError(f"Posts are at most {MAX_POST_LENGTH} characters.")
    begin_write_transaction()
    module = db.session.scalar(
        select(Module).where(Module.programme_id == programme.id, Module.position == position)
    )
    if module is None:
        raise LookupError(position)
    if db.session.get(DiscussionLock, module.id) is not None:
        raise LearningError("The organisers have closed this discussion.")
    parent_id = data.parent_id
    if parent_id is not None:
        parent = db.session.get(DiscussionPost, parent_id)
        if parent is None or parent.module_id != module.id or parent.hidden_at is not None:
            raise LearningError("The post you replied to is no longer there.")
        parent_id = parent.parent_id or parent.id  # replies stay one level deep
    post = DiscussionPost(
        module_id=module.id, parent_id=parent_id, author_id=viewer.user.id, body=body
    )
    db.session.add(post)
    db.session.commit()
    return post


MODERATION_ACTIONS = ("pin", "unpin", "hide", "show")


def moderate_post(programme_id: int, post_id: int, action: str) -> DiscussionPost:
    """An organiser pins, unpins, hides or shows a post of their programme."""
    if action not in MODERATION_ACTIONS:
        raise LearningError("Choose pin, unpin, hide or show.")
    begin_write_transaction()
    post = db.session.scalar(
        select(DiscussionPost)
        .where(DiscussionPost.id == post_id)
        .options(joinedload(DiscussionPost.module))
    )
    if post is None or post.module.programme_id != programme_id:
        raise LookupError(post_id)
    if action in ("pin", "unpin"):
        post.pinned = action == "pin"
    else:
        post.hidden_at = utcnow() if action == "hide" else None
    db.session.commit()
    return post


def set_lock(programme_id: int, position: int, locked: bool, user: User) -> Module:
    """An organiser closes (or reopens) a module's discussion."""
    begin_write_transaction()
    module = db.session.scalar(
        select(Module).where(Module.programme_id == programme_id, Module.position == position)
    )
    if module is None:
        raise LookupError(position)
    lock = db.session.get(DiscussionLock, module.id)
    if locked and lock is None:
        db.session.add(DiscussionLock(module_id=module.id, locked_by_id=user.id))
    elif not locked and lock is not None:
        db.session.delete(lock)
    db.session.commit()
    return module


# --- organiser settings --------------------------------------------------------------------


@dataclass
class ModuleSettings:
    completion_mode: str
    required_for_certificate: bool


def save_learning_settings(
    programme_id: int,
    modules: dict[int, ModuleSettings],
    required_materials: set[int],
    user_id: int | None = None,
) -> None:
    """Per module: how it is completed and whether the certificate needs it; per material:
    whether opening it is required."""
    begin_write_transaction()
    changes = []
    for module in db.session.scalars(select(Module).where(Module.programme_id == programme_id)):
        wanted = modules.get(module.id)
        if wanted is None:
            continue
        if wanted.completion_mode not in ("items", "manual"):
            raise LearningError("Choose how the module is completed.")
        changes += [
            f"{module.title}: {change}"
            for change in apply_changes(
                module,
                {
                    "completion_mode": wanted.completion_mode,
                    "required_for_certificate": wanted.required_for_certificate,
                },
                labels={"required_for_certificate": "needed for the certificate"},
            )
        ]
    for material in db.session.scalars(
        select(Material).where(Material.programme_id == programme_id)
    ):
        wanted_required = material.id in required_materials
        if material.required != wanted_required:
            changes.append(
                f"{material.title}: required {'no → yes' if wanted_required else 'yes → no'}"
            )
    db.session.execute(
        update(Material)
        .where(Material.programme_id == programme_id)
        .values(required=Material.id.in_(required_materials) if required_materials else False)
    )
    if changes:
        record(programme_id, user_id, "changed learning path settings", "; ".join(changes))
    db.session.commit()


def programme_for_settings(programme_id: int) -> Programme:
    return db.session.scalar(
        select(Programme)
        .where(Programme.id == programme_id)
        .options(selectinload(Programme.modules).selectinload(Module.materials))
    )


# --- certificates --------------------------------------------------------------------------


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_code(code: str) -> str:
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}" if len(raw) == 12 else code


def _programme_for_certificates(programme_id: int) -> Programme:
    return db.session.scalar(
        select(Programme)
        .where(Programme.id == programme_id)
        .options(
            selectinload(Programme.sessions),
            selectinload(Programme.modules),
            selectinload(Programme.organisation_links).joinedload(
                ProgrammeOrganisation.organisation
            ),
        )
    )


def meets_rule(progress: Progress) -> bool:
    """The completion rule: the programme's share of sessions attended, and every module
    the organisers marked as required completed."""
    line = progress.attendance
    sessions_ok = line.needed > 0 and line.attended >= line.needed
    modules_ok = all(m.id in progress.completed_module_ids for m in progress.required_modules)
    return sessions_ok and modules_ok


def award_due_certificates(programme_id: int, registration_ids: list[int]) -> list[Certificate]:
    """Inside a write use case (flushes only): give a certificate, and its email, to each of
    these registrations that now meets the completion rule and has none yet. A revoked
    certificate stays revoked."""
    if not registration_ids:
        return []
    registration_ids = _may_reach_attendance_rule(programme_id, registration_ids)
    if not registration_ids:
        return []
    programme = _programme_for_certificates(programme_id)
    registrations = list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.programme_id == programme_id,
                Registration.status == "confirmed",
                Registration.id.in_(registration_ids),
                ~Registration.id.in_(
                    select(Certificate.registration_id).where(
                        Certificate.programme_id == programme_id
                    )
                ),
            )
            .options(joinedload(Registration.user))
        )
    )
    for registration in registrations:
        set_committed_value(registration, "programme", programme)
    progress = _progress(registrations, {programme.id: list(programme.modules)})
    issued = [
        _issue(programme, registration, "rule", None)
        for registration in registrations
        if meets_rule(progress[registration.id])
    ]
    return issued


def _may_reach_attendance_rule(programme_id: int, registration_ids: list[int]) -> list[int]:
    """The registrations that may meet the rule's share of sessions: a necessary condition
    read with two narrow queries and no ORM objects, before the programme is loaded, so that
    an import marking thousands of people present does not load anything to find that none
    qualifies yet. It only errs on the kept side (every attended or excused mark counts);
    `meets_rule` decides on the rest. A registration without a mark is never kept."""
    sessions = db.session.execute(
        select(Session.id, Session.ends_at, Programme.completion_percent)
        .join(Programme, Programme.id == Session.programme_id)
        .where(Session.programme_id == programme_id, Session.status != "cancelled")
    ).all()
    if not sessions:
        return []
    completion_percent = sessions[0].completion_percent
    ends = sorted(s.ends_at for s in sessions)
    kept = []
    for registration_id, since, attended, excused in db.session.execute(
        select(
            Registration.id,
            func.coalesce(Registration.confirmed_at, Registration.created_at),
            func.count().filter(Attendance.status.in_(ATTENDED_STATUSES)),
            func.count().filter(Attendance.status == "excused"),
        )
        .join(Attendance, Attendance.registration_id == Registration.id)
        .where(
            Registration.id.in_(registration_ids),
            Attendance.session_id.in_([s.id for s in sessions]),
        )
        .group_by(Registration.id)
    ):
        expected = len(ends) - (bisect_left(ends, since) if since is not None else 0)
        needed = math.ceil((expected - excused) * completion_percent / 100)
        if needed > 0 and attended >= needed:
            kept.append(registration_id)
    return kept


def _issue(
    programme: Programme, registration: Registration, source: str, reason: str | None
) -> Certificate:
    # Any number of hosts, each name up to 300 characters: as printed, cut to the column.
    hosts = fit_column(
        ", ".join(o.name for o in programme.organisations("host")), Certificate.hosts
    )
    certificate = Certificate(
        code=new_code(),
        programme=programme,
        registration_id=registration.id,
        programme_id=programme.id,
        holder_name=registration.user.full_name,
        programme_title=programme.title,
        edition=programme.edition,
        hosts=hosts,
        minutes=minutes_attended(programme, registration.id),
        source=source,
        issue_reason=reason,
    )
    db.session.add(certificate)
    db.session.flush()
    queue_certificate_email(certificate, registration)
    return certificate


def minutes_attended(programme: Programme, registration_id: int) -> int:
    """The live time a participant attended (1 query): for each session of the programme
    they were marked present or late at (cancelled ones never count), the minutes recorded
    for them (from a meeting report), at most the session's length, else its length."""
    sessions = {s.id: s for s in programme.sessions if s.status != "cancelled"}
    if not sessions:
        return 0
    total = 0
    for session_id, minutes in db.session.execute(
        select(Attendance.session_id, Attendance.minutes_attended).where(
            Attendance.registration_id == registration_id,
            Attendance.session_id.in_(sessions),
            Attendance.status.in_(ATTENDED_STATUSES),
        )
    ):
        length = sessions[session_id].duration_minutes
        total += length if minutes is None else min(minutes, length)
    return total


def issue_by_hand(
    programme_id: int, registration_id: int, reason: str, user_id: int | None = None
) -> Certificate:
    """An organiser issues a certificate whatever the rule says, with a reason; a revoked one
    stays revoked under its code, and the new certificate gets a new code."""
    reason = reason.strip()
    if not reason:
        raise LearningError("Give a reason for issuing the certificate by hand.")
    begin_write_transaction()
    registration = db.session.scalar(
        select(Registration)
        .where(Registration.id == registration_id, Registration.programme_id == programme_id)
        .options(joinedload(Registration.user))
    )
    if registration is None or registration.status != "confirmed":
        raise LearningError("Choose a participant with a confirmed registration.")
    existing = db.session.scalar(
        select(Certificate).where(
            Certificate.registration_id == registration_id, Certificate.revoked_at.is_(None)
        )
    )
    if existing is not None:
        raise LearningError(f"{registration.user.full_name} already has a certificate.")
    certificate = _issue(
        _programme_for_certificates(programme_id), registration, "organiser", reason
    )
    record(
        programme_id,
        user_id,
        "issued certificate by hand",
        f"{registration.user.full_name}: none → {certificate.code} ({certificate.hours:g} hours);"
        f" reason “{reason}”; emailed",
    )
    db.session.commit()
    return certificate


def revoke(
    programme_id: int, certificate_id: int, reason: str, user_id: int | None = None
) -> Certificate:
    """An organiser revokes a certificate with a reason; its page then says so."""
    reason = reason.strip()
    if not reason:
        raise LearningError("Give a reason for revoking the certificate.")
    begin_write_transaction()
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.programme_id != programme_id:
        raise LookupError(certificate_id)
    if certificate.revoked_at is not None:
        raise LearningError("This certificate is already revoked.")
    certificate.revoked_at = utcnow()
    certificate.revoke_reason = reason
    record(
        programme_id,
        user_id,
        "revoked certificate",
        f"{certificate.holder_name}: {certificate.code} valid → revoked; reason “{reason}”",
    )
    db.session.commit()
    return certificate


def certificate_of(programme_id: int, certificate_id: int) -> Certificate | None:
    certificate = db.session.get(Certificate, certificate_id)
    return certificate if certificate and certificate.programme_id == programme_id else None


def certificate_by_code(code: str) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.code == normalise_code(code)))


def own_certificate(programme: Programme, user: User) -> Certificate | None:
    return db.session.scalar(
        select(Certificate)
        .join(Registration, Registration.id == Certificate.registration_id)
        .where(Certificate.programme_id == programme.id, Registration.user_id == user.id)
        .order_by(Certificate.revoked_at.is_not(None), Certificate.id.desc())
        .limit(1)
    )


@dataclass
class CertificateLine:
    registration: Registration
    progress: Progress
    certificate: Certificate | None


def certificate_overview(programme: Programme) -> list[CertificateLine]:
    """Every confirmed participant with their progress and certificate (5 queries)."""
    registrations = list(
        db.session.scalars(
            select(Registration)
            .join(Registration.user)
            .where(Registration.programme_id == programme.id, Registration.status == "confirmed")
            .options(joinedload(Registration.user))
            .order_by(User.full_name, Registration.id)
        )
    )
    for registration in registrations:
        set_committed_value(registration, "programme", programme)
    progress = _progress(registrations, {programme.id: list(programme.modules)})
    return [CertificateLine(r, progress[r.id], progress[r.id].certificate) for r in registrations]


# --- digests -------------------------------------------------------------------------------


def send_digests() -> int:
    """Beat: for each subscription with new visible posts by others, one digest email into
    the outbox (keyed by subscription and last post), and the high-water mark moves on."""
    begin_write_transaction()
    subscriptions = list(
        db.session.scalars(
            select(DigestSubscription)
            .join(
                Registration,
                (Registration.user_id == DigestSubscription.user_id)
                & (Registration.programme_id == DigestSubscription.programme_id),
            )
            .where(Registration.status == "confirmed")  # cancelled: no more digests
            .options(joinedload(DigestSubscription.user))
        )
    )
    if not subscriptions:
        db.session.commit()
        return 0
    floor = min(s.last_post_id for s in subscriptions)
    programme_ids = {s.programme_id for s in subscriptions}
    rows = db.session.execute(
        select(DiscussionPost, Module.programme_id)
        .join(Module, Module.id == DiscussionPost.module_id)
        .where(
            Module.programme_id.in_(programme_ids),
            DiscussionPost.id > floor,
            DiscussionPost.hidden_at.is_(None),
        )
        .options(joinedload(DiscussionPost.author), joinedload(DiscussionPost.module))
        .order_by(DiscussionPost.id)
    ).all()
    programmes = {
        p.id: p
        for p in db.session.scalars(select(Programme).where(Programme.id.in_(programme_ids)))
    }
    sent = 0
    for subscription in subscriptions:
        new = [
            post
            for post, programme_id in rows
            if programme_id == subscription.programme_id
            and post.id > subscription.last_post_id
            and post.author_id != subscription.user_id
        ]
        if not new:
            continue
        queue_discussion_digest(subscription, programmes[subscription.programme_id], new)
        subscription.last_post_id = new[-1].id
        sent += 1
    db.session.commit()
    return sent
