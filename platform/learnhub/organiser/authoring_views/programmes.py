"""A programme's pages: new, details, preview, publish, archive, new edition."""

from __future__ import annotations

from flask import abort, g, render_template, url_for
from flask_login import current_user

from ...access import requires
from ...catalogue import services as catalogue
from ...catalogue.authoring import editions
from ...catalogue.authoring import programmes as authoring
from ...catalogue.page_cache import build_parts, session_heads
from ...forms import ActionForm
from ...templating import viewer_timezone
from ..blueprint import bp
from ..forms import NewEditionForm, NewProgrammeForm, ProgrammeForm
from . import choices
from .pages import FormPage, button, form_for, typed

#: The programme form's organisation lists, by the role they give.
ORGANISATION_FIELDS = {
    "host": "hosts",
    "supporter": "supporters",
    "partner": "partners",
    "alliance": "alliances",
}


def _with_choices(form: ProgrammeForm) -> ProgrammeForm:
    form.topic.choices = choices.topics()
    organisations = choices.organisations()
    for name in ORGANISATION_FIELDS.values():
        form[name].choices = organisations
    return form


def _programme_input(form: ProgrammeForm) -> authoring.ProgrammeInput:
    chosen = {role: form[name].data or [] for role, name in ORGANISATION_FIELDS.items()}
    return typed(authoring.ProgrammeInput, form, organisations=chosen)


def _its_page(programme) -> str:
    return url_for("organiser.edit_programme", slug=programme.slug)


create_page = FormPage(
    "programme_form.html",
    authoring.create_programme,
    "Draft saved. Add its sessions, modules and materials, then publish.",
    _its_page,
)


@bp.route("/programmes/new", methods=["GET", "POST"])
def new_programme():
    form = _with_choices(form_for(NewProgrammeForm, timezone=current_user.timezone))
    return create_page(
        form,
        lambda form: (
            current_user.id,
            _programme_input(form),
            typed(authoring.RegistrationDefaults, form),
        ),
        programme=None,
    )


edit_page = FormPage(
    "programme_form.html", authoring.update_programme, "Programme saved.", ".edit_programme"
)


@bp.route("/programmes/<slug>/edit", methods=["GET", "POST"])
@requires("manage_programme")
def edit_programme(slug: str):
    programme = g.programme
    chosen = {
        name: [o.id for o in programme.organisations(role)]
        for role, name in ORGANISATION_FIELDS.items()
    }
    form = form_for(ProgrammeForm, programme, topic=programme.topic_id, **chosen)
    return edit_page(
        _with_choices(form),
        lambda form: (programme.id, current_user.id, form.version.data, _programme_input(form)),
        programme=programme,
        action_form=ActionForm,
    )


@bp.get("/programmes/<slug>/preview")
@requires("manage_programme")
def preview_programme(slug: str):
    """The public page as participants will see it, drafts included."""
    found = catalogue.programme_page(slug, drafts=True)
    if found is None:
        abort(404)
    page = build_parts(found, catalogue.programme_speakers(found))  # a draft: rendered afresh
    return render_template(
        "catalogue/programme.html",
        programme=found,
        page=page,
        session_heads=session_heads(page, viewer_timezone()),
        recordings={},
        seats_left=found.capacity,
        next_session=catalogue.upcoming_session(found),
        preview=True,
        joinable=set(),
        viewer_tz=viewer_timezone(),
    )


def _lifecycle(use_case, message: str):
    return button(".edit_programme", message, use_case, current_user.id)


@bp.post("/programmes/<slug>/publish")
@requires("manage_programme")
def publish_programme(slug: str):
    return _lifecycle(authoring.publish_programme, "Published: the programme is in the catalogue.")


@bp.post("/programmes/<slug>/archive")
@requires("manage_programme")
def archive_programme(slug: str):
    return _lifecycle(authoring.archive_programme, "Archived: it stays findable, closed.")


edition_page = FormPage(
    "new_edition.html",
    editions.new_edition,
    "New edition saved as a draft. Check its sessions, then publish.",
    _its_page,
)


@bp.route("/programmes/<slug>/new-edition", methods=["GET", "POST"])
@requires("manage_programme")
def new_edition(slug: str):
    return edition_page(
        form_for(NewEditionForm, title=g.programme.title, weeks=52),
        lambda form: (g.programme.id, current_user.id, typed(editions.EditionInput, form)),
        programme=g.programme,
    )
