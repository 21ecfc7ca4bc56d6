"""A programme's material pages: the list with its "add" form, edit, remove."""

from __future__ import annotations

from flask import abort, g
from flask_login import current_user

from ...access import requires
from ...catalogue import uploads
from ...catalogue.authoring import materials as authoring
from ...forms import ActionForm
from ..blueprint import bp
from ..forms import MaterialEditForm, MaterialForm
from . import choices
from .pages import FormPage, Removal, form_for, typed


def _material_input(form: MaterialForm) -> authoring.MaterialInput:
    """A checked file, or the link (a file sent with a link means the file)."""
    return typed(authoring.MaterialInput, form, url=None if form.file.checked else form.url.data)


add_page = FormPage("materials.html", authoring.add_material, "Material added.", ".materials")


@bp.route("/programmes/<slug>/materials", methods=["GET", "POST"])
@requires("manage_programme")
def materials(slug: str):
    return add_page(
        choices.with_modules(MaterialForm()),
        lambda form: (g.programme.id, current_user.id, _material_input(form)),
        lambda: {"materials": authoring.materials_of(g.programme.id)},
        programme=g.programme,
        delete_form=ActionForm(),
        max_upload=uploads.MAX_UPLOAD_LABEL,
    )


edit_page = FormPage(
    "material_form.html", authoring.update_material, "Material saved.", ".materials"
)


@bp.route("/programmes/<slug>/materials/<int:material_id>/edit", methods=["GET", "POST"])
@requires("manage_programme")
def edit_material(slug: str, material_id: int):
    material = authoring.material_of(g.programme.id, material_id) or abort(404)
    seen = authoring.material_seen(material)
    form = form_for(MaterialEditForm, material, seen=seen, module=material.module_id)
    return edit_page(
        choices.with_modules(form),
        lambda form: (
            g.programme.id,
            material.id,
            current_user.id,
            form.seen.data,
            _material_input(form),
        ),
        programme=g.programme,
        material=material,
        max_upload=uploads.MAX_UPLOAD_LABEL,
    )


removal = Removal(
    ".materials",
    authoring.delete_material,
    "Remove the material “{0.title}”?",
    ("The material and its stored file are removed; participants no longer see it.",),
    "Material removed.",
)


@bp.post("/programmes/<slug>/materials/<int:material_id>/delete")
@requires("manage_programme")
def delete_material(slug: str, material_id: int):
    return removal(authoring.material_of(g.programme.id, material_id), material_id)
