"""Materials: a stored file (checked by `uploads`) or a link, for everyone or for confirmed
registrants, in a module or not."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import joinedload

from ...extensions import db
from .. import uploads
from ..audit import record
from ..models import MATERIAL_KINDS, MATERIAL_VISIBILITIES, Material
from .shared import (
    AuthoringError,
    changes,
    check_module,
    check_seen,
    digest,
    found,
    in_order,
    locked_programme,
    next_position,
)

ONE_OF_THE_TWO = "Upload a file or give a link (one of the two)."


@dataclass(frozen=True)
class MaterialInput:
    """A material as its form gives it: a checked file or a link (one of the two)."""

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


def _material_values(programme_id: int, data: MaterialInput) -> dict:
    return {
        "title": data.title.strip(),
        "kind": data.kind,
        "language": data.language.strip() or "English",
        "visibility": data.visibility,
        "module_id": check_module(programme_id, data.module_id),
    }


def add_material(programme_id: int, user_id: int, data: MaterialInput) -> Material:
    url = _check_material(data)
    if (data.file is None) == (not url):
        raise AuthoringError(ONE_OF_THE_TWO, field="url")
    programme = locked_programme(programme_id)
    material = Material(
        programme_id=programme.id,
        url=url,
        position=next_position(Material, programme.id),
        **_material_values(programme.id, data),
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
    return digest(
        material,
        *("title", "kind", "language", "visibility", "url", "file_name", "module_id"),
    )


def _replace_file_or_link(material: Material, data: MaterialInput, url: str | None) -> list[str]:
    """A new file replaces the stored one, a link replaces a file (and back); what changed."""
    changed = []
    if url != material.url:
        changed.append("link")
    material.url = url
    if data.file is not None:
        changed.append("file")
    elif material.file_name:
        changed.append("file replaced by a link")
    _set_material_file(material, data.file)
    return changed


def update_material(
    programme_id: int, material_id: int, user_id: int, seen: str | None, data: MaterialInput
) -> Material:
    """Correct a material; a new file replaces the stored one, a link replaces a file (and
    back). With neither, a file material keeps its file."""
    url = _check_material(data)
    if data.file is not None and url:
        raise AuthoringError(ONE_OF_THE_TWO, field="url")
    locked_programme(programme_id)
    material = found(material_of(programme_id, material_id), "material")
    check_seen(seen, material_seen(material), "material")
    if data.file is None and not url and material.file_name is None:
        raise AuthoringError(ONE_OF_THE_TWO, field="url")
    changed = changes(material, _material_values(programme_id, data))
    replaced = None
    if data.file is not None or url:
        replaced = material.file_name
        changed += _replace_file_or_link(material, data, url)
    if changed:
        record(programme_id, user_id, "edited material", f"{material.title}: {', '.join(changed)}")
    db.session.commit()
    if replaced:
        uploads.remove_stored(replaced)
    return material


def delete_material(programme_id: int, material_id: int, user_id: int) -> None:
    locked_programme(programme_id)
    material = found(material_of(programme_id, material_id), "material")
    file_name = material.file_name
    db.session.delete(material)
    record(programme_id, user_id, "removed material", material.title)
    db.session.commit()
    uploads.remove_stored(file_name)


def materials_of(programme_id: int) -> list[Material]:
    return in_order(Material, programme_id, joinedload(Material.module))
