"""The organiser's learning path settings: how each module is completed, which modules the
certificate needs, which materials must be opened."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ...catalogue.audit import apply_changes, record
from ...catalogue.models import Material, Module, Programme
from ...database import begin_write_transaction
from ...errors import NotFound
from ...extensions import db
from ..errors import LearningError


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
    programme = db.session.scalar(
        select(Programme)
        .where(Programme.id == programme_id)
        .options(selectinload(Programme.modules).selectinload(Module.materials))
    )
    if programme is None:
        raise NotFound()
    return programme
