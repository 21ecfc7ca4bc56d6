"""The module page: what it shows beyond the catalogue's public view."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ...catalogue.models import Material, Module, Programme
from ...extensions import db
from ..models import MaterialView, ModuleCompletion
from .discussions import Discussion, discussion, locked_and_followed
from .progress import completion_of
from .viewer import Viewer


@dataclass
class ModulePage:
    """What a module page shows beyond the catalogue's public view."""

    viewer: Viewer
    opened_ids: set[int] = field(default_factory=set)
    completed: ModuleCompletion | None = None
    discussion: Discussion | None = None
    locked: bool = False
    subscribed: bool = False


def module_page(
    programme: Programme, module: Module, viewer: Viewer, page: int | None = None
) -> ModulePage:
    """Opened materials, completion, a page of the discussion and its lock, the digest
    choice: a fixed number of queries (at most 6) whatever the number of materials and posts.
    `page` is the discussion's (by default the query string's)."""
    found = ModulePage(viewer)
    if not viewer.can_see_registered:
        return found
    registration = viewer.registration
    if registration is not None:
        material_ids = [m.id for m in module.materials]
        if material_ids:
            found.opened_ids = set(
                db.session.scalars(
                    select(MaterialView.material_id).where(
                        MaterialView.registration_id == registration.id,
                        MaterialView.material_id.in_(material_ids),
                    )
                )
            )
        found.completed = completion_of(registration.id, module.id)
    found.locked, found.subscribed = locked_and_followed(programme, module, viewer)
    found.discussion = discussion(module, viewer, page)
    return found


def required_items(module: Module) -> list[Material]:
    """What opening completes an "items" module: its required materials, or all of them
    when none is marked required."""
    marked = [m for m in module.materials if m.required]
    return marked or list(module.materials)
