"""Learning pages. `bp`: participants' actions on a programme's modules and materials, their
certificate, and the public verification page. `organiser_bp` (under /organiser, each route's right
declared with `@requires`): completion settings, moderation, certificates.

The module and programme pages themselves are the catalogue's; they show this feature's parts
(progress, a page of the discussion) from `services.module_page` and `services.progress_in`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from ..access import guard_programmes, requires
from ..catalogue import services as catalogue
from ..extensions import login_manager
from ..forms import ActionForm, ConfirmForm, confirmation_page, parse_id
from ..links import external_url
from ..pagination import requested_page
from ..use_cases import attempt, run_use_case
from .forms import (
    CertificateCodeForm,
    IssueForm,
    ModerateForm,
    PostForm,
    RevokeForm,
    ToggleForm,
    settings_form,
)
from .models import Certificate
from .pdf import certificate_pdf
from .services import certificates, completion, digests, discussions, organiser_settings
from .services.module_page import required_items
from .services.viewer import viewer_of
from .text import embed_url, linkify

bp = Blueprint("learning", __name__)
organiser_bp = Blueprint("learning_organiser", __name__, url_prefix="/organiser")
bp.add_app_template_filter(linkify, "linkify")
bp.add_app_template_global(required_items, "required_items")


def _programme(slug: str):
    programme = catalogue.open_programme(slug)
    if programme is None:
        abort(404)
    return programme


def _module_url(programme, position: int, anchor: str = "", page: int = 1) -> str:
    """The module page (at a page of its discussion), with an anchor."""
    pages: dict[str, Any] = {"page": page} if page > 1 else {}
    return url_for("catalogue.module", slug=programme.slug, position=position, **pages) + anchor


@bp.get("/programmes/<slug>/materials/<int:material_id>/open")
def open_material(slug: str, material_id: int):
    """Opening a material through here records it for a registered participant; recordings
    from YouTube or Vimeo play on a page of their own, everything else is handed over."""
    programme = _programme(slug)
    viewer = viewer_of(programme, current_user)
    material = completion.material_to_open(programme, material_id)
    if material is None:
        abort(404)
    if viewer.user is None and not completion.may_open(material, viewer):
        return login_manager.unauthorized()
    attempt(completion.open_material, programme, material, viewer)
    if material.file_name:
        return redirect(url_for("catalogue.download_material", material_id=material.id))
    if material.url is None:  # a material is a file or a link
        abort(404)
    player = embed_url(material.url) if material.kind == "recording" else None
    if player is None:
        return redirect(material.url)
    return render_template(
        "learning/material.html", programme=programme, material=material, player=player
    )


@bp.post("/programmes/<slug>/modules/<int:position>/complete")
@login_required
def complete_module(slug: str, position: int):
    programme = _programme(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    _, module = attempt(completion.mark_module_complete, programme, position, current_user)
    if module is not None:  # else refused
        flash(f"Module {module.position} is complete.", "success")
    return redirect(_module_url(programme, position, "#progress"))


@bp.post("/programmes/<slug>/modules/<int:position>/posts")
@login_required
def write_post(slug: str, position: int):
    programme = _programme(slug)
    viewer = viewer_of(programme, current_user)
    if not viewer.can_see_registered:
        abort(403)
    form = PostForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(_module_url(programme, position, "#discussion"))
    data = discussions.PostInput(form.body.data, form.parent())
    _, post = attempt(discussions.write_post, programme, position, viewer, data)
    if post is None:  # refused
        return redirect(_module_url(programme, position, "#discussion"))
    flash("Your post is published.", "success")
    page = discussions.page_of(post, team=viewer.is_team)
    return redirect(_module_url(programme, position, f"#post-{post.id}", page))


@bp.post("/programmes/<slug>/digest")
@login_required
def digest(slug: str):
    programme = _programme(slug)
    form = ToggleForm()
    if not form.validate_on_submit():
        flash("Choose whether you want the digests.", "error")
    else:
        ok, wanted = attempt(digests.set_digest, programme, current_user, form.on)
        if ok:
            flash(
                "You will get email digests of new posts."
                if wanted
                else "You will no longer get digests of new posts.",
                "success",
            )
    target = parse_id(request.form.get("back"))
    if target is not None:
        return redirect(_module_url(programme, target, "#discussion"))
    return redirect(url_for("catalogue.programme", slug=programme.slug) + "#learning")


@bp.get("/programmes/<slug>/certificate.pdf")
@login_required
def my_certificate(slug: str):
    programme = _programme(slug)
    certificate = certificates.own_certificate(programme, current_user)
    if certificate is None or certificate.revoked_at is not None:
        abort(404)
    return _pdf_response(certificate)


def _pdf_response(certificate):
    body = certificate_pdf(certificate, external_url("learning.verify", code=certificate.code))
    response = make_response(body)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="certificate-{certificate.code}.pdf"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/certificates")
def check_certificate():
    """The field to type a certificate's code; a typed code opens its check."""
    form = CertificateCodeForm(request.args)
    if not request.args:
        return render_template("learning/verify.html", form=form, checked=False)
    if form.validate():
        return redirect(url_for("learning.verify", code=form.code.data))
    return render_template("learning/verify.html", form=form, checked=False), 422


@bp.get("/certificates/<code>")
def verify(code: str):
    """Anyone can check a code: valid, revoked, or unknown (404)."""
    certificate = certificates.certificate_by_code(code[:40])
    form = CertificateCodeForm(data={"code": code[:40]})
    page = render_template(
        "learning/verify.html", certificate=certificate, code=code[:40], form=form, checked=True
    )
    return page, 200 if certificate else 404


# --- organisers ----------------------------------------------------------------------------

guard_programmes(organiser_bp)


@organiser_bp.route("/programmes/<slug>/learning", methods=["GET", "POST"])
@requires("manage_programme")
def settings(slug: str):
    programme = organiser_settings.programme_for_settings(g.programme.id)
    form = settings_form(programme)
    if form.validate_on_submit():
        modules = {
            m.id: organiser_settings.ModuleSettings(
                form[f"mode-{m.id}"].data, bool(form[f"cert-{m.id}"].data)
            )
            for m in programme.modules
        }
        required = {
            material.id
            for m in programme.modules
            for material in m.materials
            if form[f"req-{material.id}"].data
        }
        save = organiser_settings.save_learning_settings
        ok, _ = run_use_case(form, save, programme.id, modules, required, current_user.id)
        if ok:
            flash("Learning path settings saved.", "success")
            return redirect(request.path)
    return (
        render_template("learning/organiser_settings.html", programme=programme, form=form),
        422 if request.method == "POST" else 200,
    )


@organiser_bp.post("/programmes/<slug>/posts/<int:post_id>/moderate")
@requires("manage_programme")
def moderate(slug: str, post_id: int):
    form = ModerateForm()
    back = parse_id(request.form.get("back"))
    page = 1
    if form.validate_on_submit():
        _, post = attempt(discussions.moderate_post, g.programme.id, post_id, form.action.data)
        if post is not None:  # else refused
            flash("Post updated.", "success")
            page = discussions.page_of(post, team=True)
    else:
        flash("Choose pin, unpin, hide or show.", "error")
    if back is not None:
        return redirect(_module_url(g.programme, back, f"#post-{post_id}", page))
    return redirect(url_for("learning_organiser.settings", slug=g.programme.slug))


@organiser_bp.post("/programmes/<slug>/modules/<int:position>/lock")
@requires("manage_programme")
def lock(slug: str, position: int):
    form = ToggleForm()
    if not form.validate_on_submit():
        flash("Choose whether to close or reopen the discussion.", "error")
    elif attempt(discussions.set_lock, g.programme.id, position, form.on, current_user)[0]:
        flash("Discussion closed." if form.on else "Discussion reopened.", "success")
    return redirect(_module_url(g.programme, position, "#discussion"))


def _certificates_page(issue_form=None, revoke_form=None, status: int = 200):
    programme = organiser_settings.programme_for_settings(g.programme.id)
    return (
        render_template(
            "learning/organiser_certificates.html",
            programme=g.programme,
            overview=certificates.certificate_overview(programme, requested_page()),
            issue_form=issue_form or IssueForm(),
            revoke_form=revoke_form or RevokeForm(),
            meets_rule=certificates.meets_rule,
        ),
        status,
    )


def _certificate_changed(form, use_case: Callable[..., Certificate], about_id: int, done: str):
    """Issue or revoke (`about_id`: the registration or the certificate) with the form's
    reason; back to the overview's page when done, else None (the refusal is on the form)."""
    reason = form.reason.data
    _, certificate = run_use_case(form, use_case, g.programme.id, about_id, reason, current_user.id)
    if certificate is None:  # refused
        return None
    flash(done.format(code=certificate.code), "success")
    page = requested_page()
    pages: dict[str, Any] = {"page": page} if page > 1 else {}
    return redirect(url_for("learning_organiser.certificates", slug=g.programme.slug, **pages))


@organiser_bp.get("/programmes/<slug>/certificates", endpoint="certificates")
@requires("manage_attendance")
def certificates_overview(slug: str):
    return _certificates_page()


@organiser_bp.post("/programmes/<slug>/certificates/issue")
@requires("manage_attendance")
def issue_certificate(slug: str):
    form = IssueForm()
    if form.validate_on_submit() and (
        done := _certificate_changed(
            form,
            certificates.issue_by_hand,
            form.registration_id.data,
            "Certificate {code} issued and emailed.",
        )
    ):
        return done
    return _certificates_page(issue_form=form, status=422)


def _confirm_revoke(certificate_id: int, reason: str):
    certificate = certificates.certificate_of(g.programme.id, certificate_id)
    if certificate is None:
        abort(404)
    return confirmation_page(
        ConfirmForm(),
        programme=g.programme,
        title=f"Revoke the certificate of {certificate.holder_name}?",
        happens=[
            f"Certificate {certificate.code} stops being valid: its verification page will say "
            "“revoked” with today's date, and its PDF can no longer be downloaded.",
            f"Your reason stays with the programme's team: “{reason}”.",
        ],
        told="nobody is emailed; the holder sees that the certificate was revoked.",
        button="Revoke the certificate",
        back=url_for("learning_organiser.certificates", slug=g.programme.slug),
        carry={"reason": reason},
    )


@organiser_bp.post("/programmes/<slug>/certificates/<int:certificate_id>/revoke")
@requires("manage_attendance")
def revoke_certificate(slug: str, certificate_id: int):
    form = RevokeForm()
    if form.validate_on_submit() and request.form.get("confirmed") != "yes":
        return _confirm_revoke(certificate_id, form.reason.data)
    if form.validate_on_submit() and (
        done := _certificate_changed(
            form, certificates.revoke, certificate_id, "Certificate {code} revoked."
        )
    ):
        return done
    return _certificates_page(revoke_form=form, status=422)
