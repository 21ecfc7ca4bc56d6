"""Progress: a participant's way through one programme, counted with the attendance feature's
own completion rule (`attendance.services.report.attendance_standing`, the same lines as the
organiser's report) and the modules they completed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ...attendance.services.report import ParticipantLine, attendance_standing
from ...catalogue.models import Module, Programme, Session
from ...extensions import db
from ...registration.models import Registration
from ...types import utcnow
from ..models import Certificate, ModuleCompletion
from .viewer import Viewer


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
    return progress_with(confirmed, modules)


def progress_with(
    registrations: list[Registration], modules: dict[int, list[Module]]
) -> dict[int, Progress]:
    """Progress of registrations whose programmes' modules are known (3 queries)."""
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
    return progress_with([viewer.registration], {programme.id: list(programme.modules)})[
        viewer.registration.id
    ]


def completion_of(registration_id: int, module_id: int) -> ModuleCompletion | None:
    return db.session.scalar(
        select(ModuleCompletion).where(
            ModuleCompletion.registration_id == registration_id,
            ModuleCompletion.module_id == module_id,
        )
    )
