"""Authoring pages of the organiser workspace: programmes, sessions, modules, materials, people,
organisations, new editions, the audit log; and the administrators' organiser invitations.

Routes hang on the organiser blueprint, whose before_request checks access (ROUTE_RIGHTS in
views.py); each view turns its form into typed input and calls one authoring use case.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from ..access import guard_admin, requires
from ..catalogue import audit, uploads
from ..catalogue import services as catalogue
from ..catalogue.authoring import editions as edition_cases
from ..catalogue.authoring import materials as material_cases
from ..catalogue.authoring import modules as module_cases
from ..catalogue.authoring import organisations as organisation_cases
from ..catalogue.authoring import people as people_cases
from ..catalogue.authoring import programmes as programme_cases
from ..catalogue.authoring import sessions as session_cases
from ..catalogue.authoring import shared
from ..catalogue.authoring import topics as topic_cases
from ..catalogue.models import Topic
from ..catalogue.page_cache import build_parts, session_heads
from ..extensions import db
from ..forms import ActionForm, ConfirmForm, confirmation_page, strip
from ..templating import viewer_timezone
from ..use_cases import run_use_case
from . import services
from .blueprint import bp
from .forms import (
    InviteOrganiserForm,
    MaterialEditForm,
    MaterialForm,
    ModuleForm,
    NewEditionForm,
    NewProgrammeForm,
    OrganisationEditForm,
    OrganisationForm,
    PersonForm,
    ProgrammeForm,
    SessionForm,
    TopicForm,
)

ORGANISATION_FIELDS = {
    "host": "hosts",
    "supporter": "supporters",
    "partner": "partners",
    "alliance": "alliances",
}


def _page(template: str, **context):
    """Form pages answer 422 when a POST comes back with errors."""
    return render_template(template, **context), 422 if request.method == "POST" else 200


def _no_upload_error(field, check) -> bool:
    """Pass the field's upload (if any) through `check`, after the form validated: the checked
    file lands on `field.checked`, an error beside the field (and False comes back)."""
    field.checked = None
    upload = field.data
    if not (upload and getattr(upload, "filename", "")):
        return True
    try:
        field.checked = check(upload.filename, upload.stream)
    except uploads.UploadError as error:
        field.errors = [*field.errors, str(error)]
        return False
    return True


# --- programmes ---------------------------------------------------------------------------------


def _programme_choices(form: ProgrammeForm) -> None:
    topics = db.session.scalars(db.select(Topic).order_by(Topic.name))
    form.topic.choices = [("", "No topic")] + [(t.id, t.name) for t in topics]
    organisations = [(o.id, o.name) for o in organisation_cases.all_organisations()]
    for name in ORGANISATION_FIELDS.values():
        getattr(form, name).choices = organisations


def _programme_input(form: ProgrammeForm, cover) -> programme_cases.ProgrammeInput:
    return programme_cases.ProgrammeInput(
        kind=form.kind.data,
        title=form.title.data,
        edition=form.edition.data,
        summary=form.summary.data,
        description=form.description.data or "",
        topic_id=form.topic.data,
        format=form.format.data,
        venue=form.venue.data,
        language=form.language.data,
        timezone=form.timezone.data,
        organisations={
            role: getattr(form, name).data or [] for role, name in ORGANISATION_FIELDS.items()
        },
        cover=cover,
    )


@bp.route("/programmes/new", methods=["GET", "POST"])
def new_programme():
    form = NewProgrammeForm()
    _programme_choices(form)
    if request.method == "GET":
        form.timezone.data = current_user.timezone
    if form.validate_on_submit() and _no_upload_error(form.cover, uploads.check_image):
        cover = form.cover.checked
        registration = programme_cases.RegistrationDefaults(
            capacity=form.capacity.data,
            approval_required=form.approval_required.data,
            waitlist_enabled=form.waitlist_enabled.data,
        )
        done, programme = run_use_case(
            form,
            programme_cases.create_programme,
            current_user.id,
            _programme_input(form, cover),
            registration,
        )
        if done:
            flash("Draft saved. Add its sessions, modules and materials, then publish.", "success")
            return redirect(url_for("organiser.edit_programme", slug=programme.slug))
    return _page("organiser/programme_form.html", form=form, programme=None)


@bp.route("/programmes/<slug>/edit", methods=["GET", "POST"])
@requires("manage_programme")
def edit_programme(slug: str):
    programme = g.programme
    if request.method == "GET":
        form = ProgrammeForm(obj=programme)
        form.topic.data = programme.topic_id
        for role, name in ORGANISATION_FIELDS.items():
            getattr(form, name).data = [o.id for o in programme.organisations(role)]
    else:
        form = ProgrammeForm()
    _programme_choices(form)
    if form.validate_on_submit() and _no_upload_error(form.cover, uploads.check_image):
        cover = form.cover.checked
        done, _ = run_use_case(
            form,
            programme_cases.update_programme,
            programme.id,
            current_user.id,
            form.version.data,
            _programme_input(form, cover),
        )
        if done:
            flash("Programme saved.", "success")
            return redirect(url_for("organiser.edit_programme", slug=slug))
    return _page(
        "organiser/programme_form.html",
        form=form,
        programme=programme,
        action_form=ActionForm,
    )


@bp.get("/programmes/<slug>/preview")
@requires("manage_programme")
def preview_programme(slug: str):
    """The public page as participants will see it, drafts included."""
    found = catalogue.programme_page(slug, drafts=True)
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


def _pressed(call) -> tuple[bool, object]:
    """A button's POST: `call` runs one use case; a refusal is rolled back and flashed.
    Returns (done, what the use case returned)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        return True, call()
    except shared.AuthoringError as error:
        db.session.rollback()
        flash(str(error), "error")
        return False, None


def _button(back_to: str, message: str | None, use_case, *args):
    """A button's POST: one use case on this programme, its outcome flashed, then back."""
    done, _ = _pressed(lambda: use_case(g.programme.id, *args))
    if done and message:
        flash(message, "success")
    return redirect(url_for(back_to, slug=g.programme.slug))


def _removal(back_to: str, message: str, use_case, *args, title: str | None, happens: list[str]):
    """A removal's POST: first a confirmation page that says what goes, then the removal.
    Without a title (the thing is gone already) the use case answers at once."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if title is not None and not form.is_confirmed:
        return confirmation_page(
            form,
            programme=g.programme,
            title=title,
            happens=happens,
            told="nobody is emailed.",
            button="Remove",
            back=url_for(back_to, slug=g.programme.slug),
        )
    return _button(back_to, message, use_case, *args)


def _lifecycle(use_case, message: str):
    return _button("organiser.edit_programme", message, use_case, current_user.id)


@bp.post("/programmes/<slug>/publish")
@requires("manage_programme")
def publish_programme(slug: str):
    return _lifecycle(
        programme_cases.publish_programme, "Published: the programme is in the catalogue."
    )


@bp.post("/programmes/<slug>/archive")
@requires("manage_programme")
def archive_programme(slug: str):
    return _lifecycle(programme_cases.archive_programme, "Archived: it stays findable, closed.")


@bp.route("/programmes/<slug>/new-edition", methods=["GET", "POST"])
@requires("manage_programme")
def new_edition(slug: str):
    form = NewEditionForm()
    if request.method == "GET":
        form.title.data = g.programme.title
        form.weeks.data = 52
    if form.validate_on_submit():
        data = edition_cases.EditionInput(form.title.data, form.edition.data, form.weeks.data)
        done, copy = run_use_case(
            form, edition_cases.new_edition, g.programme.id, current_user.id, data
        )
        if done:
            flash("New edition saved as a draft. Check its sessions, then publish.", "success")
            return redirect(url_for("organiser.edit_programme", slug=copy.slug))
    return _page("organiser/new_edition.html", form=form, programme=g.programme)


def _audit_kind() -> str | None:
    kind = request.args.get("kind") or None
    return kind if kind in audit.KINDS else None


@bp.get("/programmes/<slug>/audit")
@requires("manage_programme")
def audit_log(slug: str):
    kind = _audit_kind()
    return render_template(
        "organiser/audit.html",
        programme=g.programme,
        entries=audit.audit_log(g.programme.id, kind),
        kinds=audit.KINDS,
        kind=kind,
        kind_of=audit.kind_of,
    )


@bp.get("/programmes/<slug>/audit.csv")
@requires("manage_programme")
def audit_csv(slug: str):
    kind = _audit_kind()
    body = audit.audit_csv(g.programme.id, current_user.timezone, kind)
    name = f"change-log-{g.programme.slug}{'-' + kind if kind else ''}.csv"
    return Response(
        "\ufeff" + body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- sessions -----------------------------------------------------------------------------------


def _session_choices(form: SessionForm) -> None:
    people = [(p.id, _person_label(p)) for p in people_cases.all_people()]
    form.speakers.choices = people
    form.moderators.choices = people
    form.module.choices = [("", "No module")] + [
        (m.id, f"{m.position}. {m.title}") for m in module_cases.modules_of(g.programme.id)
    ]


def _person_label(person) -> str:
    return ", ".join(filter(None, [person.display_name, person.position, person.affiliation]))


def _session_input(form: SessionForm) -> session_cases.SessionInput:
    return session_cases.SessionInput(
        title=form.title.data,
        day=form.day.data,
        start=form.start.data,
        end=form.end.data,
        end_day=form.end_day.data,
        timezone=form.timezone.data,
        description=form.description.data or "",
        join_url=form.join_url.data,
        module_id=form.module.data,
        speaker_ids=form.speakers.data or [],
        moderator_ids=form.moderators.data or [],
        confirm_past=bool(form.confirm_past.data),
        confirm_move=bool(form.confirm_move.data),
        move_note=form.move_note.data or "",
        contributions={
            person_id: strip(request.form[f"contribution-{person_id}"])
            for person_id in _chosen(form)
            if f"contribution-{person_id}" in request.form
        },
    )


def _chosen(form: SessionForm) -> list[int]:
    return list(dict.fromkeys([*(form.speakers.data or []), *(form.moderators.data or [])]))


def _contribution_fields(form: SessionForm, session=None) -> list[tuple[int, str, str]]:
    """(person id, name, text) of a "What they present" field per chosen person: the typed
    text after a refused save, else what the session has."""
    saved = (
        {link.person_id: link.contribution or "" for link in session.speaker_links}
        if session
        else {}
    )
    names = dict(form.speakers.choices)
    return [
        (pid, names.get(pid, "?"), request.form.get(f"contribution-{pid}", saved.get(pid, "")))
        for pid in _chosen(form)
    ]


@bp.route("/programmes/<slug>/sessions/new", methods=["GET", "POST"])
@requires("manage_programme")
def new_session(slug: str):
    form = SessionForm()
    _session_choices(form)
    if request.method == "GET":
        form.timezone.data = g.programme.timezone
    if form.validate_on_submit():
        done, _ = run_use_case(
            form, session_cases.add_session, g.programme.id, current_user.id, _session_input(form)
        )
        if done:
            flash("Session added.", "success")
            return redirect(url_for("organiser.edit_programme", slug=slug))
    return _page(
        "organiser/session_form.html",
        form=form,
        programme=g.programme,
        session=None,
        contributions=_contribution_fields(form),
    )


@bp.route("/programmes/<slug>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@requires("manage_programme")
def edit_session(slug: str, session_id: int):
    session = g.session
    if request.method == "GET":
        local_start = session.starts_at.astimezone(_zone(session.timezone))
        form = SessionForm(obj=session)
        form.day.data = local_start.date()
        form.start.data = local_start.time()
        local_end = session.ends_at.astimezone(_zone(session.timezone))
        form.end.data = local_end.time()
        form.end_day.data = local_end.date() if local_end.date() != local_start.date() else None
        form.module.data = session.module_id
        form.speakers.data = [s.person_id for s in session.speaker_links if s.role == "speaker"]
        form.moderators.data = [s.person_id for s in session.speaker_links if s.role == "moderator"]
    else:
        form = SessionForm()
    _session_choices(form)
    if form.validate_on_submit():
        done, _ = run_use_case(
            form,
            session_cases.update_session,
            g.programme.id,
            session.id,
            current_user.id,
            form.version.data,
            _session_input(form),
        )
        if done:
            flash("Session saved.", "success")
            return redirect(url_for("organiser.edit_programme", slug=slug))
    return _page(
        "organiser/session_form.html",
        form=form,
        programme=g.programme,
        session=session,
        contributions=_contribution_fields(form, session),
    )


@bp.post("/programmes/<slug>/sessions/<int:session_id>/delete")
@requires("manage_programme")
def delete_session(slug: str, session_id: int):
    draft = g.programme.status == "draft"  # a public programme's sessions are cancelled instead
    return _removal(
        "organiser.edit_programme",
        "Session removed.",
        session_cases.delete_session,
        session_id,
        current_user.id,
        title=f"Remove the session “{g.session.title}”?" if draft else None,
        happens=["The session, its speakers' places in it and its attendance marks are removed."],
    )


def _zone(name: str):
    from ..timefmt import zone

    return zone(name)


# --- modules ------------------------------------------------------------------------------------


def _module_of(module_id: int):
    module = module_cases.module_of(g.programme.id, module_id)
    if module is None:
        abort(404)
    return module


@bp.route("/programmes/<slug>/modules", methods=["GET", "POST"])
@requires("manage_programme")
def modules(slug: str):
    form = ModuleForm()
    if form.validate_on_submit():
        data = module_cases.ModuleInput(
            form.title.data, form.theme.data, form.summary.data or "", form.body.data or ""
        )
        done, _ = run_use_case(form, module_cases.add_module, g.programme.id, current_user.id, data)
        if done:
            flash("Module added.", "success")
            return redirect(url_for("organiser.modules", slug=slug))
    return _page(
        "organiser/modules.html",
        form=form,
        programme=g.programme,
        modules=module_cases.modules_of(g.programme.id),
        move_form=ActionForm(),
    )


@bp.route("/programmes/<slug>/modules/<int:module_id>/edit", methods=["GET", "POST"])
@requires("manage_programme")
def edit_module(slug: str, module_id: int):
    module = _module_of(module_id)
    form = ModuleForm(obj=module) if request.method == "GET" else ModuleForm()
    if form.validate_on_submit():
        data = module_cases.ModuleInput(
            form.title.data, form.theme.data, form.summary.data or "", form.body.data or ""
        )
        done, _ = run_use_case(
            form,
            module_cases.update_module,
            g.programme.id,
            module.id,
            current_user.id,
            form.version.data,
            data,
        )
        if done:
            flash("Module saved.", "success")
            return redirect(url_for("organiser.modules", slug=slug))
    return _page("organiser/module_form.html", form=form, programme=g.programme, module=module)


@bp.post("/programmes/<slug>/modules/<int:module_id>/move/<any(up, down):direction>")
@requires("manage_programme")
def move_module(slug: str, module_id: int, direction: str):
    offset = -1 if direction == "up" else 1
    return _button(
        "organiser.modules", None, module_cases.move_module, module_id, current_user.id, offset
    )


@bp.post("/programmes/<slug>/modules/<int:module_id>/delete")
@requires("manage_programme")
def delete_module(slug: str, module_id: int):
    message = "Module removed; its sessions and materials stay."
    module = module_cases.module_of(g.programme.id, module_id)
    return _removal(
        "organiser.modules",
        message,
        module_cases.delete_module,
        module_id,
        current_user.id,
        title=module and f"Remove the module “{module.title}”?",
        happens=[
            "The module is removed with its discussion and the participants' completions of "
            "it; the modules after it move up.",
            "Its sessions and materials stay in the programme, without a module.",
        ],
    )


# --- materials ----------------------------------------------------------------------------------


def _module_choices(form) -> None:
    form.module.choices = [("", "No module")] + [
        (m.id, f"{m.position}. {m.title}") for m in module_cases.modules_of(g.programme.id)
    ]


def _material_input(form: MaterialForm) -> material_cases.MaterialInput:
    checked = form.file.checked
    return material_cases.MaterialInput(
        title=form.title.data,
        kind=form.kind.data,
        language=form.language.data,
        visibility=form.visibility.data,
        module_id=form.module.data,
        url=None if checked else form.url.data,
        file=checked,
    )


@bp.route("/programmes/<slug>/materials", methods=["GET", "POST"])
@requires("manage_programme")
def materials(slug: str):
    form = MaterialForm()
    _module_choices(form)
    if form.validate_on_submit() and _no_upload_error(form.file, uploads.check_upload):
        done, _ = run_use_case(
            form,
            material_cases.add_material,
            g.programme.id,
            current_user.id,
            _material_input(form),
        )
        if done:
            flash("Material added.", "success")
            return redirect(url_for("organiser.materials", slug=slug))
    return _page(
        "organiser/materials.html",
        form=form,
        programme=g.programme,
        materials=material_cases.materials_of(g.programme.id),
        delete_form=ActionForm(),
        max_upload=uploads.MAX_UPLOAD_LABEL,
    )


@bp.route("/programmes/<slug>/materials/<int:material_id>/edit", methods=["GET", "POST"])
@requires("manage_programme")
def edit_material(slug: str, material_id: int):
    material = material_cases.material_of(g.programme.id, material_id)
    if material is None:
        abort(404)
    if request.method == "GET":
        form = MaterialEditForm(obj=material, seen=material_cases.material_seen(material))
        form.module.data = material.module_id
    else:
        form = MaterialEditForm()
    _module_choices(form)
    if form.validate_on_submit() and _no_upload_error(form.file, uploads.check_upload):
        done, _ = run_use_case(
            form,
            material_cases.update_material,
            g.programme.id,
            material.id,
            current_user.id,
            form.seen.data,
            _material_input(form),
        )
        if done:
            flash("Material saved.", "success")
            return redirect(url_for("organiser.materials", slug=slug))
    return _page(
        "organiser/material_form.html",
        form=form,
        programme=g.programme,
        material=material,
        max_upload=uploads.MAX_UPLOAD_LABEL,
    )


@bp.post("/programmes/<slug>/materials/<int:material_id>/delete")
@requires("manage_programme")
def delete_material(slug: str, material_id: int):
    material = material_cases.material_of(g.programme.id, material_id)
    return _removal(
        "organiser.materials",
        "Material removed.",
        material_cases.delete_material,
        material_id,
        current_user.id,
        title=material and f"Remove the material “{material.title}”?",
        happens=["The material and its stored file are removed; participants no longer see it."],
    )


# --- people and organisations -------------------------------------------------------------------


def _person_form(form: PersonForm) -> PersonForm:
    form.organisation.choices = [("", "Not in the list")] + [
        (o.id, o.name) for o in organisation_cases.all_organisations()
    ]
    return form


def _person_input(form: PersonForm, photo) -> people_cases.PersonInput:
    return people_cases.PersonInput(
        full_name=form.full_name.data,
        honorific=form.honorific.data,
        position=form.position.data,
        organisation_id=form.organisation.data,
        organisation_text=form.organisation_text.data,
        email=form.email.data,
        timezone=form.timezone.data or None,
        preferred_language=form.preferred_language.data or None,
        bio=form.bio.data,
        photo=photo,
        confirmed_new=form.confirmed_new.data,
    )


@bp.route("/people", methods=["GET", "POST"])
def people():
    query = strip(request.args.get("q") or "")[:200]
    form = _person_form(PersonForm())
    if form.validate_on_submit() and _no_upload_error(form.photo, uploads.check_image):
        done, person = run_use_case(
            form, people_cases.create_person, _person_input(form, form.photo.checked)
        )
        if done:
            flash(f"{person.display_name} added: choose them in a session's form.", "success")
            return redirect(url_for("organiser.people", q=person.full_name))
    return _page(
        "organiser/people.html", form=form, query=query, found=people_cases.search_people(query)
    )


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
def edit_person(person_id: int):
    person = people_cases.person_of(person_id)
    if person is None:
        abort(404)
    form = _person_form(PersonForm(obj=person) if request.method == "GET" else PersonForm())
    if request.method == "GET":
        form.organisation.data = person.organisation_id
    if form.validate_on_submit() and _no_upload_error(form.photo, uploads.check_image):
        done, _ = run_use_case(
            form, people_cases.update_person, person.id, _person_input(form, form.photo.checked)
        )
        if done:
            flash(f"{person.display_name} saved.", "success")
            return redirect(url_for("organiser.people", q=person.full_name))
    return _page("organiser/person_form.html", form=form, person=person)


@bp.route("/organisations", methods=["GET", "POST"])
def organisations():
    query = strip(request.args.get("q") or "")[:200]
    form = OrganisationForm()
    if form.validate_on_submit():
        data = organisation_cases.OrganisationInput(
            form.name.data, form.short_name.data, form.website.data, form.confirmed_new.data
        )
        done, organisation = run_use_case(form, organisation_cases.create_organisation, data)
        if done:
            flash(f"{organisation.name} added.", "success")
            return redirect(url_for("organiser.organisations", q=organisation.name))
    return _page(
        "organiser/organisations.html",
        form=form,
        query=query,
        found=organisation_cases.search_organisations(query),
    )


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
def edit_organisation(organisation_id: int):
    organisation = organisation_cases.organisation_of(organisation_id)
    if organisation is None:
        abort(404)
    if request.method == "GET":
        seen = organisation_cases.organisation_seen(organisation)
        form = OrganisationEditForm(obj=organisation, seen=seen)
    else:
        form = OrganisationEditForm()
    if form.validate_on_submit():
        data = organisation_cases.OrganisationInput(
            form.name.data, form.short_name.data, form.website.data
        )
        done, _ = run_use_case(
            form,
            organisation_cases.update_organisation,
            organisation.id,
            current_user.id,
            form.seen.data,
            data,
        )
        if done:
            flash(f"{organisation.name} saved.", "success")
            return redirect(url_for("organiser.organisations", q=organisation.name))
    return _page(
        "organiser/organisation_form.html",
        form=form,
        organisation=organisation,
        shown_in=len(organisation_cases.programmes_showing(organisation.id)),
    )


# --- administrators: organiser accounts ---------------------------------------------------------

admin_bp = Blueprint("organiser_admin", __name__, url_prefix="/admin/organisers")


guard_admin(admin_bp)


@admin_bp.route("/", methods=["GET", "POST"])
def organisers():
    form = InviteOrganiserForm()
    if form.validate_on_submit():
        done, user = run_use_case(
            form, services.invite_organiser, form.email.data, form.full_name.data, current_user
        )
        if done:
            flash(f"Invitation sent to {user.email}.", "success")
            return redirect(url_for("organiser_admin.organisers"))
    return _page(
        "organiser/admin_organisers.html", form=form, organisers=services.organiser_accounts()
    )


# --- administrators: topics ----------------------------------------------------------------------

topic_admin_bp = Blueprint("topic_admin", __name__, url_prefix="/admin/topics")


guard_admin(topic_admin_bp)


@topic_admin_bp.route("/", methods=["GET", "POST"])
def topics():
    form = TopicForm()
    if form.validate_on_submit():
        done, topic = run_use_case(form, topic_cases.add_topic, form.name.data)
        if done:
            flash(f"Topic “{topic.name}” added.", "success")
            return redirect(url_for("topic_admin.topics"))
    return _page(
        "organiser/admin_topics.html",
        form=form,
        topics=topic_cases.topics_in_use(),
        remove_form=ActionForm(),
    )


@topic_admin_bp.route("/<int:topic_id>/edit", methods=["GET", "POST"])
def edit_topic(topic_id: int):
    topic = db.session.get(Topic, topic_id)
    if topic is None:
        abort(404)
    form = TopicForm(obj=topic)
    if form.validate_on_submit():
        done, topic = run_use_case(
            form, topic_cases.rename_topic, topic.id, current_user.id, form.name.data
        )
        if done:
            flash(f"Topic renamed to “{topic.name}”.", "success")
            return redirect(url_for("topic_admin.topics"))
    return _page("organiser/admin_topic_form.html", form=form, topic=topic)


@topic_admin_bp.post("/<int:topic_id>/remove")
def remove_topic(topic_id: int):
    done, name = _pressed(lambda: topic_cases.remove_topic(topic_id))
    if done:
        flash(f"Topic “{name}” removed.", "success")
    return redirect(url_for("topic_admin.topics"))
