"""Participants' use cases: opening materials and completing modules (either may earn the
certificate)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...accounts.models import User
from ...catalogue.models import Material, Module, Programme
from ...database import begin_write_transaction
from ...errors import NotAllowed, NotFound
from ...extensions import db
from ..errors import LearningError
from ..models import MaterialView, ModuleCompletion
from .certificates import award_due_certificates
from .module_page import required_items
from .progress import completion_of
from .viewer import Viewer, own_registration


def material_to_open(programme: Programme, material_id: int) -> Material | None:
    material = db.session.get(Material, material_id)
    return material if material is not None and material.programme_id == programme.id else None


def may_open(material: Material, viewer: Viewer) -> bool:
    return material.visibility != "registered" or viewer.can_see_registered


def open_material(programme: Programme, material: Material, viewer: Viewer) -> Material:
    """A viewer opens a material: for a registered participant the first opening is recorded
    and may complete an "items" module (and so earn the certificate). Refused to those who
    may not see it."""
    if not may_open(material, viewer):
        raise NotAllowed("This material is for registered participants.")
    if viewer.registration is None:
        return material
    begin_write_transaction()
    registration_id = viewer.registration.id
    seen = db.session.scalar(
        select(MaterialView.id).where(
            MaterialView.registration_id == registration_id,
            MaterialView.material_id == material.id,
        )
    )
    if seen is None:
        db.session.add(MaterialView(registration_id=registration_id, material_id=material.id))
        db.session.flush()
        if material.module_id is not None:
            _complete_by_items(programme.id, material.module_id, registration_id)
    db.session.commit()
    return material


def _complete_by_items(programme_id: int, module_id: int, registration_id: int) -> None:
    module = db.session.scalar(
        select(Module).where(Module.id == module_id).options(selectinload(Module.materials))
    )
    if module is None:
        raise NotFound()
    if module.completion_mode != "items" or completion_of(registration_id, module_id):
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


def mark_module_complete(programme: Programme, position: int, user: User) -> Module:
    """The participant says they completed a module the organiser lets them mark."""
    begin_write_transaction()
    registration = own_registration(programme.id, user)
    if registration is None:
        raise NotAllowed("Only registered participants track their progress.")
    module = db.session.scalar(
        select(Module).where(Module.programme_id == programme.id, Module.position == position)
    )
    if module is None:
        raise NotFound()
    if module.completion_mode != "manual":
        raise LearningError(
            "This module is completed by opening its required materials; it cannot be marked."
        )
    if completion_of(registration.id, module.id) is None:
        db.session.add(
            ModuleCompletion(registration_id=registration.id, module_id=module.id, source="manual")
        )
        db.session.flush()
        award_due_certificates(programme.id, [registration.id])
    db.session.commit()
    return module
