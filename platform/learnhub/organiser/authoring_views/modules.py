"""A programme's module pages: the list with its "add" form, edit, move, remove."""

from __future__ import annotations

from flask import abort, g
from flask_login import current_user

from ...access import requires
from ...catalogue.authoring import modules as authoring
from ...forms import ActionForm
from ..blueprint import bp
from ..forms import ModuleForm
from .pages import FormPage, Removal, button, form_for, typed

add_page = FormPage("modules.html", authoring.add_module, "Module added.", ".modules")


@bp.route("/programmes/<slug>/modules", methods=["GET", "POST"])
@requires("manage_programme")
def modules(slug: str):
    return add_page(
        ModuleForm(),
        lambda form: (g.programme.id, current_user.id, typed(authoring.ModuleInput, form)),
        lambda: {"modules": authoring.modules_of(g.programme.id)},
        programme=g.programme,
        move_form=ActionForm(),
    )


edit_page = FormPage("module_form.html", authoring.update_module, "Module saved.", ".modules")


@bp.route("/programmes/<slug>/modules/<int:module_id>/edit", methods=["GET", "POST"])
@requires("manage_programme")
def edit_module(slug: str, module_id: int):
    module = authoring.module_of(g.programme.id, module_id) or abort(404)
    return edit_page(
        form_for(ModuleForm, module),
        lambda form: (
            g.programme.id,
            module.id,
            current_user.id,
            form.version.data,
            typed(authoring.ModuleInput, form),
        ),
        programme=g.programme,
        module=module,
    )


@bp.post("/programmes/<slug>/modules/<int:module_id>/move/<any(up, down):direction>")
@requires("manage_programme")
def move_module(slug: str, module_id: int, direction: str):
    offset = -1 if direction == "up" else 1
    return button(".modules", None, authoring.move_module, module_id, current_user.id, offset)


removal = Removal(
    ".modules",
    authoring.delete_module,
    "Remove the module “{0.title}”?",
    (
        "The module is removed with its discussion and the participants' completions of it; "
        "the modules after it move up.",
        "Its sessions and materials stay in the programme, without a module.",
    ),
    "Module removed; its sessions and materials stay.",
)


@bp.post("/programmes/<slug>/modules/<int:module_id>/delete")
@requires("manage_programme")
def delete_module(slug: str, module_id: int):
    return removal(authoring.module_of(g.programme.id, module_id), module_id)
