"""Modules: the numbered chapters of a programme's learning path."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...database import swap_positions
from ...extensions import db
from ...templating import sanitise_markdown
from ..audit import record
from ..models import Module
from .shared import (
    changes,
    check_version,
    found,
    in_order,
    locked_programme,
    next_position,
    text_or_none,
)


@dataclass(frozen=True)
class ModuleInput:
    """A module as its form gives it (the body is Markdown)."""

    title: str
    theme: str | None = None
    summary: str = ""
    body: str = ""


def _module_values(data: ModuleInput) -> dict:
    return {
        "title": data.title.strip(),
        "theme": text_or_none(data.theme),
        "summary": data.summary.strip(),
        "body": sanitise_markdown(data.body),
    }


def module_of(programme_id: int, module_id: int) -> Module | None:
    module = db.session.get(Module, module_id)
    return module if module is not None and module.programme_id == programme_id else None


def modules_of(programme_id: int) -> list[Module]:
    return in_order(Module, programme_id, selectinload(Module.materials))


def add_module(programme_id: int, user_id: int, data: ModuleInput) -> Module:
    programme = locked_programme(programme_id)
    module = Module(
        programme_id=programme.id,
        position=next_position(Module, programme.id),
        **_module_values(data),
    )
    db.session.add(module)
    record(programme.id, user_id, "added module", module.title)
    db.session.commit()
    return module


def update_module(
    programme_id: int, module_id: int, user_id: int, seen_version: int | None, data: ModuleInput
) -> Module:
    locked_programme(programme_id)
    module = found(module_of(programme_id, module_id), "module")
    check_version(module.version, seen_version, "module")
    changed = changes(module, _module_values(data))
    if changed:
        module.version += 1
        record(programme_id, user_id, "edited module", f"{module.title}: {', '.join(changed)}")
    db.session.commit()
    return module


def move_module(programme_id: int, module_id: int, user_id: int, offset: int) -> None:
    """Swap a module with its neighbour above (-1) or below (+1)."""
    locked_programme(programme_id)
    module = found(module_of(programme_id, module_id), "module")
    if swap_positions(Module, Module.programme_id == programme_id, module, offset):
        record(programme_id, user_id, "moved module", f"{module.title} to place {module.position}")
    db.session.commit()


def delete_module(programme_id: int, module_id: int, user_id: int) -> None:
    """Remove a module; its sessions and materials stay, without a module; later ones move up."""
    locked_programme(programme_id)
    module = found(module_of(programme_id, module_id), "module")
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
